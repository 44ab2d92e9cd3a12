"""The CRM port's contract, run against every implementation: Salesforce and HubSpot over HTTP on the
sandbox, and the in-process port over the same org models."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crmsync.crm.ports import OutcomeStatus, Page, Watermark
from crmsync.domain import (
    Assign,
    Channel,
    CreateTask,
    Direction,
    Hide,
    Lead,
    LeadRef,
    LogActivity,
    OwnerKind,
    SetDisposition,
    Vendor,
)
from tests.crm.conftest import Env, EnvFactory


def drain(pages: list[Page[Lead]]) -> tuple[list[Lead], Watermark | None]:
    """Every lead of the pages, and the last watermark any page carried."""
    leads = [lead for page in pages for lead in page.records]
    marks = [p.watermark for p in pages if p.watermark is not None]
    return leads, (marks[-1] if marks else None)


def test_first_pull_reads_every_lead_with_its_owner(env: Env) -> None:
    """A pull with no watermark streams every live lead once, with owners, ending with a watermark."""
    leads, mark = drain(list(env.crm.pull_leads(None, env.clock.now())))
    assert sorted(lead.ref.lead_id for lead in leads) == sorted(env.leads)
    owners = {lead.ref.lead_id: lead.owner_id for lead in leads}
    assert owners[env.leads[0]] == env.users[0]
    assert owners[env.leads[1]] == env.users[1]
    assert all(lead.ref.connection == "acme" for lead in leads)
    assert mark is not None


def test_incremental_pull_returns_changes_and_deletions_only(env: Env) -> None:
    """After a first pull, the next window holds exactly the changed and the deleted leads."""
    _, mark = drain(list(env.crm.pull_leads(None, env.clock.now() - timedelta(minutes=5))))
    env.clock.advance(timedelta(hours=1))
    env.touch(env.leads[1])
    env.touch(env.leads[3])
    env.delete(env.leads[4])
    env.clock.advance(timedelta(minutes=10))
    leads, _ = drain(list(env.crm.pull_leads(mark, env.clock.now() - timedelta(minutes=5))))
    by_id = {lead.ref.lead_id: lead for lead in leads}
    assert set(by_id) == {env.leads[1], env.leads[3], env.leads[4]}
    assert by_id[env.leads[4]].deleted
    assert not by_id[env.leads[1]].deleted


def test_rows_changed_after_until_wait_for_the_next_window(env: Env) -> None:
    """A change stamped after ``until`` is not read now, and is read by the next window."""
    _, mark = drain(list(env.crm.pull_leads(None, env.clock.now())))
    env.clock.advance(timedelta(minutes=30))
    until = env.clock.now() - timedelta(minutes=5)
    env.touch(env.leads[2])
    leads, mark2 = drain(list(env.crm.pull_leads(mark, until)))
    assert leads == []
    env.clock.advance(timedelta(minutes=10))
    leads, _ = drain(list(env.crm.pull_leads(mark2 or mark, env.clock.now())))
    assert [lead.ref.lead_id for lead in leads] == [env.leads[2]]


def test_thousands_sharing_one_timestamp_are_read_once_and_resumable(make_env: EnvFactory) -> None:
    """450 leads with one modified stamp: read exactly once each; resuming from a mid-window watermark loses none."""
    for vendor in (Vendor.SALESFORCE, Vendor.HUBSPOT):
        env = make_env(vendor, leads=2)
        _, mark = drain(list(env.crm.pull_leads(None, env.clock.now())))
        env.clock.advance(timedelta(hours=1))
        stamp = env.clock.now()
        extra = [env.add_lead(n, stamp) for n in range(450)]
        env.clock.advance(timedelta(minutes=10))
        pages = list(env.crm.pull_leads(mark, env.clock.now()))
        ids = [lead.ref.lead_id for page in pages for lead in page.records]
        assert sorted(ids) == sorted(extra), vendor
        if vendor is Vendor.HUBSPOT:
            assert [len(p.records) for p in pages][:3] == [200, 200, 50]
            resumed = list(env.crm.pull_leads(pages[0].watermark, env.clock.now()))
            again = [lead.ref.lead_id for page in resumed for lead in page.records]
            assert sorted(again) == sorted(extra[200:])


def test_owners_include_users_queues_and_inactive_reps(env: Env) -> None:
    """Owners come with their kind; an inactive (deactivated) rep is there, marked inactive."""
    owners = {o.owner_id: o for page in env.crm.pull_owners() for o in page.records}
    assert {env.users[0], env.users[1], env.queue, env.inactive_user} <= set(owners)
    assert owners[env.queue].kind is OwnerKind.QUEUE
    assert owners[env.users[0]].kind is OwnerKind.USER
    assert owners[env.users[0]].active
    assert not owners[env.inactive_user].active


def test_activities_on_leads_are_pulled_in_their_window(env: Env) -> None:
    """A call logged on a lead in the window comes back as an outbound call touch on that lead."""
    start = env.clock.now()
    env.clock.advance(timedelta(minutes=1))
    env.add_touch(env.leads[0], env.clock.now())
    env.clock.advance(timedelta(minutes=10))
    acts = [a for page in env.crm.pull_activities(Watermark(start), env.clock.now()) for a in page.records]
    assert [(a.lead_id, a.channel, a.direction) for a in acts] == [(env.leads[0], Channel.CALL, Direction.OUTBOUND)]
    assert acts[0].owner_id == env.users[0]


def test_current_owners_in_one_batched_read(env: Env) -> None:
    """Current owners of many leads come from one read; a deleted lead is absent."""
    env.delete(env.leads[5])
    owners = env.crm.current_owners(env.leads)
    assert owners == {lead: env.owner_of(lead) for lead in env.leads[:5]}
    if env.stats.snapshot()["requests"]:
        assert env.requests("") - env.requests("sf.oauth") == 1


def test_batched_owner_writes_land_and_keep_our_owner(env: Env) -> None:
    """Assign and Hide move owners in one batch; assignment rules do not override the owner we set."""
    ref = lambda i: LeadRef("acme", env.leads[i])  # noqa: E731 - a local shorthand
    actions = [
        Assign(ref(0), env.users[1], env.users[0], "rule", "why", "Assigned by crmsync", env.clock.now()),
        Assign(ref(2), env.users[1], env.users[0], "rule", "why", "Assigned by crmsync", None),
        Hide(ref(1), env.queue, env.users[1], "not MQL: score 10 < 60"),
        SetDisposition(ref(3), "Bad Timing"),
    ]
    outcomes = env.crm.apply(actions)
    assert [o.status for o in outcomes] == [OutcomeStatus.DONE] * 4
    assert [env.owner_of(env.leads[i]) for i in (0, 2, 1)] == [env.users[1], env.users[1], env.queue]
    if env.rule is not None:
        assert env.rule.fired == 0


def test_partial_failure_reports_each_record(env: Env) -> None:
    """A write to a deleted lead is skipped while the rest of the batch lands."""
    env.delete(env.leads[2])
    actions = [SetDisposition(LeadRef("acme", env.leads[i]), "Bad Timing") for i in range(4)]
    outcomes = env.crm.apply(actions)
    assert [o.status for o in outcomes] == [
        OutcomeStatus.DONE,
        OutcomeStatus.DONE,
        OutcomeStatus.SKIPPED,
        OutcomeStatus.DONE,
    ]


def test_tasks_and_logged_activities_land_exactly_once(env: Env) -> None:
    """Applying the same task and the same captured email twice creates one record each."""
    ref = LeadRef("acme", env.leads[0])
    now = env.clock.now()
    task = CreateTask(ref, env.users[0], "Reassigned to you", "First touch due 15:00", now + timedelta(hours=1))
    email = LogActivity(ref, "<m-1@acme.test>", env.users[0], Channel.EMAIL, Direction.OUTBOUND, now, "Hello", None)
    for _ in range(2):
        assert [o.status for o in env.crm.apply([task, email])] == [OutcomeStatus.DONE] * 2
    assert env.activity_count("<m-1@acme.test>") == 1
    assert sum(env.activity_count(k) for k in _task_keys(env)) == 1


def test_crash_between_create_and_ledger_write_is_reconciled(make_env: EnvFactory) -> None:
    """HubSpot: the create lands, the ledger write dies; the next apply finds the object instead of creating."""
    env = make_env(Vendor.HUBSPOT)
    ref = LeadRef("acme", env.leads[0])
    meeting = LogActivity(ref, "uid-7@cal", env.users[0], Channel.MEETING, Direction.OUTBOUND, env.clock.now(),
                          "Demo", None, 30)  # fmt: skip
    env.ledger.fail_complete = True
    with pytest.raises(RuntimeError, match="simulated crash"):
        env.crm.apply([meeting])
    env.ledger.fail_complete = False
    assert env.activity_count("uid-7@cal") == 1
    created = env.requests("hs.meetings.batch.create")
    outcome = env.crm.apply([meeting])
    assert outcome[0].status is OutcomeStatus.DONE
    assert env.activity_count("uid-7@cal") == 1
    assert env.requests("hs.meetings.batch.create") == created
    assert env.requests("hs.meetings.batch.read") == 1


def _task_keys(env: Env) -> list[str]:
    objs = ("Task",) if env.vendor is Vendor.SALESFORCE else ("tasks",)
    key_field = "Crmsync_External_Id__c" if env.vendor is Vendor.SALESFORCE else "crmsync_external_id"
    return sorted(
        {str(r[key_field]) for o in objs for r in env.org.rows(o) if str(r.get(key_field)).startswith("task:")}
    )


def test_first_activity_pull_reads_every_activity_with_its_lead(env: Env) -> None:
    """With no watermark, every logged activity comes back on its lead, and the last page carries ``until``."""
    for i in range(3):
        env.add_touch(env.leads[i], env.clock.now())
    until = env.clock.now() + timedelta(minutes=1)
    pages = list(env.crm.pull_activities(None, until))
    acts = [a for page in pages for a in page.records]
    assert sorted(a.lead_id for a in acts) == sorted(env.leads[:3])
    assert pages[-1].watermark == Watermark(until, "")


def test_a_deletion_is_reported_once_not_on_every_scan(make_env: EnvFactory) -> None:
    """HubSpot: an archived contact comes with the scan after its archiving, and not with later scans."""
    env = make_env(Vendor.HUBSPOT)
    _, mark = drain(list(env.crm.pull_leads(None, env.clock.now())))
    env.clock.advance(timedelta(hours=1))
    env.delete(env.leads[0])
    env.clock.advance(timedelta(hours=1))
    first, mark2 = drain(list(env.crm.pull_leads(mark, env.clock.now())))
    assert [(lead.ref.lead_id, lead.deleted) for lead in first] == [(env.leads[0], True)]
    env.clock.advance(timedelta(hours=1))
    later, _ = drain(list(env.crm.pull_leads(mark2, env.clock.now())))
    assert later == []


def test_reconciliation_searches_when_the_key_property_is_not_unique(make_env: EnvFactory) -> None:
    """HubSpot: if the portal's key property is not unique (no read by it), reconciliation searches for the key."""
    import dataclasses

    env = make_env(Vendor.HUBSPOT)
    fields = env.org.schema("emails").fields
    fields["crmsync_external_id"] = dataclasses.replace(fields["crmsync_external_id"], unique=False)
    ref = LeadRef("acme", env.leads[1])
    email = LogActivity(ref, "<m-9@acme.test>", env.users[0], Channel.EMAIL, Direction.OUTBOUND, env.clock.now(),
                        "Hello", None)  # fmt: skip
    env.ledger.fail_complete = True
    with pytest.raises(RuntimeError, match="simulated crash"):
        env.crm.apply([email])
    env.ledger.fail_complete = False
    assert env.crm.apply([email])[0].status is OutcomeStatus.DONE
    assert env.activity_count("<m-9@acme.test>") == 1
    assert env.requests("hs.emails.search") == 1
