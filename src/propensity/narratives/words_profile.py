"""Wording of profile features (tenure, renewal, plan, email domain, the lead's contact details,
seniority, company size, budget and timeline) and the generic wording of any other column."""

from __future__ import annotations

import re

from propensity.narratives import formatting as fmt
from propensity.narratives.facts import Family
from propensity.narratives.scene import Phrase, Scene, humanize, title_case

SENIOR_TITLES = frozenset({"c_level", "vp", "director"})
SENIORITY_LABEL = {
    "c_level": "C-level",
    "vp": "VP",
    "director": "Director",
    "manager": "Manager",
    "individual_contributor": "Individual contributor",
}
COMPANY_SIZE = {
    "small": "Small company (fewer than 50 employees)",
    "medium": "Medium-sized company (fewer than 1,000 employees)",
    "large": "Large company (fewer than 10,000 employees)",
    "enterprise": "Enterprise company (10,000 employees or more)",
}
DOMAIN_TYPE = {
    "corporate": ("Corporate Email Domain", "Corporate email domain"),
    "free": ("Free-Mail Address", "Free-mail email address"),
    "other": ("Non-Company Email", "No company email domain (missing, school or government)"),
}
PATTERNS = {
    "day_pattern": {
        "weekday": "Active mostly on weekdays",
        "weekend": "Active mostly at weekends",
        "mixed": "Active on weekdays and at weekends",
        "none": "No activity yet",
    },
    "time_pattern": {
        "business_hours": "Active mostly during business hours",
        "after_hours": "Active mostly after business hours",
        "mixed": "Active in and after business hours",
        "none": "No activity yet",
    },
}
_LABELLED = {
    "source": ("Lead Source", "Lead source", Family.GENERIC),
    "config": ("Scoring Configuration", "Lead scoring configuration", Family.GENERIC),
    "timeline": ("Buying Timeline", "Stated buying timeline", Family.QUALIFICATION),
    "property_type": ("Property Type", "Wanted property type", Family.QUALIFICATION),
    "location": ("Location", "Location", Family.GENERIC),
}
_HAS = {
    "has_company": ("Company", "company", "company"),
    "has_title": ("Title", "title", "title"),
    "has_phone": ("Phone Number", "phone number", None),
}
_MONEY = re.compile(
    r"(charge|revenue|price|amount|budget|spend|cost|fee|salary|income|balance|_value$|^arr$|"
    r"^mrr$|_arr$|_mrr$|ltv)",
    re.IGNORECASE,
)
# Which playbook family a generic column belongs to, by words in its name.
_GENERIC_FAMILY = (
    # A payment *method* is not a problem; failed or late payments are (checked before "charge").
    (
        re.compile(r"(payment|billing|invoice|charge)s?_?(fail|declin|overdue|late|dunning)", re.I),
        Family.BILLING,
    ),
    (re.compile(r"contract|commitment", re.I), Family.CONTRACT),
    (re.compile(r"charge|price|plan|fee|cost|discount", re.I), Family.PRICING),
    (re.compile(r"tenure|membership|signup|since_created", re.I), Family.TENURE),
    (re.compile(r"ticket|complaint", re.I), Family.SUPPORT),
    (re.compile(r"login|usage|session|watch|stream", re.I), Family.USAGE),
)
_PARENTHETICAL = re.compile(r"\s*\([^)]*\)\s*$")


def describe(name: str, scene: Scene) -> Phrase | None:
    if name == "tenure_days":
        return _tenure(name, scene)
    if name == "days_to_renewal":
        return _renewal(name, scene)
    if name == "first_renewal":
        flag = scene.flag(name)
        if flag is None:
            return Phrase(
                family=Family.RENEWAL, title="First Renewal", text="First renewal: no data"
            )
        text = "The next renewal is the first one" if flag else "Has renewed before"
        return Phrase(
            family=Family.RENEWAL, title="First Renewal" if flag else "Renewal History", text=text
        )
    if name == "plan":
        value = scene.text(name)
        text = f"On the {value} plan" if value else "No plan on record"
        return Phrase(family=Family.PRICING, title="Plan", text=text)
    if name == "affinity_card":
        flag = scene.flag(name)
        text = {True: "Holds an affinity card", False: "No affinity card"}.get(
            flag if flag is not None else True, ""
        )
        return Phrase(
            family=Family.GENERIC,
            title="Affinity Card",
            text=text if flag is not None else "Affinity card: no data",
        )
    if name == "email_domain_type":
        title, text = DOMAIN_TYPE.get(
            scene.text(name) or "", ("Email Domain", "Email domain: no data")
        )
        return Phrase(family=Family.CONTACT, title=title, text=text)
    if name in _HAS:
        return _has(name, scene)
    if name == "title_seniority":
        return _seniority(name, scene)
    if name == "company_size_estimate":
        size = COMPANY_SIZE.get(scene.text(name) or "", "Company size unknown")
        return Phrase(family=Family.QUALIFICATION, title="Company Size", text=size)
    if name in ("budget", "deal_value"):
        amount = scene.num(name)
        label = "Stated budget" if name == "budget" else "Deal value"
        if amount is None:
            return Phrase(
                family=Family.QUALIFICATION, title=title_case(label), text=f"No {label.lower()}"
            )
        qualifier = scene.qualifier(name, amount, fmt.money)
        return Phrase(
            family=Family.QUALIFICATION,
            title=scene.adjective(name, amount) + title_case(label.removeprefix("Stated ")),
            text=f"{label} of {fmt.money(amount)}{qualifier}",
        )
    if name in _LABELLED:
        title, label, family = _LABELLED[name]
        value = scene.text(name)
        return Phrase(
            family=family, title=title, text=f"{label}: {value}" if value else f"No {label.lower()}"
        )
    if name in PATTERNS:
        value = scene.text(name) or ""
        text = PATTERNS[name].get(value, f"{humanize(name)}: {value or 'no data'}")
        return Phrase(family=Family.TIMING, title=title_case(humanize(name)), text=text)
    return None


def _tenure(name: str, scene: Scene) -> Phrase:
    value = scene.num(name)
    if value is None:
        return Phrase(family=Family.TENURE, title="Tenure", text="Tenure: no data")
    level = scene.level(name, value)
    title = {"low": "New Customer", "high": "Long-Standing Customer"}.get(level or "", "Tenure")
    return Phrase(
        family=Family.TENURE,
        title=title,
        text=f"Customer for {fmt.days(value)}{scene.qualifier(name, value, fmt.days)}",
    )


def _renewal(name: str, scene: Scene) -> Phrase:
    value = scene.num(name)
    if value is None:
        value = scene.facts.days_to_renewal
    if value is None:
        return Phrase(family=Family.RENEWAL, title="Renewal Timing", text="Renewal date: no data")
    title = "Upcoming Renewal" if scene.level(name, value) == "low" else "Renewal Timing"
    if round(value) < 1:
        return Phrase(
            family=Family.RENEWAL, title="Upcoming Renewal", text="Renewal due within a day"
        )
    return Phrase(family=Family.RENEWAL, title=title, text=f"Renewal in {fmt.days(value)}")


def _has(name: str, scene: Scene) -> Phrase:
    title, noun, fact = _HAS[name]
    flag = scene.flag(name)
    if flag is None:
        return Phrase(family=Family.CONTACT, title=title, text=f"{noun.capitalize()}: no data")
    if not flag:
        return Phrase(family=Family.CONTACT, title=f"Missing {title}", text=f"No {noun} on record")
    detail = getattr(scene.facts, fact) if fact else None
    suffix = f" ({detail})" if detail else ""
    return Phrase(
        family=Family.CONTACT,
        title=f"{title} on Record",
        text=f"{noun.capitalize()} on record{suffix}",
    )


def _seniority(name: str, scene: Scene) -> Phrase:
    value = scene.text(name) or "unknown"
    label = SENIORITY_LABEL.get(value)
    shown = scene.facts.title or label
    if value in SENIOR_TITLES:
        return Phrase(
            family=Family.SENIOR_TITLE,
            title="Decision-Maker Title",
            text=f"Decision-maker title ({shown})",
        )
    if label is None:
        return Phrase(
            family=Family.OTHER_TITLE, title="Unknown Seniority", text="No recognisable job title"
        )
    return Phrase(
        family=Family.OTHER_TITLE,
        title=f"{label} Title",
        text=f"{label}-level title ({shown})" if shown != label else f"{label}-level title",
    )


def generic_label(name: str, scene: Scene) -> str:
    """The definition's description when it says more than the column name, else the name in
    words; a trailing parenthetical, full stop and "as of now" are dropped to keep it short.
    Descriptions generated for imported columns ("Imported attribute x", the modeling
    engine's "Imported column 'x' (numeric).") only restate the name."""
    description = scene.description(name).strip()
    restates = description.lower().startswith(("imported", "number of '")) or f"'{name}'" in (
        description
    )
    if not description or restates:
        return humanize(name)
    description = _PARENTHETICAL.sub("", description.rstrip(".")).replace(" as of now", "")
    return description or humanize(name)


def generic_family(name: str) -> Family:
    for pattern, family in _GENERIC_FAMILY:
        if pattern.search(name):
            return family
    return Family.GENERIC


def generic(name: str, scene: Scene) -> Phrase:
    """Any column: its label and the entity's value, placed against the training distribution
    when statistics are given ("Tenure: 2 (low; median 29)")."""
    label = generic_label(name, scene)
    family = generic_family(name)
    title = title_case(humanize(name))
    raw = scene.raw(name)
    kind = scene.kind(name)
    if raw is None:
        return Phrase(family=family, title=title, text=f"{label}: no value")
    if kind == "boolean" or isinstance(raw, bool):
        flag = scene.flag(name)
        shown = "yes" if flag else "no" if flag is not None else str(raw)
        return Phrase(family=family, title=title, text=f"{label}: {shown}")
    value = scene.num(name)
    if kind == "categorical" or value is None:
        return Phrase(family=family, title=title, text=f"{label}: {scene.text(name)}")
    show = fmt.money if _MONEY.search(name) else fmt.number
    qualifier = scene.qualifier(name, value, show, always=True)
    return Phrase(family=family, title=title, text=f"{label}: {show(value)}{qualifier}")
