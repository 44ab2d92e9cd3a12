"""Crash safety of the cycle: a crash after the pull loses no decision; a repeated cycle enqueues nothing twice."""

from __future__ import annotations

import pytest

from crmsync.domain import Vendor
from crmsync.outbox.model import OutboxStatus
from crmsync.policy import Policy
from crmsync.store.repositories import history, leads
from crmsync.store.repositories import outbox as outbox_rows
from tests.sync.conftest import Floor, FloorFactory


@pytest.fixture(params=[Vendor.SALESFORCE, Vendor.HUBSPOT], ids=["salesforce", "hubspot"])
def floor(request: pytest.FixtureRequest, make_floor: FloorFactory, db_url: str) -> Floor:
    """Crash safety is a property of the store too: every test runs on both CRMs and on SQLite and PostgreSQL."""
    vendor: Vendor = request.param
    return make_floor(vendor, db_url=db_url)


class Killed(Exception):
    """Stands for the process dying between the pull's commit and the decisions."""


def _killed() -> Policy:
    raise Killed


def _outbox(floor: Floor) -> dict[str, OutboxStatus]:
    with floor.db.transaction() as session:
        return {item.entry.key: item.entry.status for item in outbox_rows.find(session, limit=10_000)}


def test_crash_between_pull_and_decide_leaves_the_leads_due_for_the_next_cycle(floor: Floor) -> None:
    """Leads pulled by a cycle that died before deciding are decided by the next cycle, which pulls nothing new."""
    hidden = [floor.lead(score=20, owner="ana") for _ in range(3)]
    floor.settle()
    with pytest.raises(Killed):
        floor.cycle(policy=_killed).run()
    with floor.db.transaction() as session:
        due = set(leads.due_lead_ids(session, "floor", floor.clock.now()))
    assert due == set(hidden)
    assert _outbox(floor) == {}
    report = floor.cycle().run()
    assert report.pulled is not None
    assert report.pulled.leads == 0
    assert report.decided == 3
    assert [floor.owner_of(lead) for lead in hidden] == [floor.queue] * 3


def test_a_repeated_cycle_enqueues_and_applies_nothing_twice(floor: Floor) -> None:
    """Two replicas deciding the same due leads enqueue each action once; dispatching both applies each once."""
    for _ in range(3):
        floor.lead(score=20, owner="ben")
    floor.settle()
    first = floor.cycle("replica-a").run(do_dispatch=False)
    assert first.enqueued == 3
    with floor.db.transaction() as session:  # as if replica b had read the leads before a saved its decisions
        ids = [s.lead.ref.lead_id for s in leads.stream_leads(session, "floor")]
        leads.mark_due(session, "floor", ids, floor.clock.now())
    second = floor.cycle("replica-b").run(do_dispatch=False)
    assert second.decided == 3
    assert second.actions == 3
    assert second.enqueued == 0
    a, b = floor.cycle("replica-a").dispatcher().run(), floor.cycle("replica-b").dispatcher().run()
    assert a.done + b.done == 3
    assert set(_outbox(floor).values()) == {OutboxStatus.DONE}
    with floor.db.transaction() as session:
        audits = [e for lead in ids for e in history.audit_trail(session, "floor", lead)]
    assert sorted(e.outbox_key or "" for e in audits) == sorted(_outbox(floor))
