"""Screenshot of the copilot_usage partition grid in the Dagster UI, with headless Chromium.

    python scripts/screenshot.py [--base http://127.0.0.1:3000] [--out docs/img/partitions.png]

Waits until the webserver has loaded the code location and the demo's team-days show as materialized
(GraphQL), then runs Debian's `chromium` headless on the asset's partitions page and checks that the PNG
is a real page (size, not a blank frame). scripts/screenshot.sh starts and stops the demo around it.
"""

from __future__ import annotations

import argparse
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parent.parent
ASSET = "copilot_usage"
QUERY = """
query { assetNodeOrError(assetKey: {path: ["copilot_usage"]}) {
  __typename ... on AssetNode {
    partitionStats { numMaterialized numFailed numPartitions }
    assetPartitionStatuses { ... on MultiPartitionStatuses { ranges { primaryDimEndKey
      secondaryDim { ... on DefaultPartitionStatuses { materializedPartitions } } } } } } } }
"""


def wait_ready(base: str, timeout: float) -> dict:
    """The UI answers, the code location is loaded and the demo's partitions are in the instance.
    Returns the asset node (partition stats and statuses)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            r = httpx.post(f"{base}/graphql", json={"query": QUERY}, timeout=10)
            node = r.json()["data"]["assetNodeOrError"]
            if node["__typename"] == "AssetNode" and node["partitionStats"]["numMaterialized"] > 0:
                return node
            last = str(node)
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(1)
    raise SystemExit(f"screenshot: {base} not ready after {timeout:.0f}s ({last})")


def latest_materialized_key(node: dict) -> str | None:
    """``date|team`` of the newest materialized team-day, so the page opens with that date selected."""
    best: tuple[str, str] | None = None
    for r in (node.get("assetPartitionStatuses") or {}).get("ranges") or []:
        teams = (r.get("secondaryDim") or {}).get("materializedPartitions") or []
        if teams and (best is None or r["primaryDimEndKey"] > best[0]):
            best = (r["primaryDimEndKey"], sorted(teams)[0])
    return f"{best[0]}|{best[1]}" if best else None


def dismiss_nux(base: str) -> None:
    """Mark the "Join the Dagster community" dialog as seen, so it does not cover the grid."""
    httpx.post(f"{base}/graphql", json={"query": "mutation { setNuxSeen }"}, timeout=10).raise_for_status()


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("screenshot: chromium not found (apt-get install -y chromium)")


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"screenshot: {path} is not a PNG")
    return struct.unpack(">II", head[16:24])


def shoot(url: str, out: Path, budget_ms: int, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        cmd = [
            chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars", f"--user-data-dir={profile}", f"--window-size={width},{height}",
            f"--virtual-time-budget={budget_ms}", f"--screenshot={out}", url,
        ]
        subprocess.run(cmd, check=True, timeout=120 + budget_ms / 1000,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", default="http://127.0.0.1:3000")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "partitions.png")
    p.add_argument("--budget-ms", type=int, default=15000, help="Chromium --virtual-time-budget")
    p.add_argument("--width", type=int, default=1600)
    p.add_argument("--height", type=int, default=1000)
    p.add_argument("--timeout", type=float, default=180, help="seconds to wait for the UI")
    args = p.parse_args(argv)

    node = wait_ready(args.base, args.timeout)
    print(f"screenshot: {ASSET} partitions {node['partitionStats']}", flush=True)
    dismiss_nux(args.base)
    url = f"{args.base}/assets/{ASSET}?view=partitions"
    key = latest_materialized_key(node)
    if key:
        url += "&partition=" + quote(key, safe="")
    print(f"screenshot: {url}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp.png")
    shoot(url, tmp, args.budget_ms, args.width, args.height)
    size = png_size(tmp)
    if size != (args.width, args.height) or tmp.stat().st_size < 20_000:
        raise SystemExit(f"screenshot: unexpected image {size}, {tmp.stat().st_size} bytes (kept at {tmp})")
    tmp.replace(args.out)
    print(f"screenshot: wrote {args.out} ({size[0]}x{size[1]}, {args.out.stat().st_size} bytes)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
