"""Metric definitions shared by every part of the product (ingestion, insights, docs).

One definition per metric: nobody computes an acceptance rate any other way.
"""

from __future__ import annotations

ACCEPTANCE_RATE_DIGITS = 4


def acceptance_rate(generated: int | None, accepted: int | None) -> float | None:
    """Share of Copilot code generations that were accepted, in [0, 1], rounded to 4 decimals.

    ``accepted / generated`` = ``code_acceptance_activity_count / code_generation_activity_count``.

    - ``None`` when nothing was generated (``generated`` is 0, negative or ``None``): "no data" is not 0 %.
    - ``accepted`` of ``None`` (or negative) counts as 0.
    - ``accepted > generated`` (GitHub attributes some acceptances to a day/bucket other than the
      generation) is clamped to 1.0.
    """
    if generated is None or generated <= 0:
        return None
    if accepted is None or accepted <= 0:
        return 0.0
    # min() first keeps the division in float range even for very large integers
    return round(min(accepted, generated) / generated, ACCEPTANCE_RATE_DIGITS)


__all__ = ["ACCEPTANCE_RATE_DIGITS", "acceptance_rate"]
