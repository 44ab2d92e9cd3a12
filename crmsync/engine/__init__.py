"""The enforcement engine (DESIGN §3.2–3.6): a pure function of (lead state, roster, policy, now).

Use::

    state = derive(previous, lead, activities, policy, now)        # update the derived SLA state
    decision = decide(state, lead, roster, policy, now)            # actions, new state + due_at, explanation
    batch = decide_all([(state, lead), ...], roster, policy, now)  # a cycle: loads and pointers carried over

No I/O, no wall clock: ``now`` is always an argument. See :mod:`crmsync.engine.keys` for idempotency keys.
"""

from crmsync.engine.compiled import EnginePolicy, prepare
from crmsync.engine.decide import Batch, decide, decide_all
from crmsync.engine.decision import Decision, Planned
from crmsync.engine.explain import AssignmentRecord, Candidate, Deadline, Explanation, render
from crmsync.engine.keys import action_key
from crmsync.engine.roster import Roster
from crmsync.engine.routing import NO_CAPACITY
from crmsync.engine.state import LeadState, MoveKind, Pending, Phase, derive

__all__ = [
    "NO_CAPACITY",
    "AssignmentRecord",
    "Batch",
    "Candidate",
    "Deadline",
    "Decision",
    "EnginePolicy",
    "Explanation",
    "LeadState",
    "MoveKind",
    "Pending",
    "Phase",
    "Planned",
    "Roster",
    "action_key",
    "decide",
    "decide_all",
    "derive",
    "prepare",
    "render",
]
