"""Capture source settings: kinds, defaults, and secrets from values, environment variables or files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from crmsync.capture.settings import CaptureSettings, ImapSource, SecretRef
from tests.logguard import sentinel

IMAP = {"kind": "imap", "connection": "acme-sf", "name": "ana", "host": "imap.acme.test", "username": "Ana@Acme.test"}


def test_sources_by_kind_with_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each kind parses into its model; an IMAP mailbox defaults to IMAPS on 993, INBOX+Sent, owner = username."""
    monkeypatch.setenv("ANA_IMAP_PW", "pw-from-env-123")
    settings = CaptureSettings.model_validate(
        {
            "sources": [
                {**IMAP, "password": {"env": "ANA_IMAP_PW"}},
                {"kind": "caldav", "connection": "acme-sf", "name": "ana-cal", "url": "https://dav.acme.test/ana/w/"},
                {"kind": "ics", "connection": "acme-sf", "name": "ben-ics", "url": "https://cal.acme.test/b.ics"},
            ]
        }
    )
    imap, caldav, ics = settings.sources
    assert isinstance(imap, ImapSource)
    assert (imap.effective_port, imap.tls, imap.folders, imap.mailbox_owner) == (
        993,
        "ssl",
        ("INBOX", "\\Sent"),
        "ana@acme.test",
    )
    assert imap.password is not None
    assert imap.password.reveal() == "pw-from-env-123"
    assert (caldav.kind, ics.kind) == ("caldav", "ics")


def test_secret_from_file_is_reread_and_masked(tmp_path: Path) -> None:
    """A file secret is read at use (a rotated token is picked up) and never shows in the model's repr."""
    token_file = tmp_path / "token"
    token_file.write_text(sentinel("ya29.first-token-abc") + "\n")
    source = ImapSource.model_validate({**IMAP, "auth": "xoauth2", "oauth2_token": {"file": str(token_file)}})
    assert source.oauth2_token is not None
    assert source.oauth2_token.reveal() == "ya29.first-token-abc"
    token_file.write_text("ya29.second-token-def")
    assert source.oauth2_token.reveal() == "ya29.second-token-def"
    inline = ImapSource.model_validate({**IMAP, "password": {"value": sentinel("inline-secret-pw-77")}})
    assert "inline-secret-pw-77" not in repr(inline)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"password": {"env": "CRMSYNC_TEST_SURELY_UNSET"}}, "CRMSYNC_TEST_SURELY_UNSET is not set"),
        ({"password": {"file": "/nonexistent/pw"}}, "cannot read /nonexistent/pw"),
        ({"password": {"value": "a", "env": "B"}}, "exactly one"),
        ({}, "auth password needs password"),
        ({"auth": "xoauth2", "password": {"value": "x"}}, "xoauth2 needs oauth2_token"),
        ({"password": {"value": "x"}, "folders": []}, "folders must not be empty"),
        ({"password": {"value": "x"}, "mailbox_owner": "not-an-address"}, "must be an email address"),
    ],
    ids=["env-unset", "file-unreadable", "two-sources", "no-password", "no-token", "no-folders", "bad-owner"],
)
def test_invalid_sources_are_rejected(change: dict[str, object], message: str) -> None:
    """Each misconfiguration is reported with a message that says what to fix."""
    with pytest.raises(ValidationError, match=message):
        ImapSource.model_validate({**IMAP, **change})


def test_duplicate_source_names_rejected() -> None:
    """Two sources of one connection may not share a name (it keys their cursors)."""
    source = {**IMAP, "password": {"value": "x"}}
    with pytest.raises(ValidationError, match="duplicate source name"):
        CaptureSettings.model_validate({"sources": [source, source]})


def test_secret_ref_reads_given_environment() -> None:
    """reveal() can read from an explicit environment mapping (the daemon passes its own)."""
    ref = SecretRef(value=None, env="PATH")
    assert ref.reveal({"PATH": "from-mapping"}) == "from-mapping"


def test_calendar_time_zone_must_exist() -> None:
    """A calendar source's zone for floating times must be a known IANA zone."""
    with pytest.raises(ValidationError, match="unknown time zone"):
        CaptureSettings.model_validate(
            {
                "sources": [
                    {
                        "kind": "ics",
                        "connection": "c",
                        "name": "n",
                        "url": "https://x.test/a.ics",
                        "timezone": "Mars/Olympus",
                    }
                ]
            }
        )
