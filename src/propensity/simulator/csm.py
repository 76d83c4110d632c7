"""Simulated customer-success managers working the CTAs the demo opens in the past
(docs/simulator.md, "CSMs working CTAs"). Pure: the CTAs in, the status changes out.

A CSM picks a CTA up (OPEN -> IN_PROGRESS) after `U(0.2, 2)` days, sooner for higher
priorities (x 0.5 HIGH, 1 MEDIUM, 1.5 LOW), then either cancels it (12%: the account was
already handled or left) after `U(0.5, 5)` more days, or completes it after a resolution time
`median[priority] * e^(0.5 ε)` days (medians: HIGH 4, MEDIUM 7, LOW 11). A change that would
land at or after `end` (now) does not happen yet: that CTA is still open or in progress.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

PICKUP_DAYS = (0.2, 2.0)
PICKUP_FACTOR = {"HIGH": 0.5, "MEDIUM": 1.0, "LOW": 1.5}
CANCEL_SHARE = 0.12
CANCEL_DAYS = (0.5, 5.0)
RESOLUTION_MEDIAN_DAYS = {"HIGH": 4.0, "MEDIUM": 7.0, "LOW": 11.0}
RESOLUTION_SIGMA = 0.5


@dataclass(frozen=True, kw_only=True)
class OpenCta:
    cta_id: int
    priority: str
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class CtaChange:
    cta_id: int
    status: str  # IN_PROGRESS, COMPLETED or CANCELLED
    at: datetime


def work_ctas(ctas: list[OpenCta], *, seed: int, end: datetime) -> list[CtaChange]:
    """The status changes the CSMs make to `ctas` before `end`, in time order per CTA."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 8_101]))
    changes: list[CtaChange] = []
    for cta in sorted(ctas, key=lambda c: c.cta_id):
        priority = cta.priority if cta.priority in PICKUP_FACTOR else "MEDIUM"
        pickup = rng.uniform(*PICKUP_DAYS) * PICKUP_FACTOR[priority]
        cancelled = rng.random() < CANCEL_SHARE
        if cancelled:
            finish = pickup + rng.uniform(*CANCEL_DAYS)
        else:
            finish = RESOLUTION_MEDIAN_DAYS[priority] * float(
                np.exp(RESOLUTION_SIGMA * rng.standard_normal())
            )
            finish = max(finish, pickup + 0.05)
        started = cta.created_at + timedelta(days=pickup)
        if started >= end:
            continue
        changes.append(CtaChange(cta_id=cta.cta_id, status="IN_PROGRESS", at=started))
        done = cta.created_at + timedelta(days=finish)
        if done < end:
            status = "CANCELLED" if cancelled else "COMPLETED"
            changes.append(CtaChange(cta_id=cta.cta_id, status=status, at=done))
    return changes
