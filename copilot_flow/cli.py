"""`copilot-flow`: the operator's command line (team admin, flags, store migrations, simulators).

Bad input ends with one clear ``error: …`` line on stderr and exit code 2; nothing is written.
Tokens are read from an environment variable or stdin, a GitHub App's private key from a file; never from
argv, and never printed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

import click

from resources.secrets import Secret, SecretKeyMissing
from resources.validation import InvalidInput

EXIT_BAD_INPUT = 2


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InvalidInput as exc:
            _fail(str(exc))
        except SecretKeyMissing as exc:
            _fail(str(exc))
        return None

    return wrapper


def _store():  # -> Store, migrated (the CLI upgrades the schema automatically)
    from resources.store import Store

    store = Store()
    store.ensure_schema()
    return store


def _fmt_time(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


@click.group()
def main() -> None:
    """Copilot Data Flow: GitHub Copilot usage history per team, on Dagster."""


# ---------------------------------------------------------------------------- db
@main.group()
def db() -> None:
    """App store schema."""


@db.command("upgrade")
@friendly_errors
def db_upgrade() -> None:
    """Apply Alembic migrations up to head (idempotent)."""
    from resources.settings import redact_url

    store = _store()
    click.echo(f"app store at {redact_url(store.url)} is at revision {store.current_revision()}")


# ---------------------------------------------------------------------------- teams
@main.group()
def teams() -> None:
    """Add, connect, disconnect and inspect teams."""


@teams.command("add")
@click.argument("slug")
@click.option("--org", required=True, help="GitHub organization login")
@click.option("--name", required=True, help="display name")
@friendly_errors
def teams_add(slug: str, org: str, name: str) -> None:
    team = _store().add_team(slug, name=name, github_org=org)
    click.echo(f"added team {team.slug} (org {team.github_org}); status {team.copilot_status}")


def _read_token(token_env: str | None) -> Secret:
    from copilot_flow.cli_input import secret_input

    value = secret_input(token_env, "token", "--token-env").strip()
    if not value:
        raise InvalidInput("token is empty")
    if any(c.isspace() for c in value):
        raise InvalidInput("token contains whitespace")
    return Secret(value)


MAX_PRIVATE_KEY_BYTES = 16_384


def _read_private_key(path: str) -> Secret:
    """The GitHub App's private key from a PEM file (never from argv or the environment)."""
    from resources.github import load_private_key

    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_PRIVATE_KEY_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(f"cannot read the private key file {path!r}: {exc.strerror}") from None
    if len(raw) > MAX_PRIVATE_KEY_BYTES:
        raise InvalidInput(f"{path!r} is not a GitHub App private key (larger than {MAX_PRIVATE_KEY_BYTES} bytes)")
    try:
        return load_private_key(raw.decode("ascii"))
    except UnicodeDecodeError:
        raise InvalidInput(f"{path!r} is not a PEM file") from None


@teams.command("connect")
@click.argument("slug")
@click.option("--token-env", metavar="VAR", help="read the token from this environment variable (else stdin)")
@click.option("--app-id", type=click.IntRange(min=1), help="connect through this GitHub App (instead of a token)")
@click.option("--private-key-file", type=click.Path(exists=True, dir_okay=False),
              help="the GitHub App's private key (PEM); stored encrypted")
@click.option("--installation-id", type=click.IntRange(min=1),
              help="the App's installation on the org (default: found from the org)")
@click.option("--skip-verify", is_flag=True, help="store without checking org admin access (offline setup)")
@friendly_errors
def teams_connect(slug: str, token_env: str | None, app_id: int | None, private_key_file: str | None,
                  installation_id: int | None, skip_verify: bool) -> None:
    """Store the team's GitHub token — or GitHub App (--app-id, --private-key-file) — encrypted, verify it
    and mark the team connected."""
    from copilot_assets.onboarding import connect_team, find_installation
    from resources.github import AppCredential

    app_mode = app_id is not None or private_key_file is not None or installation_id is not None
    if app_mode:
        if token_env:
            raise InvalidInput("use --token-env or --app-id/--private-key-file, not both")
        if app_id is None or private_key_file is None:
            raise InvalidInput("a GitHub App connection needs --app-id and --private-key-file")
        if installation_id is None and skip_verify:
            raise InvalidInput("--skip-verify needs --installation-id (finding the installation asks GitHub)")
    store = _store()
    team = store.get_team(slug)
    if not app_mode:
        click.echo(connect_team(store, team, _read_token(token_env), verify=not skip_verify))
        return
    assert app_id is not None and private_key_file is not None
    key = _read_private_key(private_key_file)
    if installation_id is None:
        installation_id = find_installation(team, app_id, key)
        click.echo(f"GitHub App {app_id} is installed on org {team.github_org} (installation {installation_id})")
    app = AppCredential(app_id=app_id, installation_id=installation_id, private_key=key)
    click.echo(connect_team(store, team, app=app, verify=not skip_verify))


@teams.command("disconnect")
@click.argument("slug")
@friendly_errors
def teams_disconnect(slug: str) -> None:
    """Mark the team disabled. No data is deleted."""
    from copilot_assets import status as sm
    from copilot_assets.team_health import apply_event

    store = _store()
    team = store.get_team(slug)
    apply_event(store, team, sm.Disconnected(at=datetime.now(UTC)), actor="cli")
    click.echo(f"team {slug} disconnected (status disabled); its history is kept")


@teams.command("list")
@friendly_errors
def teams_list() -> None:
    rows = [
        [t.slug, t.github_org, t.copilot_status, t.copilot_status_reason or "-",
         _fmt_time(t.copilot_last_sync_at), str(t.copilot_consecutive_failures), t.onboarding_pipeline_status]
        for t in _store().list_teams()
    ]
    click.echo(_table(["slug", "org", "status", "reason", "last sync", "failures", "onboarding"], rows))


@teams.command("status")
@click.argument("slug")
@click.option("--events", default=10, show_default=True, help="how many status events to show")
@friendly_errors
def teams_status(slug: str, events: int) -> None:
    """Status, reason, remediation hint, last sync, failures and recent status events."""
    from copilot_assets.status import hint_for

    store = _store()
    t = store.get_team(slug)
    click.echo(f"team:      {t.slug} ({t.name}, org {t.github_org})")
    click.echo(f"status:    {t.copilot_status}" + (f" ({t.copilot_status_reason})" if t.copilot_status_reason else ""))
    click.echo(f"hint:      {hint_for(t.copilot_status, t.copilot_status_reason, t.slug)}")
    click.echo(f"credential: {store.active_credential_summary(t.id) or 'none (connect the team)'}")
    click.echo(f"last sync: {_fmt_time(t.copilot_last_sync_at)}")
    click.echo(f"failures:  {t.copilot_consecutive_failures} consecutive")
    click.echo(f"onboarding: {t.onboarding_pipeline_status}"
               + (f" ({t.onboarding_error})" if t.onboarding_pipeline_status == "failed" and t.onboarding_error
                  else ""))
    evs = store.status_events(t.id, limit=events)
    click.echo("events:" if evs else "events:    none")
    for e in evs:
        click.echo(
            f"  {_fmt_time(e['at'])}  {e['event']:<20} {e['from_status'] or '-'} -> {e['to_status']}"
            f"  failures {e['from_failures']}->{e['to_failures']}  reason {e['reason'] or '-'}"
            f"  by {e['actor']}" + (f" run {e['run_id'][:8]}" if e["run_id"] else "")
        )


@teams.command("budget")
@click.argument("slug")
@click.option("--ai-credits", "credits", type=float, help="AI credits the team may use per calendar month")
@click.option("--clear", is_flag=True, help="remove the team's budget")
@friendly_errors
def teams_budget(slug: str, credits: float | None, clear: bool) -> None:
    """Set (or show) the team's monthly AI-credit budget and the share used this month so far."""
    from copilot_assets.metrics import share_of_budget
    from resources import queries

    store = _store()
    team = store.get_team(slug)
    if credits is not None and clear:
        raise InvalidInput("--ai-credits and --clear exclude each other")
    if credits is not None or clear:
        store.set_ai_credit_budget(team.id, None if clear else credits)
        team = store.get_team(slug)
    today = datetime.now(UTC).date()
    with store.engine.connect() as conn:
        used = queries.ai_credits_month_to_date(conn, team.id, today)
    budget = team.ai_credit_monthly_budget
    click.echo(f"team:      {slug}")
    click.echo(f"budget:    {'none' if budget is None else f'{budget:,.2f} AI credits per month'}")
    click.echo(f"used:      {'no AI-credit data' if used is None else f'{used:,.2f}'} "
               f"(month to date, {today.replace(day=1)}..{today})")
    share = share_of_budget(used, budget)
    if share is not None:
        click.echo(f"share:     {share:.1%} of the budget" + ("  (over budget)" if share > 1 else ""))


# ---------------------------------------------------------------------------- rederive
@main.command("rederive")
@click.option("--team", "team_slugs", multiple=True, help="team slug (repeatable); default: every team")
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD", help="first day (inclusive)")
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD", help="last day (inclusive)")
@friendly_errors
def rederive_cmd(team_slugs: tuple[str, ...], start: str, end: str) -> None:
    """Rebuild every derived table of the range from the stored raw reports (no GitHub call), with the
    current parsers and the seat prices configured in definitions.py; the Dagster job copilot_rederive_job
    does the same."""
    from copilot_assets.rederive import rederive
    from definitions import resources
    from resources.validation import parse_day

    results = rederive(_store(), team_slugs, parse_day(start, "--from date"), parse_day(end, "--to date"),
                       resources()["cost"].prices(), log=click.echo)
    if any(r.unparsable for r in results):
        for r in results:
            for day, why in sorted(r.unparsable.items()):
                click.echo(f"  {r.team} {day}: kept as stored ({why})", err=True)
        sys.exit(1)


# ---------------------------------------------------------------------------- flags
@main.group()
def flags() -> None:
    """Feature flags (global, with per-team overrides)."""


@flags.command("set")
@click.argument("name")
@click.argument("value")
@click.option("--team", "team_slug", help="set a per-team override instead of the global value")
@friendly_errors
def flags_set(name: str, value: str, team_slug: str | None) -> None:
    value_l = value.lower()
    if value_l not in ("on", "off"):
        raise InvalidInput(f"flag value {value!r} must be 'on' or 'off'")
    store = _store()
    team_id = store.get_team(team_slug).id if team_slug else None
    store.set_flag(name, value_l == "on", team_id=team_id)
    click.echo(f"{name} = {value_l}" + (f" for team {team_slug}" if team_slug else " (global)"))


@flags.command("show")
@click.argument("name", default="integration_copilot_enabled")
@friendly_errors
def flags_show(name: str) -> None:
    store = _store()
    global_value, _ = store.flag_values(name)
    click.echo(f"{name} global: {'not set (off)' if global_value is None else ('on' if global_value else 'off')}")
    for t in store.list_teams():
        d = store.flag_for_team(name, t.id)
        click.echo(f"  {t.slug}: {'on' if d.enabled else 'off'} ({d.reason})")


# ---------------------------------------------------------------------------- insights, export, report
def _register_outputs() -> None:
    from copilot_flow.cli_outputs import register

    register(main, friendly_errors, _store)


_register_outputs()


# ---------------------------------------------------------------------------- alerts
def _register_alerts() -> None:
    from copilot_flow.cli_alerts import register

    register(main, friendly_errors, _store)


_register_alerts()


# ---------------------------------------------------------------------------- simulators
@main.group()
def simulate() -> None:
    """Local simulators of the GitHub and Anthropic APIs."""


@simulate.command("github", context_settings={"ignore_unknown_options": True})
@click.option("--port", default=8787, show_default=True)
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False))
def simulate_github(port: int, config_file: str | None) -> None:
    from simulators import github

    argv = ["--port", str(port)] + (["--config", config_file] if config_file else [])
    github.main(argv)


@simulate.command("anthropic")
@click.option("--port", default=8788, show_default=True)
def simulate_anthropic(port: int) -> None:
    from simulators import anthropic

    anthropic.main(["--port", str(port)])


if __name__ == "__main__":  # pragma: no cover
    main()
