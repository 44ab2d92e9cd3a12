"""An MQL waiting for capacity is routed once a rep has room again, without any change to the lead itself."""

from __future__ import annotations

from crmsync.engine import Phase
from crmsync.policy import Policy
from crmsync.policy.loader import parse_policy
from crmsync.store.repositories import leads
from crmsync.sync.cycle import WAIT_RECHECK
from tests.sync.conftest import Floor


def _state(floor: Floor, lead: str) -> tuple[str | None, object]:
    with floor.db.transaction() as session:
        stored = next(leads.leads_by_ids(session, "floor", [lead]))
    return stored.state["state"], stored.state["due_at"]


def _full_team(floor: Floor) -> tuple[Policy, dict[str, str], str]:
    """Every rep holds one open MQL at a cap of one, and one more MQL waits in the holding queue."""
    text = floor.policy_source.replace(
        "capacity: {leads_per_day: 50}", "capacity: {leads_per_day: 50, max_open_leads: 1}"
    )
    held = {rep: floor.lead(score=80, owner=rep) for rep in ("ana", "ben", "cy")}
    waiting = floor.lead(score=80, owner=floor.queue)
    floor.settle()
    return parse_policy(text, "floor.yaml"), held, waiting


def test_waiting_lead_has_a_recheck_time(floor: Floor) -> None:
    """A waiting MQL with every rep at the cap is due again after the recheck interval instead of never."""
    policy, _, waiting = _full_team(floor)
    report = floor.cycle(policy=lambda: policy).run()
    assert report.overflow == 1
    assert _state(floor, waiting) == (Phase.WAITING.value, floor.clock.now() + WAIT_RECHECK)


def test_waiting_mql_is_routed_when_a_rep_has_room_again(floor: Floor) -> None:
    """One rep's lead leaves them (no longer an MQL, hidden); at the recheck the waiting MQL goes to that rep."""
    policy, held, waiting = _full_team(floor)
    floor.cycle(policy=lambda: policy).run()
    score = "Lead_Score__c" if floor.sf else "hubspotscore"
    floor.org.update(floor.lead_obj, held["ben"], {score: 10})
    floor.settle()
    floor.cycle(policy=lambda: policy).run()
    assert floor.owner_of(held["ben"]) == floor.queue
    assert floor.owner_of(waiting) == floor.queue  # not due yet: nothing about the waiting lead changed
    floor.clock.advance(WAIT_RECHECK)
    floor.cycle(policy=lambda: policy).run()
    assert floor.owner_of(waiting) == floor.reps["ben"]
