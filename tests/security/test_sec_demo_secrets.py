"""Secrets (README "Configuration"): after the whole demo (onboarding, nightly sync, insights, a team on a
GitHub App, a revoked token, a 403), no GitHub token, GitHub App private key, App JWT or installation token,
Authorization header, Anthropic key, Fernet key or signed download URL signature appears in the demo's
stdout/stderr, the Dagster event log, run storage, run tags, materialization metadata, the app store (every
column of every table) or any file under the demo's home (raw bytes, SQLite WAL included).

The same demo run also shows the story the README tells: the three teams' statuses, and acme's Claude insight
mentioning a pull-request or agent fact with its number cited and grounded."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from insights_assets.facts import Facts
from insights_assets.grounding import check_grounding
from insights_assets.schema import InsightOutput

ROOT = Path(__file__).resolve().parents[2]
TOKENS = ["demo-acme-token", "demo-globex-token", "demo-initech-token", "a-newer-token-we-do-not-have"]
ANTHROPIC_KEY = "demo-simulator-key"
GENERIC = [b"Bearer ", b"sig=", b"authorization", b"x-api-key", b"_downloads/"]


def _hits(blob: bytes, needles: list[bytes]) -> list[str]:
    low = blob.lower()
    return sorted({n.decode() for n in needles if n.lower() in low})


def test_demo_leaks_no_secret_anywhere(tmp_path) -> None:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    sig_log = tmp_path / "sigs.txt"
    app_log = tmp_path / "app_secrets.txt"
    env = {k: v for k, v in os.environ.items()
           if k not in ("COPILOT_FLOW_SECRET_KEY", "COPILOT_FLOW_DATABASE_URL", "DAGSTER_HOME", "DAGSTER_PG_URL")}
    env.update(COPILOT_FLOW_HOME=str(home), SIG_LOG=str(sig_log), APP_SECRETS_LOG=str(app_log), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(Path(__file__).with_name("demo_canary.py"))], cwd=ROOT, env=env,
                          capture_output=True, timeout=170)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out.decode()[-4000:]
    # the demo ran as documented: acme connected, globex revoked, initech insufficient_licenses (policy off)
    text = proc.stdout.decode()
    for slug, status in (("acme", "connected"), ("globex", "token_revoked"), ("initech", "insufficient_licenses")):
        assert re.search(rf"^\s+{slug}\s+{status}\s+ok$", text, re.M), text[-3000:]

    # acme's Claude insight mentions a pull-request or agent fact, with the number cited and grounded (below)
    shown = text[text.index("=== copilot-flow insights show acme ==="):]
    assert "source: claude" in shown and ("pull requests" in shown or "Copilot agent" in shown), shown[:1500]
    assert "AI credits per month" in text  # acme's budget, set by the demo

    sigs = [s for s in sig_log.read_text().split() if s]
    assert len(sigs) >= 10  # the simulator really issued signed links (2 shards for acme, 28 days …)
    app_secrets = [s for s in app_log.read_text().split() if s]
    key_lines = [s for s in app_secrets if not s.startswith(("ghs_", "eyJ"))]
    jwts = [s for s in app_secrets if s.startswith("eyJ")]
    installation_tokens = [s for s in app_secrets if s.startswith("ghs_")]
    # acme really ran on the App: its key (≥ 20 lines of a 2048-bit PEM), JWTs and installation tokens exist
    assert len(key_lines) >= 20 and jwts and installation_tokens, (len(key_lines), len(jwts), len(installation_tokens))
    fernet_key = (home / "secret.key").read_bytes().strip()
    assert oct((home / "secret.key").stat().st_mode & 0o777) == "0o600"
    secrets = [t.encode() for t in TOKENS] + [ANTHROPIC_KEY.encode()] + [s.encode() for s in sigs + app_secrets]
    everything = secrets + GENERIC + [fernet_key]

    # 1. captured stdout / stderr
    assert _hits(out, everything) == []

    # 2. every file under the home (app store + WAL, Dagster run/event/schedule storage, compute logs) as bytes
    files = [p for p in home.rglob("*") if p.is_file() and p.name != "secret.key"]
    assert any(p.name == "copilot_flow.db" for p in files)
    assert any(p.suffix == ".db" and "runs" in p.parts for p in files)
    for p in files:
        assert _hits(p.read_bytes(), everything) == [], p

    # 3. the Dagster instance's own view: every event of every run, every tag, every metadata value
    os.environ["DAGSTER_HOME"] = str(home / "dagster_home")
    try:
        with dg.DagsterInstance.get() as instance:
            runs = instance.get_runs()
            assert len(runs) >= 4
            n_mats = 0
            for run in runs:
                blob = repr(run.tags).encode() + repr(run.run_config).encode()
                for rec in instance.get_records_for_run(run.run_id, limit=100000).records:
                    entry = rec.event_log_entry
                    blob += entry.to_json().encode()
                    mat = entry.asset_materialization
                    if mat is not None:
                        n_mats += 1
                        blob += repr({k: v.value for k, v in mat.metadata.items()}).encode()
                assert _hits(blob, everything) == [], run.run_id
            assert n_mats >= 28
    finally:
        os.environ.pop("DAGSTER_HOME", None)

    # 4. the app store through SQL: every column of every table, as text
    engine = sa.create_engine(f"sqlite:///{home / 'copilot_flow.db'}")
    try:
        with engine.connect() as conn:
            names = [r[0] for r in conn.exec_driver_sql("select name from sqlite_master where type='table'")]
            assert "credentials" in names
            for name in names:
                for row in conn.exec_driver_sql(f'select * from "{name}"'):
                    blob = repr(tuple(row)).encode()
                    assert _hits(blob, [*secrets, fernet_key, b"Bearer "]) == [], name
            # the tokens and the App's key are there, but only encrypted
            assert conn.exec_driver_sql("select count(*) from credentials").scalar_one() >= 3
            assert conn.exec_driver_sql("select count(*) from credentials where kind = 'github_app' "
                                        "and private_key_encrypted is not null").scalar_one() == 1
            insight = conn.exec_driver_sql(
                "select i.detail, i.headline, i.recommendation, i.actions, i.cited_numbers, i.facts, i.source "
                "from insights i join teams t on t.id = i.team_id where t.slug = 'acme' order by i.day desc limit 1"
            ).one()
    finally:
        engine.dispose()
    output = InsightOutput.model_validate({"detail": insight[0], "headline": insight[1], "recommendation": insight[2],
                                           "actions": json.loads(insight[3]), "cited_numbers": json.loads(insight[4])})
    facts = Facts.from_json(insight[5])
    assert insight[6] == "claude" and check_grounding(output, facts).passed
    cited = {c.metric for c in output.cited_numbers}
    assert cited & {"prs_merged", "prs_created", "pr_median_minutes_to_merge", "agent_users_distinct",
                    "agent_adoption_rate"}, cited
    for name in cited & {"prs_merged", "agent_users_distinct"}:
        assert f"{facts.numbers[name]:,}" in output.detail  # the number itself is in the text
