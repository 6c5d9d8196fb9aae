"""Seat prices per Copilot plan: a resource the Dagster UI shows and operators set per deployment.

Defaults are GitHub's published monthly list prices, read on 2026-12-02 from GitHub Docs
(``data/variables/copilot.yml``: ``cfb_price_per_month`` $19 USD for Copilot Business, ``ce_price_per_month``
$39 USD for Copilot Enterprise, per user per month). Negotiated prices differ: set them here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import dagster as dg
from pydantic import Field

LIST_PRICES_AS_OF = "2026-12-02"
BUSINESS_LIST_PRICE_USD = 19.0
ENTERPRISE_LIST_PRICE_USD = 39.0


@dataclass(frozen=True)
class SeatPrices:
    """USD per seat per month by GitHub ``plan_type``; a plan without a price has no cost (null, not 0)."""

    usd_per_month: Mapping[str, float] = field(default_factory=dict)

    def monthly(self, plan_type: str) -> float | None:
        return self.usd_per_month.get(plan_type)


class CostResource(dg.ConfigurableResource):
    """Copilot seat prices per plan (USD per seat per month), used for the seat cost of each team-day."""

    business_usd_per_seat_month: float | None = Field(
        default=BUSINESS_LIST_PRICE_USD, ge=0,
        description=f"Copilot Business; default GitHub's list price as of {LIST_PRICES_AS_OF}. None: no cost.")
    enterprise_usd_per_seat_month: float | None = Field(
        default=ENTERPRISE_LIST_PRICE_USD, ge=0,
        description=f"Copilot Enterprise; default GitHub's list price as of {LIST_PRICES_AS_OF}. None: no cost.")
    unknown_plan_usd_per_seat_month: float | None = Field(
        default=None, ge=0,
        description="Seats whose plan GitHub does not name (plan_type absent or 'unknown'); None: no cost.")

    def prices(self) -> SeatPrices:
        by_plan = {"business": self.business_usd_per_seat_month, "enterprise": self.enterprise_usd_per_seat_month,
                   "unknown": self.unknown_plan_usd_per_seat_month}
        return SeatPrices({plan: float(p) for plan, p in by_plan.items() if p is not None})
