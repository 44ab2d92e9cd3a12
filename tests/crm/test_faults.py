"""Fault injection on the sandbox: exact attempt counts, and no write lands twice."""

from __future__ import annotations

import pytest

from crmsync.crm.ports import OutcomeStatus
from crmsync.domain import Assign, Channel, Direction, LeadRef, LogActivity, SetDisposition, Vendor
from crmsync.errors import AuthError, BudgetExhaustedError
from crmsync.sandbox.faults import FaultKind, FaultRule
from tests.crm.conftest import Env, EnvFactory


def assign_all(env: Env) -> list[Assign]:
    return [
        Assign(LeadRef("acme", lead), env.users[1], env.users[0], "r", "why", "Assigned", None) for lead in env.leads
    ]


def test_hubspot_429_storm_is_ridden_out_with_exact_attempts(make_env: EnvFactory) -> None:
    """Three 429s (SECONDLY) on the batch update, then success: four calls, one write per contact."""
    rule = FaultRule(FaultKind.RATE_LIMIT, endpoint="hs.contacts.batch.update", times=3)
    env = make_env(Vendor.HUBSPOT, rules=(rule,))
    outcomes = env.crm.apply(assign_all(env))
    assert {o.status for o in outcomes} == {OutcomeStatus.DONE}
    assert env.requests("hs.contacts.batch.update") == 4
    assert len(env.slept) == 3
    assert min(env.slept) >= 1.0
    assert all(env.owner_of(lead) == env.users[1] for lead in env.leads)


def test_429_storm_longer_than_the_policy_gives_retry_outcomes(make_env: EnvFactory) -> None:
    """A storm outlasting max_attempts: exactly max_attempts calls, every action RETRY for the outbox."""
    rule = FaultRule(FaultKind.RATE_LIMIT, endpoint="hs.contacts.batch.update")
    env = make_env(Vendor.HUBSPOT, rules=(rule,), max_attempts=3)
    outcomes = env.crm.apply(assign_all(env))
    assert {o.status for o in outcomes} == {OutcomeStatus.RETRY}
    assert env.requests("hs.contacts.batch.update") == 3


@pytest.mark.parametrize("vendor", [Vendor.SALESFORCE, Vendor.HUBSPOT], ids=["salesforce", "hubspot"])
def test_server_errors_are_retried_and_the_write_lands_once(make_env: EnvFactory, vendor: Vendor) -> None:
    """Two 503s on the write endpoint then success: three calls; the logged activity exists once."""
    pattern = "sf.composite.upsert" if vendor is Vendor.SALESFORCE else "hs.emails.batch.create"
    env = make_env(vendor, rules=(FaultRule(FaultKind.STATUS, endpoint=pattern, status=503, times=2),))
    ref = LeadRef("acme", env.leads[0])
    log = LogActivity(
        ref, "<k-1@acme.test>", env.users[0], Channel.EMAIL, Direction.OUTBOUND, env.clock.now(), "Hi", None
    )
    assert env.crm.apply([log])[0].status is OutcomeStatus.DONE
    assert env.requests(pattern) == 3
    assert env.activity_count("<k-1@acme.test>") == 1
    assert env.crm.apply([log])[0].status is OutcomeStatus.DONE
    assert env.activity_count("<k-1@acme.test>") == 1


@pytest.mark.parametrize("vendor", [Vendor.SALESFORCE, Vendor.HUBSPOT], ids=["salesforce", "hubspot"])
def test_per_record_lock_errors_retry_only_those_records(make_env: EnvFactory, vendor: Vendor) -> None:
    """A lock error on one record: that record RETRY, the rest DONE; re-applying it lands it, once."""
    pattern = "sf.composite.update" if vendor is Vendor.SALESFORCE else "hs.contacts.batch.update"
    code = "UNABLE_TO_LOCK_ROW" if vendor is Vendor.SALESFORCE else "LOCKED"
    env = make_env(vendor, rules=(FaultRule(FaultKind.RECORD_ERROR, endpoint=pattern, code=code, times=1),))
    actions = [SetDisposition(LeadRef("acme", lead), "Bad Timing") for lead in env.leads]
    outcomes = env.crm.apply(actions)
    retry = [i for i, o in enumerate(outcomes) if o.status is OutcomeStatus.RETRY]
    assert len(retry) == 1
    assert outcomes[retry[0]].code == code
    assert sum(o.status is OutcomeStatus.DONE for o in outcomes) == len(actions) - 1
    assert env.requests(pattern) == 1
    again = env.crm.apply([actions[retry[0]]])
    assert again[0].status is OutcomeStatus.DONE


def test_expired_session_mid_cycle_refreshes_once_and_keeps_the_no_auto_assign_header(make_env: EnvFactory) -> None:
    """Salesforce: a 401 on the owner write re-authenticates and repeats it; the assignment rule never fires."""
    env = make_env(
        Vendor.SALESFORCE, rules=(FaultRule(FaultKind.EXPIRED_SESSION, endpoint="sf.composite.update", times=1),)
    )
    outcomes = env.crm.apply(assign_all(env))
    assert {o.status for o in outcomes} == {OutcomeStatus.DONE}
    assert env.requests("sf.composite.update") == 2
    assert env.requests("sf.oauth.token") == 2
    assert env.rule is not None
    assert env.rule.fired == 0
    assert all(env.owner_of(lead) == env.users[1] for lead in env.leads)


def test_sessions_that_keep_expiring_fail_with_auth_error(make_env: EnvFactory) -> None:
    """Salesforce: a session that expires on every call gives AuthError after one refresh (bounded)."""
    env = make_env(Vendor.SALESFORCE, rules=(FaultRule(FaultKind.EXPIRED_SESSION, endpoint="sf.query_all"),))
    with pytest.raises(AuthError):
        list(env.crm.pull_leads(None, env.clock.now()))
    assert env.requests("sf.query_all") == 2


@pytest.mark.parametrize("vendor", [Vendor.SALESFORCE, Vendor.HUBSPOT], ids=["salesforce", "hubspot"])
def test_daily_quota_reached_mid_cycle_stops_without_retrying(make_env: EnvFactory, vendor: Vendor) -> None:
    """Other integrations spend the daily quota between our pull and our writes: the write is tried once and
    every action is RETRY; the next call is refused by our own budget without reaching the CRM."""
    env = make_env(vendor, quota=1000)
    list(env.crm.pull_leads(None, env.clock.now()))
    env.stats.charge(2000, env.clock.now())
    outcomes = env.crm.apply(assign_all(env))
    assert {o.status for o in outcomes} == {OutcomeStatus.RETRY}
    assert outcomes[0].code in ("REQUEST_LIMIT_EXCEEDED", "DAILY")
    assert env.slept == []
    assert all(env.owner_of(lead) == env.users[0] for lead in env.leads[::2])
    served = env.stats.snapshot()["requests"]
    assert not env.crm.allow(0)
    with pytest.raises(BudgetExhaustedError):
        list(env.crm.pull_leads(None, env.clock.now()))
    assert env.stats.snapshot()["requests"] == served


def test_our_reserve_stops_before_the_crm_refuses(make_env: EnvFactory) -> None:
    """With a small quota, our 80 % reserve refuses new work itself: the CRM never answers 403."""
    env = make_env(Vendor.SALESFORCE, quota=5)

    def cycle() -> None:
        for _ in range(10):
            env.crm.current_owners(env.leads)

    with pytest.raises(BudgetExhaustedError):
        cycle()
    assert env.requests("sf.query") == 4
    assert env.stats.snapshot()["by_status"].get("403", 0) == 0
