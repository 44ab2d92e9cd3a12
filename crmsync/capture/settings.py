"""Settings for capture sources: which mailboxes and calendars to read, per CRM connection.

One entry per source, told apart by ``kind``::

    capture:
      sources:
        - {kind: imap, connection: acme-sf, name: ana-mail, host: imap.acme.test, username: ana@acme.test,
           password: {env: ANA_IMAP_PASSWORD}}
        - {kind: imap, connection: acme-sf, name: journal, host: imap.acme.test, username: journal@acme.test,
           auth: xoauth2, oauth2_token: {file: /run/secrets/journal-token}, journal: true, folders: [INBOX]}
        - {kind: caldav, connection: acme-sf, name: ana-cal, url: "https://dav.acme.test/ana/work/",
           username: ana, password: {file: /run/secrets/ana-dav}, mailbox_owner: ana@acme.test}
        - {kind: ics, connection: acme-sf, name: ben-cal, url: "https://cal.acme.test/ben.ics",
           mailbox_owner: ben@acme.test}

A secret is given as exactly one of ``value``, ``env`` (the name of an environment variable) or ``file`` (a
path, re-read on every use so a rotated OAuth token is picked up). Validation checks that the variable is set
or the file is readable and reports every problem at once; the secret itself is only read by
:meth:`SecretRef.reveal`, and values are :class:`pydantic.SecretStr`, masked in every repr.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from crmsync.capture.model import normalise_address

DEFAULT_FOLDERS = ("INBOX", "\\Sent")
"""INBOX and the folder the server flags ``\\Sent`` (SPECIAL-USE), or the usual Sent names when it flags none."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(_Strict):
    """Where a password or token comes from: exactly one of ``value``, ``env`` or ``file``."""

    value: SecretStr | None = None
    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        given = [n for n in ("value", "env", "file") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of value, env or file")
        if self.env is not None and self.env not in os.environ:
            raise ValueError(f"environment variable {self.env} is not set")
        if self.file is not None and not os.access(self.file, os.R_OK):
            raise ValueError(f"cannot read {self.file}")
        return self

    def reveal(self, environ: Mapping[str, str] | None = None) -> str:
        """The secret, read now (a file's trailing newline dropped). Never log the result."""
        if self.value is not None:
            return self.value.get_secret_value()
        if self.env is not None:
            return (environ if environ is not None else os.environ)[self.env]
        assert self.file is not None
        return self.file.read_text(encoding="utf-8").rstrip("\r\n")


class _Source(_Strict):
    connection: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200, description="Unique per connection; keys the cursors.")
    mailbox_owner: str | None = Field(default=None, description="Address of the rep (or journal) it belongs to.")
    timeout_s: float = Field(default=30.0, gt=0)

    @field_validator("mailbox_owner")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        address = normalise_address(value)
        if address is None:
            raise ValueError("must be an email address")
        return address


class ImapSource(_Source):
    """One IMAP mailbox: a rep's own (``mailbox_owner`` defaults to ``username``) or a journal/BCC one."""

    kind: Literal["imap"] = "imap"
    host: str
    port: int | None = Field(default=None, ge=1, le=65535, description="Default 993 for ssl, else 143.")
    tls: Literal["ssl", "starttls", "none"] = "ssl"
    ca_file: Path | None = None
    username: str
    auth: Literal["password", "xoauth2"] = "password"
    password: SecretRef | None = None
    oauth2_token: SecretRef | None = None
    folders: tuple[str, ...] = DEFAULT_FOLDERS
    journal: bool = False
    chunk_size: int = Field(default=500, ge=1, le=5000)

    @model_validator(mode="after")
    def _credentials(self) -> ImapSource:
        if self.auth == "password" and self.password is None:
            raise ValueError("auth password needs password")
        if self.auth == "xoauth2" and self.oauth2_token is None:
            raise ValueError("auth xoauth2 needs oauth2_token")
        if not self.folders:
            raise ValueError("folders must not be empty")
        return self

    @model_validator(mode="before")
    @classmethod
    def _owner_from_username(cls, data: object) -> object:
        if isinstance(data, Mapping) and data.get("mailbox_owner") is None and not data.get("journal"):
            username = data.get("username")
            if isinstance(username, str) and normalise_address(username):
                return {**data, "mailbox_owner": username}
        return data

    @property
    def effective_port(self) -> int:
        """The configured port, or the protocol default for the TLS mode."""
        return self.port or (993 if self.tls == "ssl" else 143)


class _CalendarSource(_Source):
    url: str = Field(pattern=r"^https?://")
    username: str | None = None
    password: SecretRef | None = None
    ca_file: Path | None = None
    window_past_days: int = Field(default=30, ge=0, le=3650)
    window_future_days: int = Field(default=30, ge=0, le=3650)
    timezone: str = Field(default="UTC", description="Zone for floating (zone-less) event times.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class CalDavSource(_CalendarSource):
    """One CalDAV calendar collection (its full URL), read with sync-token REPORTs when the server allows."""

    kind: Literal["caldav"] = "caldav"
    sync: bool = Field(default=True, description="Use RFC 6578 sync-collection; off forces time-range REPORTs.")


class IcsSource(_CalendarSource):
    """A published ICS URL, re-read with If-None-Match."""

    kind: Literal["ics"] = "ics"


CaptureSource = Annotated[ImapSource | CalDavSource | IcsSource, Field(discriminator="kind")]


class CaptureSettings(_Strict):
    """Every capture source; the daemon's settings include this as ``capture``."""

    sources: tuple[CaptureSource, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> CaptureSettings:
        seen: set[tuple[str, str]] = set()
        for source in self.sources:
            ident = (source.connection, source.name)
            if ident in seen:
                raise ValueError(f"duplicate source name {source.name!r} in connection {source.connection!r}")
            seen.add(ident)
        return self
