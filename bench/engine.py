"""Decisions per second of the pure engine (derive + decide) over 1,000,000 synthetic leads.

Leads are generated on the fly in chunks (a seeded RNG; nothing is kept but counters), with a realistic mix:
non-MQLs parked or owned by reps, MQLs waiting to be routed, MQLs reps own with 0-8 touches and replies at
various points of their SLA, and closed leads. 200 reps in 10 teams, per-rep timezones for a fifth of them.
Each chunk goes through ``derive`` then ``decide_all`` (one batch fold carrying loads and pointers).

Rates are per CPU second of this process (``time.process_time``), so other work on a shared machine does not
skew them; ``wall_seconds`` is given beside them.

Run: ``.venv/bin/python bench/engine.py [--leads N]``. The last line is a JSON object with ``decisions_per_s``.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from crmsync.domain import Activity, ActivitySource, Channel, Direction, Lead, LeadRef, Owner, OwnerKind
from crmsync.engine import LeadState, Roster, decide_all, derive, prepare
from crmsync.policy import Policy

CONN = "bench"
NOW = datetime(2026, 3, 11, 15, 30, tzinfo=UTC)  # a Wednesday, 11:30 New York time
TEAMS, PER_TEAM = 10, 20
ZONES = ["America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London"]
CHANNELS = [Channel.EMAIL, Channel.EMAIL, Channel.CALL, Channel.MEETING]


def bench_policy() -> Policy:
    """Ten teams of twenty reps; routing by source and region; two SLA tiers."""
    teams: dict[str, Any] = {}
    for t in range(TEAMS):
        members: list[Any] = []
        for r in range(PER_TEAM):
            email = f"rep{t}-{r}@acme.test"
            members.append({"email": email, "timezone": ZONES[r % 4]} if r % 5 == 0 else email)
        teams[f"team{t}"] = {
            "members": members,
            "capacity": {"focus_minutes_per_day": 360, "minutes_per_lead": 18, "max_open_leads": 400},
            "manager": f"rep{t}-0@acme.test",
        }
    methods = ["round_robin", "least_loaded", "weighted"]
    routing = [
        {
            "name": f"region {t}",
            "when": {"field": "Region", "eq": f"r{t}"},
            "team": f"team{t}",
            "method": methods[t % 3],
        }
        for t in range(TEAMS - 1)
    ]
    routing.append({"name": "everyone else", "team": f"team{TEAMS - 1}", "working_hours_only": False})
    return Policy.model_validate(
        {
            "version": 1,
            "calendar": {"timezone": "America/New_York", "hours": "09:00-17:00", "holidays": "US"},
            "fields": {"score": "Lead_Score__c", "disposition": "Disposition_Reason__c"},
            "qualification": {
                "mql_when": {"any": [{"field": "score", "gte": 60}, {"field": "LeadSource", "in": ["Demo Request"]}]},
                "holding_owner": "queue:Nurture",
            },
            "teams": teams,
            "routing": routing,
            "sla": [
                {
                    "name": "demo",
                    "when": {"field": "LeadSource", "eq": "Demo Request"},
                    "first_touch": "1h",
                    "follow_up": {"touches": 6, "within": "10d", "mix": {"calls": 2, "emails": 3}, "max_gap": "2d"},
                },
                {"name": "default", "first_touch": "1d", "follow_up": {"touches": 8, "within": "15d", "max_gap": "3d"}},
            ],
            "dispositions": {
                "closed_statuses": ["Unqualified", "Nurture", "Recycled"],
                "reasons": ["No budget", "Not a fit", "Unresponsive"],
                "min_touches_before_close": 3,
                "on_early_close": "reopen",
            },
        }
    )


def bench_roster() -> tuple[Roster, list[str]]:
    """The 200 reps (a few inactive), the holding queue, and random loads."""
    rng = random.Random(7)
    owners = [Owner(CONN, "Q0", OwnerKind.QUEUE, "Nurture")]
    reps: list[str] = []
    for t in range(TEAMS):
        for r in range(PER_TEAM):
            oid = f"U{t}-{r}"
            owners.append(Owner(CONN, oid, OwnerKind.USER, oid, f"rep{t}-{r}@acme.test", active=(t * r) % 37 != 5))
            reps.append(oid)
    loads = {oid: rng.randrange(0, 300) for oid in reps}
    return Roster.of(owners, open_leads=loads, holding={"queue:Nurture": "Q0"}), reps


def leads(n: int, reps: list[str], seed: int = 1) -> Iterator[tuple[LeadState | None, Lead, list[Activity]]]:
    """``n`` synthetic (previous state, lead, activities), generated lazily."""
    rng = random.Random(seed)
    for i in range(n):
        kind = rng.random()
        lead_id = f"L{i}"
        owner: str | None = rng.choice(reps)
        score = rng.randrange(0, 100)
        status = "Working"
        if kind < 0.30:
            owner, score = "Q0", rng.randrange(0, 59)
        elif kind < 0.40:
            score = rng.randrange(0, 59)
        elif kind < 0.60:
            owner, score = ("Q0" if kind < 0.55 else None), rng.randrange(60, 100)
        elif kind < 0.95:
            score = rng.randrange(60, 100)
        else:
            status = "Unqualified"
        fields = {
            "Lead_Score__c": score,
            "LeadSource": "Demo Request" if rng.random() < 0.2 else "Web",
            "Region": f"r{rng.randrange(TEAMS)}",
        }
        if status != "Working" and rng.random() < 0.5:
            fields["Disposition_Reason__c"] = "No budget"
        lead = Lead(LeadRef(CONN, lead_id), owner, None, status, NOW - timedelta(days=40), NOW, fields)
        assigned = NOW - timedelta(minutes=rng.randrange(0, 20 * 24 * 60))
        previous = LeadState(owner_id=owner, status="Working", open_status="Working", assigned_at=assigned, mql=True)
        acts = [
            Activity(
                CONN, f"{lead_id}-{k}", lead_id, owner if rng.random() < 0.9 else rng.choice(reps),
                rng.choice(CHANNELS), Direction.INBOUND if rng.random() < 0.1 else Direction.OUTBOUND,
                assigned + timedelta(minutes=rng.randrange(1, max(2, int((NOW - assigned).total_seconds() // 60)))),
                ActivitySource.CRM, rng.random() < 0.1,
            )
            for k in range(rng.randrange(0, 9) if owner not in (None, "Q0") else 0)
        ]  # fmt: skip
        yield (previous if owner not in (None, "Q0") else None), lead, acts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=10_000)
    args = parser.parse_args()
    policy = bench_policy()
    ep = prepare(policy)
    roster, reps = bench_roster()
    kinds: Counter[str] = Counter()
    phases: Counter[str] = Counter()
    generate = decide_time = derive_time = 0.0
    skipped = overflow = done = 0
    stream = leads(args.leads, reps)
    wall = time.perf_counter()
    while done < args.leads:
        t0 = time.process_time()
        chunk = [next(stream) for _ in range(min(args.chunk, args.leads - done))]
        t1 = time.process_time()
        items = [(derive(prev, lead, acts, ep, NOW), lead) for prev, lead, acts in chunk]
        t2 = time.process_time()
        batch = decide_all(items, roster, ep, NOW)
        t3 = time.process_time()
        roster = batch.roster
        generate, derive_time, decide_time = generate + t1 - t0, derive_time + t2 - t1, decide_time + t3 - t2
        skipped, overflow, done = skipped + batch.skipped, overflow + batch.overflow, done + len(chunk)
        for d in batch.decisions:
            phases[d.state.state.value] += 1
            kinds.update(p.kind for p in d.actions)
    wall = time.perf_counter() - wall
    engine = derive_time + decide_time
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"leads {done}  CPU: generate {generate:.1f}s  derive {derive_time:.1f}s  decide {decide_time:.1f}s")
    print("phases", dict(phases.most_common()))
    print("actions", dict(kinds.most_common()), f"skipped {skipped} overflow {overflow}")
    result = {
        "leads": done,
        "decisions_per_s": round(done / engine),
        "decide_only_per_s": round(done / decide_time),
        "derive_only_per_s": round(done / derive_time),
        "cpu_seconds": round(engine, 2),
        "wall_seconds": round(wall, 2),
        "peak_rss_mb": round(peak_mb),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
