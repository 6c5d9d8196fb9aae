"""The deployment files agree with the settings module: the Dockerfile, the Helm values for Dagster's chart
(deploy/helm/values.yaml), the example Secrets, the db-upgrade Job, pyproject and workspace.yaml name the same
definitions module, port, code location, environment variables and secrets as ``resources/settings.py``.

Pure: files are parsed, nothing is built or served. Command lines are parsed with Dagster's own CLI
(``dagster code-server start`` / ``dagster api grpc``), so a flag Dagster 1.13 does not know fails here.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from resources import settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
VALUES = ROOT / "deploy" / "helm" / "values.yaml"
SECRETS = ROOT / "deploy" / "helm" / "secret.example.yaml"
DB_UPGRADE_JOB = ROOT / "deploy" / "k8s" / "db-upgrade-job.yaml"

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - the code server must be reachable from other pods

# set by the chart itself on every pod, from the values (so never as a plain `env` entry)
CHART_SET_ENV = {settings.DAGSTER_HOME_ENV: ("global", "dagsterHome")}


# ---------------------------------------------------------------------------------------------- helpers
def dockerfile_stages(text: str) -> list[list[tuple[str, str]]]:
    """(INSTRUCTION, arguments) per build stage; comments dropped, continuation lines joined."""
    logical, buf = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        logical.append(buf + line)
        buf = ""
    stages: list[list[tuple[str, str]]] = []
    for line in logical:
        instr, _, args = line.partition(" ")
        if instr.upper() == "FROM":
            stages.append([])
        assert stages, f"instruction before FROM: {line}"
        stages[-1].append((instr.upper(), args.strip()))
    return stages


def exec_form(args: str) -> list[str]:
    """A CMD/ENTRYPOINT in JSON exec form (the shell form would run under /bin/sh -c and drop signals)."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(a, str) for a in value), args
    return value


def env_instructions(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for instr, args in stage:
        if instr == "ENV":
            for key, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", args):
                env[key] = value
    return env


def parse_server_args(argv: list[str]) -> dict:
    """Parse a `dagster code-server start …` or `dagster api grpc …` command line with Dagster's CLI."""
    from dagster._cli.api import grpc_command
    from dagster._cli.code_server import start_command

    assert argv[0] == "dagster", argv
    if argv[1:3] == ["code-server", "start"]:
        command, rest = start_command, argv[3:]
    elif argv[1:3] == ["api", "grpc"]:
        command, rest = grpc_command, argv[3:]
    else:
        raise AssertionError(f"not a code location server command: {argv}")
    params = dict(command.make_context(argv[2], list(rest)).params)
    module = params.get("module_name")
    params["module_name"] = module[0] if isinstance(module, tuple | list) and len(module) == 1 else module
    return params


def final_stage() -> list[tuple[str, str]]:
    return dockerfile_stages(DOCKERFILE.read_text())[-1]


def values() -> dict:
    return yaml.safe_load(VALUES.read_text())


def user_deployment(vals: dict) -> dict:
    section = vals["dagster-user-deployments"]
    assert section["enabled"] is True
    (deployment,) = section["deployments"]  # exactly one code location
    return deployment


def run_launcher(vals: dict) -> dict:
    assert vals["runLauncher"]["type"] == "K8sRunLauncher"
    return vals["runLauncher"]["config"]["k8sRunLauncher"]


def deployment_server_argv(deployment: dict) -> list[str]:
    """The container args the chart builds for the user deployment (dagster-user-deployments template)."""
    has_grpc, has_code_server = bool(deployment.get("dagsterApiGrpcArgs")), bool(deployment.get("codeServerArgs"))
    assert has_grpc != has_code_server, "set exactly one of dagsterApiGrpcArgs / codeServerArgs"
    head = ["dagster", "api", "grpc"] if has_grpc else ["dagster", "code-server", "start"]
    extra = deployment["dagsterApiGrpcArgs"] if has_grpc else deployment["codeServerArgs"]
    return [*head, "-h", ALL_INTERFACES, "-p", str(deployment["port"]), *extra]


def secret_documents() -> dict[str, dict]:
    docs = [d for d in yaml.safe_load_all(SECRETS.read_text()) if d]
    assert all(d["kind"] == "Secret" for d in docs)
    return {d["metadata"]["name"]: d for d in docs}


def secret_keys(doc: dict) -> set[str]:
    return set(doc.get("stringData") or {}) | set(doc.get("data") or {})


def env_settings(node, path: str = "") -> list[tuple[str, str, str | None]]:
    """Every environment variable values.yaml sets as a plain value: (where, name, value). Covers `env`
    (a dict, or a list of {name, value|valueFrom}) and the run launcher's `envVars` ("NAME=value" or "NAME")."""
    found: list[tuple[str, str, str | None]] = []
    if isinstance(node, dict):
        for key, child in node.items():
            where = f"{path}.{key}" if path else str(key)
            if key == "env" and isinstance(child, dict):
                found += [(where, name, str(value)) for name, value in child.items()]
            elif key == "env" and isinstance(child, list):
                found += [(where, entry["name"], entry.get("value")) for entry in child]
            elif key == "envVars" and isinstance(child, list):
                for entry in child:
                    name, sep, value = str(entry).partition("=")
                    found.append((where, name, value if sep else None))
            else:
                found += env_settings(child, where)
    elif isinstance(node, list):
        for i, child in enumerate(node):
            found += env_settings(child, f"{path}[{i}]")
    return found


# ------------------------------------------------------------------------ one name for the code location
def test_pyproject_and_workspace_name_the_settings_definitions_module():
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert tool["tool"]["dagster"]["module_name"] == settings.DEFINITIONS_MODULE
    assert tool["tool"]["dagster"]["code_location_name"] == settings.CODE_LOCATION_NAME
    # the image installs the module (a regular install, not a source tree): it must be a py-module
    assert settings.DEFINITIONS_MODULE in tool["tool"]["setuptools"]["py-modules"]
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    (entry,) = workspace["load_from"]
    assert entry["python_file"]["relative_path"] == f"{settings.DEFINITIONS_MODULE}.py"
    assert entry["python_file"]["location_name"] == settings.CODE_LOCATION_NAME


def test_dockerfile_cmd_serves_the_definitions_module_on_the_code_server_port():
    stage = final_stage()
    cmds = [args for instr, args in stage if instr == "CMD"]
    assert len(cmds) == 1, cmds
    argv = exec_form(cmds[0])
    params = parse_server_args(argv)
    assert params["module_name"] == settings.DEFINITIONS_MODULE
    assert params["port"] == settings.CODE_SERVER_PORT
    assert params["host"] == ALL_INTERFACES  # reachable from the webserver and the daemon, not only loopback
    exposed = {p.split("/")[0] for instr, args in stage if instr == "EXPOSE" for p in args.split()}
    assert str(settings.CODE_SERVER_PORT) in exposed


def test_dockerfile_has_no_entrypoint_because_kubernetes_passes_args():
    """The chart starts the code server and the K8sRunLauncher starts `dagster api execute_run …` by setting
    the container's args: with an ENTRYPOINT they would become arguments of it."""
    entrypoints = [args for stage in dockerfile_stages(DOCKERFILE.read_text())
                   for instr, args in stage if instr == "ENTRYPOINT"]
    assert entrypoints == []


def test_dockerfile_installs_the_k8s_extra_pinned_by_constraints_without_dev_deps():
    stages = dockerfile_stages(DOCKERFILE.read_text())
    installs = [args for stage in stages for instr, args in stage if instr == "RUN" and "pip install" in args]
    assert installs, "no pip install in the Dockerfile"
    for args in installs:
        assert re.search(r"(^|\s)(-c|--constraint)\s+constraints\.txt(\s|$)", args), args
        extras = [e.strip() for group in re.findall(r"\.\[([^\]]*)\]", args) for e in group.split(",")]
        assert "dev" not in extras, args
    assert any(re.search(r"""["']?\.\[k8s\]["']?""", args) for args in installs), installs
    copied = " ".join(args for stage in stages for instr, args in stage if instr == "COPY")
    assert "constraints.txt" in copied
    # the extra exists and pins dagster-k8s to the dagster-postgres line
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    k8s = project["optional-dependencies"]["k8s"]
    postgres_pin = next(d for d in project["dependencies"] if d.startswith("dagster-postgres=="))
    assert f"dagster-k8s=={postgres_pin.split('==')[1]}" in k8s
    default_and_dev = project["dependencies"] + project["optional-dependencies"]["dev"]
    assert not any(d.startswith("dagster-k8s") for d in default_and_dev)  # `make test` does not need it


def test_dockerfile_runs_as_a_non_root_user_with_dagster_home_as_the_chart_sets_it():
    stage = final_stage()
    users = [args for instr, args in stage if instr == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    env = env_instructions(stage)
    assert env[settings.DAGSTER_HOME_ENV] == values()["global"]["dagsterHome"]
    assert set(env) & set(settings.SECRET_ENV_VARS) == set()  # no secret baked into the image


def test_constraints_pin_every_package_exactly():
    lines = [ln.strip() for ln in (ROOT / "constraints.txt").read_text().splitlines() if ln.strip()]
    bad = [ln for ln in lines if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!-]+", ln)]
    assert bad == []
    names = [re.sub(r"[-_.]+", "-", ln.split("==")[0]).lower() for ln in lines]
    assert len(names) == len(set(names))
    assert "dagster-k8s" in names and "kubernetes" in names


def test_dockerignore_keeps_tests_benches_docs_and_local_state_out_of_the_image():
    ignored = {ln.strip().rstrip("/") for ln in (ROOT / ".dockerignore").read_text().splitlines()
               if ln.strip() and not ln.startswith("#")}
    assert {".git", ".venv", ".copilot-flow", "tests", "bench", "docs"} <= ignored


# -------------------------------------------------------------------------------------------- helm values
def test_helm_user_deployment_serves_the_same_module_and_port():
    vals = values()
    deployment = user_deployment(vals)
    assert deployment["port"] == settings.CODE_SERVER_PORT
    params = parse_server_args(deployment_server_argv(deployment))
    assert params["module_name"] == settings.DEFINITIONS_MODULE
    assert params["port"] == settings.CODE_SERVER_PORT
    # the webserver and the daemon load the location under its workspace.yaml name, from this deployment
    workspace = vals["dagsterWebserver"]["workspace"]
    assert workspace["enabled"] is True
    (server,) = workspace["servers"]
    assert server["name"] == settings.CODE_LOCATION_NAME
    assert (server["host"], server["port"]) == (deployment["name"], settings.CODE_SERVER_PORT)


def test_every_secret_comes_from_the_kubernetes_secret_in_both_the_code_server_and_run_pods():
    vals = values()
    docs = secret_documents()
    app_secrets = [name for name, doc in docs.items() if secret_keys(doc) & set(settings.SECRET_ENV_VARS)]
    assert len(app_secrets) == 1, app_secrets
    (app_secret,) = app_secrets
    assert secret_keys(docs[app_secret]) == set(settings.SECRET_ENV_VARS)
    assert app_secret in {s["name"] for s in user_deployment(vals)["envSecrets"]}
    assert app_secret in {s["name"] for s in run_launcher(vals)["envSecrets"]}
    # the Dagster instance's password: the Secret and key the chart reads, never a value in the values
    pg_secret = vals["global"]["postgresqlSecretName"]
    assert secret_keys(docs[pg_secret]) == {"postgresql-password"}
    assert vals["generatePostgresqlPasswordSecret"] is False
    assert vals["postgresql"]["postgresqlPassword"] == ""


def test_the_example_secrets_hold_placeholders_only():
    for name, doc in secret_documents().items():
        assert not doc.get("data"), f"{name}: use stringData placeholders, not base64 data"
        for key, value in doc["stringData"].items():
            assert re.search(r"<[a-z0-9-]+>", value), f"{name}.{key} is not a <placeholder>"


def test_no_secret_is_a_plain_env_value_and_no_credentials_in_the_values():
    vals = values()
    plain = env_settings(vals)
    leaked = [(where, name) for where, name, _ in plain if name in settings.SECRET_ENV_VARS]
    assert leaked == []
    assert not re.search(r"://[^/\s:@]+:[^@\s]+@", VALUES.read_text())  # a URL with a password


def test_every_env_var_the_values_set_is_a_known_setting():
    names = {name for _, name, _ in env_settings(values())}
    assert names, "no environment variables found: the walker is broken"
    assert names <= set(settings.ENV_VARS), names - set(settings.ENV_VARS)
    # the chart sets these itself; a second, plain entry would be a duplicate
    assert names & set(CHART_SET_ENV) == set()


def test_code_server_and_run_pods_get_the_same_runtime_settings():
    vals = values()
    deployment_env = {e["name"]: e.get("value") for e in user_deployment(vals)["env"]}
    launcher_env = dict(str(e).partition("=")[::2] for e in run_launcher(vals)["envVars"])
    for name in settings.RUNTIME_ENV_VARS:
        if name in CHART_SET_ENV:
            section, key = CHART_SET_ENV[name]
            assert vals[section][key], f"{section}.{key} (sets {name}) is empty"
            continue
        assert name in deployment_env, f"{name} missing from the code location's env"
        assert name in launcher_env, f"{name} missing from the run launcher's envVars"
        assert deployment_env[name] == launcher_env[name], name
    # run pods are configured by the run launcher alone (see the comment in values.yaml)
    assert user_deployment(vals)["includeConfigInLaunchedRuns"]["enabled"] is False
    resources = run_launcher(vals)["resources"]
    assert resources["requests"]["cpu"] and resources["requests"]["memory"] and resources["limits"]["memory"]


def test_the_run_queue_and_pool_limits_carry_over_from_dagster_postgres_yaml():
    vals = values()
    instance = yaml.safe_load((ROOT / "dagster.postgres.yaml").read_text())["concurrency"]
    assert vals["dagsterDaemon"]["runCoordinator"]["enabled"] is True
    assert vals["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    concurrency = vals["concurrency"]
    assert concurrency["enabled"] is True
    limits = concurrency["runs"]["tagConcurrencyLimits"]
    assert limits == instance["runs"]["tag_concurrency_limits"]
    team = [lim for lim in limits if lim["key"] == "copilot/team"]
    assert team == [{"key": "copilot/team", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]
    assert isinstance(concurrency["runs"]["maxConcurrentRuns"], int) and concurrency["runs"]["maxConcurrentRuns"] > 0
    # the chart has no per-pool limits: the default limit is what bounds `github_api` (and `llm_api`)
    assert concurrency["pools"]["defaultLimit"] == instance["pools"]["default_limit"]
    # Dagster 1.13 refuses run limits in the run coordinator's config next to a `concurrency` block
    queued = ((vals["dagsterDaemon"]["runCoordinator"].get("config") or {}).get("queuedRunCoordinator") or {})
    assert queued.get("maxConcurrentRuns") is None and not queued.get("tagConcurrencyLimits")


def test_dagster_accepts_the_instance_concurrency_the_values_describe(tmp_path):
    """The chart renders `concurrency` (camelCase → snake_case) next to a QueuedRunCoordinator without run
    limits; Dagster 1.13.27 loads that config, and the github_api pool gets the default limit. (This mirrors
    the chart's template by hand; `helm template` is the check against the chart itself.)"""
    from dagster import DagsterInstance
    from dagster._core.errors import DagsterInvalidConfigError

    from copilot_assets.assets import GITHUB_POOL

    concurrency = values()["concurrency"]
    rendered = {
        "run_coordinator": {"module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator"},
        "concurrency": {
            "pools": {"default_limit": concurrency["pools"]["defaultLimit"]},
            "runs": {"max_concurrent_runs": concurrency["runs"]["maxConcurrentRuns"],
                     "tag_concurrency_limits": concurrency["runs"]["tagConcurrencyLimits"]},
        },
        "telemetry": {"enabled": False},
    }
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(rendered))
    instance = DagsterInstance.from_config(str(tmp_path))
    try:
        config = instance.get_concurrency_config()
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert config.run_queue_config.max_concurrent_runs == concurrency["runs"]["maxConcurrentRuns"]
        assert list(config.run_queue_config.tag_concurrency_limits) == concurrency["runs"]["tagConcurrencyLimits"]
        github_pool = instance.event_log_storage.get_concurrency_info(GITHUB_POOL)
        assert github_pool.limit == concurrency["pools"]["defaultLimit"]
    finally:
        instance.dispose()
    # … and why the limits are not under the run coordinator
    rendered["run_coordinator"]["config"] = {"max_concurrent_runs": 8}
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(rendered))
    with pytest.raises(DagsterInvalidConfigError):
        DagsterInstance.from_config(str(tmp_path))


def test_the_db_upgrade_job_uses_the_code_location_image_and_secret():
    vals = values()
    deployment = user_deployment(vals)
    job = yaml.safe_load(DB_UPGRADE_JOB.read_text())
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"{deployment['image']['repository']}:{deployment['image']['tag']}"
    assert "command" not in container  # args replace the image's CMD; there is no ENTRYPOINT
    assert container["args"] == ["copilot-flow", "db", "upgrade"]
    env_from = {e["secretRef"]["name"] for e in container["envFrom"] if "secretRef" in e}
    assert env_from == {s["name"] for s in deployment["envSecrets"]}


def test_runs_at_once_matches_the_run_pods_and_the_pool():
    """The nightly splits its teams into at least COPILOT_FLOW_RUNS_AT_ONCE runs: as many as run pods execute
    at once (maxConcurrentRuns) and github_api slots admit (the pools' default limit)."""
    vals = values()
    deployment_env = {e["name"]: e.get("value") for e in user_deployment(vals)["env"]}
    launcher_env = dict(str(e).partition("=")[::2] for e in run_launcher(vals)["envVars"])
    conc = vals["concurrency"]
    assert deployment_env[settings.RUNS_AT_ONCE_ENV] == launcher_env[settings.RUNS_AT_ONCE_ENV] == str(
        conc["runs"]["maxConcurrentRuns"]) == str(conc["pools"]["defaultLimit"])
    # and the resource's default matches the instance files a single host runs with
    from resources.sync_policy import DEFAULT_RUNS_AT_ONCE

    for name in ("dagster.yaml", "dagster.postgres.yaml"):
        instance = yaml.safe_load((ROOT / name).read_text())["concurrency"]
        assert instance["runs"]["max_concurrent_runs"] == instance["pools"]["default_limit"] == DEFAULT_RUNS_AT_ONCE
