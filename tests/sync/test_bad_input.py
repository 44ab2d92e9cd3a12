"""Bad input never stops a cycle: each bad lead is skipped with its reason and counted, the others are decided."""

from __future__ import annotations

from crmsync.domain import Vendor
from crmsync.sandbox.org import salesforce_id
from crmsync.store.repositories import leads
from tests.sync.conftest import Floor, FloorFactory


def _state(floor: Floor, lead: str) -> str | None:
    with floor.db.transaction() as session:
        stored = next(leads.leads_by_ids(session, "floor", [lead]))
    return stored.state["state"]  # type: ignore[no-any-return]


def test_leads_of_inactive_or_unknown_owners_are_skipped_and_the_cycle_finishes(floor: Floor) -> None:
    """MQLs owned by a deactivated or an unknown user are skipped with the reason; a good lead is still hidden."""
    unknown_owner = salesforce_id("005", 9_999) if floor.sf else "99999999"
    inactive = floor.lead(score=80, owner="dee")
    unknown = floor.lead(score=80, owner=unknown_owner)
    good = floor.lead(score=10, owner="ana")
    floor.settle()
    report = floor.cycle().run()
    skips = dict(report.skips)
    assert report.skipped == len(skips) == 2
    assert "inactive" in skips[inactive]
    assert "unknown" in skips[unknown]
    assert floor.owner_of(good) == floor.queue
    assert floor.owner_of(inactive) == floor.reps["dee"]
    assert {_state(floor, inactive), _state(floor, unknown)} == {"skipped"}


def test_leads_with_missing_or_odd_fields_are_decided_or_skipped_never_fatal(floor: Floor) -> None:
    """A lead without score, email or status, or with a score that is not a number, is hidden as not MQL."""
    missing = floor.lead(score=None, owner="ana", **({"Email": None, "Status": None} if floor.sf else {"email": None}))
    odd = floor.lead(score="lots" if not floor.sf else None, owner="ben")
    floor.settle()
    report = floor.cycle().run()
    assert report.decided == 2
    assert report.dispatched is not None
    assert report.dispatched.dead == 0
    assert floor.owner_of(missing) == floor.queue
    assert floor.owner_of(odd) == floor.queue


def test_a_skipped_lead_is_decided_again_when_it_changes(floor: Floor) -> None:
    """A lead skipped for an unknown owner waits for its next change, then is decided normally."""
    lead = floor.lead(score=10, owner="dee")
    floor.settle()
    assert floor.cycle().run().skipped == 1
    assert floor.cycle().run().decided == 0
    floor.org.update(floor.lead_obj, lead, {floor.owner_field: floor.reps["ana"]})
    floor.settle()
    report = floor.cycle().run()
    assert report.skipped == 0
    assert floor.owner_of(lead) == floor.queue


def test_policy_naming_reps_that_do_not_exist_still_routes_to_the_others(make_floor: FloorFactory) -> None:
    """A team member unknown to the CRM is a reported problem and never gets leads; routing goes on."""
    floor = make_floor(Vendor.HUBSPOT, extra_members=("ghost@acme.test",))
    routed = [floor.lead(score=80, owner=floor.queue) for _ in range(4)]
    floor.settle()
    report = floor.cycle().run()
    assert any("ghost@acme.test" in problem for problem in report.problems), report.problems
    assert report.skipped == 0
    assert {floor.rep_key(floor.owner_of(lead)) for lead in routed} <= {"ana", "ben", "cy"}
