"""Salesforce edge cases at the transport (``responses``): refresh keeps headers and is bounded, paging,
partial failures, retries with exact attempt counts, the daily quota, timeouts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from crmsync.clock import FakeClock
from crmsync.crm.config import load_connection
from crmsync.crm.factory import connect
from crmsync.crm.ports import OutcomeStatus, Watermark
from crmsync.crm.salesforce import SalesforceCrm
from crmsync.domain import Assign, LeadRef, SetDisposition
from crmsync.errors import AuthError
from tests.logguard import sentinel

HOST = "https://acme.my.salesforce.com"
API = f"{HOST}/services/data/v59.0"
TOKEN_URL = f"{HOST}/services/oauth2/token"
UNTIL = datetime(2026, 3, 2, 13, 55, tzinfo=UTC)
USER = "005Sb0000000001AAA"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def crm(clock: FakeClock, slept: list[float]) -> SalesforceCrm:
    settings = load_connection(
        {
            "name": "acme-sf",
            "vendor": "salesforce",
            "salesforce": {"auth": "client_credentials", "login_url": HOST, "client_id": "ck",
                           "client_secret": sentinel("sf-client-secret-77")},
            "retry": {"max_attempts": 4, "initial_s": 1.0, "jitter": 0.0},
        }
    )  # fmt: skip
    adapter = connect(settings, clock=clock, sleep=slept.append)
    assert isinstance(adapter, SalesforceCrm)
    return adapter


def token(rsps: responses.RequestsMock, *values: str) -> None:
    for value in values:
        rsps.add(responses.POST, TOKEN_URL, json={"access_token": sentinel(value), "instance_url": HOST})


def lead_row(n: int) -> dict[str, Any]:
    return {"attributes": {"type": "Lead"}, "Id": f"00QSb{n:010d}AAA", "OwnerId": USER, "Status": "Open",
            "CreatedDate": "2026-03-01T10:00:00.000+0000",
            "SystemModstamp": f"2026-03-02T10:{n // 60 % 60:02d}:{n % 60:02d}.000+0000",
            "IsConverted": False, "IsDeleted": False}  # fmt: skip


def collection_calls(rsps: responses.RequestsMock) -> list[Any]:
    return [c for c in rsps.calls if "composite/sobjects" in c.request.url]


def actions(n: int) -> list[Any]:
    return [Assign(LeadRef("acme-sf", f"00QSb{i:010d}AAA"), USER, None, "r", "why", "Assigned", None) for i in range(n)]


def test_expired_session_is_refreshed_and_the_retry_keeps_the_assignment_header(
    crm: SalesforceCrm, rsps: responses.RequestsMock
) -> None:
    """A 401 INVALID_SESSION_ID re-authenticates once and repeats the call with Sforce-Auto-Assign: FALSE."""
    token(rsps, "00DSb000000000001!tok-one-aaaa", "00DSb000000000001!tok-two-bbbb")
    rsps.add(responses.PATCH, f"{API}/composite/sobjects", status=401,
             json=[{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}])  # fmt: skip
    rsps.add(
        responses.PATCH, f"{API}/composite/sobjects", json=[{"id": "00QSb0000000000AAA", "success": True, "errors": []}]
    )
    outcomes = crm.apply(actions(1))
    assert [o.status for o in outcomes] == [OutcomeStatus.DONE]
    calls = collection_calls(rsps)
    assert len(calls) == 2
    assert calls[1].request.headers["Sforce-Auto-Assign"] == "FALSE"
    assert calls[1].request.headers["Authorization"].endswith("tok-two-bbbb")
    assert crm.refreshes == 1


def test_session_refresh_is_bounded(crm: SalesforceCrm, rsps: responses.RequestsMock) -> None:
    """A session that stays invalid after one refresh fails with AuthError after exactly two calls."""
    token(rsps, "00DSb000000000001!tok-one-aaaa")
    rsps.add(responses.GET, f"{API}/queryAll/", status=401, json=[{"errorCode": "INVALID_SESSION_ID", "message": "x"}])
    with pytest.raises(AuthError):
        list(crm.pull_leads(None, UNTIL))
    assert len([c for c in rsps.calls if "/queryAll/" in c.request.url]) == 2
    assert len([c for c in rsps.calls if c.request.url == TOKEN_URL]) == 2


def test_leads_are_paged_2000_rows_at_a_time_with_a_keyset_watermark(
    crm: SalesforceCrm, rsps: responses.RequestsMock
) -> None:
    """A 2,500-row window comes as a 2,000-row page then a 500-row page, each with its last (stamp, Id)."""
    token(rsps, "00DSb000000000001!tok-one-aaaa")
    rows = [lead_row(n) for n in range(2500)]
    more = "/services/data/v59.0/query/01gSb0000000001AAA-2000"
    rsps.add(responses.GET, f"{API}/queryAll/", json={"totalSize": 2500, "done": False, "records": rows[:2000],
                                                       "nextRecordsUrl": more})  # fmt: skip
    rsps.add(responses.GET, f"{HOST}{more}", json={"totalSize": 2500, "done": True, "records": rows[2000:]})
    pages = list(crm.pull_leads(Watermark(datetime(2026, 3, 2, tzinfo=UTC), "00QSb0000000000ZZZ"), UNTIL))
    assert [len(p.records) for p in pages] == [2000, 500]
    assert pages[0].watermark == Watermark(datetime(2026, 3, 2, 10, 33, 19, tzinfo=UTC), rows[1999]["Id"])
    assert pages[1].watermark is not None
    assert pages[1].watermark.last_id == rows[-1]["Id"]
    first = next(c for c in rsps.calls if "/queryAll/" in c.request.url).request
    assert first.headers["Sforce-Query-Options"] == "batchSize=2000"
    soql = parse_qs(urlsplit(first.url).query)["q"][0]
    t = "2026-03-02T00:00:00.000Z"
    assert f"(SystemModstamp > {t} OR (SystemModstamp = {t} AND Id > '00QSb0000000000ZZZ'))" in soql
    assert "SystemModstamp <= 2026-03-02T13:55:00.000Z" in soql
    assert soql.endswith("ORDER BY SystemModstamp, Id")
    assert crm.budget().calls_by_endpoint["query:Lead"] == 2


def test_collection_partial_failure_gives_one_outcome_per_record(
    crm: SalesforceCrm, rsps: responses.RequestsMock
) -> None:
    """allOrNone false: success, lock, validation rule and deleted record come back per record, in order."""
    token(rsps, "00DSb000000000001!tok-one-aaaa")
    rsps.add(responses.PATCH, f"{API}/composite/sobjects", json=[
        {"id": "00QSb0000000000AAA", "success": True, "errors": []},
        {"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked", "fields": []}]},
        {"success": False, "errors": [{"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "Score needed"}]},
        {"success": False, "errors": [{"statusCode": "ENTITY_IS_DELETED", "message": "deleted"}]},
    ])  # fmt: skip
    outcomes = crm.apply(actions(4))
    assert [o.status for o in outcomes] == [
        OutcomeStatus.DONE,
        OutcomeStatus.RETRY,
        OutcomeStatus.DEAD,
        OutcomeStatus.SKIPPED,
    ]
    assert outcomes[2].message == "Score needed"
    body = json.loads(collection_calls(rsps)[0].request.body)
    assert body["allOrNone"] is False
    assert len(body["records"]) == 4


def test_batches_are_split_at_200_records(crm: SalesforceCrm, rsps: responses.RequestsMock) -> None:
    """450 updates go out as three collections calls of 200, 200 and 50 records."""
    token(rsps, "00DSb000000000001!tok-one-aaaa")

    def echo(request: Any) -> tuple[int, dict[str, str], str]:
        records = json.loads(request.body)["records"]
        return 200, {}, json.dumps([{"id": r["Id"], "success": True, "errors": []} for r in records])

    rsps.add_callback(responses.PATCH, f"{API}/composite/sobjects", callback=echo)
    outcomes = crm.apply([SetDisposition(LeadRef("acme-sf", f"00QSb{i:010d}AAA"), "No budget") for i in range(450)])
    assert all(o.status is OutcomeStatus.DONE for o in outcomes)
    assert [len(json.loads(c.request.body)["records"]) for c in collection_calls(rsps)] == [200, 200, 50]


def test_server_errors_are_retried_a_bounded_number_of_times(
    crm: SalesforceCrm, rsps: responses.RequestsMock, slept: list[float]
) -> None:
    """Two 503s then success: three calls and two backoff sleeps; four 503s: four calls, then RETRY outcomes."""
    token(rsps, "00DSb000000000001!tok-one-aaaa")
    for _ in range(2):
        rsps.add(
            responses.PATCH,
            f"{API}/composite/sobjects",
            status=503,
            json=[{"errorCode": "SERVER_UNAVAILABLE", "message": "x"}],
        )
    rsps.add(
        responses.PATCH, f"{API}/composite/sobjects", json=[{"id": "00QSb0000000000AAA", "success": True, "errors": []}]
    )
    assert crm.apply(actions(1))[0].status is OutcomeStatus.DONE
    assert len(collection_calls(rsps)) == 3
    assert slept == [1.0, 2.0]


def test_daily_quota_reached_is_not_retried_and_stops_new_work(
    crm: SalesforceCrm, rsps: responses.RequestsMock, slept: list[float]
) -> None:
    """403 REQUEST_LIMIT_EXCEEDED: one call, RETRY outcomes, and the budget refuses further work."""
    token(rsps, "00DSb000000000001!tok-one-aaaa")
    rsps.add(responses.PATCH, f"{API}/composite/sobjects", status=403,
             json=[{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}])  # fmt: skip
    outcomes = crm.apply(actions(2))
    assert [o.code for o in outcomes] == ["REQUEST_LIMIT_EXCEEDED"] * 2
    assert all(o.status is OutcomeStatus.RETRY for o in outcomes)
    assert len(collection_calls(rsps)) == 1
    assert slept == []
    assert not crm.allow(0)


def test_every_request_has_a_timeout_and_limit_info_is_read(crm: SalesforceCrm, rsps: responses.RequestsMock) -> None:
    """The session's adapter gives every call a (connect, read) timeout; Sforce-Limit-Info feeds the budget."""
    token(rsps, "00DSb000000000001!tok-one-aaaa")
    rsps.add(responses.GET, f"{API}/query/", json={"totalSize": 0, "done": True, "records": []},
             headers={"Sforce-Limit-Info": "api-usage=120/15000"})  # fmt: skip
    assert crm.current_owners(["00QSb0000000000AAA"]) == {}
    assert all(c.request.req_kwargs["timeout"] == (10.0, 30.0) for c in rsps.calls)
    budget = crm.budget()
    assert (budget.used, budget.limit) == (120, 15000)


def test_an_expired_query_cursor_restarts_from_the_last_page_read(
    crm: SalesforceCrm, rsps: responses.RequestsMock, slept: list[float]
) -> None:
    """INVALID_QUERY_LOCATOR on query_more is not retried as is: a new query resumes after the last row read."""
    token(rsps, "00DSb000000000001!tok-one-aaaa")
    rows = [lead_row(n) for n in range(2100)]
    more = "/services/data/v59.0/query/01gSb0000000001AAA-2000"
    rsps.add(responses.GET, f"{API}/queryAll/", json={"totalSize": 2100, "done": False, "records": rows[:2000],
                                                       "nextRecordsUrl": more})  # fmt: skip
    rsps.add(responses.GET, f"{HOST}{more}", status=400,
             json=[{"errorCode": "INVALID_QUERY_LOCATOR", "message": "invalid query locator"}])  # fmt: skip
    rsps.add(responses.GET, f"{API}/queryAll/", json={"totalSize": 100, "done": True, "records": rows[2000:]})
    pages = list(crm.pull_leads(None, UNTIL))
    assert [len(p.records) for p in pages] == [2000, 100]
    queries = [c.request for c in rsps.calls if "/queryAll/" in c.request.url]
    assert len(queries) == 2
    soql = parse_qs(urlsplit(queries[1].url).query)["q"][0]
    assert f"Id > '{rows[1999]['Id']}'" in soql
    assert len([c for c in rsps.calls if more in c.request.url]) == 1
    assert slept == []
