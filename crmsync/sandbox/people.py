"""Seeded generation of simulated people: inbound leads with realistic fields, and the sales team.

Lead sources and their MQL rates (share of inflow → chance the lead is marketing-qualified): demo request
15 % → 85 %, webinar 25 % → 25 %, trade show 15 % → 30 %, partner 10 % → 55 %, content 35 % → 12 %; a
senior title or a big company raises the chance. Company sizes are log-normal (median ~55 employees).
"Attractive" leads (500+ employees or a senior title) are what a cherry-picking rep works.
"""

from __future__ import annotations

import math
import random

from crmsync.sandbox.mapping import Person, Rep

FIRST = (
    "Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Isla", "Jonas", "Kemi", "Liam", "Maya",
    "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe",
    "Aaron", "Bianca", "Carlos", "Dana", "Emil", "Fatima", "Gus", "Hana", "Ivan", "Julia", "Kofi", "Lena",
)  # fmt: skip
LAST = (
    "Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen", "Khan", "Lopez",
    "Müller", "Nguyen", "Okafor", "Patel", "Quiroga", "Rossi", "Smith", "Tanaka", "Ueda", "Varga", "Weber",
    "Xu", "Young", "Zhang", "Novak", "Silva", "Kowalski", "Larsen", "Moreau", "Brown", "Singh", "Cohen",
)  # fmt: skip
_WORDS = (
    "Acme", "Apex", "Blue", "Bright", "Cedar", "Delta", "Ember", "Fjord", "Globex", "Harbor", "Iron", "Juniper",
    "Kite", "Lumen", "Maple", "Nova", "Orbit", "Pine", "Quartz", "River", "Summit", "Terra", "Umbra", "Vertex",
)  # fmt: skip
_KINDS = ("Analytics", "Systems", "Labs", "Logistics", "Health", "Foods", "Energy", "Capital", "Robotics", "Media")
TITLES: tuple[tuple[str, int], ...] = (
    ("CEO", 3), ("CTO", 3), ("CFO", 3), ("VP Sales", 3), ("VP Engineering", 3), ("Head of Operations", 2),
    ("Director of IT", 2), ("Director of Marketing", 2), ("Engineering Manager", 1), ("Marketing Manager", 1),
    ("Product Manager", 1), ("Software Engineer", 0), ("Analyst", 0), ("Consultant", 0), ("Account Executive", 0),
    ("Student", -1), ("Intern", -1),
)  # fmt: skip
_TITLE_WEIGHTS = (2, 2, 1, 2, 2, 3, 4, 4, 6, 6, 6, 10, 10, 6, 5, 3, 2)
SOURCE_MIX = (("demo_request", 0.15), ("webinar", 0.25), ("trade_show", 0.15), ("partner", 0.10), ("content", 0.35))
MQL_RATE = {"demo_request": 0.85, "webinar": 0.25, "trade_show": 0.30, "partner": 0.55, "content": 0.12}
TIMEZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London")
SENIOR = 2
BIG_COMPANY = 500


def make_person(rng: random.Random, index: int) -> Person:
    """The ``index``-th lead: unique email, company, size, title, source, score and MQL flag."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = f"{rng.choice(_WORDS)} {rng.choice(_KINDS)}"
    employees = max(1, min(200_000, int(math.exp(rng.gauss(4.0, 1.6)))))
    title, seniority = rng.choices(TITLES, weights=_TITLE_WEIGHTS)[0]
    source = rng.choices([s for s, _ in SOURCE_MIX], weights=[w for _, w in SOURCE_MIX])[0]
    fit = 1.0 + 0.15 * seniority + (0.2 if employees >= BIG_COMPANY else 0.0)
    mql = rng.random() < min(0.97, MQL_RATE[source] * fit)
    score = rng.randint(60, 100) if mql else rng.randint(5, 59)
    slug = company.lower().replace(" ", "")
    email = f"{_ascii(first)}.{_ascii(last)}.{index:x}@{slug}.example"
    return Person(first, last, email, company, employees, title, source, score, mql)


def attractive(person: Person) -> bool:
    """What a cherry-picker works: a big company or a senior title."""
    seniority = dict(TITLES).get(person.title, 0)
    return person.employees >= BIG_COMPANY or seniority >= SENIOR


def make_reps(count: int) -> list[Rep]:
    """``count`` reps, rep1…repN, with names, emails at acme.example and a rotation of time zones."""
    reps = []
    for i in range(count):
        first, last = FIRST[(i * 7) % len(FIRST)], LAST[(i * 5 + 3) % len(LAST)]
        reps.append(Rep(f"rep{i + 1}", first, last, f"{first.lower()}.{_ascii(last)}@acme.example", TIMEZONES[i % 4]))
    return reps


def make_former_reps(count: int) -> list[Rep]:
    """``count`` reps who will leave the company: former1…formerN."""
    return [Rep(f"former{i + 1}", "Pat", f"Former{i + 1}", f"pat.former{i + 1}@acme.example", "America/New_York")
            for i in range(count)]  # fmt: skip


def _ascii(text: str) -> str:
    return text.lower().replace("ü", "ue").replace(" ", "")
