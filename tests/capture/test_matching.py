"""Matching captured mail and meetings to leads and reps: the rules of crmsync.capture.matching, as tables."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from crmsync.capture.matching import (
    LeadIndex,
    MatchOptions,
    SkipReason,
    activity_key,
    match_batch,
    match_event,
    match_message,
    rep_index,
)
from crmsync.capture.model import (
    Attendee,
    AutomationHeaders,
    BodyPolicy,
    CapturedEvent,
    CapturedMessage,
    EventStatus,
    PartStat,
    event_key,
    normalise_address,
)
from crmsync.domain import ActivitySource, Channel, Direction, Lead, LeadRef, Owner, OwnerKind
from crmsync.policy.model import CaptureOptions

T0 = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
CONN = "acme-sf"
ANA, BEN = "ana@acme.test", "ben@acme.test"
REPS = {ANA: "005ANA", BEN: "005BEN"}


def _lead(lead_id: str, email: str, *, converted: bool = False) -> Lead:
    return Lead(
        ref=LeadRef(CONN, lead_id),
        owner_id="005ANA",
        email=email,
        status="Open",
        created_at=T0,
        modified_at=T0,
        converted=converted,
    )


LEADS = LeadIndex.from_leads(
    CONN,
    [
        _lead("00Q1", "Bob@Customer.example"),
        _lead("00Q2", "carol@customer.example"),
        _lead("00Q3", "dan@gmail.com"),
        _lead("00Q4", "erin@lawfirm.example"),
        _lead("00Q5", "gone@customer.example", converted=True),
        _lead("00Q6", "tag+real@customer.example"),
    ],
    account_domains={"customer.example": "001ACC"},
)
OPTIONS = MatchOptions(
    body=BodyPolicy.SNIPPET,
    never_log_domains=frozenset({"lawfirm.example"}),
    personal_domains=frozenset({"gmail.com"}),
    sequence_senders=frozenset({"outreach.acme-mail.test", "robot@acme.test"}),
)


def msg(sender: str | None, to: tuple[str, ...], cc: tuple[str, ...] = (), **kw: object) -> CapturedMessage:
    """A captured message with normalised addresses, as the IMAP reader builds them."""
    base = CapturedMessage(
        capture_key="mid:m1@acme.test",
        mailbox_owner=ANA,
        journal=False,
        folder="INBOX",
        uid=1,
        sender=normalise_address(sender),
        to=tuple(a for a in map(normalise_address, to) if a),
        cc=tuple(a for a in map(normalise_address, cc) if a),
        bcc=(),
        subject="Pricing",
        date=T0,
        body="Hi Bob, here is the pricing.",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


MESSAGE_CASES = [
    ("outbound-touch", msg(ANA, ("bob@customer.example",), sent_folder=True), (Direction.OUTBOUND, ("00Q1",))),
    (
        "internal-and-external-thread",
        msg(ANA, (BEN, "bob@customer.example"), ("carol@customer.example",)),
        (Direction.OUTBOUND, ("00Q1", "00Q2")),
    ),
    ("inbound-reply", msg("Bob <BOB@customer.example>", (ANA,)), (Direction.INBOUND, ("00Q1",))),
    (
        "inbound-reply-only-sender-lead",
        msg("bob@customer.example", (ANA, "carol@customer.example")),
        (Direction.INBOUND, ("00Q1",)),
    ),
    ("plus-tag-folded", msg(ANA, ("bob+deals@customer.example",)), (Direction.OUTBOUND, ("00Q1",))),
    ("exact-plus-address-wins", msg(ANA, ("tag+real@customer.example",)), (Direction.OUTBOUND, ("00Q6",))),
    ("internal-only", msg(ANA, (BEN, "cfo@acme.test")), SkipReason.INTERNAL_ONLY),
    ("only-external-is-never-log", msg(ANA, (BEN, "erin@lawfirm.example")), SkipReason.NEVER_LOG),
    ("personal-domain-ignored", msg(ANA, ("dan@gmail.com",)), SkipReason.PERSONAL),
    ("inbound-from-personal", msg("dan@gmail.com", (ANA,)), SkipReason.PERSONAL),
    ("bounce-mailer-daemon", msg("MAILER-DAEMON@mx.customer.example", (ANA,)), SkipReason.BOUNCE),
    (
        "bounce-report",
        msg(
            "bob@customer.example",
            (ANA,),
            automation=AutomationHeaders(content_type="multipart/report; report-type=delivery-status"),
        ),
        SkipReason.BOUNCE,
    ),
    ("external-not-a-lead", msg(ANA, ("zed@other.example",)), SkipReason.NO_LEAD),
    ("converted-lead-stops", msg(ANA, ("gone@customer.example",)), SkipReason.NO_LEAD),
    ("inbound-from-non-lead-cc-lead", msg("zed@other.example", (ANA,), ("bob@customer.example",)), SkipReason.NO_LEAD),
    ("no-sender", msg(None, ("bob@customer.example",)), SkipReason.NO_SENDER),
]


@pytest.mark.parametrize(("message", "expected"), [c[1:] for c in MESSAGE_CASES], ids=[c[0] for c in MESSAGE_CASES])
def test_message_rules(message: CapturedMessage, expected: object) -> None:
    """Each message rule gives the expected direction and leads, or the expected skip reason."""
    outcome = match_message(message, LEADS, REPS, OPTIONS)
    if isinstance(expected, SkipReason):
        assert outcome.skipped is expected
        assert outcome.matches == ()
    else:
        assert isinstance(expected, tuple)
        direction, lead_ids = expected
        assert outcome.skipped is None
        assert tuple(m.activity.lead_id for m in outcome.matches) == lead_ids
        assert {m.activity.direction for m in outcome.matches} == {direction}


AUTOMATION_CASES = [
    ("auto-submitted", AutomationHeaders(auto_submitted="auto-replied"), True),
    ("auto-submitted-no", AutomationHeaders(auto_submitted="no"), False),
    ("precedence-bulk", AutomationHeaders(precedence="Bulk"), True),
    ("precedence-list", AutomationHeaders(precedence="list"), True),
    ("precedence-first-class", AutomationHeaders(precedence="first-class"), False),
    ("list-id", AutomationHeaders(list_id="<news.customer.example>"), True),
    ("x-autoreply", AutomationHeaders(x_autoreply="yes"), True),
    ("null-return-path", AutomationHeaders(return_path="<>"), True),
    (
        "read-receipt-automated-not-bounce",
        AutomationHeaders(content_type="multipart/report; report-type=disposition-notification"),
        True,
    ),
    ("plain", AutomationHeaders(), False),
]


@pytest.mark.parametrize(
    ("headers", "automated"), [c[1:] for c in AUTOMATION_CASES], ids=[c[0] for c in AUTOMATION_CASES]
)
def test_automated_mail_is_marked_not_dropped(headers: AutomationHeaders, automated: bool) -> None:
    """Automation headers mark an inbound reply as automated, and it is still captured."""
    outcome = match_message(msg("bob@customer.example", (ANA,), automation=headers), LEADS, REPS, OPTIONS)
    assert len(outcome.matches) == 1
    assert outcome.matches[0].activity.automated is automated
    assert outcome.automated is automated


@pytest.mark.parametrize("sender", ["robot@acme.test", "seq@outreach.acme-mail.test"], ids=["address", "domain"])
def test_sequence_senders_are_automated(sender: str) -> None:
    """A sender listed in sequence_senders (by address or domain) marks an outbound touch automated."""
    options = replace(OPTIONS, internal_domains=frozenset({"acme.test", "outreach.acme-mail.test"}))
    outcome = match_message(msg(sender, ("bob@customer.example",)), LEADS, REPS, options)
    assert [m.activity.automated for m in outcome.matches] == [True]


def test_rep_from_sender_then_mailbox_owner() -> None:
    """The rep is the sender's rep for outbound mail; an alias sender in the owner's Sent folder is the owner."""
    by_sender = match_message(msg(BEN, ("bob@customer.example",)), LEADS, REPS, OPTIONS)
    alias = match_message(msg("ana.smith@acme.test", ("bob@customer.example",), sent_folder=True), LEADS, REPS, OPTIONS)
    assert by_sender.matches[0].activity.owner_id == "005BEN"
    assert alias.matches[0].activity.owner_id == "005ANA"


def test_journal_mailbox_rep_from_recipients_and_own_address_ignored() -> None:
    """In a journal mailbox the rep of an inbound reply is the first rep among the recipients."""
    journal = msg(
        "bob@customer.example",
        ("capture@acme-journal.test", BEN),
        mailbox_owner="capture@acme-journal.test",
        journal=True,
    )
    outcome = match_message(journal, LEADS, REPS, OPTIONS)
    assert [(m.activity.owner_id, m.activity.direction) for m in outcome.matches] == [("005BEN", Direction.INBOUND)]


def test_activity_and_log_action_agree() -> None:
    """A match yields a CAPTURE activity and a LogActivity with the same key, owner, time and snippet body."""
    long_body = "word " * 200
    outcome = match_message(msg(ANA, ("bob@customer.example",), body=long_body), LEADS, REPS, OPTIONS)
    (match,) = outcome.matches
    assert match.activity.source is ActivitySource.CAPTURE
    assert match.activity.channel is Channel.EMAIL
    assert match.log.capture_key == match.activity.key == activity_key("mid:m1@acme.test", "00Q1")
    assert match.log.lead == LeadRef(CONN, "00Q1")
    assert (match.log.owner_id, match.log.occurred_at, match.log.subject) == ("005ANA", T0, "Pricing")
    assert match.log.body is not None
    assert len(match.log.body) <= 300
    assert match.log.body.endswith("…")


@pytest.mark.parametrize(
    ("policy", "expect_body"), [(BodyPolicy.NONE, False), (BodyPolicy.FULL, True)], ids=["none", "full"]
)
def test_body_policy_limits_the_logged_body(policy: BodyPolicy, expect_body: bool) -> None:
    """Body policy none sends no body; full sends the text."""
    outcome = match_message(msg(ANA, ("bob@customer.example",)), LEADS, REPS, replace(OPTIONS, body=policy))
    assert (outcome.matches[0].log.body == "Hi Bob, here is the pricing.") is expect_body
    assert (outcome.matches[0].log.body is None) is not expect_body


def test_missing_contact_candidate_only_when_policy_allows() -> None:
    """An unknown address at an account's domain is offered for creation only with create_missing_contacts."""
    message = msg(ANA, ("newperson@customer.example",))
    off = match_message(message, LEADS, REPS, OPTIONS)
    on = match_message(message, LEADS, REPS, replace(OPTIONS, create_missing_contacts=True))
    assert off.contact_candidates == ()
    assert [(c.account_id, c.address) for c in on.contact_candidates] == [("001ACC", "newperson@customer.example")]


def test_same_message_in_two_folders_and_mailboxes_is_one_activity() -> None:
    """The same Message-ID seen in Sent and in another rep's INBOX yields the same key; the batch keeps one."""
    sent = msg(ANA, ("bob@customer.example", BEN), sent_folder=True, folder="Sent")
    received = msg(ANA, ("bob@customer.example", BEN), mailbox_owner=BEN, folder="INBOX", uid=7)
    single = [match_message(m, LEADS, REPS, OPTIONS).matches[0].activity for m in (sent, received)]
    assert single[0] == single[1]
    outcomes = match_batch([sent, received], LEADS, REPS, OPTIONS, T0)
    assert [o.skipped for o in outcomes] == [None, SkipReason.DUPLICATE]


def test_rep_index_keeps_active_users_only() -> None:
    """rep_index maps normalised emails of active users, not queues or inactive users."""
    owners = [
        Owner(CONN, "005A", OwnerKind.USER, "Ana", email="Ana@Acme.test"),
        Owner(CONN, "005X", OwnerKind.USER, "Old", email="old@acme.test", active=False),
        Owner(CONN, "00GQ", OwnerKind.QUEUE, "Nurture", email="nurture@acme.test"),
    ]
    assert rep_index(owners) == {"ana@acme.test": "005A"}


def test_options_from_policy_capture_section() -> None:
    """MatchOptions reads the policy's capture section, lower-casing domains and stripping '@'."""
    section = CaptureOptions.model_validate(
        {
            "body": "full",
            "internal_domains": ["acme.test"],
            "never_log_domains": ["LawFirm.example"],
            "personal_domains": ["gmail.com"],
            "sequence_senders": ["@Outreach.example", "bot@acme.test"],
            "create_missing_contacts": True,
        }
    )
    options = MatchOptions.from_policy(section, internal_domains=["acme.io"])
    assert options.body is BodyPolicy.FULL
    assert options.never_log_domains == {"lawfirm.example"}
    assert options.sequence_senders == {"outreach.example", "bot@acme.test"}
    assert options.internal_domains == {"acme.test", "acme.io"}
    assert options.create_missing_contacts is True


# ---------------------------------------------------------------- meetings

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def event(
    *attendees: Attendee,
    status: EventStatus = EventStatus.CONFIRMED,
    organizer: str | None = ANA,
    owner: str | None = ANA,
) -> CapturedEvent:
    return CapturedEvent(
        capture_key=event_key("evt-1@acme.test", START),
        uid="evt-1@acme.test",
        calendar_owner=owner,
        organizer=organizer,
        attendees=attendees,
        summary="Demo",
        start=START,
        end=START + timedelta(minutes=45),
        status=status,
        body="Agenda: demo",
    )


BOB_OK = Attendee("bob@customer.example", PartStat.ACCEPTED)
AFTER = START + timedelta(hours=1)

EVENT_CASES = [
    ("held-meeting-is-touch", event(BOB_OK), AFTER, ("00Q1",)),
    ("needs-action-still-counts", event(Attendee("bob@customer.example")), AFTER, ("00Q1",)),
    ("before-it-happened-scheduled", event(BOB_OK), START + timedelta(minutes=30), SkipReason.SCHEDULED),
    ("lead-declined", event(Attendee("bob@customer.example", PartStat.DECLINED)), AFTER, SkipReason.DECLINED),
    (
        "one-declined-one-attended",
        event(
            Attendee("bob@customer.example", PartStat.DECLINED), Attendee("carol@customer.example", PartStat.ACCEPTED)
        ),
        AFTER,
        ("00Q2",),
    ),
    (
        "rep-declined",
        event(BOB_OK, Attendee(ANA, PartStat.DECLINED), organizer="bob@customer.example"),
        AFTER,
        SkipReason.DECLINED,
    ),
    ("cancelled", event(BOB_OK, status=EventStatus.CANCELLED), AFTER, SkipReason.CANCELLED),
    ("internal-only-meeting", event(Attendee(BEN, PartStat.ACCEPTED)), AFTER, SkipReason.INTERNAL_ONLY),
    ("lead-organized", event(Attendee(ANA, PartStat.ACCEPTED), organizer="bob@customer.example"), AFTER, ("00Q1",)),
    (
        "never-log-attendee-only",
        event(Attendee("erin@lawfirm.example", PartStat.ACCEPTED)),
        AFTER,
        SkipReason.NEVER_LOG,
    ),
]


@pytest.mark.parametrize(("item", "now", "expected"), [c[1:] for c in EVENT_CASES], ids=[c[0] for c in EVENT_CASES])
def test_meeting_rules(item: CapturedEvent, now: datetime, expected: object) -> None:
    """Meetings count once held, per attending lead; cancelled, declined and future ones do not."""
    outcome = match_event(item, LEADS, REPS, OPTIONS, now)
    if isinstance(expected, SkipReason):
        assert outcome.skipped is expected
        assert outcome.matches == ()
    else:
        assert outcome.skipped is None
        assert tuple(m.activity.lead_id for m in outcome.matches) == expected
        first = outcome.matches[0]
        assert (first.activity.channel, first.activity.direction) == (Channel.MEETING, Direction.OUTBOUND)
        assert first.activity.duration_minutes == 45
        assert first.log.duration_minutes == 45
        assert first.activity.owner_id == "005ANA"
        assert first.activity.occurred_at == START


def test_scheduled_meeting_names_its_leads() -> None:
    """A meeting not yet held reports the leads it is scheduled with, without an activity."""
    outcome = match_event(event(BOB_OK), LEADS, REPS, OPTIONS, START)
    assert (outcome.skipped, outcome.lead_ids) == (SkipReason.SCHEDULED, ("00Q1",))
