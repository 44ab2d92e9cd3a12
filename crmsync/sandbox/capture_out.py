"""Where the simulated reps' mail and meetings land for crmsync's capture: Maildir folders and ICS files.

Layout (what Dovecot serves with ``mail_location = maildir:<root>/%u/Maildir``, and what a calendar capture
reads):

- ``<maildir>/<rep email>/Maildir/`` — INBOX holds the leads' replies; the ``.Sent`` folder the rep's emails.
  Message-ID is the touch's external id, so a captured email and the Task the rep logged share one key.
- ``<ics_dir>/<rep email>.ics`` — one VCALENDAR per rep with a VEVENT per meeting (UID = external id,
  ATTENDEE = the lead); rewritten on :meth:`CaptureSink.flush`.
"""

from __future__ import annotations

import mailbox
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from icalendar import Calendar, Event, vCalAddress

from crmsync.sandbox.mapping import Rep, Touch


class CaptureSink:
    """Writes mail to Maildirs and meetings to ICS files (either may be None: not written)."""

    def __init__(self, maildir: Path | None, ics_dir: Path | None) -> None:
        self.maildir = maildir
        self.ics_dir = ics_dir
        self._boxes: dict[str, mailbox.Maildir] = {}
        self._events: dict[str, list[tuple[Touch, str]]] = {}
        self._dirty: set[str] = set()
        self.written = 0

    def __call__(self, kind: str, rep: Rep, touch: Touch, lead_email: str, inbound: bool) -> None:
        """Record one email (outbound to .Sent, inbound reply to INBOX) or meeting."""
        if kind == "email" and self.maildir is not None:
            self._mail(rep, touch, lead_email, inbound)
        elif kind == "meeting" and self.ics_dir is not None:
            self._events.setdefault(rep.email, []).append((touch, lead_email))
            self._dirty.add(rep.email)

    def _box(self, rep: Rep, inbound: bool) -> mailbox.Maildir:
        assert self.maildir is not None
        key = f"{rep.email}:{inbound}"
        box = self._boxes.get(key)
        if box is None:
            (self.maildir / rep.email).mkdir(parents=True, exist_ok=True)
            root = mailbox.Maildir(self.maildir / rep.email / "Maildir", create=True)
            box = (
                root
                if inbound
                else (root.get_folder("Sent") if "Sent" in root.list_folders() else root.add_folder("Sent"))
            )
            self._boxes[key] = box
        return box

    def _mail(self, rep: Rep, touch: Touch, lead_email: str, inbound: bool) -> None:
        msg = EmailMessage()
        sender, to = (lead_email, rep.email) if inbound else (rep.email, lead_email)
        msg["From"], msg["To"], msg["Subject"] = sender, to, touch.subject
        msg["Date"] = format_datetime(touch.at)
        msg["Message-ID"] = touch.external_id or ""
        msg.set_content("Thanks for your reply - let's talk." if inbound else "Following up on your request.")
        entry = mailbox.MaildirMessage(msg)
        entry.set_subdir("cur")
        entry.set_flags("" if inbound else "S")
        entry.set_date(touch.at.timestamp())
        self._box(rep, inbound).add(entry)
        self.written += 1

    def flush(self) -> None:
        """Rewrite the ICS file of every rep whose meetings changed."""
        if self.ics_dir is None:
            return
        self.ics_dir.mkdir(parents=True, exist_ok=True)
        for email in sorted(self._dirty):
            cal = Calendar()
            cal.add("prodid", "-//crmsync sandbox//simulated meetings//EN")
            cal.add("version", "2.0")
            for touch, lead_email in self._events[email]:
                event = Event()
                event.add("uid", (touch.external_id or "").strip("<>"))
                event.add("summary", touch.subject)
                event.add("dtstart", touch.at)
                event.add("dtend", touch.at + timedelta(minutes=touch.minutes))
                event.add("dtstamp", touch.at)
                event.add("organizer", vCalAddress(f"mailto:{email}"))
                event.add("attendee", vCalAddress(f"mailto:{lead_email}"))
                cal.add_component(event)
            (self.ics_dir / f"{email}.ics").write_bytes(cal.to_ical())
        self._dirty.clear()
