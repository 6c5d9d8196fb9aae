"""Run `python -m copilot_flow.demo --no-serve`, recording every download-link signature the GitHub simulator
issues (one per line in the file named by SIG_LOG), and the GitHub App's secrets — every line of its private
key, every JWT signed with it, every installation token the simulator issued — (one per line in the file
named by APP_SECRETS_LOG), so the test can look for them afterwards."""

from __future__ import annotations

import os
import sys

from copilot_flow import demo
from resources.github import app_auth
from simulators import github as github_sim

_sign = github_sim.SimState.sign
_issue_token = github_sim.SimState.issue_token
_app_jwt = app_auth.app_jwt
_demo_app_key = demo.demo_app_key


def _record(name: str, *values: str) -> None:
    with open(os.environ[name], "a", encoding="utf-8") as fh:
        fh.writelines(v + "\n" for v in values)


def _recording_sign(self, opaque: str, st: int, se: int) -> str:
    sig = _sign(self, opaque, st, se)
    _record("SIG_LOG", sig)
    return sig


def _recording_issue_token(self, org, inst):
    token, issued = _issue_token(self, org, inst)
    _record("APP_SECRETS_LOG", token)
    return token, issued


def _recording_app_jwt(app_id, private_key, now):
    token = _app_jwt(app_id, private_key, now)
    _record("APP_SECRETS_LOG", token)
    return token


def _recording_demo_app_key():
    private, public = _demo_app_key()
    _record("APP_SECRETS_LOG", *(line for line in private.splitlines() if len(line) >= 40))
    return private, public


github_sim.SimState.sign = _recording_sign
github_sim.SimState.issue_token = _recording_issue_token
app_auth.app_jwt = _recording_app_jwt
demo.demo_app_key = _recording_demo_app_key

if __name__ == "__main__":
    sys.exit(demo.main(["--no-serve"]))
