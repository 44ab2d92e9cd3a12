"""Read meetings from CalDAV collections and published ICS URLs, over requests (no caldav client library).

CalDAV (:class:`CalDavReader`), per run, with the state kept in the cursor's ``sync_token`` (JSON: the
RFC 6578 token and the instant up to which held meetings were checked):

- **first run**, or the server forgot our token (``DAV:valid-sync-token`` precondition, 403/409): PROPFIND the
  collection's ``DAV:sync-token``, then a ``calendar-query`` time-range REPORT over the window
  ``[now - window_past_days, now + window_future_days]``, and keep the token;
- **later runs**: a ``sync-collection`` REPORT from the token (changed objects), plus a time-range REPORT
  over ``[checked, now]`` so a meeting that was only *scheduled* last time is seen again once it has ended;
- **no sync support** (no ``DAV:sync-token`` property, or ``sync: false``): a time-range REPORT over the
  window every run.

ICS (:class:`IcsReader`): GET the URL; later GETs send ``If-None-Match`` with the ETag and reuse the text
kept in memory on ``304 Not Modified`` (after a restart the first GET is unconditional). The whole window is
evaluated every run. Repeats across runs are harmless: activity keys de-duplicate.

Requests pass ``verify=`` explicitly on every call, because a ``REQUESTS_CA_BUNDLE`` in the environment
would otherwise override a session's CA file. Errors: 401/403 → :class:`~crmsync.errors.AuthError`;
network errors, 5xx and 429 → :class:`~crmsync.errors.RetriableError`; other 4xx →
:class:`~crmsync.errors.ConfigError`. Logs carry source names, counts and HTTP status only.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import requests
import structlog

from crmsync.capture.cursors import Cursor
from crmsync.capture.ical import day_window, expand
from crmsync.capture.model import BodyPolicy, CapturedEvent
from crmsync.capture.settings import CalDavSource, IcsSource
from crmsync.errors import AuthError, ConfigError, RetriableError

log = structlog.get_logger(__name__)

_DAV = "{DAV:}"
_CAL = "{urn:ietf:params:xml:ns:caldav}"
_XML = {"Content-Type": "application/xml; charset=utf-8"}
_PROPS = "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
_NS = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"'

Mode = Literal["initial", "sync", "range"]


@dataclass(frozen=True, slots=True)
class CalendarBatch:
    """Occurrences read in one run, the cursor to save once they are stored, and how they were read."""

    events: tuple[CapturedEvent, ...]
    cursor: Cursor | None
    mode: Mode
    failed: int = 0


class _InvalidToken(Exception):
    """The server no longer accepts our sync token."""


def _check(response: requests.Response, what: str) -> None:
    status = response.status_code
    if status in (401, 403):
        raise AuthError(f"{what}: HTTP {status}")
    if status == 429 or status >= 500:
        retry = response.headers.get("Retry-After")
        raise RetriableError(
            f"{what}: HTTP {status}", status=status, retry_after=float(retry) if retry and retry.isdigit() else None
        )
    if status >= 400:
        raise ConfigError([f"{what}: HTTP {status}"])


def _utc_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _parse_xml(content: bytes) -> ET.Element:
    try:
        # The server is one the operator configured; stdlib expat resolves no external entities.
        return ET.fromstring(content)  # noqa: S314 - see the comment above
    except ET.ParseError as err:
        raise RetriableError(f"CalDAV answered with malformed XML: {err.position}") from None


def _calendar_data(root: ET.Element) -> list[str]:
    return [el.text for el in root.iter(f"{_CAL}calendar-data") if el.text]


class _Http:
    """A requests session bound to one source's credentials, CA file and timeout."""

    def __init__(self, source: CalDavSource | IcsSource, session: requests.Session | None) -> None:
        self.source = source
        self.session = session or requests.Session()
        if source.username and source.password:
            self.session.auth = (source.username, source.password.reveal())
        self.verify: str | bool = str(source.ca_file) if source.ca_file else True

    def request(self, method: str, url: str, what: str, **kwargs: object) -> requests.Response:
        try:
            return self.session.request(
                method,
                url,
                verify=self.verify,
                timeout=self.source.timeout_s,
                **kwargs,  # type: ignore[arg-type]
            )
        except requests.RequestException as err:
            raise RetriableError(f"{what} failed: {type(err).__name__}") from None


def _state(cursor: Cursor | None) -> tuple[str | None, datetime | None]:
    if cursor is None or not cursor.sync_token:
        return None, None
    data = json.loads(cursor.sync_token)
    checked = data.get("checked")
    return data.get("token"), datetime.fromisoformat(checked) if checked else None


def _cursor(token: str | None, checked: datetime) -> Cursor:
    return Cursor(sync_token=json.dumps({"token": token, "checked": checked.astimezone(UTC).isoformat()}))


class CalDavReader:
    """Reads one CalDAV calendar collection (see the module docstring)."""

    def __init__(
        self,
        source: CalDavSource,
        *,
        body: BodyPolicy = BodyPolicy.SNIPPET,
        session: requests.Session | None = None,
    ) -> None:
        self.source = source
        self.body = body
        self._http = _Http(source, session)
        self.url = source.url if source.url.endswith("/") else source.url + "/"

    def read(self, cursor: Cursor | None, now: datetime) -> CalendarBatch:
        """Occurrences new or changed since ``cursor`` (and those that ended since), with the next cursor."""
        token, checked = _state(cursor)
        window = day_window(now, self.source.window_past_days, self.source.window_future_days)
        if not self.source.sync:
            return self._batch(self.time_range(*window), window, None, now, "range")
        if token is not None and checked is not None:
            try:
                texts, new_token = self.sync_collection(token)
            except _InvalidToken:
                log.warning("caldav_sync_token_invalid", source=self.source.name)
            else:
                texts += self.time_range(max(checked, window[0]), now)
                return self._batch(texts, window, new_token, now, "sync")
        fresh = self.current_token()
        return self._batch(self.time_range(*window), window, fresh, now, "initial" if fresh else "range")

    def _batch(
        self, texts: list[str], window: tuple[datetime, datetime], token: str | None, now: datetime, mode: Mode
    ) -> CalendarBatch:
        zone = ZoneInfo(self.source.timezone)
        events, failed = expand(texts, window=window, owner=self.source.mailbox_owner, zone=zone, body=self.body)
        log.info(
            "caldav_read",
            source=self.source.name,
            mode=mode,
            objects=len(texts),
            occurrences=len(events),
            failed=failed,
        )
        return CalendarBatch(tuple(events), _cursor(token, now), mode, failed)

    def current_token(self) -> str | None:
        """The collection's ``DAV:sync-token``, or ``None`` when the server does not offer one."""
        body = f'<?xml version="1.0" encoding="utf-8"?><D:propfind {_NS}><D:prop><D:sync-token/></D:prop></D:propfind>'
        response = self._http.request(
            "PROPFIND", self.url, "CalDAV PROPFIND", data=body.encode(), headers={**_XML, "Depth": "0"}
        )
        _check(response, "CalDAV PROPFIND")
        for element in _parse_xml(response.content).iter(f"{_DAV}sync-token"):
            if element.text and element.text.strip():
                return element.text.strip()
        return None

    def sync_collection(self, token: str) -> tuple[list[str], str]:
        """Objects changed since ``token`` (RFC 6578) and the new token; deletions need no action."""
        texts: list[str] = []
        while True:
            body = (
                f'<?xml version="1.0" encoding="utf-8"?><D:sync-collection {_NS}>'
                f"<D:sync-token>{_escape(token)}</D:sync-token><D:sync-level>1</D:sync-level>"
                f"{_PROPS}</D:sync-collection>"
            )
            response = self._http.request("REPORT", self.url, "CalDAV sync REPORT", data=body.encode(), headers=_XML)
            if response.status_code in (403, 409) and b"valid-sync-token" in response.content:
                raise _InvalidToken
            _check(response, "CalDAV sync REPORT")
            root = _parse_xml(response.content)
            texts += _calendar_data(root)
            new = root.findtext(f"{_DAV}sync-token")
            truncated = any((s.text or "").split()[1:2] == ["507"] for s in root.iter(f"{_DAV}status"))
            if not new:
                raise RetriableError("CalDAV sync REPORT answered without a sync-token")
            token = new.strip()
            if not truncated:
                return texts, token

    def time_range(self, start: datetime, end: datetime) -> list[str]:
        """Every calendar object with an event overlapping ``[start, end)`` (a calendar-query REPORT)."""
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><C:calendar-query {_NS}>{_PROPS}'
            '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
            f'<C:time-range start="{_utc_stamp(start)}" end="{_utc_stamp(end)}"/>'
            "</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"
        )
        response = self._http.request(
            "REPORT", self.url, "CalDAV calendar-query", data=body.encode(), headers={**_XML, "Depth": "1"}
        )
        _check(response, "CalDAV calendar-query")
        return _calendar_data(_parse_xml(response.content))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class IcsReader:
    """Reads one published ICS URL; keeps the last text and ETag in memory for conditional GETs."""

    def __init__(
        self, source: IcsSource, *, body: BodyPolicy = BodyPolicy.SNIPPET, session: requests.Session | None = None
    ) -> None:
        self.source = source
        self.body = body
        self._http = _Http(source, session)
        self._etag: str | None = None
        self._text: str | None = None
        self.not_modified = 0

    def read(self, now: datetime) -> CalendarBatch:
        """Every occurrence in the window, from the feed as it is now (re-fetched only if it changed)."""
        headers = {"If-None-Match": self._etag} if self._etag and self._text is not None else {}
        response = self._http.request("GET", self.source.url, "ICS GET", headers=headers)
        if response.status_code == 304 and self._text is not None:
            self.not_modified += 1
        else:
            _check(response, "ICS GET")
            self._text = response.content.decode(response.encoding or "utf-8", "replace")
            self._etag = response.headers.get("ETag")
        window = day_window(now, self.source.window_past_days, self.source.window_future_days)
        zone = ZoneInfo(self.source.timezone)
        events, failed = expand([self._text], window=window, owner=self.source.mailbox_owner, zone=zone, body=self.body)
        log.info(
            "ics_read", source=self.source.name, status=response.status_code, occurrences=len(events), failed=failed
        )
        return CalendarBatch(tuple(events), None, "range", failed)
