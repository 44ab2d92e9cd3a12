"""Salesforce metadata answers: versions, resources, describeGlobal, describe, limits.

Shapes follow the REST API Developer Guide pages ``resources_versions``, ``resources_discoveryresource``,
``resources_describeGlobal``, ``resources_sobject_describe`` and ``resources_limits``; describe carries the
fields an adapter reads (``name type label length custom updateable createable nillable picklistValues
referenceTo relationshipName externalId idLookup unique``) plus the usual flags.
"""

from __future__ import annotations

from typing import Any

from crmsync.sandbox.schema import FieldDef, ObjectSchema
from crmsync.sandbox.server import Request, Response
from crmsync.sandbox.sf_read import SfState, sf_json, version

VERSIONS = ("55.0", "56.0", "57.0", "58.0", "59.0", "60.0", "61.0", "62.0")
_LABELS = {"55.0": "Summer '22", "56.0": "Winter '23", "57.0": "Spring '23", "58.0": "Summer '23",
           "59.0": "Winter '24", "60.0": "Spring '24", "61.0": "Summer '24", "62.0": "Winter '25"}  # fmt: skip
_SOAP = {"id": "tns:ID", "boolean": "xsd:boolean", "int": "xsd:int", "double": "xsd:double",
         "datetime": "xsd:dateTime", "date": "xsd:date", "reference": "tns:ID"}  # fmt: skip


def versions(req: Request) -> Response:
    """``GET /services/data/``: the API versions this org serves."""
    return sf_json(200, [{"label": _LABELS[v], "url": f"/services/data/v{v}", "version": v} for v in VERSIONS])


def resources(req: Request) -> Response:
    """``GET /services/data/vNN.0/``: the resources available under that version."""
    base = f"/services/data/v{version(req)}"
    names = ("sobjects", "query", "queryAll", "limits", "composite")
    return sf_json(200, {name: f"{base}/{name}" for name in names})


def _urls(schema: ObjectSchema, ver: str) -> dict[str, str]:
    base = f"/services/data/v{ver}/sobjects/{schema.name}"
    return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}


def _summary(schema: ObjectSchema, ver: str) -> dict[str, Any]:
    writable = schema.name not in ("LeadStatus",)
    return {
        "name": schema.name, "label": schema.label, "labelPlural": f"{schema.label}s",
        "keyPrefix": schema.id_prefix, "custom": False, "createable": writable, "updateable": writable,
        "deletable": writable, "queryable": True, "retrieveable": True, "searchable": True,
        "replicateable": True, "triggerable": True, "layoutable": True, "urls": _urls(schema, ver),
    }  # fmt: skip


def describe_global(state: SfState, req: Request) -> Response:
    """``GET sobjects/``: every object of the org."""
    ver = version(req)
    sobjects = [_summary(t.schema, ver) for t in state.org.tables.values()]
    return sf_json(200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects})


def sobject_basic(state: SfState, req: Request) -> Response:
    """``GET sobjects/X/``: the object's summary and recent items."""
    schema = state.sobject(req.params["obj"])
    return sf_json(200, {"objectDescribe": _summary(schema, version(req)), "recentItems": []})


def _field(fdef: FieldDef) -> dict[str, Any]:
    picklist = [
        {"active": True, "defaultValue": i == 0 and fdef.name == "Status", "label": v, "validFor": None, "value": v}
        for i, v in enumerate(fdef.options)
    ]
    numeric = fdef.type in ("int", "double")
    return {
        "name": fdef.name, "label": fdef.label, "type": fdef.type, "length": fdef.length,
        "custom": fdef.custom, "updateable": fdef.updateable, "createable": fdef.createable,
        "nillable": fdef.nillable, "picklistValues": picklist, "restrictedPicklist": bool(fdef.options),
        "referenceTo": list(fdef.reference_to), "relationshipName": fdef.relationship,
        "externalId": fdef.external_id, "idLookup": fdef.external_id or fdef.type == "id",
        "unique": fdef.unique, "soapType": _SOAP.get(fdef.type, "xsd:string"), "filterable": True,
        "sortable": fdef.type != "textarea", "groupable": fdef.type not in ("textarea", "double", "datetime"),
        "calculated": False, "defaultedOnCreate": fdef.name in ("Id", "OwnerId", "IsDeleted", "Status"),
        "precision": 18 if fdef.type == "double" else 0, "scale": 2 if fdef.type == "double" else 0,
        "digits": 9 if fdef.type == "int" else 0, "byteLength": fdef.length * 3, "autoNumber": False,
        "caseSensitive": False, "dependentPicklist": False, "htmlFormatted": False, "nameField": False,
        "permissionable": fdef.custom or numeric,
    }  # fmt: skip


def describe(state: SfState, req: Request) -> Response:
    """``GET sobjects/X/describe/``: the object with every field, custom fields included."""
    schema = state.sobject(req.params["obj"])
    body = _summary(schema, version(req))
    fields = [_field(f) for f in schema.fields.values()]
    body.update({"fields": fields, "childRelationships": [], "recordTypeInfos": [], "supportedScopes": []})
    return sf_json(200, body)


def limits(state: SfState, req: Request) -> Response:
    """``GET limits/``: the org's limits, DailyApiRequests from the sandbox's own accounting."""
    used = state.stats.used_today(req.now)

    def entry(cap: int, spent: int = 0) -> dict[str, int]:
        return {"Max": cap, "Remaining": max(cap - spent, 0)}

    return sf_json(
        200,
        {
            "ConcurrentAsyncGetReportInstances": entry(200),
            "DailyApiRequests": entry(state.daily_quota, used),
            "DailyAsyncApexExecutions": entry(250000),
            "DailyBulkApiBatches": entry(15000),
            "DailyBulkV2QueryFileStorageMB": entry(976562),
            "DailyBulkV2QueryJobs": entry(10000),
            "DataStorageMB": entry(1024),
            "FileStorageMB": entry(1024),
            "HourlyTimeBasedWorkflow": entry(1000),
            "SingleEmail": entry(5000),
        },
    )
