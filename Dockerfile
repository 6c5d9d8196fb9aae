# The code location / run worker image: one image serves the code location (gRPC on port 4000) and runs
# every launched run (K8sRunLauncher starts it with `dagster api execute_run …` as the container args).
#
#   docker build -t registry.example.com/copilot-flow:0.1.0 .
#
# There is deliberately no ENTRYPOINT: Kubernetes replaces CMD with the container's `args`, and both the Helm
# chart (`dagster code-server start …` from deploy/helm/values.yaml) and the K8sRunLauncher (`dagster api
# execute_run …`) set `args` only. An ENTRYPOINT would be prepended to them and break both.
# tests/deploy/test_deployment_files.py checks the CMD against resources/settings.py.

FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
WORKDIR /src
# only what the package build needs (pyproject's packages, definitions.py, the README it names)
COPY pyproject.toml constraints.txt README.md definitions.py ./
COPY copilot_assets ./copilot_assets
COPY insights_assets ./insights_assets
COPY report_assets ./report_assets
COPY resources ./resources
COPY simulators ./simulators
COPY copilot_flow ./copilot_flow
# a regular (non-editable) install: no dev extra, every version pinned by constraints.txt
RUN /opt/venv/bin/pip install -c constraints.txt ".[k8s]"


FROM python:3.11-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    COPILOT_FLOW_HOME=/opt/dagster/copilot_flow_home

RUN groupadd --system --gid 10001 dagster \
    && useradd --system --uid 10001 --gid dagster --create-home --home-dir /home/dagster dagster \
    && mkdir -p /opt/dagster/app /opt/dagster/dagster_home /opt/dagster/copilot_flow_home \
    && chown -R dagster:dagster /opt/dagster

COPY --from=build /opt/venv /opt/venv

# An empty working directory: `definitions` and the packages load from the installed venv, never from a
# source tree. The Helm chart mounts the instance's dagster.yaml into DAGSTER_HOME.
WORKDIR /opt/dagster/app
USER 10001:10001
EXPOSE 4000

CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "definitions"]
