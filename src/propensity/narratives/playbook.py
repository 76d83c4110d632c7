"""Recommendations from a playbook keyed by driver family.

Each driver (a feature with its contribution and its phrase) maps to one play by (audience,
family, side): side is "risk" for drivers pushing towards the bad outcome and "strength" for
drivers pushing away from it (only leads have plays for strengths: act on what is working).
The rationale is always the driver's own fact, so a recommendation never says more than the
data. Families without a play of their own get a generic review of that factor when they are
a risk, and nothing when they are a strength.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from propensity.narratives import formatting as fmt
from propensity.narratives.facts import Audience, Driver, Family, Impact
from propensity.narratives.scene import Phrase

Side = Literal["risk", "strength"]
# How pressing the prediction is: "elevated" raises every priority one step, "low" lowers it.
Urgency = Literal["elevated", "normal", "low"]

PRIORITIES: tuple[Impact, ...] = ("low", "medium", "high")
# Documented timeframes per audience and priority: leads cool within days, subscribers leave
# within a billing cycle, accounts need scheduling with several people.
TIMEFRAMES: dict[Audience, dict[Impact, str]] = {
    "account": {"high": "Within 5 days", "medium": "Within 2 weeks", "low": "Within 30 days"},
    "subscriber": {"high": "Within 2 days", "medium": "Within 1 week", "low": "Within 2 weeks"},
    "lead": {"high": "Within 3 days", "medium": "Within 1 week", "low": "Within 2 weeks"},
}
MAX_RATIONALE_FACTS = 2


@dataclass(frozen=True)
class Play:
    action: str
    expected_impact: str


_EBR = Play("Schedule executive business review", "Re-establish strategic alignment")
_FOLLOW_UP = Play("Re-engage with a personalised follow-up", "Revive the conversation")

PLAYS: dict[tuple[Audience, Family, Side], Play] = {
    ("account", Family.HEALTH, "risk"): _EBR,
    ("account", Family.USAGE, "risk"): _EBR,
    ("account", Family.ADOPTION, "risk"): Play(
        "Run a product adoption workshop", "Increase the product's everyday use"
    ),
    ("account", Family.SUPPORT_BACKLOG, "risk"): Play(
        "Escalate open support tickets", "Remove the blockers behind the open tickets"
    ),
    ("account", Family.SUPPORT, "risk"): Play(
        "Review the recent support experience with the customer", "Restore confidence in support"
    ),
    ("account", Family.EXECUTIVE, "risk"): Play(
        "Re-engage executive sponsor", "Restore executive sponsorship"
    ),
    ("account", Family.RENEWAL, "risk"): Play(
        "Prepare the renewal conversation early", "Secure the renewal"
    ),
    ("account", Family.TENURE, "risk"): Play(
        "Run an onboarding check-in", "Shorten the time to first value"
    ),
    ("account", Family.EMAIL, "risk"): Play(
        "Refresh email content and cadence", "Lift engagement with outreach"
    ),
    ("account", Family.OUTREACH, "risk"): Play(
        "Refresh email content and cadence", "Lift engagement with outreach"
    ),
    ("account", Family.MEETINGS, "risk"): Play(
        "Schedule a check-in call with the main contact", "Rebuild regular contact"
    ),
    ("account", Family.CONTRACT, "risk"): Play(
        "Offer a longer-term contract", "Lock in the relationship"
    ),
    ("account", Family.PRICING, "risk"): Play(
        "Review pricing and plan fit", "Remove price as a reason to leave"
    ),
    ("account", Family.BILLING, "risk"): Play(
        "Update billing details with the customer", "Prevent involuntary churn"
    ),
    ("account", Family.DATA, "risk"): Play(
        "Refresh the account's health assessment", "Base decisions on current data"
    ),
    ("subscriber", Family.BILLING, "risk"): Play(
        "Update billing details with the customer", "Prevent involuntary churn"
    ),
    ("subscriber", Family.CONTENT, "risk"): Play(
        "Send personalised content recommendations", "Restore viewing habits"
    ),
    ("subscriber", Family.USAGE, "risk"): Play(
        "Send a personalised re-engagement message", "Bring the subscriber back to the product"
    ),
    ("subscriber", Family.PURCHASES, "risk"): Play(
        "Send a personalised offer", "Restart purchasing"
    ),
    ("subscriber", Family.TENURE, "risk"): Play(
        "Send an onboarding guide for new subscribers", "Build the habit early"
    ),
    ("subscriber", Family.CONTRACT, "risk"): Play(
        "Offer a discounted annual plan", "Lock in the subscription"
    ),
    ("subscriber", Family.PRICING, "risk"): Play(
        "Review pricing and plan fit", "Remove price as a reason to leave"
    ),
    ("subscriber", Family.SUPPORT, "risk"): Play(
        "Follow up on recent support contacts", "Restore confidence in support"
    ),
    ("lead", Family.LEAD_ENGAGEMENT, "strength"): Play(
        "Schedule a demo call", "Accelerate the sales cycle"
    ),
    ("lead", Family.SENIOR_TITLE, "strength"): Play(
        "Engage at executive level", "Shorten the decision process"
    ),
    ("lead", Family.QUALIFICATION, "strength"): Play(
        "Send a tailored proposal", "Turn stated intent into an offer"
    ),
    ("lead", Family.STALE, "risk"): _FOLLOW_UP,
    ("lead", Family.LEAD_ENGAGEMENT, "risk"): _FOLLOW_UP,
    ("lead", Family.OUTREACH, "risk"): Play(
        "Adjust outreach cadence and channel", "Reach the lead where they respond"
    ),
    ("lead", Family.CONTACT, "risk"): Play(
        "Enrich the lead's contact details", "Reach the right person"
    ),
    ("lead", Family.SEQUENCE, "risk"): Play(
        "Enroll the lead in a nurture sequence", "Keep the lead warm"
    ),
    ("lead", Family.OTHER_TITLE, "risk"): Play(
        "Identify the decision-maker at the company", "Reach someone who can buy"
    ),
    ("lead", Family.QUALIFICATION, "risk"): Play(
        "Qualify budget and timeline", "Focus effort on buyers who are ready"
    ),
    ("lead", Family.TIMING, "risk"): Play(
        "Time outreach to when the lead is active", "Raise response rates"
    ),
}
_GENERIC_IMPACT = {
    "account": "Address a factor the model links to churn",
    "subscriber": "Address a factor the model links to churn",
    "lead": "Address a factor the model links to slower conversion",
}


@dataclass(frozen=True, kw_only=True)
class Recommendation:
    action: str
    priority: Impact
    timeframe: str
    expected_impact: str
    rationale: str
    # The features behind it, strongest first.
    features: tuple[str, ...]

    def to_dict(self) -> dict[str, str]:
        return {
            "action": self.action,
            "priority": self.priority,
            "timeframe": self.timeframe,
            "expectedImpact": self.expected_impact,
            "rationale": self.rationale,
        }


def play_for(phrase: Phrase, *, audience: Audience, side: Side) -> Play | None:
    play = PLAYS.get((audience, phrase.family, side))
    if play is not None or side == "strength":
        return play
    subject = "before the next contact" if audience == "lead" else "with the customer"
    return Play(f"Review {fmt.lower_title(phrase.title)} {subject}", _GENERIC_IMPACT[audience])


def shift(priority: Impact, urgency: Urgency) -> Impact:
    step = {"elevated": 1, "normal": 0, "low": -1}[urgency]
    index = min(max(PRIORITIES.index(priority) + step, 0), len(PRIORITIES) - 1)
    return PRIORITIES[index]


def recommend(
    *,
    drivers: Sequence[tuple[Driver, Phrase]],
    audience: Audience,
    urgency: Urgency,
    days_to_renewal: float | None = None,
    limit: int = 5,
) -> list[Recommendation]:
    """One recommendation per distinct action, ordered by priority then by the strength of its
    strongest driver. Priority is the strongest driver's impact shifted by `urgency`."""
    merged: dict[str, tuple[Play, Driver, list[Phrase], list[str]]] = {}
    for driver, phrase in sorted(drivers, key=lambda dp: -abs(dp[0].contribution)):
        play = play_for(phrase, audience=audience, side="risk" if driver.risk else "strength")
        if play is None:
            continue
        if play.action not in merged:
            merged[play.action] = (play, driver, [], [])
        _, _, phrases, names = merged[play.action]
        if phrase.text not in (p.text for p in phrases):
            phrases.append(phrase)
        names.append(driver.name)
    out: list[Recommendation] = []
    for play, driver, phrases, names in merged.values():
        priority = shift(driver.impact, urgency)
        families = {p.family for p in phrases}
        timeframe = TIMEFRAMES[audience][priority]
        if Family.RENEWAL in families and days_to_renewal is not None and days_to_renewal >= 1:
            timeframe = f"Before the renewal in {fmt.days(days_to_renewal)}"
        facts = [phrases[0].text] + [
            fmt.lower_first(p.text) for p in phrases[1:MAX_RATIONALE_FACTS]
        ]
        out.append(
            Recommendation(
                action=play.action,
                priority=priority,
                timeframe=timeframe,
                expected_impact=play.expected_impact,
                rationale=fmt.sentence("; ".join(facts)),
                features=tuple(names),
            )
        )
    out.sort(key=lambda r: -PRIORITIES.index(r.priority))
    return out[:limit]


def merge(*lists: Sequence[Recommendation], limit: int = 5) -> list[Recommendation]:
    """Several recommendation lists as one: the first occurrence of each action wins (lists
    are given most important first), ordered by priority."""
    seen: dict[str, Recommendation] = {}
    for items in lists:
        for item in items:
            seen.setdefault(item.action, item)
    ordered = sorted(seen.values(), key=lambda r: -PRIORITIES.index(r.priority))
    return ordered[:limit]
