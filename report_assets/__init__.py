"""Reports: per-team charts and the org overview in the Dagster UI, and a shareable HTML report per team."""

from __future__ import annotations

import dagster as dg


def definitions() -> dg.Definitions:
    from report_assets.assets import REPORT_ASSETS, REPORT_SENSORS

    return dg.Definitions(assets=REPORT_ASSETS, sensors=REPORT_SENSORS)
