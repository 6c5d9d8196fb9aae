"""`copilot-flow alerts …`: the webhook targets of the alerts (copilot_assets/alerts.py says what is told).

The URL is read from an environment variable or stdin, never argv (a Slack webhook URL is a secret), and
stored encrypted; so is a generic target's signing secret (from an environment variable, or generated and
shown once). Listings show the URL's scheme and host only.
"""

from __future__ import annotations

import secrets
import sys

import click

from resources import settings
from resources.secrets import Secret
from resources.validation import InvalidInput


def _read_url(url_env: str | None) -> Secret:
    from copilot_flow.cli_input import secret_input
    from resources.webhooks import validate_url

    return validate_url(secret_input(url_env, "webhook URL", "--url-env"))


def register(main: click.Group, friendly_errors, store_factory) -> None:
    """Add the ``alerts`` group to the CLI (``friendly_errors`` and ``store_factory`` come from cli.py)."""

    @main.group()
    def alerts() -> None:
        """Webhook alerts: status changes, team-days confirmed empty, failed nightly runs."""

    @alerts.command("add")
    @click.option("--format", "fmt", type=click.Choice(["slack", "generic"]), default="slack", show_default=True,
                  help="slack: {\"text\": …}; generic: JSON signed with X-CopilotFlow-Signature (HMAC-SHA256)")
    @click.option("--url-env", metavar="VAR", help="read the webhook URL from this environment variable (else stdin)")
    @click.option("--secret-env", metavar="VAR", help="generic: the signing secret's variable (else one is generated)")
    @click.option("--team", "team_slug", help="only this team's alerts (default: every team's)")
    @friendly_errors
    def alerts_add(fmt: str, url_env: str | None, secret_env: str | None, team_slug: str | None) -> None:
        """Add a webhook target (global, or for one team)."""
        store = store_factory()
        team = store.get_team(team_slug) if team_slug else None
        url = _read_url(url_env)
        secret: Secret | None = None
        generated = False
        if fmt == "generic":
            if secret_env:
                value = (settings.env_raw(secret_env) or "").strip()
                if not value:
                    raise InvalidInput(f"environment variable {secret_env} is not set or empty")
                secret = Secret(value)
            else:
                secret, generated = Secret(secrets.token_urlsafe(32)), True
        elif secret_env:
            raise InvalidInput("--secret-env is for --format generic (Slack webhooks are not signed)")
        target_id = store.add_alert_target(format=fmt, url=url, secret=secret, team_id=team.id if team else None)
        from resources.webhooks import url_host

        scope = f"team {team.slug}" if team else "every team"
        click.echo(f"alert target {target_id} added: {fmt} webhook {url_host(url.reveal())} for {scope}; the URL is "
                   "stored encrypted")
        if generated and secret is not None:
            click.echo(f"signing secret (shown once; the receiver checks X-CopilotFlow-Signature with it): "
                       f"{secret.reveal()}")

    @alerts.command("list")
    @friendly_errors
    def alerts_list() -> None:
        """Targets: id, scope, format, host (never the URL's path)."""
        store = store_factory()
        slugs = {t.id: t.slug for t in store.list_teams()}
        targets = store.alert_targets()
        if not targets:
            click.echo("no alert target (add one: copilot-flow alerts add --url-env VAR)")
        for t in targets:
            scope = f"team {slugs.get(t.team_id, t.team_id)}" if t.team_id is not None else "every team"
            click.echo(f"{t.id:>4}  {t.format:<8} {scope:<24} {t.describe()}")
        counts = store.alert_counts()
        click.echo(f"alerts: {counts.get('sent', 0)} sent, {counts.get('pending', 0)} pending, "
                   f"{counts.get('abandoned', 0)} abandoned")

    @alerts.command("remove")
    @click.argument("target_id", type=int)
    @friendly_errors
    def alerts_remove(target_id: int) -> None:
        """Remove a target (and the record of what it was sent)."""
        if not store_factory().remove_alert_target(target_id):
            raise InvalidInput(f"unknown alert target {target_id}")
        click.echo(f"alert target {target_id} removed")

    @alerts.command("test")
    @click.option("--team", "team_slug", help="the targets that hear this team (its own and the global ones)")
    @click.option("--id", "target_id", type=int, help="only this target")
    @friendly_errors
    def alerts_test(team_slug: str | None, target_id: int | None) -> None:
        """Send a test message now (with retries); exit 1 when a target did not accept it."""
        from copilot_assets.alerts import ping_alert
        from resources.webhooks import AlertsResource

        store = store_factory()
        team = store.get_team(team_slug) if team_slug else None
        targets = store.alert_targets(team_id=team.id) if team else store.alert_targets()
        if target_id is not None:
            targets = [t for t in targets if t.id == target_id]
        if not targets:
            raise InvalidInput("no alert target to test" + (f" for team {team_slug}" if team_slug else ""))
        message = ping_alert(team.slug if team else None).message()
        failed = 0
        for t in targets:
            d = AlertsResource().deliver(t, message)
            failed += int(not d.ok)
            outcome = (f"delivered (HTTP {d.status})" if d.ok
                       else f"NOT delivered after {d.attempts} attempt(s): {d.error}")
            click.echo(f"target {t.id} ({t.format}, {t.describe()}): {outcome}")
        if failed:
            sys.exit(1)
