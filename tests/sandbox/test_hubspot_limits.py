"""Sandbox HubSpot authentication, rate-limit headers, 429s and injected faults, seen through hubspot-api-client.

Pinned against https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines (headers, burst
and daily limits, the 429 body with policyName) and https://developers.hubspot.com/docs/api-reference/error-handling
(401 and the general error body).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
)
from hubspot.crm.contacts.exceptions import ServiceException, UnauthorizedException

from crmsync.sandbox.faults import FaultKind, FaultPlan, FaultRule
from crmsync.sandbox.hubspot import HubSpotLimits
from tests.sandbox import hubspot_portal
from tests.sandbox.hubspot_portal import Portal, PortalFactory

make_portal = hubspot_portal.make_portal
portal = hubspot_portal.portal

RATE_LIMIT_BODY_KEYS = {"status", "message", "errorType", "correlationId", "policyName", "groupName", "requestId"}


def test_every_answer_carries_the_rate_limit_headers(portal: Portal) -> None:
    """Successful and failed answers both carry the X-HubSpot-RateLimit-* headers, counting down per request."""
    api = portal.client.crm.contacts.basic_api
    _, status, headers = api.get_page_with_http_info(limit=1)
    assert status == 200
    assert {k: headers[k] for k in headers if k.startswith("X-HubSpot-RateLimit")} == {
        "X-HubSpot-RateLimit-Daily": "625000",
        "X-HubSpot-RateLimit-Daily-Remaining": "624999",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        "X-HubSpot-RateLimit-Max": "190",
        "X-HubSpot-RateLimit-Remaining": "189",
        "X-HubSpot-RateLimit-Secondly": "19",
        "X-HubSpot-RateLimit-Secondly-Remaining": "19",
    }
    missing = portal.raw("GET", "/crm/v3/objects/contacts/31337")
    assert missing.status_code == 404
    assert missing.headers["X-HubSpot-RateLimit-Remaining"] == "188"
    assert missing.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "624998"


def test_burst_limit_answers_429_secondly_until_the_window_passes(make_portal: PortalFactory) -> None:
    """Past Max requests in the 10 s window the answer is 429 with policyName SECONDLY; a new window admits again."""
    small = make_portal(limits=HubSpotLimits(burst=3))
    api = small.client.crm.contacts.basic_api
    for _ in range(3):
        api.get_page(limit=1)
    with pytest.raises(ApiException) as info:
        api.get_page(limit=1)
    body = json.loads(info.value.body)
    assert (info.value.status, body["policyName"], body["errorType"]) == (429, "SECONDLY", "RATE_LIMIT")
    assert set(body) == RATE_LIMIT_BODY_KEYS
    assert body["message"] == "You have reached your secondly limit."
    assert info.value.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    small.clock.advance(timedelta(seconds=10))
    assert api.get_page(limit=1).results


def test_search_is_limited_to_five_a_second(portal: Portal) -> None:
    """The sixth search in one second is a 429 SECONDLY (search has its own, lower limit); list calls are not."""
    search = portal.client.crm.contacts.search_api
    for _ in range(5):
        search.do_search(PublicObjectSearchRequest(limit=1))
    assert portal.client.crm.contacts.basic_api.get_page(limit=1).results
    with pytest.raises(ApiException) as info:
        search.do_search(PublicObjectSearchRequest(limit=1))
    assert json.loads(info.value.body)["policyName"] == "SECONDLY"
    portal.clock.advance(timedelta(seconds=1))
    assert search.do_search(PublicObjectSearchRequest(limit=1)).total == 12


def test_daily_quota_answers_429_daily_and_resets_next_day(make_portal: PortalFactory) -> None:
    """With a daily quota of 2 the third call is 429 policyName DAILY; the next simulated day starts afresh."""
    small = make_portal(faults=FaultPlan(daily_quota={"hubspot": 2}))
    api = small.client.crm.contacts.basic_api
    _, _, headers = api.get_page_with_http_info(limit=1)
    assert (headers["X-HubSpot-RateLimit-Daily"], headers["X-HubSpot-RateLimit-Daily-Remaining"]) == ("2", "1")
    api.get_page(limit=1)
    with pytest.raises(ApiException) as info:
        api.get_page(limit=1)
    body = json.loads(info.value.body)
    assert (info.value.status, body["policyName"], body["message"]) == (
        429,
        "DAILY",
        "You have reached your daily limit.",
    )
    small.clock.advance(timedelta(days=1))
    assert api.get_page(limit=1).results


def test_unenforced_limits_never_answer_429(make_portal: PortalFactory) -> None:
    """HubSpotLimits(enforce=False) keeps the headers but admits past the burst limit (for benchmarks)."""
    free = make_portal(limits=HubSpotLimits(burst=2, enforce=False))
    for _ in range(5):
        _, status, headers = free.client.crm.contacts.basic_api.get_page_with_http_info(limit=1)
    assert (status, headers["X-HubSpot-RateLimit-Remaining"]) == (200, "0")


@pytest.mark.parametrize("token", ["wrong-token", None], ids=["wrong", "missing"])
def test_bad_or_missing_token_is_401(portal: Portal, token: str | None) -> None:
    """A wrong or missing bearer token answers 401 INVALID_AUTHENTICATION (UnauthorizedException in the client)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {"Authorization": ""}
    resp = portal.raw("GET", "/crm/v3/objects/contacts", headers=headers)
    assert resp.status_code == 401
    body = resp.json()
    assert (body["status"], body["category"]) == ("error", "INVALID_AUTHENTICATION")
    assert set(body) == {"status", "message", "correlationId", "category"}
    from hubspot import Client

    bad = Client.create(access_token="wrong-token", host=portal.url, client_side_validation=True)
    with pytest.raises(UnauthorizedException):
        bad.crm.contacts.basic_api.get_page()


def _plan(*rules: FaultRule, seed: int = 7) -> FaultPlan:
    return FaultPlan(rules=rules, seed=seed)


def test_injected_faults_render_as_hubspot_answers(make_portal: PortalFactory) -> None:
    """Fault rules give a 429 on search, a 503 on list and an expired-session 401 on get, in HubSpot's shapes."""
    faulty = make_portal(faults=_plan(
        FaultRule(FaultKind.RATE_LIMIT, endpoint="hs.contacts.search", times=1),
        FaultRule(FaultKind.STATUS, endpoint="hs.contacts.list", status=503, times=1),
        FaultRule(FaultKind.EXPIRED_SESSION, endpoint="hs.contacts.get", times=1),
    ))  # fmt: skip
    with pytest.raises(ApiException) as limited:
        faulty.client.crm.contacts.search_api.do_search(PublicObjectSearchRequest(limit=1))
    assert json.loads(limited.value.body)["policyName"] == "SECONDLY"
    with pytest.raises(ServiceException) as down:
        faulty.client.crm.contacts.basic_api.get_page()
    assert down.value.status == 503
    assert json.loads(down.value.body)["status"] == "error"
    with pytest.raises(UnauthorizedException) as expired:
        faulty.client.crm.contacts.basic_api.get_by_id(faulty.contacts[0])
    assert json.loads(expired.value.body)["category"] == "EXPIRED_AUTHENTICATION"
    assert faulty.client.crm.contacts.basic_api.get_by_id(faulty.contacts[0]).id == faulty.contacts[0]
    assert faulty.server.stats.snapshot()["faults"] == {"rate_limit": 1, "status": 1, "expired_session": 1}


def _batch_outcome(make_portal: PortalFactory, seed: int) -> list[str]:
    rule = FaultRule(FaultKind.RECORD_ERROR, endpoint="hs.contacts.batch.update", rate=0.5, code="CONFLICT",
                     message="Simulated write conflict")  # fmt: skip
    faulty = make_portal(faults=_plan(rule, seed=seed))
    inputs = [SimplePublicObjectBatchInput(id=c, properties={"hs_lead_status": "OPEN"}) for c in faulty.contacts]
    out = faulty.client.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=inputs))
    failed = [e.context["ids"][0] for e in out.errors or []]
    assert all(e.category == "CONFLICT" and e.message == "Simulated write conflict" for e in out.errors or [])
    assert sorted([r.id for r in out.results] + failed) == faulty.contacts
    return failed


def test_record_faults_in_batches_are_207_and_deterministic_under_a_seed(make_portal: PortalFactory) -> None:
    """Per-record faults become 207 errors; the same seed fails the same inputs, another seed others."""
    first = _batch_outcome(make_portal, seed=3)
    assert first
    assert len(first) < 12
    assert _batch_outcome(make_portal, seed=3) == first
    assert _batch_outcome(make_portal, seed=4) != first


def test_requests_are_counted_by_endpoint(portal: Portal) -> None:
    """Stats count each request under its hs.* endpoint name, also over GET /__sandbox/stats."""
    portal.client.crm.contacts.basic_api.get_page(limit=1)
    portal.client.crm.owners.owners_api.get_page()
    portal.raw("GET", "/crm/v3/nothing/here")
    stats = portal.raw("GET", "/__sandbox/stats").json()
    assert stats["by_endpoint"] == {"hs.contacts.list": 1, "hs.owners.list": 1, "unknown": 1}
    assert stats["by_status"] == {"200": 2, "404": 1}
