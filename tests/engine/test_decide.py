"""decide()/decide_all() contracts: stopped leads, bad input, idempotency keys, state derivation, explanation."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from crmsync.domain import Lead, LeadRef
from crmsync.engine import LeadState, MoveKind, Pending, Phase, decide, decide_all, derive, prepare, render

from .helpers import ANA, BEN, CAM, CONN, HOUR, MON_9, QUEUE, apply, kinds, lead, policy, roster, run, touch

DEMO = "Demo Request"


@pytest.mark.parametrize(
    "the_lead",
    [lead(owner=ANA, source=DEMO, converted=True), lead(owner=ANA, source=DEMO, deleted=True)],
    ids=["3.1-converted-lead-left-alone", "3.1-deleted-lead-left-alone"],
)
def test_converted_or_deleted_lead_is_left_alone(the_lead):
    """Converted and deleted leads stop every clock: no action even long past a deadline, nothing due."""
    decision = run(the_lead, MON_9 + 10 * HOUR, first_seen=MON_9)
    assert decision.actions == ()
    assert decision.state.state is Phase.STOPPED
    assert decision.due_at is None


def _naive_lead() -> Lead:
    return Lead(LeadRef(CONN, "00QN"), ANA, None, "Open", datetime(2026, 3, 1), MON_9, {})  # noqa: DTZ001


@pytest.mark.parametrize(
    ("the_lead", "the_roster", "reason"),
    [
        (lead(owner="005ZZZ"), roster(), "owner 005ZZZ is unknown"),
        (lead(owner=ANA), roster(inactive=[ANA]), f"owner {ANA} is inactive in the CRM"),
        (
            lead(owner=QUEUE),
            roster(holding={}),
            "holding owner 'queue:Marketing Nurture' is not resolved to a CRM owner",
        ),
        (lead("", owner=ANA), roster(), "lead has no id"),
        (lead(owner=""), roster(), "lead 00Q1 has an odd owner id"),
        (_naive_lead(), roster(), "lead 00QN has a missing or naive timestamp"),
    ],
    ids=[
        "bad-input-unknown-owner",
        "bad-input-inactive-owner",
        "bad-input-unresolved-holding-owner",
        "bad-input-missing-id",
        "bad-input-empty-owner-id",
        "bad-input-naive-timestamp",
    ],
)
def test_bad_input_is_skipped_with_a_reason(the_lead, the_roster, reason):
    """Bad leads and owners never raise: the decision is skipped with the reason and carries no action."""
    p = policy()
    decision = decide(LeadState(), the_lead, the_roster, p, MON_9)
    assert decision.skipped == reason
    assert decision.actions == ()
    assert decision.state.state is Phase.SKIPPED


def test_batch_goes_on_past_bad_leads_and_counts_them():
    """decide_all skips and counts bad leads and decides the rest."""
    p = policy()
    leads = [lead("00Q1", owner="005ZZZ"), lead("00Q2", owner=QUEUE), _naive_lead(), lead("00Q3", owner=QUEUE)]
    batch = decide_all([(LeadState(owner_id=x.owner_id), x) for x in leads], roster(), p, MON_9 + HOUR)
    assert batch.skipped == 2
    assert [kinds(d) for d in batch.decisions] == [[], ["assign", "createtask"], [], ["assign", "createtask"]]
    assert batch.actions == 4


def test_same_decision_in_a_later_cycle_has_the_same_keys():
    """A move decided again before it lands carries the same idempotency keys; after it lands the keys change."""
    p, the_lead = policy(), lead(owner=ANA, source=DEMO)
    state = derive(None, the_lead, [], p, MON_9)
    first = decide(derive(state, the_lead, [], p, MON_9 + HOUR), the_lead, roster(), p, MON_9 + HOUR)
    again = decide(derive(first.state, the_lead, [], p, MON_9 + 2 * HOUR), the_lead, roster(), p, MON_9 + 2 * HOUR)
    assert [x.key for x in first.actions] == ["sf/00Q1:reassign:e0", "sf/00Q1:createtask:e0:reassign"]
    assert [x.key for x in again.actions] == [x.key for x in first.actions]
    assert again.state.pending == first.state.pending  # the first decision's instant is kept
    landed = apply(the_lead, [x.action for x in first.actions])
    later = derive(again.state, landed, [], p, MON_9 + 5 * HOUR)
    breach = decide(later, landed, roster(), p, MON_9 + 5 * HOUR)
    assert [x.key for x in breach.actions] == ["sf/00Q1:reassign:e1", "sf/00Q1:createtask:e1:reassign"]


def test_crmsyncs_move_landing_counts_a_reassignment_and_starts_the_clock_at_the_decision():
    """When the CRM shows the pending move's owner, the reassignment is counted and the clock starts then."""
    p, the_lead = policy(), lead(owner=ANA)
    state = replace(derive(None, the_lead, [], p, MON_9), pending=Pending(MoveKind.REASSIGN, BEN, MON_9 + HOUR))
    after = derive(state, lead(owner=BEN), [touch(ANA, MON_9 + 2 * HOUR)], p, MON_9 + 3 * HOUR)
    assert (after.owner_id, after.assigned_at, after.reassignment_count) == (BEN, MON_9 + HOUR, 1)
    assert (after.previous_owners, after.pending, after.touches, after.epoch) == ((ANA,), None, 0, 1)


def test_someone_elses_move_restarts_the_clock_when_seen():
    """An owner change crmsync did not decide starts the new owner's clock when seen, without counting it."""
    p = policy()
    state = derive(derive(None, lead(owner=ANA), [], p, MON_9), lead(owner=BEN), [], p, MON_9 + 2 * HOUR)
    assert (state.owner_id, state.assigned_at, state.reassignment_count, state.previous_owners) == (
        BEN,
        MON_9 + 2 * HOUR,
        0,
        (ANA,),
    )


def test_state_survives_storage_round_trip():
    """LeadState.columns()/extras() hold everything: from_stored() gives the same state back."""
    decision = run(lead(owner=ANA, source=DEMO), MON_9 + HOUR, [touch(ANA, MON_9 - HOUR)], first_seen=MON_9)
    state = replace(decision.state, pending=Pending(MoveKind.REASSIGN, BEN, MON_9), restarted_at=MON_9)
    assert LeadState.from_stored(state.columns(), state.extras()) == state


def test_explanation_renders_deadlines_in_the_owners_time():
    """explain shows the tier, the deadline in the owner's local time and the next event."""
    decision = run(lead(owner=ANA, source=DEMO), MON_9 + HOUR / 2, first_seen=MON_9)
    lines = render(decision.explanation, MON_9 + HOUR / 2)
    assert "  first touch: due Mon 2026-03-02 10:00 EST [open]" in lines
    assert "  next: breach: no first touch at Mon 2026-03-02 10:00 EST" in lines
    assert "  rule: SLA tier: 'demo requests'" in lines


def test_decision_records_the_policy_hash():
    """Every decided state carries the hash of the policy that decided it."""
    a = run(lead(owner=ANA), MON_9)
    b = run(lead(owner=ANA), MON_9, pol=policy(on_breach={"max_reassignments": 3}))
    assert a.state.policy_hash
    assert b.state.policy_hash
    assert a.state.policy_hash != b.state.policy_hash


def test_a_pending_move_is_replanned_to_the_same_rep_and_not_recorded_again():
    """A route not yet applied is planned again to the same rep (same keys), even if the pointer moved on."""
    p, held = policy(), lead(owner=QUEUE)
    first = decide(derive(None, held, [], p, MON_9), held, roster(), p, MON_9)
    moved_on = roster(pointers={"sdr": 1})
    again = decide(derive(first.state, held, [], p, MON_9 + HOUR), held, moved_on, p, MON_9 + HOUR)
    assert [x.action.owner_id for x in again.actions] == [ANA, ANA]  # type: ignore[union-attr]
    assert [x.key for x in again.actions] == [x.key for x in first.actions]
    assert (len(first.assignments), again.assignments) == (1, ())
    landed = derive(again.state, lead(owner=ANA), [], p, MON_9 + 2 * HOUR)
    assert landed.assigned_at == MON_9  # the clock started when the move was first decided


def test_policy_lists_the_holding_owners_the_shell_must_resolve():
    """EnginePolicy.holding_names gives the qualification's and the teams' holding owners."""
    p = policy(teams={"events": {"holding_owner": "queue:Events Overflow"}})
    assert prepare(p).holding_names == {"queue:Marketing Nurture", "queue:Events Overflow"}


def test_explanation_shows_a_met_deadline_with_when_it_was_met():
    """A deadline met by a touch is shown with the touch's local time; waiting leads show the org's timezone."""
    decision = run(lead(owner=ANA), MON_9 + 2 * HOUR, [touch(ANA, MON_9 + HOUR)], first_seen=MON_9)
    lines = render(decision.explanation, MON_9 + 2 * HOUR)
    assert "  first touch: due Mon 2026-03-02 17:00 EST [met Mon 2026-03-02 10:00 EST]" in lines
    waiting = run(lead(owner=QUEUE), MON_9 + HOUR, the_roster=roster(today={ANA: 20, BEN: 20, CAM: 20}))
    assert waiting.explanation.timezone == "America/New_York"
