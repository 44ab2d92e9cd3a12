"""Capture keys, address normalisation, body policy and header/MIME parsing (pure functions)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.capture.imap import xoauth2_sasl
from crmsync.capture.mail import TextPart, decode_part, find_text_part, message_date, parse_headers
from crmsync.capture.model import (
    SNIPPET_CHARS,
    BodyPolicy,
    apply_body_policy,
    event_key,
    fold_plus_tag,
    message_key,
    normalise_address,
)

T0 = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Bob Smith <Bob@Customer.Example>", "bob@customer.example"),
        ("  bob@customer.example ", "bob@customer.example"),
        ("mailto:Carol@X.test", "carol@x.test"),
        ("<dan@x.test>", "dan@x.test"),
        ("not an address", None),
        ("@x.test", None),
        ("", None),
        (None, None),
    ],
    ids=["display-name", "spaces", "mailto", "brackets", "no-at", "no-local", "empty", "none"],
)
def test_normalise_address(raw: str | None, expected: str | None) -> None:
    """Addresses come out bare and lower-case, and non-addresses as None."""
    assert normalise_address(raw) == expected


def test_fold_plus_tag() -> None:
    """A +tag is dropped from the local part; other addresses are unchanged."""
    assert fold_plus_tag("bob+crm@x.test") == "bob@x.test"
    assert fold_plus_tag("bob@x.test") == "bob@x.test"
    assert fold_plus_tag("+only@x.test") == "+only@x.test"


def test_message_key_normalises_and_falls_back() -> None:
    """Message-IDs lose brackets/whitespace and domain case; without one the key hashes sender, date, subject."""
    assert message_key(" <AbC.1@Mail.Example>\r\n", sender=None, date=T0, subject="") == "mid:AbC.1@mail.example"
    a = message_key(None, sender="a@x.test", date=T0, subject="Hi")
    b = message_key(None, sender="a@x.test", date=T0.astimezone(timezone(timedelta(hours=2))), subject="Hi")
    c = message_key(None, sender="a@x.test", date=T0, subject="Hi again")
    assert a == b
    assert a != c
    assert a.startswith("nomid:")


def test_event_key_uses_utc_start() -> None:
    """An occurrence key is UID plus its start in UTC, whatever zone the start was written in."""
    local = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert event_key("uid-1@x", local) == "ical:uid-1@x@20260302T140000Z"


def test_body_policy() -> None:
    """none keeps nothing, snippet folds whitespace and cuts near 300 chars, full keeps the text."""
    text = "Hello   Bob,\n\n" + "lorem ipsum " * 100
    assert apply_body_policy(text, BodyPolicy.NONE) is None
    snippet = apply_body_policy(text, BodyPolicy.SNIPPET)
    assert snippet is not None
    assert snippet.startswith("Hello Bob, lorem")
    assert len(snippet) <= SNIPPET_CHARS
    assert apply_body_policy(text, BodyPolicy.FULL) == text.strip()
    assert apply_body_policy("short", BodyPolicy.SNIPPET) == "short"


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=900), st.sampled_from(list(BodyPolicy)))
def test_body_policy_is_idempotent(text: str, policy: BodyPolicy) -> None:
    """Applying a body policy to its own output changes nothing, and a snippet never exceeds the limit."""
    once = apply_body_policy(text, policy)
    assert apply_body_policy(once, policy) == once
    if policy is BodyPolicy.SNIPPET:
        assert once is not None
        assert len(once) <= SNIPPET_CHARS


HEADER = (
    b"From: =?utf-8?q?J=C3=BCrgen?= <Juergen@Customer.example>\r\n"
    b"To: Ana <ana@acme.test>, bob@customer.example\r\n"
    b"Cc: carol@customer.example\r\n"
    b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
    b"Date: Mon, 02 Mar 2026 08:00:00 -0500\r\n"
    b"Message-ID: <m-1@customer.example>\r\n"
    b"Auto-Submitted: auto-replied\r\n"
    b"List-Id: <sales.customer.example>\r\n\r\n"
)


def test_parse_headers() -> None:
    """Encoded words are decoded, addresses normalised, the date made aware, automation headers kept."""
    parsed = parse_headers(HEADER)
    assert parsed.sender == "juergen@customer.example"
    assert parsed.to == ("ana@acme.test", "bob@customer.example")
    assert parsed.cc == ("carol@customer.example",)
    assert parsed.subject == "Grüße"
    assert parsed.date == T0
    assert parsed.message_id == "<m-1@customer.example>"
    assert parsed.automation.auto_submitted == "auto-replied"
    assert parsed.automation.list_id == "<sales.customer.example>"


def test_parse_headers_tolerates_garbage() -> None:
    """A header block with a bad date and no addresses parses to empty values instead of raising."""
    parsed = parse_headers(b"Date: yesterday\r\nSubject: x\r\n\r\n")
    assert (parsed.sender, parsed.to, parsed.date) == (None, (), None)
    internal = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert message_date(parsed, internal) == internal


def test_find_text_part_prefers_plain_and_skips_attachments() -> None:
    """In multipart/mixed(alternative(plain, html), attachment) the plain part is section 1.1."""
    plain = (b"text", b"plain", (b"charset", b"utf-8"), None, None, b"base64", 1200, 20, None, None, None, None)
    html = (b"text", b"html", (b"charset", b"utf-8"), None, None, b"quoted-printable", 3000, 40, None, None, None)
    attached = (b"text", b"plain", None, None, None, b"7bit", 10, 1, None, (b"attachment", None), None, None)
    structure = ([([plain, html], b"alternative"), attached], b"mixed")
    part = find_text_part(structure)
    assert part == TextPart("1.1", "base64", "utf-8", "plain", 1200)
    assert find_text_part(([attached, html], b"mixed")) == TextPart("2", "quoted-printable", "utf-8", "html", 3000)


def test_decode_partial_base64_and_html() -> None:
    """A cut base64 part decodes to its complete groups; HTML parts are reduced to visible text."""
    encoded = base64.encodebytes("Grüße aus Köln! ".encode() * 40)
    text = decode_part(encoded[:101], TextPart("1", "base64", "utf-8", "plain", len(encoded)), partial=True)
    assert text.startswith("Grüße aus Köln!")
    html = b"<html><head><style>p{}</style></head><body><p>Hi =\r\nBob</p><script>x()</script></body></html>"
    plain = decode_part(html, TextPart("2", "quoted-printable", "utf-8", "html", len(html)), partial=False)
    assert plain.strip() == "Hi Bob"


def test_xoauth2_sasl_string() -> None:
    """The XOAUTH2 initial response is user=U^Aauth=Bearer T^A^A, and separators in input are refused."""
    assert xoauth2_sasl("ana@acme.test", "ya29.tok") == b"user=ana@acme.test\x01auth=Bearer ya29.tok\x01\x01"
    with pytest.raises(ValueError, match="must not contain"):
        xoauth2_sasl("ana@acme.test", "tok\x01user=evil")
