"""Screenshots of the demo with headless Chromium, driven over the DevTools protocol (no extra package:
``websockets`` comes with the Dagster webserver).

    python scripts/screenshot.py [--base http://127.0.0.1:3000] [--img docs/img] [--report FILE]

- docs/img/partitions.png: the copilot_usage partition grid;
- docs/img/team-report-asset.png: copilot_team_report's latest materialization of acme, its charts open;
- docs/img/team-report.png: the HTML report of acme (``copilot-flow report``), the whole page.

Waits until the webserver has loaded the code location and the demo's runs have materialized what is shown
(GraphQL), and checks each PNG is a real page (size, not a blank frame). scripts/screenshot.sh starts and
stops the demo around it.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUERY = """
query { assetNodeOrError(assetKey: {path: [%s]}) {
  __typename ... on AssetNode { partitionStats { numMaterialized numFailed numPartitions } } } }
"""


def wait_materialized(base: str, asset: str, timeout: float) -> dict:
    """The UI answers, the code location is loaded and ``asset`` has a materialized partition."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            r = httpx.post(f"{base}/graphql", json={"query": QUERY % json.dumps(asset)}, timeout=10)
            node = r.json()["data"]["assetNodeOrError"]
            if node["__typename"] == "AssetNode" and (node["partitionStats"] or {}).get("numMaterialized", 0) > 0:
                return node
            last = str(node)
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(1)
    raise SystemExit(f"screenshot: {asset} not materialized at {base} after {timeout:.0f}s ({last})")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("screenshot: chromium not found (apt-get install -y chromium)")


class Browser:
    """One headless Chromium page, driven over the DevTools protocol."""

    def __init__(self, width: int, height: int) -> None:
        from websockets.sync.client import connect

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self.proc = subprocess.Popen(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
             f"--remote-debugging-port={port}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=1).json()
                page = next(t for t in targets if t["type"] == "page")
                break
            except (httpx.HTTPError, StopIteration, ValueError):
                if time.monotonic() > deadline:
                    self.close()
                    raise SystemExit("screenshot: chromium did not start") from None
                time.sleep(0.2)
        self.ws = connect(page["webSocketDebuggerUrl"], max_size=100_000_000)
        self.next_id = 0
        self.call("Page.enable")

    def call(self, method: str, **params: object) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise SystemExit(f"screenshot: {method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expression: str) -> object:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True).get("result", {}).get("value")

    def open(self, url: str, ready_js: str, timeout: float = 60) -> None:
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while not self.js(f"document.readyState === 'complete' && !!({ready_js})"):
            if time.monotonic() > deadline:
                raise SystemExit(f"screenshot: {url}: the page never showed what it should ({ready_js})")
            time.sleep(0.5)
        time.sleep(1.5)  # let the last requests render

    def wait(self, ready_js: str, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not self.js(f"!!({ready_js})"):
            if time.monotonic() > deadline:
                raise SystemExit(f"screenshot: {what} never showed ({ready_js})")
            time.sleep(0.5)
        time.sleep(1.0)

    def screenshot(self, out: Path, full_page: bool = False) -> None:
        params: dict[str, object] = {"format": "png"}
        if full_page:
            h = self.js("document.documentElement.scrollHeight")
            w = self.js("document.documentElement.scrollWidth")
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": w, "height": h, "scale": 1})
        data = base64.b64decode(self.call("Page.captureScreenshot", **params)["data"])
        if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 20_000:
            raise SystemExit(f"screenshot: {out.name}: not a real page ({len(data)} bytes)")
        w, h = struct.unpack(">II", data[16:24])
        out.write_bytes(data)
        print(f"screenshot: wrote {out} ({w}x{h}, {len(data)} bytes)", flush=True)

    def close(self) -> None:
        if getattr(self, "ws", None) is not None:
            self.ws.close()
        self.proc.terminate()
        self.proc.wait(timeout=20)
        shutil.rmtree(self.profile, ignore_errors=True)


def text_is(text: str) -> str:
    """JS: the visible elements whose whole text is ``text``."""
    return (f"Array.from(document.querySelectorAll('button,a,span,div,td'))"
            f".filter(e => e.textContent.trim() === {json.dumps(text)})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", default="http://127.0.0.1:3000")
    p.add_argument("--img", type=Path, default=ROOT / "docs" / "img")
    p.add_argument("--report", type=Path, help="the demo's HTML report of acme (copilot-flow report)")
    p.add_argument("--timeout", type=float, default=240, help="seconds to wait for the UI and the demo's runs")
    args = p.parse_args(argv)
    args.img.mkdir(parents=True, exist_ok=True)

    wait_materialized(args.base, "copilot_usage", args.timeout)
    wait_materialized(args.base, "copilot_team_report", args.timeout)
    httpx.post(f"{args.base}/graphql", json={"query": "mutation { setNuxSeen }"}, timeout=10).raise_for_status()
    browser = Browser(1600, 1000)
    try:
        browser.open(f"{args.base}/assets/copilot_usage?view=partitions", f"{text_is('acme')}.length > 0")
        browser.screenshot(args.img / "partitions.png")

        url = f"{args.base}/assets/copilot_team_report?view=events&partition={quote('acme')}"
        browser.open(url, f"{text_is('[Show Markdown]')}.length > 0")
        # the innermost element with that text is the clickable one; the dialog holds the charts as images
        browser.js(f"(() => {{ const e = {text_is('[Show Markdown]')}; e[e.length - 1].click(); }})()")
        browser.wait("Array.from(document.querySelectorAll('[role=dialog] img')).some(i => i.naturalWidth > 0)",
                     "the charts dialog of copilot_team_report")
        browser.screenshot(args.img / "team-report-asset.png")

        if args.report:
            browser.call("Emulation.setDeviceMetricsOverride", width=1100, height=900, deviceScaleFactor=1,
                         mobile=False)
            browser.open(args.report.resolve().as_uri(), "document.images.length > 0")
            browser.screenshot(args.img / "team-report.png", full_page=True)
    finally:
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
