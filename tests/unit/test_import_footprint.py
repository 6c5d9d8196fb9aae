"""Loading the definitions must not import pandas or anthropic: every Dagster process (code server,
daemon, each run and step worker) loads them, and the Copilot sync steps use neither (issue 9: ≈ 115 MB
and ≈ 1.5 s per process)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_definitions_load_without_pandas_or_anthropic() -> None:
    code = (
        "import json, sys, warnings; warnings.simplefilter('ignore'); import definitions; "
        "print(json.dumps({m: m in sys.modules for m in ('pandas', 'anthropic', 'dagster')}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == {"pandas": False, "anthropic": False, "dagster": True}
