"""Read new mail from an IMAP mailbox without marking anything seen (imapclient).

Contract of :class:`ImapReader`:

- folders are opened read-only (``EXAMINE``) and fetched with ``BODY.PEEK`` only, never ``RFC822``, so no
  flag changes on the server;
- per folder, a :class:`~crmsync.capture.cursors.Cursor` (UIDVALIDITY, last UID) says what was read; only
  UIDs above it are fetched, in chunks of ``chunk_size``. When the server's UIDVALIDITY differs from the
  cursor's, the folder is read again from the start (``rescan``): the capture keys make that harmless;
- the first pass fetches the header block and BODYSTRUCTURE; the text part is fetched afterwards only for
  messages the caller's ``wants_body`` accepts, and only as much as the body policy needs (the first few KB
  for a snippet, up to 128 KB for ``full``);
- ``\\Sent``-style folder names in the settings are resolved through SPECIAL-USE, falling back to the usual
  names; such folders are read as the mailbox owner's sent mail;
- logs carry folder names, UIDs and counts only, never addresses, subjects or bodies.

Errors: a login refused raises :class:`~crmsync.errors.AuthError`; a server certificate the CA does not vouch
for raises :class:`~crmsync.errors.FatalError`; network, TLS and protocol failures raise
:class:`~crmsync.errors.RetriableError`; a configured folder that does not exist raises
:class:`~crmsync.errors.ConfigError`.
"""

from __future__ import annotations

import logging
import ssl
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from types import TracebackType
from typing import Any

import structlog
from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, IMAPClientError, LoginError

from crmsync.capture.cursors import Cursor
from crmsync.capture.mail import TextPart, decode_part, find_text_part, message_date, parse_headers
from crmsync.capture.model import BodyPolicy, CapturedMessage, apply_body_policy, message_key
from crmsync.capture.settings import ImapSource
from crmsync.clock import Clock, SystemClock
from crmsync.errors import AuthError, ConfigError, FatalError, RetriableError

log = structlog.get_logger(__name__)
# imapclient logs every command and response (addresses, bodies) at DEBUG; crmsync's logs must never carry them.
logging.getLogger("imapclient").setLevel(logging.WARNING)

SNIPPET_FETCH_BYTES = 4096
HTML_SNIPPET_FETCH_BYTES = 16384
FULL_FETCH_BYTES = 131072
_FIRST_PASS = [b"BODY.PEEK[HEADER]", b"BODYSTRUCTURE", b"INTERNALDATE"]
_SENT_FLAG = b"\\Sent"


HeadersSeen = Callable[[Sequence[CapturedMessage]], None]
"""Told about a chunk's messages (headers read, no body yet) before any ``wants_body`` question."""


def xoauth2_sasl(username: str, access_token: str) -> bytes:
    """The SASL XOAUTH2 initial response (Gmail, Microsoft 365): ``user=U^Aauth=Bearer T^A^A``.

    Raises ValueError if either part contains the ``^A`` separator, which would let one forge the other.
    """
    if "\x01" in username or "\x01" in access_token:
        raise ValueError("username and token must not contain \\x01")
    return f"user={username}\x01auth=Bearer {access_token}\x01\x01".encode()


def ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """A verifying client context; trusts ``ca_file`` instead of the system store when given."""
    return ssl.create_default_context(cafile=ca_file)


@dataclass(frozen=True, slots=True)
class Folder:
    """A folder to read: its server name and whether it holds the owner's sent mail."""

    name: str
    sent: bool = False


@dataclass(frozen=True, slots=True)
class Chunk:
    """Messages read from one folder in one fetch round, and the cursor to save once they are stored."""

    folder: Folder
    messages: tuple[CapturedMessage, ...]
    cursor: Cursor
    rescan: bool = False


def _wrap_errors(what: str) -> Callable[[BaseException], RetriableError]:
    def make(err: BaseException) -> RetriableError:
        return RetriableError(f"IMAP {what} failed: {type(err).__name__}")

    return make


class ImapReader:
    """One connection to one mailbox; use as a context manager (connects and logs in on entry)."""

    def __init__(
        self,
        source: ImapSource,
        *,
        body: BodyPolicy = BodyPolicy.SNIPPET,
        clock: Clock | None = None,
    ) -> None:
        self.source = source
        self.body = body
        self._clock = clock or SystemClock()
        self._client: IMAPClient | None = None

    def __enter__(self) -> ImapReader:
        self.connect()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def client(self) -> IMAPClient:
        """The logged-in client (raises RuntimeError before :meth:`connect`)."""
        if self._client is None:
            raise RuntimeError("ImapReader is not connected")
        return self._client

    def connect(self) -> None:
        """Open the connection (IMAPS, or plain with STARTTLS, or plain) and log in."""
        src = self.source
        ca = str(src.ca_file) if src.ca_file else None
        try:
            client = IMAPClient(
                src.host,
                port=src.effective_port,
                ssl=src.tls == "ssl",
                ssl_context=ssl_context(ca) if src.tls == "ssl" else None,
                timeout=src.timeout_s,
            )
            client.normalise_times = False
            if src.tls == "starttls":
                client.starttls(ssl_context(ca))
        except CapabilityError:
            raise ConfigError([f"capture source {src.name}: the server does not offer STARTTLS"]) from None
        except ssl.SSLCertVerificationError:
            raise FatalError("IMAP server certificate is not trusted", connection=src.connection) from None
        except (OSError, IMAPClientError) as err:
            raise _wrap_errors("connect")(err) from None
        self._client = client
        self._login(client)
        log.info("imap_connected", source=src.name, tls=src.tls, auth=src.auth)

    def _login(self, client: IMAPClient) -> None:
        src = self.source
        try:
            if src.auth == "xoauth2":
                assert src.oauth2_token is not None
                sasl = xoauth2_sasl(src.username, src.oauth2_token.reveal())
                client.sasl_login("XOAUTH2", lambda _challenge: sasl)
            else:
                assert src.password is not None
                client.login(src.username, src.password.reveal())
        except LoginError:
            self.close()
            raise AuthError("IMAP login refused", connection=src.connection) from None
        except (OSError, IMAPClientError) as err:
            self.close()
            raise _wrap_errors("login")(err) from None

    def close(self) -> None:
        """Log out and drop the connection (errors while leaving are ignored)."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except (OSError, IMAPClientError):
            try:
                client.shutdown()
            except OSError:
                log.debug("imap_shutdown_failed", source=self.source.name)

    def resolve_folders(self) -> list[Folder]:
        """The configured folders as server names; ``\\Sent`` and friends through SPECIAL-USE or usual names."""
        client = self.client
        try:
            listing = {name: set(flags) for flags, _delim, name in client.list_folders()}
        except (OSError, IMAPClientError) as err:
            raise _wrap_errors("LIST")(err) from None
        folders: list[Folder] = []
        for wanted in self.source.folders:
            if wanted.startswith("\\"):
                name = client.find_special_folder(wanted.encode())
                if name is None:
                    raise ConfigError([f"capture source {self.source.name}: no folder flagged {wanted}"])
                folders.append(Folder(name, sent=wanted.lower() == "\\sent"))
            elif wanted in listing:
                folders.append(Folder(wanted, sent=_SENT_FLAG in listing[wanted]))
            else:
                raise ConfigError([f"capture source {self.source.name}: folder {wanted!r} does not exist"])
        return list(dict.fromkeys(folders))

    def read_folder(
        self,
        folder: Folder,
        cursor: Cursor | None,
        wants_body: Callable[[CapturedMessage], bool] = lambda _m: True,
        headers_seen: HeadersSeen | None = None,
    ) -> Iterator[Chunk]:
        """Yield the folder's new messages chunk by chunk (see the module docstring for the contract).

        ``headers_seen`` is called with each chunk's messages (headers only) before ``wants_body`` is asked
        about any of them, so a caller can look up the chunk's addresses in one query.
        """
        try:
            yield from self._read_folder(folder, cursor, wants_body, headers_seen)
        except (OSError, IMAPClientError) as err:
            raise _wrap_errors("fetch")(err) from None

    def _read_folder(
        self,
        folder: Folder,
        cursor: Cursor | None,
        wants_body: Callable[[CapturedMessage], bool],
        headers_seen: HeadersSeen | None,
    ) -> Iterator[Chunk]:
        status = self.client.select_folder(folder.name, readonly=True)
        uidvalidity = int(status[b"UIDVALIDITY"])
        last = (cursor.last_uid or 0) if cursor else 0
        rescan = cursor is not None and cursor.uidvalidity not in (None, uidvalidity)
        if rescan:
            log.warning(
                "imap_uidvalidity_changed",
                source=self.source.name,
                folder=folder.name,
                old=cursor.uidvalidity if cursor else None,
                new=uidvalidity,
            )
            last = 0
        uids = sorted(u for u in self.client.search(["UID", f"{last + 1}:*"]) if u > last)
        log.info("imap_folder_new", source=self.source.name, folder=folder.name, new=len(uids), after_uid=last)
        size = self.source.chunk_size
        if not uids and (cursor is None or rescan):
            yield Chunk(folder, (), Cursor(uidvalidity, last), rescan)
        for start in range(0, len(uids), size):
            batch = uids[start : start + size]
            messages = self._fetch(folder, batch, wants_body, headers_seen)
            yield Chunk(folder, messages, Cursor(uidvalidity, batch[-1]), rescan)

    def _fetch(
        self,
        folder: Folder,
        uids: Sequence[int],
        wants_body: Callable[[CapturedMessage], bool],
        headers_seen: HeadersSeen | None = None,
    ) -> tuple[CapturedMessage, ...]:
        response = self.client.fetch(uids, _FIRST_PASS)
        messages: dict[int, CapturedMessage] = {}
        structures: dict[int, TextPart | None] = {}
        for uid in uids:
            data = response.get(uid)
            if data is None:
                continue  # expunged between SEARCH and FETCH
            messages[uid] = self._message(folder, uid, data)
            structures[uid] = find_text_part(data.get(b"BODYSTRUCTURE"))
        if headers_seen is not None:
            headers_seen(tuple(messages.values()))
        parts: dict[int, TextPart] = {}
        for uid, part in structures.items():
            if part is not None and self.body is not BodyPolicy.NONE and wants_body(messages[uid]):
                parts[uid] = part
        for uid, text in self._fetch_texts(parts).items():
            messages[uid] = replace(messages[uid], body=apply_body_policy(text, self.body))
        return tuple(messages[uid] for uid in uids if uid in messages)

    def _message(self, folder: Folder, uid: int, data: dict[bytes, Any]) -> CapturedMessage:
        headers = parse_headers(data.get(b"BODY[HEADER]") or b"")
        internal = data.get(b"INTERNALDATE")
        date = message_date(headers, internal if isinstance(internal, datetime) else None)
        key = message_key(headers.message_id, sender=headers.sender, date=date, subject=headers.subject)
        src = self.source
        return CapturedMessage(
            capture_key=key,
            mailbox_owner=src.mailbox_owner,
            journal=src.journal,
            folder=folder.name,
            uid=uid,
            sender=headers.sender,
            to=headers.to,
            cc=headers.cc,
            bcc=headers.bcc,
            subject=headers.subject,
            date=date,
            automation=headers.automation,
            sent_folder=folder.sent and not src.journal,
        )

    def _limit(self, part: TextPart) -> int:
        if self.body is BodyPolicy.FULL:
            return FULL_FETCH_BYTES
        return HTML_SNIPPET_FETCH_BYTES if part.subtype == "html" else SNIPPET_FETCH_BYTES

    def _fetch_texts(self, parts: dict[int, TextPart]) -> dict[int, str]:
        """Fetch each message's text part, grouped so one FETCH serves all messages with the same section."""
        groups: dict[tuple[str, int], list[int]] = defaultdict(list)
        for uid, part in parts.items():
            groups[(part.section, self._limit(part))].append(uid)
        texts: dict[int, str] = {}
        for (section, limit), uids in groups.items():
            item = f"BODY.PEEK[{section}]<0.{limit}>".encode()
            response = self.client.fetch(uids, [item])
            for uid in uids:
                data = response.get(uid, {})
                raw = next((v for k, v in data.items() if k.startswith(f"BODY[{section}]".encode())), None)
                if isinstance(raw, bytes):
                    texts[uid] = decode_part(raw, parts[uid], partial=parts[uid].size > limit)
        return texts

    def wait_for_changes(self, timeout: float, folder: str = "INBOX") -> bool:
        """Block up to ``timeout`` seconds for new mail in ``folder`` (IMAP IDLE); True if some arrived.

        Servers without IDLE: waits ``timeout`` on the clock and returns True, so the caller simply polls.
        """
        client = self.client
        try:
            if b"IDLE" not in client.capabilities():
                self._clock.sleep(timeout)
                return True
            client.select_folder(folder, readonly=True)
            client.idle()
            try:
                responses = client.idle_check(timeout=timeout)
            finally:
                client.idle_done()
        except (OSError, IMAPClientError) as err:
            raise _wrap_errors("IDLE")(err) from None
        return any(len(r) > 1 and r[1] == b"EXISTS" for r in responses)
