"""Log lines never carry secrets or message bodies, from our code or from the libraries under it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from crmsync.logging import MASK, configure_logging, redact
from tests.logguard import ScanningStream

SECRET = "sentinel-secret-4f1c"
BODY = "sentinel-mail-body-9d2e"


@pytest.fixture
def rendered() -> Iterator[io.StringIO]:
    """Route the pipeline into a buffer for one test, then back to the suite-wide secret guard."""
    buffer = io.StringIO()
    configure_logging(level="debug", fmt="json", stream=buffer, secrets=[SECRET])
    yield buffer
    configure_logging(level="debug", fmt="json", stream=ScanningStream())


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("access_token", "abc123def456"),
        ("password", "hunter2hunter2"),
        ("Authorization", "Bearer abc.def.ghi"),
        ("client_secret", "cs-1234567"),
        ("session_id", "00D000000000001!AQ0AQFakeSession"),
        ("body", "Hello Bob, here is our pricing"),
        ("snippet", "Hello Bob"),
    ],
    ids=["token", "password", "authorization", "client-secret", "session-id", "body", "snippet"],
)
def test_secret_keys_are_masked(key: str, value: str) -> None:
    """A value under a key that names a secret or message content is replaced by the mask."""
    event = redact(None, "info", {"event": "x", key: value})
    assert event[key] == MASK


@pytest.mark.parametrize(
    "text",
    [
        "GET /x headers={'Authorization': 'Bearer eyJhbGciOi.abc.def'}",
        "session 00D5g000004XyZ1!AQcAQH0dM2 expired",
        "hubspot token pat-na1-11111111-2222-3333-4444-555555555555 rejected",
        "POST /token body=grant_type=password&password=hunter2&client_secret=xyz",
    ],
    ids=["bearer-in-text", "sf-session-in-text", "hubspot-pat-in-text", "form-encoded"],
)
def test_credentials_inside_free_text_are_masked(text: str) -> None:
    """Tokens embedded in a message string (a library's debug line, an exception text) are masked."""
    event = redact(None, "info", {"event": text})
    rendered = str(event["event"])
    for fragment in ("eyJhbGciOi", "AQcAQH0dM2", "11111111-2222", "hunter2", "xyz"):
        assert fragment not in rendered


def test_registered_secret_is_masked_everywhere(rendered: io.StringIO) -> None:
    """A secret registered from settings is masked in our events, nested values and stdlib library logs."""
    log = structlog.get_logger("crmsync.test")
    log.info("login", detail=f"used {SECRET} to log in", nested={"list": [SECRET]})
    logging.getLogger("urllib3.connectionpool").warning("retrying with %s", SECRET)
    try:
        raise RuntimeError(f"server said: bad credential {SECRET}")
    except RuntimeError:
        log.exception("failed")
    text = rendered.getvalue()
    assert SECRET not in text
    assert text.count(MASK) >= 4
    assert "retrying with" in text


def test_message_body_never_rendered(rendered: io.StringIO) -> None:
    """A captured mail body handed to a logger under a content key never reaches the rendered line."""
    structlog.get_logger("crmsync.capture").info("captured", body=BODY, snippet=BODY[:10], folder="INBOX")
    text = rendered.getvalue()
    assert BODY not in text
    assert '"folder": "INBOX"' in text


def test_json_lines_when_not_a_terminal(rendered: io.StringIO) -> None:
    """Without a terminal each event is one JSON object with level, logger and timestamp."""
    structlog.get_logger("crmsync.cycle").info("cycle finished", changed=3)
    text = rendered.getvalue()
    event = json.loads(text.splitlines()[-1])
    assert event["event"] == "cycle finished"
    assert event["changed"] == 3
    assert event["level"] == "info"
    assert "timestamp" in event
