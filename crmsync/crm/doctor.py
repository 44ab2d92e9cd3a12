"""``crmsync doctor`` and ``crmsync setup`` for one connection: what is wrong, and how to fix it.

:func:`diagnose` authenticates, checks that the fields/properties crmsync reads and writes exist (Salesforce
describe, HubSpot properties API), that the holding owner the policy names exists, and reports the API
budget left. Each :class:`Finding` says what was checked and, for a problem, what to do.

:func:`setup_hubspot` creates the custom properties crmsync needs in a portal (idempotent: existing ones are
left alone); :func:`salesforce_field_metadata` is the metadata XML an admin deploys for Salesforce.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crmsync.crm.hubspot import HubSpotCrm
from crmsync.crm.salesforce import SalesforceCrm
from crmsync.errors import CrmsyncError
from crmsync.outbox.model import Priority

LEAD_WRITES = ("owner", "status", "crmsync_status", "sla_due", "reassignment_count", "disposition")
HS_ACTIVITY_OBJECTS = ("emails", "meetings", "calls", "tasks")


@dataclass(frozen=True, slots=True)
class Finding:
    """One check: ``ok`` or a problem with the fix."""

    check: str
    ok: bool
    detail: str
    fix: str = ""


def diagnose(crm: SalesforceCrm | HubSpotCrm, holding_owner: str | None) -> list[Finding]:
    """Every check for one connection; stops after a failed login (nothing else can be checked)."""
    try:
        owners = [o for page in crm.pull_owners() for o in page.records]
    except CrmsyncError as err:
        return [Finding("authenticate", False, str(err), "check the connection's credentials and login URL")]
    findings = [Finding("authenticate", True, f"{len(owners)} owners readable")]
    findings += _field_findings(crm)
    findings.append(_holding(owners, holding_owner))
    findings.append(_budget(crm))
    return findings


def _field_findings(crm: SalesforceCrm | HubSpotCrm) -> list[Finding]:
    fields = crm.field_map
    wanted = {fields.crm(name) for name in LEAD_WRITES} | {fields.crm("score")}
    lead_object = "Lead" if isinstance(crm, SalesforceCrm) else "contacts"
    try:
        present = crm.field_names(lead_object)
    except CrmsyncError as err:
        return [Finding("permissions", False, f"cannot describe {lead_object}: {err}", "grant the integration user "
                        "read access to the object's metadata")]  # fmt: skip
    if isinstance(crm, SalesforceCrm):  # Salesforce API names are case-insensitive
        present = {name.lower() for name in present}
        missing = sorted(w for w in wanted if w.lower() not in present)
    else:
        missing = sorted(wanted - present)
    out = [_missing(lead_object, missing, crm)]
    if isinstance(crm, SalesforceCrm):
        out.append(_writable(crm, {fields.crm(name) for name in LEAD_WRITES} - set(missing)))
    activity_objects = ("Task", "Event") if isinstance(crm, SalesforceCrm) else HS_ACTIVITY_OBJECTS
    key = fields.crm("activity_key")
    for obj in activity_objects:
        try:
            names = crm.field_names(obj)
            has = key.lower() in {n.lower() for n in names} if isinstance(crm, SalesforceCrm) else key in names
        except CrmsyncError as err:
            out.append(Finding(f"fields {obj}", False, str(err), "grant access to the object"))
            continue
        out.append(_missing(obj, [] if has else [key], crm))
    return out


def _writable(crm: SalesforceCrm, names: set[str]) -> Finding:
    """Salesforce: the Lead fields crmsync writes must be updateable by the integration user."""
    info = {str(f.get("name", "")).lower(): f for f in crm.describe("Lead").get("fields") or []}
    locked = sorted(n for n in names if n.lower() in info and info[n.lower()].get("updateable") is False)
    if not locked:
        return Finding("permissions Lead", True, "every field crmsync writes is updateable")
    return Finding("permissions Lead", False, f"not updateable: {', '.join(locked)}",
                   "give the integration user Edit field-level security on these fields")  # fmt: skip


def _missing(obj: str, missing: list[str], crm: SalesforceCrm | HubSpotCrm) -> Finding:
    if not missing:
        return Finding(f"fields {obj}", True, "every field crmsync uses exists")
    fix = (
        "deploy the fields printed by `crmsync setup` and grant field-level security to the integration user"
        if isinstance(crm, SalesforceCrm)
        else "run `crmsync setup` to create the missing properties"
    )
    return Finding(f"fields {obj}", False, f"missing: {', '.join(missing)}", fix)


def _holding(owners: list[Any], holding: str | None) -> Finding:
    if not holding:
        return Finding("holding owner", True, "no holding owner named (nothing to check)")
    kind, _, name = holding.partition(":")
    if kind == "queue":
        found = any(o.kind.value == "queue" and o.name == name for o in owners)
    elif kind == "user":
        found = any((o.email or "").lower() == name.lower() for o in owners)
    else:
        found = any(o.owner_id == holding for o in owners)
    if found:
        return Finding("holding owner", True, f"{holding} exists")
    return Finding("holding owner", False, f"{holding} not found among {len(owners)} owners",
                   "create it in the CRM (a Lead queue in Salesforce, a QUEUE owner or user in HubSpot) or fix "
                   "qualification.holding_owner in the policy")  # fmt: skip


def _budget(crm: SalesforceCrm | HubSpotCrm) -> Finding:
    budget = crm.budget()
    if budget.used is None or not budget.limit:
        return Finding("api budget", True, f"{budget.calls_made} calls made; the CRM did not report its quota")
    left = budget.limit - budget.used
    detail = f"{budget.used}/{budget.limit} used today, {left} left"
    if not crm.allow(Priority.SLA):
        return Finding("api budget", False, detail, "wait for the quota to reset, or raise budget.stop_at")
    return Finding("api budget", True, detail)


# -- setup ----------------------------------------------------------------------------------------------
def hubspot_properties(fields: Mapping[str, str], reasons: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(object type, PropertyCreate body) of every custom property crmsync needs in HubSpot."""

    def prop(name: str, label: str, kind: str, field_type: str, group: str, **extra: Any) -> dict[str, Any]:
        return {"name": name, "label": label, "type": kind, "fieldType": field_type, "groupName": group, **extra}

    get = fields.get
    out = [
        ("contacts", prop(get("crmsync_status", "crmsync_status"), "crmsync status", "string", "text",
                          "contactinformation")),
        ("contacts", prop(get("sla_due", "crmsync_sla_due"), "crmsync SLA due", "datetime", "date",
                          "contactinformation")),
        ("contacts", prop(get("reassignment_count", "crmsync_reassignments"), "crmsync reassignments", "number",
                          "number", "contactinformation")),
    ]  # fmt: skip
    disposition = get("disposition", "disposition_reason")
    if reasons:
        options = [{"label": r, "value": r, "displayOrder": i} for i, r in enumerate(reasons)]
        out.append(("contacts", prop(disposition, "Disposition reason", "enumeration", "select", "contactinformation",
                                     options=options)))  # fmt: skip
    else:
        out.append(("contacts", prop(disposition, "Disposition reason", "string", "text", "contactinformation")))
    key = get("activity_key", "crmsync_external_id")
    for obj in HS_ACTIVITY_OBJECTS:
        group = f"{obj[:-1]}information"
        out.append((obj, prop(key, "crmsync key", "string", "text", group, hasUniqueValue=True)))
    return out


SF_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("Lead", "Crmsync_Status__c", "<type>Text</type><length>255</length>"),
    ("Lead", "Crmsync_SLA_Due__c", "<type>DateTime</type>"),
    ("Lead", "Crmsync_Reassignments__c", "<type>Number</type><precision>4</precision><scale>0</scale>"),
    ("Lead", "Disposition_Reason__c", "<type>Text</type><length>255</length>"),
    ("Task", "Crmsync_External_Id__c", "<type>Text</type><length>255</length><externalId>true</externalId>"
                                       "<unique>true</unique><caseSensitive>true</caseSensitive>"),
    ("Event", "Crmsync_External_Id__c", "<type>Text</type><length>255</length><externalId>true</externalId>"
                                        "<unique>true</unique><caseSensitive>true</caseSensitive>"),
)  # fmt: skip


def salesforce_field_metadata(fields: Mapping[str, str]) -> str:
    """CustomField metadata (one ``objects/<Object>/fields/<Field>.field-meta.xml`` each) to deploy with sfdx."""
    rename = {"Crmsync_Status__c": "crmsync_status", "Crmsync_SLA_Due__c": "sla_due",
              "Crmsync_Reassignments__c": "reassignment_count", "Disposition_Reason__c": "disposition",
              "Crmsync_External_Id__c": "activity_key"}  # fmt: skip
    parts = []
    for obj, default, body in SF_FIELDS:
        name = fields.get(rename[default], default)
        parts.append(
            f"<!-- force-app/main/default/objects/{obj}/fields/{name}.field-meta.xml -->\n"
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">\n'
            f"    <fullName>{name}</fullName>\n    <label>{name.removesuffix('__c').replace('_', ' ')}</label>\n"
            f"    {body}\n</CustomField>\n"
        )
    return "\n".join(parts)


def setup_hubspot(crm: HubSpotCrm, reasons: list[str]) -> list[str]:
    """Create the missing custom properties; return ``object.name`` of each one created."""
    created = []
    for obj, body in hubspot_properties(crm.field_map.names, reasons):
        if crm.create_property(obj, body):
            created.append(f"{obj}.{body['name']}")
    return created
