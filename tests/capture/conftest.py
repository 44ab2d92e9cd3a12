"""Fixtures for capture tests: one real Dovecot and one real Radicale per test session, and message builders.

Without the ``dovecot`` binary (a laptop) the IMAP tests skip with the reason; under ``CI=true`` they fail.
Radicale is installed into a cached virtualenv of its own; if that cannot be done (no package index) the
CalDAV tests skip, and fail under ``CI=true``.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
import requests

from tests.capture import servers

IN_CI = os.environ.get("CI", "").lower() == "true"
_counter = itertools.count(1)


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[servers.Dovecot]:
    """A Dovecot for the whole session (plain+STARTTLS port and IMAPS port, trustme CA)."""
    try:
        server = servers.start_dovecot()
    except (FileNotFoundError, RuntimeError, OSError) as err:
        _unavailable(f"cannot run Dovecot: {err}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mailbox_login() -> str:
    """A mailbox (IMAP user) of this test's own, named like a rep's address."""
    return f"rep{next(_counter)}-{uuid.uuid4().hex[:6]}@acme.test"


@pytest.fixture(scope="session")
def radicale() -> Iterator[servers.Radicale]:
    """A Radicale for the whole session, run from its own virtualenv."""
    try:
        python = servers.radicale_python()
        server = servers.start_radicale(python)
    except (OSError, RuntimeError, subprocess.SubprocessError) as err:
        _unavailable(f"cannot run Radicale: {err}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dav_session() -> Iterator[requests.Session]:
    """A requests session with the Radicale user's credentials."""
    session = requests.Session()
    session.auth = (servers.RADICALE_USER, servers.RADICALE_PASSWORD)
    yield session
    session.close()


@pytest.fixture
def calendar_url(radicale: servers.Radicale, dav_session: requests.Session) -> str:
    """A new, empty calendar collection of this test's own."""
    dav_session.request("MKCOL", f"{radicale.base_url}{servers.RADICALE_USER}/")
    url = f"{radicale.base_url}{servers.RADICALE_USER}/cal-{uuid.uuid4().hex[:10]}/"
    response = dav_session.request("MKCALENDAR", url)
    assert response.status_code == 201, response.status_code
    return url


def make_message(
    *,
    sender: str,
    to: list[str],
    cc: list[str] | None = None,
    subject: str = "Pricing",
    body: str = "Hello, following up on our call.",
    message_id: str | None = None,
    date: datetime | None = None,
    headers: dict[str, str] | None = None,
    html: str | None = None,
) -> bytes:
    """An RFC 5322 message as bytes (CRLF), with a fresh Message-ID unless one is given."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime(2026, 3, 2, 13, 0, tzinfo=UTC))
    msg["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@mail.acme.test>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body, cte="base64" if len(body) > 500 else None)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
