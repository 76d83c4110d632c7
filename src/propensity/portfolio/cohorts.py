"""Cohort rules of spec/churn-kpi.md, with configurable thresholds.

Rules (defaults from the document):
- VIP: lifetime_value > 5000 OR affinity_card.
- New: membership_years < 1, not VIP.
- Regular: total_purchases >= 2 AND days since last purchase <= 90 AND login_frequency > 0,
  not VIP.
- Dormant: days since last purchase > 90 OR login_frequency = 0, not VIP/New.
- At-Risk: probability >= the active model's optimal threshold (may overlap the others).

The document's At-Risk cut-off (0.41) was *its* model's optimal threshold; ours is learned
per tenant (max F1 on out-of-fold calibrated probabilities), so At-Risk uses
`ModelVersion.threshold`, the same cut-off that flags a prediction.

Overlaps: VIP, New, Regular and Dormant are exclusive, assigned in that order of precedence
(VIP > New > Regular > Dormant). A new customer who also buys regularly is New (the
document excludes VIP from New but not Regular, and a first-year member is "new" whatever
their activity); a Regular customer can never be Dormant (recent and logging in). A customer
matching none (e.g. fewer than 2 purchases but recent and active, past the first year) is in
no exclusive cohort, so the four counts may sum to less than the total. A missing last
purchase counts as "not within 90 days"; missing numbers count as 0 / False.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

VIP = "VIP"
REGULAR = "Regular"
NEW = "New"
DORMANT = "Dormant"
AT_RISK = "At-Risk"
EXCLUSIVE_COHORTS = (VIP, REGULAR, NEW, DORMANT)


@dataclass(frozen=True, kw_only=True)
class CohortRules:
    vip_lifetime_value: float = 5000.0
    regular_min_purchases: int = 2
    recent_purchase_days: float = 90.0
    new_membership_years: float = 1.0


DEFAULT_RULES = CohortRules()


@dataclass(frozen=True, kw_only=True)
class Profile:
    lifetime_value: float | None
    affinity_card: bool | None
    total_purchases: int | None
    last_purchase_at: datetime | None
    login_frequency: float | None
    membership_years: float | None


def days_since(moment: datetime | None, as_of: datetime) -> float | None:
    """Days from `moment` to `as_of`; None when unknown or not yet happened at `as_of`."""
    if moment is None or moment > as_of:
        return None
    return (as_of - moment).total_seconds() / 86400.0


def cohort_of(
    profile: Profile, *, as_of: datetime, rules: CohortRules = DEFAULT_RULES
) -> str | None:
    """The one exclusive cohort of a customer at `as_of`, or None."""
    if (profile.lifetime_value or 0.0) > rules.vip_lifetime_value or bool(profile.affinity_card):
        return VIP
    if (
        profile.membership_years is not None
        and profile.membership_years < rules.new_membership_years
    ):
        return NEW
    recency = days_since(profile.last_purchase_at, as_of)
    recent = recency is not None and recency <= rules.recent_purchase_days
    logins = profile.login_frequency or 0.0
    if (profile.total_purchases or 0) >= rules.regular_min_purchases and recent and logins > 0:
        return REGULAR
    if not recent or logins == 0:
        return DORMANT
    return None
