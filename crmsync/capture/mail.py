"""Turn the bytes an IMAP server returns into :class:`~crmsync.capture.model.CapturedMessage` values (pure).

The reader fetches ``BODY.PEEK[HEADER]`` and ``BODYSTRUCTURE`` for every new message and, only for messages
that match a lead and only when the body policy is not ``none``, the first plain-text part (or, failing
that, the first HTML part) - partially for a snippet. This module parses those pieces; it never sees a whole
RFC822 message and never logs anything.
"""

from __future__ import annotations

import base64
import binascii
import quopri
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from crmsync.capture.model import AutomationHeaders, normalise_address

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ParsedHeaders:
    """The header fields capture uses, decoded and normalised."""

    message_id: str | None
    sender: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    subject: str
    date: datetime | None
    automation: AutomationHeaders


@dataclass(frozen=True, slots=True)
class TextPart:
    """Where a message's readable text is: IMAP section, transfer encoding, charset and MIME subtype."""

    section: str
    encoding: str
    charset: str
    subtype: str
    size: int


def _header_text(msg: Message, name: str) -> str | None:
    raw = msg.get(name)
    if raw is None:
        return None
    try:
        return str(make_header(decode_header(str(raw)))).strip()
    except (UnicodeError, LookupError, ValueError, binascii.Error):
        return str(raw).strip()


def _addresses(msg: Message, name: str) -> tuple[str, ...]:
    values = msg.get_all(name) or []
    found = (normalise_address(addr) for _, addr in getaddresses([str(v) for v in values]))
    return tuple(dict.fromkeys(a for a in found if a))


def _date(msg: Message) -> datetime | None:
    raw = msg.get("Date")
    if not raw:
        return None
    try:
        value = parsedate_to_datetime(str(raw))
    except (TypeError, ValueError, IndexError):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # "-0000": the sender did not know its zone; read as UTC
    return value


def parse_headers(raw: bytes) -> ParsedHeaders:
    """Parse a message's header block (``BODY[HEADER]``). Never raises on malformed input."""
    msg = message_from_bytes(raw, policy=compat32)
    senders = _addresses(msg, "From") or _addresses(msg, "Sender")
    automation = AutomationHeaders(
        auto_submitted=_header_text(msg, "Auto-Submitted"),
        precedence=_header_text(msg, "Precedence"),
        list_id=_header_text(msg, "List-Id"),
        x_autoreply=_header_text(msg, "X-Autoreply") or _header_text(msg, "X-Autorespond"),
        return_path=_header_text(msg, "Return-Path"),
        content_type=_header_text(msg, "Content-Type"),
    )
    return ParsedHeaders(
        message_id=_header_text(msg, "Message-ID"),
        sender=senders[0] if senders else None,
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        bcc=_addresses(msg, "Bcc"),
        subject=_header_text(msg, "Subject") or "",
        date=_date(msg),
        automation=automation,
    )


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return str(value) if value is not None else ""


def _params(value: object) -> dict[str, str]:
    if not isinstance(value, tuple | list):
        return {}
    items = [_text(v) for v in value]
    return {items[i].lower(): items[i + 1] for i in range(0, len(items) - 1, 2)}


def _is_attachment(part: Sequence[object]) -> bool:
    return any(
        isinstance(item, tuple | list) and bool(item) and _text(item[0]).lower() == "attachment" for item in part[7:]
    )


def _walk(structure: Sequence[object], prefix: str) -> list[tuple[str, Sequence[object]]]:
    """Leaf parts with their IMAP section numbers, depth first."""
    if structure and isinstance(structure[0], list | tuple):
        leaves: list[tuple[str, Sequence[object]]] = []
        for index, child in enumerate(structure[0], start=1):
            leaves.extend(_walk(child, f"{prefix}.{index}" if prefix else str(index)))
        return leaves
    return [(prefix or "1", structure)]


def find_text_part(structure: Sequence[object] | None) -> TextPart | None:
    """The first inline ``text/plain`` part of a BODYSTRUCTURE, else the first ``text/html``, else ``None``."""
    if not structure:
        return None
    leaves = [(s, p) for s, p in _walk(structure, "") if len(p) >= 7 and _text(p[0]).lower() == "text"]
    leaves = [(s, p) for s, p in leaves if not _is_attachment(p)]
    for wanted in ("plain", "html"):
        for section, part in leaves:
            if _text(part[1]).lower() == wanted:
                size = part[6] if isinstance(part[6], int) else 0
                charset = _params(part[2]).get("charset", "us-ascii")
                return TextPart(section, _text(part[5]).lower(), charset, wanted, size)
    return None


def _decode_transfer(raw: bytes, encoding: str, partial: bool) -> bytes:
    if encoding == "base64":
        compact = b"".join(raw.split())
        if partial:
            compact = compact[: len(compact) - len(compact) % 4]
        try:
            return base64.b64decode(compact, validate=False)
        except (binascii.Error, ValueError):
            return b""
    if encoding == "quoted-printable":
        if partial:
            tail = raw.rfind(b"=", max(0, len(raw) - 2))
            raw = raw[:tail] if tail != -1 else raw
        return quopri.decodestring(raw)
    return raw


def decode_part(raw: bytes, part: TextPart, *, partial: bool) -> str:
    """The readable text of a fetched part (``partial`` when only its first bytes were fetched)."""
    data = _decode_transfer(raw, part.encoding, partial)
    try:
        text = data.decode(part.charset, "replace")
    except LookupError:
        text = data.decode("utf-8", "replace")
    return html_to_text(text) if part.subtype == "html" else text


class _TextExtractor(HTMLParser):
    _SKIP = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in {"br", "p", "div", "tr", "li"}:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment (scripts, styles and the head dropped)."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return "".join(parser.chunks)


def message_date(headers: ParsedHeaders, internal_date: datetime | None) -> datetime:
    """The Date header, else the server's INTERNALDATE, else the epoch; always aware, in UTC."""
    value = headers.date or internal_date or _EPOCH
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
