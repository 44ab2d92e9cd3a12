"""Idempotency keys of planned actions: the same decision in a later cycle gives the same key. Pure.

Scheme: ``<connection>/<lead id>:<kind>:e<epoch>[:<extra>]``, where ``epoch`` is
:attr:`~crmsync.engine.state.LeadState.epoch`, the number of owner changes crmsync has seen on the lead. Every
move changes the owner, so a lead has at most one move per epoch, and a move decided again before it lands (the
CRM still shows the old owner) carries the same key; after it lands the epoch grows and the next move gets a
new key. Actions tied to a close add ``c<close_count>`` (a lead may be closed, reopened and closed again within
one owner); tasks add their purpose.

=================  ======================================  ===========================================
kind               extra                                   example
=================  ======================================  ===========================================
assign             —                                       ``sf/00Q1:assign:e3``
reassign           —                                       ``sf/00Q1:reassign:e3``
hide, recycle      —                                       ``sf/00Q1:hide:e0``
setdisposition     —                                       ``sf/00Q1:setdisposition:e4``
reopen, flag       ``c<close_count>``                      ``sf/00Q1:reopen:e4:c1``
createtask         purpose (``assign``, ``reassign``,      ``sf/00Q1:createtask:e3:reassign``,
                   ``flag:c<close_count>``)                ``sf/00Q1:createtask:e4:flag:c1``
=================  ======================================  ===========================================
"""

from __future__ import annotations

from crmsync.domain import LeadRef


def action_key(lead: LeadRef, kind: str, epoch: int, extra: str = "") -> str:
    """The idempotency key of a ``kind`` action on ``lead`` decided in owner epoch ``epoch``."""
    tail = f":{extra}" if extra else ""
    return f"{lead.connection}/{lead.lead_id}:{kind}:e{epoch}{tail}"
