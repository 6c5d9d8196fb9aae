#!/usr/bin/env bash
# docs/img/partitions.png, team-report-asset.png, team-report.png: the demo's partition grid, acme's team
# report in the Dagster UI (its charts open) and acme's HTML report, taken with headless Chromium.
#
#   scripts/screenshot.sh            # from the repository root (needs .venv: `make install`)
#
# Installs Debian's chromium if it is missing, runs the demo in serve mode in the background
# (COPILOT_FLOW_HOME=.copilot-flow, UI on 127.0.0.1:$PORT), takes the screenshot with
# scripts/screenshot.py and stops the demo again (also on failure or Ctrl-C).
set -euo pipefail

cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
PORT="${PORT:-3000}"
IMG="${IMG:-docs/img}"
export COPILOT_FLOW_HOME="${COPILOT_FLOW_HOME:-.copilot-flow}"

if ! command -v chromium >/dev/null 2>&1; then
  echo "screenshot: installing Debian's chromium"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
fi

if (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "screenshot: port $PORT is in use; stop what runs there (or set PORT)" >&2
  exit 1
fi

mkdir -p "$COPILOT_FLOW_HOME"
LOG="$COPILOT_FLOW_HOME/screenshot-demo.log"
# its own process group, so stopping it also stops `dagster dev`, the webserver, daemon and code server
setsid "$PY" -m copilot_flow.demo --port "$PORT" >"$LOG" 2>&1 &
DEMO_PID=$!

stop_demo() {
  if kill -0 "$DEMO_PID" 2>/dev/null; then
    kill -INT -- "-$DEMO_PID" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$DEMO_PID" 2>/dev/null || break; sleep 1; done
    kill -KILL -- "-$DEMO_PID" 2>/dev/null || true
  fi
}
trap stop_demo EXIT

echo "screenshot: demo started (pid $DEMO_PID, log $LOG); waiting for http://127.0.0.1:$PORT"
for _ in $(seq 1 240); do
  if ! kill -0 "$DEMO_PID" 2>/dev/null; then
    echo "screenshot: the demo exited early; see $LOG" >&2
    tail -n 40 "$LOG" >&2
    exit 1
  fi
  if "$PY" -c "import httpx,sys; sys.exit(httpx.get('http://127.0.0.1:$PORT/server_info', timeout=2).status_code != 200)" \
      2>/dev/null; then
    break
  fi
  sleep 1
done

"$PY" scripts/screenshot.py --base "http://127.0.0.1:$PORT" --img "$IMG" --report "$COPILOT_FLOW_HOME/acme-report.html"
