"""One structlog pipeline for crmsync and the libraries under it.

JSON lines when stdout is not a terminal (Docker, systemd), a readable console otherwise. Stdlib loggers
(sqlalchemy, urllib3, apscheduler, simple_salesforce, hubspot) are routed through the same processors, so a
library that logs a request header is redacted like our own events. Redaction happens in one processor,
:func:`redact`, which runs last before rendering:

- keys that name a secret (token, password, secret, authorization, cookie, api key, session id) are masked;
- keys that hold mail or message content (body, snippet, html, text body) are masked;
- ``Bearer ...`` / ``OAuth ...`` credentials, Salesforce session ids (``00D...!...``) and HubSpot private-app
  tokens (``pat-...``) are masked inside any string value, including rendered exception text;
- values registered with :func:`register_secret` (the live secrets from settings) are masked wherever they
  appear.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any, Literal

import structlog
from structlog.types import EventDict, Processor, WrappedLogger

MASK = "***"

_SECRET_KEY = re.compile(
    r"(token|passw|secret|authori[sz]ation|cookie|api[_-]?key|session[_-]?id|credential|private[_-]?key|"
    r"assertion|client[_-]?secret)",
    re.IGNORECASE,
)
_CONTENT_KEY = re.compile(
    r"^(body|snippet|html|text|text_body|html_body|mail_body|message_body|content)$", re.IGNORECASE
)
_SECRET_PATTERNS = (
    re.compile(r"(?i)\b(bearer|oauth)\s+[A-Za-z0-9._~+/=!-]+"),
    re.compile(r"\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._-]+"),
    re.compile(r"\bpat-[a-z0-9]{2,4}-[A-Za-z0-9-]+"),
    re.compile(r"(?i)(access_token|refresh_token|client_secret|password)=[^&\s\"']+"),
)
_NOISY_LIBRARIES = (
    "sqlalchemy",
    "urllib3",
    "apscheduler",
    "simple_salesforce",
    "hubspot",
    "requests",
    "alembic",
    "zeep",
)

_registered: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it appears in a log event from now on (ignored if empty or very short)."""
    if value and len(value) >= 6:
        _registered.add(value)


def _scrub_text(text: str) -> str:
    for secret in _registered:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(_mask_match, text)
    return text


def _mask_match(match: re.Match[str]) -> str:
    whole = match.group(0)
    if "=" in whole and not whole.lower().startswith(("bearer", "oauth")):
        return whole.split("=", 1)[0] + "=" + MASK
    if " " in whole:
        return whole.split(None, 1)[0] + " " + MASK
    return MASK


def _scrub(key: str, value: Any) -> Any:
    if _SECRET_KEY.search(key) or _CONTENT_KEY.match(key):
        return MASK if value not in (None, "", b"") else value
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, Mapping):
        return {str(k): _scrub(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(key, v) for v in value]
    if isinstance(value, bytes):
        return MASK
    return value


def redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Mask secrets and message content in every value of the event (a pure structlog processor)."""
    return {key: _scrub(key, value) for key, value in event_dict.items()}


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        redact,
    ]


def configure_logging(
    level: str = "info",
    fmt: Literal["auto", "json", "console"] = "auto",
    secrets: Iterable[str | None] = (),
    stream: Any = None,
) -> None:
    """Install the pipeline for structlog and the stdlib root logger. Safe to call more than once."""
    for secret in secrets:
        register_secret(secret)
    out = stream if stream is not None else sys.stdout
    use_json = fmt == "json" or (fmt == "auto" and not _isatty(out))
    renderer: Processor = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=_isatty(out))
    )
    numeric = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[*_shared_processors(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for name in _NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))


def _isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def bind_context(**values: Any) -> None:
    """Bind key/values (connection, cycle id) to every event logged by this thread/task from now on."""
    structlog.contextvars.bind_contextvars(**values)


def clear_context() -> None:
    """Forget what :func:`bind_context` bound."""
    structlog.contextvars.clear_contextvars()


def scrub_mapping(values: MutableMapping[str, Any]) -> dict[str, Any]:
    """A redacted copy of ``values``, for the rare place that must show a payload (``outbox list``)."""
    return {key: _scrub(key, value) for key, value in values.items()}
