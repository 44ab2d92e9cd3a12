"""The Salesforce adapter: :class:`~crmsync.crm.ports.CrmPort` over simple-salesforce and the REST API.

Reads (each a SOQL query through ``queryAll``, so soft-deleted rows come too, paged 2,000 rows at a time by
``nextRecordsUrl``):

- leads: ``SystemModstamp <= until`` after the watermark, ordered by ``(SystemModstamp, Id)``; each page's
  watermark is its last row's ``(SystemModstamp, Id)``, an exact keyset, so resuming never re-reads or skips a
  row, however many rows share a timestamp. The caller closes the window a few minutes before the run
  (``until``) so rows of transactions still open are not passed by. Deleted leads arrive with ``IsDeleted``.
- owners: active and inactive ``User`` rows, and ``Group`` rows of Type ``Queue``.
- activities: ``Task`` then ``Event`` rows whose ``Who`` is a lead, by the same keyset (one watermark over
  both: Tasks are read up to ``until`` first, then Events, each after the watermark).

Writes go through sObject Collections, at most 200 records a call with ``allOrNone: false``: lead changes as
``PATCH composite/sobjects`` with ``Sforce-Auto-Assign: FALSE`` (so assignment rules never undo an owner we
set), tasks and logged activities as upserts on the external-id field (a retry lands once). Each result row
becomes an :class:`Outcome`.

Every call goes through :meth:`SalesforceCrm._call`: budget check and count, the one retry policy, and a
bounded session refresh (``max_refreshes`` per call) that repeats the call with its own headers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

import requests
import structlog
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from crmsync.clock import Clock
from crmsync.crm.budget import ApiBudget
from crmsync.crm.config import ConnectionSettings, SalesforceSettings
from crmsync.crm.mapping import FieldMap, parse_instant, sf_activity, sf_datetime, sf_lead, sf_queue, sf_user
from crmsync.crm.ports import Budget, Outcome, OutcomeStatus, Page, Skip, Watermark
from crmsync.crm.retry import RetryPolicy
from crmsync.crm.sf_auth import Token, login, make_session
from crmsync.crm.translate import DAILY_QUOTA_CODES, error_outcome, is_vendor_error, sf_outcome, translate
from crmsync.crm.writes import SfWrite, sf_write
from crmsync.domain import Action, Activity, Lead, Owner, Vendor
from crmsync.errors import AuthError, CrmsyncError, RateLimitedError, RetriableError
from crmsync.outbox.model import Priority, priority_of

T = TypeVar("T")
log = structlog.get_logger(__name__)

SF_BATCH = 200
SF_PAGE = 2000
MAX_SOQL_URL = 12_000
MAX_REQUERIES = 2
LEAD_FIELDS = ("Id", "OwnerId", "Email", "FirstName", "LastName", "Company", "Title", "LeadSource", "Status",
               "NumberOfEmployees", "IsConverted", "IsDeleted", "CreatedDate", "LastModifiedDate",
               "SystemModstamp")  # fmt: skip
TASK_FIELDS = ("Id", "WhoId", "OwnerId", "Subject", "TaskSubtype", "Type", "CallType", "CallDurationInSeconds",
               "CreatedDate", "SystemModstamp", "IsDeleted")  # fmt: skip
EVENT_FIELDS = ("Id", "WhoId", "OwnerId", "Subject", "StartDateTime", "DurationInMinutes", "CreatedDate",
                "SystemModstamp", "IsDeleted")  # fmt: skip
MAPPED_LEAD_FIELDS = ("score", "disposition", "crmsync_status", "sla_due", "reassignment_count")


def soql_quote(value: str) -> str:
    """A SOQL string literal (backslash and quote escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def keyset_where(since: Watermark | None, until: datetime) -> str:
    """The WHERE clause of a window: after ``since`` in (SystemModstamp, Id) order, up to ``until``."""
    clause = f"SystemModstamp <= {sf_datetime(until)}"
    if since is None:
        return clause
    t = sf_datetime(since.instant)
    if not since.last_id:
        return f"{clause} AND SystemModstamp >= {t}"
    return f"{clause} AND (SystemModstamp > {t} OR (SystemModstamp = {t} AND Id > {soql_quote(since.last_id)}))"


class SalesforceCrm:
    """One Salesforce org behind the CRM port. Build it with :func:`crmsync.crm.connect`."""

    vendor = Vendor.SALESFORCE

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        clock: Clock,
        fields: FieldMap,
        retry: RetryPolicy,
        budget: ApiBudget,
        session: requests.Session | None = None,
        max_refreshes: int = 1,
    ) -> None:
        assert settings.salesforce is not None
        self._settings = settings
        self._sf_settings: SalesforceSettings = settings.salesforce
        self._clock = clock
        self._fields = fields
        self._retry = retry
        self._budget = budget
        self._max_refreshes = max_refreshes
        self._session = session or make_session(
            connect_timeout=settings.connect_timeout_s,
            read_timeout=settings.timeout_s,
            ca_file=str(self._sf_settings.ca_file) if self._sf_settings.ca_file else None,
            trust_env=self._sf_settings.trust_env,
        )
        self._session.hooks["response"].append(self._observe)
        self._sf: Salesforce | None = None
        self.refreshes = 0
        extra = [fields.crm(n) for n in MAPPED_LEAD_FIELDS] + list(settings.extra_lead_fields)
        self._lead_fields = list(dict.fromkeys([*LEAD_FIELDS, *extra]))

    @property
    def connection(self) -> str:
        """The connection's name."""
        return self._settings.name

    # -- plumbing -----------------------------------------------------------------------------------------
    def _observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._budget.observe(response.headers)

    def _client(self, *, fresh: bool = False) -> Salesforce:
        if self._sf is None or fresh:
            token: Token = login(self._sf_settings, self._session, self._clock)
            self._sf = Salesforce(
                session_id=token.access_token,
                instance_url=token.instance_url,
                session=self._session,
                version=self._sf_settings.api_version,
            )
        return self._sf

    def _call(self, endpoint: str, fn: Callable[[Salesforce], T], priority: int = Priority.SLA) -> T:
        """Run one API call under budget, retry and bounded refresh; vendor errors come out translated."""

        def attempt() -> T:
            refreshes = 0
            while True:
                self._budget.before_call(endpoint, priority)
                try:
                    return fn(self._client())
                except SalesforceExpiredSession as exc:
                    if refreshes >= self._max_refreshes or self._sf_settings.auth == "session":
                        raise AuthError("Salesforce session expired and a refresh did not help") from exc
                    refreshes += 1
                    self.refreshes += 1
                    log.info("salesforce_session_refresh", connection=self.connection, endpoint=endpoint)
                    self._client(fresh=True)
                except CrmsyncError:
                    raise
                except Exception as exc:
                    if not is_vendor_error(exc):
                        raise
                    error = translate(exc)
                    if isinstance(error, RateLimitedError) and error.code in DAILY_QUOTA_CODES:
                        self._budget.mark_exhausted()
                    raise error from exc

        return self._retry.call(attempt, endpoint=endpoint)

    def authenticate(self) -> None:
        """Log in now (otherwise the first call does); raise :class:`AuthError` when refused."""
        self._call("auth", lambda sf: sf)

    # -- reads ----------------------------------------------------------------------------------------------
    def query_pages(self, soql: str, *, include_deleted: bool = True, endpoint: str = "query") -> Iterator[list[Any]]:
        """The rows of ``soql``, one list per API page (2,000 rows), fetched lazily."""
        headers = {"Sforce-Query-Options": f"batchSize={SF_PAGE}"}
        result = self._call(endpoint, lambda sf: sf.query(soql, include_deleted=include_deleted, headers=headers))
        while True:
            yield list(result.get("records") or [])
            next_url = result.get("nextRecordsUrl")
            if result.get("done", True) or not next_url:
                return
            result = self._call(endpoint, _query_more(next_url, headers))

    def _keyset_pages(
        self, sobject: str, select: Sequence[str], extra_where: str, since: Watermark | None, until: datetime
    ) -> Iterator[tuple[list[Any], Watermark | None]]:
        """Pages of a keyset window. A cursor that expired or was released (``INVALID_QUERY_LOCATOR``: idle
        15 minutes, or an 11th cursor opened by the same user) is replaced by a new query from the last page
        read, at most ``MAX_REQUERIES`` times."""
        position, requeries = since, 0
        while True:
            where = keyset_where(position, until) + (f" AND {extra_where}" if extra_where else "")
            soql = f"SELECT {', '.join(select)} FROM {sobject} WHERE {where} ORDER BY SystemModstamp, Id"  # noqa: S608 - SOQL built from field names and quoted literals
            try:
                for rows in self.query_pages(soql, endpoint=f"query:{sobject}"):
                    mark = _last_mark(rows)
                    position = mark or position
                    yield rows, mark
                return
            except RetriableError as err:
                if err.code != "INVALID_QUERY_LOCATOR" or requeries >= MAX_REQUERIES:
                    raise
                requeries += 1
                log.info("salesforce_query_restarted", sobject=sobject, requeries=requeries)

    def pull_leads(self, since: Watermark | None, until: datetime) -> Iterator[Page[Lead]]:
        """Leads changed after ``since`` up to ``until`` (deleted ones flagged), one page per API page."""
        for rows, mark in self._keyset_pages("Lead", self._lead_fields, "", since, until):
            leads: list[Lead] = []
            skipped: list[Skip] = []
            for row in rows:
                mapped = sf_lead(self.connection, row, self._fields)
                (skipped if isinstance(mapped, Skip) else leads).append(mapped)  # type: ignore[arg-type]
            yield Page(leads, skipped, mark)

    def pull_owners(self) -> Iterator[Page[Owner]]:
        """Every user, then every queue that can own leads."""
        users = "SELECT Id, Name, FirstName, LastName, Email, IsActive, TimeZoneSidKey FROM User ORDER BY Id"
        for rows in self.query_pages(users, include_deleted=False, endpoint="query:User"):
            yield _owner_page([sf_user(self.connection, r) for r in rows])
        queues = "SELECT Id, Name, Type, Email FROM Group WHERE Type = 'Queue' ORDER BY Id"
        for rows in self.query_pages(queues, include_deleted=False, endpoint="query:Group"):
            yield _owner_page([sf_queue(self.connection, r) for r in rows])

    def pull_activities(self, since: Watermark | None, until: datetime) -> Iterator[Page[Activity]]:
        """Tasks, then Events, on leads changed after ``since`` up to ``until``.

        One watermark covers both objects, so only the final (empty) page carries it, at ``until``: a crash
        mid-way re-reads the window (harmless: activities are upserted by key).
        """
        key = self._fields.crm("activity_key")
        lead_only = "Who.Type = 'Lead'"
        for sobject, select in (("Task", TASK_FIELDS), ("Event", EVENT_FIELDS)):
            for rows, _mark in self._keyset_pages(sobject, [*select, key], lead_only, since, until):
                mapped = [sf_activity(self.connection, sobject, r, self._fields) for r in rows]
                yield Page(
                    [a for a in mapped if isinstance(a, Activity)],
                    [s for s in mapped if isinstance(s, Skip)],
                    None,
                )
        yield Page([], [], Watermark(until, ""))

    def current_owners(self, lead_ids: Sequence[str]) -> dict[str, str | None]:
        """The owner of each live lead, in as few queries as the URL length allows (normally one)."""
        owners: dict[str, str | None] = {}
        for chunk in _chunks_by_length(list(dict.fromkeys(lead_ids)), MAX_SOQL_URL):
            ids = ", ".join(soql_quote(i) for i in chunk)
            soql = f"SELECT Id, OwnerId FROM Lead WHERE Id IN ({ids})"  # noqa: S608 - ids are quoted literals
            for rows in self.query_pages(soql, include_deleted=False, endpoint="query:owners"):
                owners.update({str(r["Id"]): r.get("OwnerId") for r in rows})
        return owners

    # -- writes -------------------------------------------------------------------------------------------
    def batch_size(self, action: Action) -> int:
        """sObject Collections take 200 records a call."""
        return SF_BATCH

    def apply(self, actions: Sequence[Action]) -> list[Outcome]:
        """Apply ``actions`` (any mix), grouped into Collections calls of ≤ 200; one outcome per action."""
        now = self._clock.now()
        writes = [sf_write(a, self._fields, now) for a in actions]
        outcomes: list[Outcome | None] = [None] * len(actions)
        groups: dict[tuple[str, str, str | None], list[int]] = {}
        for i, w in enumerate(writes):
            groups.setdefault((w.op, w.sobject, w.external_id_field), []).append(i)
        for (op, sobject, ext), indexes in groups.items():
            priority = min(priority_of(actions[i]) for i in indexes)
            for start in range(0, len(indexes), SF_BATCH):
                part = indexes[start : start + SF_BATCH]
                results = self._collection(op, sobject, ext, [writes[i] for i in part], priority)
                for i, outcome in zip(part, results, strict=True):
                    outcomes[i] = outcome
        return [o if o is not None else Outcome(OutcomeStatus.RETRY, code="NOT_SENT") for o in outcomes]

    def _collection(
        self, op: str, sobject: str, ext: str | None, writes: list[SfWrite], priority: int
    ) -> list[Outcome]:
        body = {"allOrNone": False, "records": [w.record for w in writes]}
        if op == "update":
            path, headers = "composite/sobjects", {"Sforce-Auto-Assign": "FALSE"}
        else:
            path, headers = f"composite/sobjects/{sobject}/{ext}", {}
        try:
            results = self._call(
                f"composite:{op}:{sobject}",
                lambda sf: sf.restful(path, method="PATCH", json=body, headers=headers),
                priority,
            )
        except CrmsyncError as error:
            return [error_outcome(error)] * len(writes)
        if not isinstance(results, list) or len(results) != len(writes):
            return [Outcome(OutcomeStatus.RETRY, code="BAD_RESPONSE")] * len(writes)
        return [sf_outcome(r) if isinstance(r, dict) else Outcome(OutcomeStatus.RETRY) for r in results]

    @property
    def api_budget(self) -> ApiBudget:
        """The live budget tracker (the dispatcher asks ``api_budget.allow(priority)`` before leasing)."""
        return self._budget

    def allow(self, priority: int) -> bool:
        """Whether new work of ``priority`` fits in the budget (SLA work goes on longest)."""
        return self._budget.allow(priority)

    def budget(self) -> Budget:
        """The quota as last reported, and the calls made by endpoint."""
        return self._budget.snapshot()

    @property
    def field_map(self) -> FieldMap:
        """Logical → CRM field names in use."""
        return self._fields

    def field_names(self, sobject: str) -> set[str]:
        """Names of the fields of ``sobject`` the integration user can see (one describe call)."""
        return {str(f.get("name")) for f in self.describe(sobject).get("fields") or []}

    def describe(self, sobject: str) -> dict[str, Any]:
        """``sobjects/<name>/describe`` (for ``crmsync doctor``)."""
        result = self._call(f"describe:{sobject}", lambda sf: sf.restful(f"sobjects/{sobject}/describe"))
        return result if isinstance(result, dict) else {}


def _last_mark(rows: list[Any]) -> Watermark | None:
    """The keyset position after ``rows`` (its last row's SystemModstamp and Id)."""
    if not rows:
        return None
    try:
        return Watermark(parse_instant(rows[-1].get("SystemModstamp")), str(rows[-1].get("Id")))
    except ValueError:
        return None


def _query_more(url: str, headers: dict[str, str]) -> Callable[[Salesforce], Any]:
    def more(sf: Salesforce) -> Any:
        return sf.query_more(url, identifier_is_url=True, headers=headers)

    return more


def _owner_page(mapped: list[Owner | Skip]) -> Page[Owner]:
    return Page([m for m in mapped if isinstance(m, Owner)], [m for m in mapped if isinstance(m, Skip)])


def _chunks_by_length(ids: list[str], budget: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    size = 0
    for lead_id in ids:
        cost = len(lead_id) + 8
        if chunk and size + cost > budget:
            yield chunk
            chunk, size = [], 0
        chunk.append(lead_id)
        size += cost
    if chunk:
        yield chunk
