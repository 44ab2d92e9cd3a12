"""Split SOQL text into tokens: identifiers (dotted paths kept whole), literals, operators and punctuation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Literal as TypingLiteral

from crmsync.sandbox.soql.model import SoqlError

TokenKind = TypingLiteral["ident", "string", "number", "date", "datetime", "op", "punct", "eof"]


@dataclass(frozen=True, slots=True)
class Token:
    """One token; ``value`` is decoded (a str for strings, a date/datetime for those literals)."""

    kind: TokenKind
    text: str
    pos: int
    value: object = None


_SPACE = re.compile(r"\s+")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_DATEISH = re.compile(r"\d{4}-\d{2}-\d{2}(?:T[0-9:.]*(?:Z|[+-][0-9:]*)?)?")
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):?(\d{2}))\Z"
)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_OPS = ("<>", "!=", "<=", ">=", "=", "<", ">")
_PUNCT = "(),:"
_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "%": "%",
    "_": "_",
}


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, ending with an ``eof`` token. Raises SoqlError on a character SOQL does not allow."""
    tokens: list[Token] = []
    pos = 0
    while True:
        space = _SPACE.match(text, pos)
        if space:
            pos = space.end()
        if pos >= len(text):
            tokens.append(Token("eof", "<EOF>", pos))
            return tokens
        token = _next_token(text, pos)
        tokens.append(token)
        pos += len(token.text)


def _next_token(text: str, pos: int) -> Token:
    """The token starting at ``pos`` (not whitespace)."""
    char = text[pos]
    if char == "'":
        return _string(text, pos)
    if char.isdigit():
        dateish = _DATEISH.match(text, pos)
        if dateish:
            return _date_token(text, pos, dateish.group())
    number = _NUMBER.match(text, pos)
    if number and (char.isdigit() or char in "+-."):
        raw = number.group()
        value: float | int = float(raw) if "." in raw else int(raw)
        return Token("number", raw, pos, value)
    ident = _IDENT.match(text, pos)
    if ident:
        return Token("ident", ident.group(), pos)
    for op in _OPS:
        if text.startswith(op, pos):
            return Token("op", op, pos)
    if char in _PUNCT:
        return Token("punct", char, pos)
    if char == '"':
        raise SoqlError(text, pos, "unexpected token: '\"' (string literals take single quotes)")
    raise SoqlError(text, pos, f"unexpected token: '{char}'")


def _string(text: str, pos: int) -> Token:
    """A single-quoted string literal; escapes as in Salesforce's quoted-string escape table."""
    out: list[str] = []
    i = pos + 1
    while i < len(text):
        char = text[i]
        if char == "'":
            return Token("string", text[pos : i + 1], pos, "".join(out))
        if char == "\\":
            i, decoded = _escape(text, i)
            out.append(decoded)
            continue
        out.append(char)
        i += 1
    raise SoqlError(text, pos, "unexpected token: unterminated string literal")


def _escape(text: str, i: int) -> tuple[int, str]:
    """Decode the escape sequence starting at the backslash at ``i``; returns (next index, decoded text)."""
    code = text[i + 1 : i + 2]
    if code in ("u", "U"):
        digits = text[i + 2 : i + 6]
        if len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
            return i + 6, chr(int(digits, 16))
    decoded = _ESCAPES.get(code) or _ESCAPES.get(code.lower())
    if decoded is None:
        raise SoqlError(text, i, f"Invalid string literal: illegal escape sequence '\\{code}'")
    return i + 2, decoded


def _date_token(text: str, pos: int, raw: str) -> Token:
    """A date (``2026-03-02``) or datetime (``2026-03-02T14:00:00Z``, ``+00:00`` offsets, fractions) literal."""
    try:
        if "T" not in raw:
            return Token("date", raw, pos, date.fromisoformat(raw))
        match = _DATETIME.match(raw)
        if match is None:
            raise ValueError(raw)
        return Token("datetime", raw, pos, _datetime(match))
    except ValueError:
        detail = (
            f"line 1:{pos} no viable alternative at character '{raw}': a datetime needs seconds and a zone, "
            "as in 2026-03-02T14:00:00Z or 2026-03-02T14:00:00+00:00"
        )
        raise SoqlError(text, pos, detail) from None


def _datetime(match: re.Match[str]) -> datetime:
    """The aware datetime of a matched datetime literal."""
    year, month, day, hour, minute, second = (int(match.group(n)) for n in range(1, 7))
    micros = int((match.group(7) or "0")[:6].ljust(6, "0"))
    if match.group(8):
        zone: timezone = UTC
    else:
        offset = timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
        zone = timezone(-offset if match.group(9) == "-" else offset)
    return datetime(year, month, day, hour, minute, second, micros, tzinfo=zone)
