"""From the simulation's vendor-neutral people and touches to each vendor's records.

The simulation speaks of reps, queues, leads (:class:`Person`), touches (:class:`Touch`) and lead stages
(:class:`Stage`). A :class:`VendorWriter` turns them into records of one :class:`~crmsync.sandbox.org.Org`:

=================  ===========================================  ============================================
neutral            Salesforce                                   HubSpot
=================  ===========================================  ============================================
rep                User (Username, Email, Name, IsActive, TZ)   owners (type PERSON; departed = archived)
holding queue      Group (Type Queue)                           owners (type QUEUE)
lead               Lead (Status, LeadSource, Lead_Score__c)     contacts (hs_lead_status, lifecyclestage,
                                                                hubspotscore, hs_analytics_source)
call / email       Task (TaskSubtype Call / Email, Completed)   calls / emails + association 194 / 198
meeting            Event (StartDateTime, DurationInMinutes)     meetings + association 200
stage working      Status "Working - Contacted"                 hs_lead_status ATTEMPTED_TO_CONTACT
stage replied      (unchanged)                                  hs_lead_status CONNECTED
stage converted    IsConverted, Status "Closed - Converted"      lifecyclestage opportunity, OPEN_DEAL
stage closed       Status "Closed - Not Converted" + reason     hs_lead_status UNQUALIFIED + reason
=================  ===========================================  ============================================

Every write passes ``now`` so history can be back-dated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from crmsync.domain.model import Vendor
from crmsync.sandbox.org import Org
from crmsync.sandbox.schema import HS_ASSOCIATION_TYPES

SOURCES = ("demo_request", "webinar", "trade_show", "partner", "content")
_SF_SOURCE = {"demo_request": "Demo Request", "webinar": "Webinar", "trade_show": "Trade Show",
              "partner": "Partner Referral", "content": "Content"}  # fmt: skip
_HS_SOURCE = {"demo_request": "DIRECT_TRAFFIC", "webinar": "EMAIL_MARKETING", "trade_show": "OFFLINE",
              "partner": "REFERRALS", "content": "ORGANIC_SEARCH"}  # fmt: skip
_BUCKETS = ((5, "1-5"), (25, "5-25"), (50, "25-50"), (100, "50-100"), (500, "100-500"), (1000, "500-1000"))


class Stage(StrEnum):
    """Where a lead stands in the simulated funnel."""

    WORKING = "working"
    REPLIED = "replied"
    CONVERTED = "converted"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Rep:
    """A simulated sales rep (``key`` is stable across runs: rep1, rep2, …)."""

    key: str
    first: str
    last: str
    email: str
    timezone: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class Person:
    """A simulated inbound lead; ``source`` is one of :data:`SOURCES`, ``score`` 0–100."""

    first: str
    last: str
    email: str
    company: str
    employees: int
    title: str
    source: str
    score: int
    mql: bool


@dataclass(frozen=True, slots=True)
class Touch:
    """A rep's touch: ``channel`` call/email/meeting, when, how long, subject, and a capture key."""

    channel: str
    at: datetime
    subject: str
    minutes: int = 0
    external_id: str | None = None


class VendorWriter(Protocol):
    """Writes the neutral simulation into one vendor's org."""

    org: Org
    lead_obj: str
    owner_field: str

    def add_rep(self, rep: Rep, now: datetime) -> str:
        """Create the rep as a user/owner; return its id."""

    def add_queue(self, name: str, now: datetime) -> str:
        """Create a holding queue; return its id."""

    def deactivate_rep(self, rep_id: str, now: datetime) -> None:
        """The rep left: deactivate the user (HubSpot: archive the owner)."""

    def add_lead(self, person: Person, owner_id: str, now: datetime) -> str:
        """Create the lead owned by ``owner_id``; return its id."""

    def log_touch(self, lead_id: str, owner_id: str, touch: Touch) -> str:
        """Record the touch on the lead (at ``touch.at``); return the activity id."""

    def set_stage(self, lead_id: str, stage: Stage, now: datetime, reason: str | None = None) -> None:
        """Move the lead to ``stage`` (closing ones carry a disposition ``reason``)."""

    def is_open(self, lead_id: str) -> bool:
        """Whether the lead is live and neither converted nor closed in the org (whoever changed it)."""


class SalesforceWriter:
    """Neutral → Salesforce Lead/User/Group/Task/Event."""

    lead_obj = "Lead"
    owner_field = "OwnerId"

    def __init__(self, org: Org) -> None:
        assert org.vendor is Vendor.SALESFORCE
        self.org = org

    def add_rep(self, rep: Rep, now: datetime) -> str:
        fields = {"Username": rep.email, "Email": rep.email, "FirstName": rep.first, "LastName": rep.last,
                  "Name": f"{rep.first} {rep.last}", "IsActive": rep.active, "TimeZoneSidKey": rep.timezone,
                  "UserType": "Standard"}  # fmt: skip
        return self.org.insert("User", fields, now=now)

    def deactivate_rep(self, rep_id: str, now: datetime) -> None:
        self.org.patch("User", rep_id, {"IsActive": False}, now=now)

    def add_queue(self, name: str, now: datetime) -> str:
        dev = name.replace(" ", "_")
        return self.org.insert("Group", {"Name": name, "DeveloperName": dev, "Type": "Queue"}, now=now)

    def add_lead(self, person: Person, owner_id: str, now: datetime) -> str:
        fields = {"FirstName": person.first, "LastName": person.last, "Email": person.email,
                  "Company": person.company, "NumberOfEmployees": person.employees, "Title": person.title,
                  "LeadSource": _SF_SOURCE[person.source], "Status": "Open - Not Contacted",
                  "Lead_Score__c": float(person.score), "OwnerId": owner_id, "IsConverted": False}  # fmt: skip
        return self.org.insert("Lead", fields, now=now)

    def log_touch(self, lead_id: str, owner_id: str, touch: Touch) -> str:
        at = touch.at
        common = {"WhoId": lead_id, "OwnerId": owner_id, "Subject": touch.subject,
                  "Crmsync_External_Id__c": touch.external_id}  # fmt: skip
        if touch.channel == "meeting":
            end = at + timedelta(minutes=touch.minutes)
            fields: dict[str, Any] = {**common, "StartDateTime": at, "EndDateTime": end,
                      "DurationInMinutes": touch.minutes, "ActivityDateTime": at, "ActivityDate": at.date(),
                      "IsAllDayEvent": False, "Type": "Meeting", "EventSubtype": "Event"}  # fmt: skip
            rid = self.org.insert("Event", fields, now=at)
        else:
            call = touch.channel == "call"
            fields = {**common, "Status": "Completed", "Priority": "Normal", "IsClosed": True,
                      "ActivityDate": at.date(), "TaskSubtype": "Call" if call else "Email",
                      "Type": "Call" if call else "Email"}  # fmt: skip
            if call:
                fields.update(CallDurationInSeconds=touch.minutes * 60, CallType="Outbound")
            rid = self.org.insert("Task", fields, now=at)
        self.org.patch("Lead", lead_id, {"LastActivityDate": at.date()}, now=at, system=True)
        return rid

    def set_stage(self, lead_id: str, stage: Stage, now: datetime, reason: str | None = None) -> None:
        if stage is Stage.WORKING:
            fields: dict[str, Any] = {"Status": "Working - Contacted"}
        elif stage is Stage.CONVERTED:
            fields = {"Status": "Closed - Converted", "IsConverted": True, "ConvertedDate": now.date()}
        elif stage is Stage.CLOSED:
            fields = {"Status": "Closed - Not Converted", "Disposition_Reason__c": reason or "No Response"}
        else:
            return
        self.org.patch("Lead", lead_id, fields, now=now)

    def is_open(self, lead_id: str) -> bool:
        org = self.org
        if lead_id not in org.tables["Lead"] or org.is_deleted("Lead", lead_id):
            return False
        status = str(org.value("Lead", lead_id, "Status"))
        return not org.value("Lead", lead_id, "IsConverted") and status.startswith(("Open", "Working"))


class HubSpotWriter:
    """Neutral → HubSpot contacts/owners/calls/emails/meetings with associations."""

    lead_obj = "contacts"
    owner_field = "hubspot_owner_id"

    def __init__(self, org: Org) -> None:
        assert org.vendor is Vendor.HUBSPOT
        self.org = org
        self._user_ids = 7_000_000

    def _owner(self, email: str, first: str, last: str, kind: str, timezone: str, now: datetime) -> str:
        self._user_ids += 1
        fields = {"email": email, "firstName": first, "lastName": last, "userId": self._user_ids, "type": kind,
                  "timezone": timezone}  # fmt: skip
        return self.org.insert("owners", fields, now=now)

    def add_rep(self, rep: Rep, now: datetime) -> str:
        oid = self._owner(rep.email, rep.first, rep.last, "PERSON", rep.timezone, now)
        if not rep.active:
            self.org.delete("owners", oid, now=now)
        return oid

    def deactivate_rep(self, rep_id: str, now: datetime) -> None:
        self.org.delete("owners", rep_id, now=now)

    def add_queue(self, name: str, now: datetime) -> str:
        email = f"{name.lower().replace(' ', '-')}@queues.crmsync.sandbox"
        return self._owner(email, name, "Queue", "QUEUE", "UTC", now)

    def add_lead(self, person: Person, owner_id: str, now: datetime) -> str:
        bucket = next((label for top, label in _BUCKETS if person.employees < top), "1000+")
        fields = {"email": person.email, "firstname": person.first, "lastname": person.last,
                  "company": person.company, "numemployees": bucket, "jobtitle": person.title,
                  "hs_lead_status": "NEW", "hubspotscore": person.score, "hubspot_owner_id": owner_id,
                  "lifecyclestage": "marketingqualifiedlead" if person.mql else "lead",
                  "hs_analytics_source": _HS_SOURCE[person.source]}  # fmt: skip
        return self.org.insert("contacts", fields, now=now)

    def log_touch(self, lead_id: str, owner_id: str, touch: Touch) -> str:
        at = touch.at
        common: dict[str, Any] = {"hs_timestamp": at, "hubspot_owner_id": owner_id}
        if self.org.schema("calls").lookup("crmsync_external_id") is not None:
            common["crmsync_external_id"] = touch.external_id
        if touch.channel == "meeting":
            obj, fields = "meetings", {"hs_meeting_title": touch.subject, "hs_meeting_start_time": at,
                                       "hs_meeting_end_time": at + timedelta(minutes=touch.minutes),
                                       "hs_meeting_outcome": "COMPLETED"}  # fmt: skip
        elif touch.channel == "call":
            obj, fields = (
                "calls",
                {
                    "hs_call_title": touch.subject,
                    "hs_call_direction": "OUTBOUND",
                    "hs_call_duration": touch.minutes * 60_000,
                    "hs_call_status": "COMPLETED",
                },
            )
        else:
            obj, fields = "emails", {"hs_email_subject": touch.subject, "hs_email_direction": "EMAIL",
                                     "hs_email_status": "SENT"}  # fmt: skip
        rid = self.org.insert(obj, {**common, **fields}, now=at)
        self.org.associate(obj, rid, "contacts", lead_id, HS_ASSOCIATION_TYPES[(obj, "contacts")],
                           HS_ASSOCIATION_TYPES[("contacts", obj)])  # fmt: skip
        return rid

    def set_stage(self, lead_id: str, stage: Stage, now: datetime, reason: str | None = None) -> None:
        fields: dict[str, Any] = {
            Stage.WORKING: {"hs_lead_status": "ATTEMPTED_TO_CONTACT"},
            Stage.REPLIED: {"hs_lead_status": "CONNECTED"},
            Stage.CONVERTED: {"hs_lead_status": "OPEN_DEAL", "lifecyclestage": "opportunity"},
            Stage.CLOSED: {"hs_lead_status": "UNQUALIFIED"},
        }[stage]
        if stage is Stage.CLOSED and self.org.schema("contacts").lookup("disposition_reason") is not None:
            fields["disposition_reason"] = reason or "No Response"
        self.org.patch("contacts", lead_id, fields, now=now)

    def is_open(self, lead_id: str) -> bool:
        org = self.org
        if lead_id not in org.tables["contacts"] or org.is_deleted("contacts", lead_id):
            return False
        return org.value("contacts", lead_id, "hs_lead_status") not in ("OPEN_DEAL", "UNQUALIFIED")


def writer_for(org: Org) -> VendorWriter:
    """The writer for ``org``'s vendor."""
    if org.vendor is Vendor.SALESFORCE:
        return SalesforceWriter(org)
    return HubSpotWriter(org)
