"""Word lists and generators for realistic-looking names, domains, emails and phones.

Everything here is cosmetic: no name, domain or phone carries any signal except the documented
corporate-versus-free-mail split of lead emails.
"""

from __future__ import annotations

import re

import numpy as np


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony "
    "Sandra Mark Ashley Steven Emily Andrew Donna Joshua Michelle Kevin Carol Brian Amanda "
    "George Melissa Timothy Deborah Ryan Stephanie Jacob Rebecca Nicholas Laura Eric Sharon "
    "Jonathan Cynthia Priya Wei Carlos Sofia Ahmed Fatima Hiroshi Yuki Olga Lars Ingrid Mateo "
    "Lucia Kwame Amara Raj Ananya Diego Elena Noah Emma Liam Olivia Ethan Ava Lucas Mia"
)

LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Patel Shah Kim "
    "Chen Wang Singh Kumar Tanaka Sato Muller Schmidt Rossi Ferrari Dubois Laurent Novak Kowalski "
    "Larsen Nielsen Okafor Mensah Silva Santos Costa Ivanova Cohen Murphy OBrien Kelly Walsh"
)

_COMPANY_HEADS = _words(
    "Blue North Bright Iron Silver Summit Pioneer Apex Cedar Harbor Granite Maple Vertex Nova "
    "Crimson Golden Swift Clear True Bold Prime Quantum Stellar Lumen Atlas Orbit Rapid Evergreen "
    "Redwood Falcon Beacon Coastal Keystone Meridian Sterling Vista Willow Zenith Copper Aspen"
)
_COMPANY_TAILS = _words(
    "peak stone wave field bridge forge line works point path gate light ridge spring brook "
    "well mark core leaf wind shore rock crest vale port"
)
_COMPANY_SECTORS = _words(
    "Analytics Logistics Health Systems Labs Foods Capital Robotics Software Media Energy "
    "Solutions Networks Dynamics Partners Manufacturing Retail Learning Security Cloud Bio "
    "Consulting Financial Data Digital"
)
_COMPANY_SUFFIXES = ("", "", "", " Inc", " Inc", " LLC", " Ltd", " Group", " Co", " Technologies")
_TLDS = (".com", ".com", ".com", ".io", ".co", ".net", ".ai")

FREE_MAIL_DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "aol.com",
)

_QUALIFIERS = ("East", "West", "Europe", "Global", "International", "Holdings", "Pacific")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _pick(rng: np.random.Generator, words: tuple[str, ...] | list[str], n: int) -> np.ndarray:
    return np.asarray(words, dtype=object)[rng.integers(0, len(words), size=n)]


def person_names(*, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last names as object arrays."""
    return _pick(rng, FIRST_NAMES, n), _pick(rng, LAST_NAMES, n)


def company_names(*, rng: np.random.Generator, n: int) -> tuple[list[str], list[str]]:
    """Unique company names and a matching web domain for each.

    Duplicates get a region word appended, so names stay realistic and unique without retries.
    """
    heads = _pick(rng, _COMPANY_HEADS, n)
    tails = _pick(rng, _COMPANY_TAILS, n)
    sectors = _pick(rng, _COMPANY_SECTORS, n)
    suffixes = _pick(rng, _COMPANY_SUFFIXES, n)
    tlds = _pick(rng, _TLDS, n)
    joined = rng.random(n) < 0.6
    names: list[str] = []
    domains: list[str] = []
    # Keyed on the domain stem: "Bluepeak Analytics" and "Blue Peak Analytics" would otherwise
    # share a domain.
    seen: dict[str, int] = {}
    for i in range(n):
        stem = f"{heads[i]}{tails[i]}" if joined[i] else f"{heads[i]} {tails[i].capitalize()}"
        base = f"{stem} {sectors[i]}"
        slug = _NON_ALNUM.sub("", base.lower())
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        if count:
            extra = _QUALIFIERS[(count - 1) % len(_QUALIFIERS)]
            if count > len(_QUALIFIERS):
                extra = f"{extra} {count}"
            base = f"{base} {extra}"
            slug = _NON_ALNUM.sub("", base.lower())
        names.append(f"{base}{suffixes[i]}")
        domains.append(slug + str(tlds[i]))
    return names, domains


def email_locals(
    *, rng: np.random.Generator, first: np.ndarray, last: np.ndarray, numbered: bool
) -> list[str]:
    """Local parts such as ``jane.doe``, ``jdoe`` or (``numbered``) ``jane.doe84``."""
    style = rng.integers(0, 3, size=len(first))
    numbers = rng.integers(1, 999, size=len(first))
    out: list[str] = []
    for f, la, s, num in zip(first, last, style, numbers, strict=True):
        f_l, l_l = str(f).lower(), str(la).lower()
        local = f"{f_l}.{l_l}" if s == 0 else (f"{f_l[0]}{l_l}" if s == 1 else f"{f_l}_{l_l}")
        out.append(f"{local}{num}" if numbered else local)
    return out


def phones(*, rng: np.random.Generator, n: int) -> list[str]:
    """North-American style numbers in the reserved 555-01xx range (never a real line)."""
    area = rng.integers(201, 990, size=n)
    line = rng.integers(100, 200, size=n)
    return [f"+1-{a}-555-0{b:03d}" for a, b in zip(area, line, strict=True)]
