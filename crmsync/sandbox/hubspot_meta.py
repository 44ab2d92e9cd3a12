"""HubSpot owners, associations v4 and properties endpoints over the sandbox org.

- ``GET /crm/v3/owners/`` (``email``, ``limit`` ≤ 500, ``after``, ``archived``: deactivated owners only) and
  ``GET /crm/v3/owners/{id}`` (``idProperty=id|userId``): PublicOwner with ``type`` PERSON or QUEUE.
- ``GET /crm/v4/objects/{from}/{id}/associations/{to}`` (paged),
  ``POST /crm/v4/associations/{from}/{to}/batch/read`` (≤ 100 ids; ids without links are 207 errors),
  ``GET /crm/v4/associations/{from}/{to}/labels`` (the default type id, to check once per portal), and
  ``PUT …/associations/default/{to}/{toId}``, ``PUT …/associations/{to}/{toId}``, ``DELETE`` the same.
- ``GET /crm/v3/properties/{type}``, ``GET …/{name}``, ``POST /crm/v3/properties/{type}`` (custom property;
  409 OBJECT_ALREADY_EXISTS for a taken name).

Object types are accepted as plural names, singular names or HubSpot's type ids (``0-1`` contacts, ``0-49``
emails, ``0-48`` calls, ``0-47`` meetings, ``0-46`` notes, ``0-27`` tasks).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crmsync.sandbox.hubspot_wire import batch_error, batch_response, fail, int_arg, iso, paging, request_json
from crmsync.sandbox.org import Org, Record
from crmsync.sandbox.schema import HS_ASSOCIATION_TYPES, FieldDef
from crmsync.sandbox.server import Request, Response, Router, json_response

TYPE_NAMES = {
    "contacts": "contacts", "contact": "contacts", "0-1": "contacts",
    "emails": "emails", "email": "emails", "0-49": "emails",
    "calls": "calls", "call": "calls", "0-48": "calls",
    "meetings": "meetings", "meeting": "meetings", "0-47": "meetings",
    "notes": "notes", "note": "notes", "0-46": "notes",
    "tasks": "tasks", "task": "tasks", "0-27": "tasks",
}  # fmt: skip
TYPE_IDS = {"contacts": "0-1", "emails": "0-49", "calls": "0-48", "meetings": "0-47", "notes": "0-46", "tasks": "0-27"}
PROPERTY_TYPES = {"string", "number", "date", "datetime", "enumeration", "bool"}
FIELD_TYPES = {"textarea", "text", "date", "file", "number", "select", "radio", "checkbox", "booleancheckbox",
               "calculation_equation"}  # fmt: skip
MAX_OWNERS_PAGE, MAX_ASSOC_PAGE, MAX_ASSOC_BATCH = 500, 500, 100


class MetaApi:
    """Owners, associations and properties of one portal."""

    def __init__(self, org: Org, created: datetime) -> None:
        self.org = org
        self.created = created
        self.property_times: dict[tuple[str, str], datetime] = {}

    def register(self, router: Router) -> None:
        """Add the owners, associations v4 and properties routes."""
        router.add("GET", r"/crm/v3/owners/?", "hs.owners.list", self.owners)
        router.add("GET", r"/crm/v3/owners/(?P<id>[^/]+)/?", "hs.owners.get", self.owner)
        router.add("GET", r"/crm/v4/objects/(?P<from>[^/]+)/(?P<id>[^/]+)/associations/(?P<to>[^/]+)/?",
                   "hs.associations.list", self.associations)  # fmt: skip
        one = r"/crm/v4/objects/(?P<from>[^/]+)/(?P<id>[^/]+)/associations"
        router.add(
            "PUT", one + r"/default/(?P<to>[^/]+)/(?P<toid>[^/]+)/?", "hs.associations.default", self.associate_default
        )
        router.add("PUT", one + r"/(?P<to>[^/]+)/(?P<toid>[^/]+)/?", "hs.associations.create", self.associate)
        router.add("DELETE", one + r"/(?P<to>[^/]+)/(?P<toid>[^/]+)/?", "hs.associations.archive", self.dissociate)
        router.add("GET", r"/crm/v4/associations/(?P<from>[^/]+)/(?P<to>[^/]+)/labels/?", "hs.associations.labels",
                   self.labels)  # fmt: skip
        router.add("POST", r"/crm/v4/associations/(?P<from>[^/]+)/(?P<to>[^/]+)/batch/read/?",
                   "hs.associations.batch.read", self.associations_batch)  # fmt: skip
        router.add("GET", r"/crm/v3/properties/(?P<type>[^/]+)/?", "hs.properties.list", self.properties)
        router.add("GET", r"/crm/v3/properties/(?P<type>[^/]+)/(?P<name>[^/]+)/?", "hs.properties.get", self.prop)
        router.add("POST", r"/crm/v3/properties/(?P<type>[^/]+)/?", "hs.properties.create", self.create_property)

    # -- owners -------------------------------------------------------------------------------------------
    @staticmethod
    def owner_json(rec: Record) -> dict[str, Any]:
        """A PublicOwner."""
        user_id = rec.get("userId")
        return {
            "id": str(rec["hs_object_id"]),
            "email": rec.get("email"),
            "firstName": rec.get("firstName"),
            "lastName": rec.get("lastName"),
            "userId": int(user_id) if user_id is not None else None,
            "userIdIncludingInactive": int(user_id) if user_id is not None else None,
            "createdAt": iso(rec.get("createdate")),
            "updatedAt": iso(rec.get("lastmodifieddate") or rec.get("createdate")),
            "archived": rec.get("archivedAt") is not None,
            "teams": [],
            "type": rec.get("type") or "PERSON",
        }

    def owners(self, req: Request) -> Response:
        """A page of owners in id order; ``archived=true`` lists only deactivated ones."""
        archived = (req.arg("archived") or "false").lower() == "true"
        limit = min(max(int_arg(req, "limit", 100), 1), MAX_OWNERS_PAGE)
        after = int_arg(req, "after", 0)
        email = (req.arg("email") or "").lower()
        rows = [
            r for r in self.org.rows("owners", include_deleted=True) if (r.get("archivedAt") is not None) == archived
        ]
        if email:
            rows = [r for r in rows if str(r.get("email") or "").lower() == email]
        rows = sorted((r for r in rows if int(r["hs_object_id"]) >= after), key=lambda r: int(r["hs_object_id"]))
        page, rest = rows[:limit], rows[limit : limit + 1]
        body = {"results": [self.owner_json(r) for r in page], **paging(str(rest[0]["hs_object_id"]) if rest else None)}
        return json_response(200, body)

    def owner(self, req: Request) -> Response:
        """One owner by ``id`` (default) or ``userId``; 404 when unknown."""
        ident, by = req.params["id"], req.arg("idProperty") or "id"
        archived = (req.arg("archived") or "false").lower() == "true"
        if by == "userId":
            found = [r for r in self.org.rows("owners", include_deleted=True) if str(r.get("userId")) == ident]
            rec = found[0] if found else None
        else:
            rec = self.org.get("owners", ident, include_deleted=True)
        if rec is None or (rec.get("archivedAt") is not None) != archived:
            raise fail(404, "OBJECT_NOT_FOUND", f"Owner {ident} not found")
        return json_response(200, self.owner_json(rec))

    # -- associations v4 ----------------------------------------------------------------------------------
    def _pair(self, req: Request) -> tuple[str, str]:
        from_obj, to_obj = TYPE_NAMES.get(req.params["from"]), TYPE_NAMES.get(req.params["to"])
        if from_obj is None or to_obj is None:
            bad = req.params["from"] if from_obj is None else req.params["to"]
            raise fail(400, "VALIDATION_ERROR", f"Unable to infer object type from: {bad}")
        return from_obj, to_obj

    def _links(self, from_obj: str, record_id: str, to_obj: str) -> list[dict[str, Any]]:
        """MultiAssociatedObjectWithLabel rows: toObjectId and its association types."""
        grouped: dict[str, list[int]] = {}
        for to_id, type_id in self.org.associations(from_obj, record_id, to_obj):
            grouped.setdefault(to_id, []).append(type_id)
        return [
            {
                "toObjectId": int(to_id),
                "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": t, "label": None} for t in types],
            }
            for to_id, types in grouped.items()
        ]

    def associations(self, req: Request) -> Response:
        """A page (``limit`` ≤ 500, ``after``) of one record's associations to ``to``."""
        from_obj, to_obj = self._pair(req)
        if self.org.get(from_obj, req.params["id"]) is None:
            raise fail(404, "OBJECT_NOT_FOUND", f"{from_obj} {req.params['id']} not found")
        links = self._links(from_obj, req.params["id"], to_obj)
        limit = min(max(int_arg(req, "limit", MAX_ASSOC_PAGE), 1), MAX_ASSOC_PAGE)
        start = int_arg(req, "after", 0)
        page = links[start : start + limit]
        nxt = str(start + limit) if start + limit < len(links) else None
        return json_response(200, {"results": page, **paging(nxt)})

    def associations_batch(self, req: Request) -> Response:
        """Links of up to 100 ids; ids with none are reported as 207 errors (NO_ASSOCIATIONS_FOUND)."""
        from_obj, to_obj = self._pair(req)
        body = request_json(req)
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list) or len(inputs) > MAX_ASSOC_BATCH:
            raise fail(400, "VALIDATION_ERROR", f"'inputs' must be a list of at most {MAX_ASSOC_BATCH} ids")
        results, errors = [], []
        for item in inputs:
            ident = str(item.get("id")) if isinstance(item, dict) else ""
            links = self._links(from_obj, ident, to_obj)
            if links:
                results.append({"from": {"id": ident}, "to": links})
            else:
                message = f"No {to_obj[:-1]} is associated with {from_obj[:-1]} {ident}."
                errors.append(batch_error("OBJECT_NOT_FOUND", message, {"fromObjectId": [ident]},
                                          sub_category="crm.associations.NO_ASSOCIATIONS_FOUND"))  # fmt: skip
        return batch_response(200, results, errors, req.now, req.now)

    def labels(self, req: Request) -> Response:
        """The association types between two object types (the HUBSPOT_DEFINED default, unlabelled)."""
        from_obj, to_obj = self._pair(req)
        type_id = HS_ASSOCIATION_TYPES.get((from_obj, to_obj))
        results = [] if type_id is None else [{"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}]
        return json_response(200, {"results": results})

    def _endpoints(self, req: Request) -> tuple[str, str, str, str, int]:
        """(from type, from id, to type, to id, default type id) of a per-record association request; 404
        when a record is missing, 400 when the pair has no association type."""
        from_obj, to_obj = self._pair(req)
        from_id, to_id = req.params["id"], req.params["toid"]
        type_id = HS_ASSOCIATION_TYPES.get((from_obj, to_obj))
        if type_id is None:
            raise fail(400, "VALIDATION_ERROR", f"No association type is defined from {from_obj} to {to_obj}")
        for obj, ident in ((from_obj, from_id), (to_obj, to_id)):
            if self.org.get(obj, ident) is None:
                raise fail(404, "OBJECT_NOT_FOUND", f"{obj} {ident} not found")
        return from_obj, from_id, to_obj, to_id, type_id

    def associate_default(self, req: Request) -> Response:
        """Link two records with the default type (both directions); 200 with the pair of default specs."""
        from_obj, from_id, to_obj, to_id, type_id = self._endpoints(req)
        reverse = HS_ASSOCIATION_TYPES[(to_obj, from_obj)]
        self.org.associate(from_obj, from_id, to_obj, to_id, type_id, reverse)
        spec = {"associationCategory": "HUBSPOT_DEFINED"}
        results = [
            {"from": {"id": from_id}, "to": {"id": to_id}, "associationSpec": {**spec, "associationTypeId": type_id}},
            {"from": {"id": to_id}, "to": {"id": from_id}, "associationSpec": {**spec, "associationTypeId": reverse}},
        ]
        return batch_response(200, results, [], req.now, req.now)

    def associate(self, req: Request) -> Response:
        """Link two records with the given HUBSPOT_DEFINED type ids; 201 LabelsBetweenObjectPair."""
        from_obj, from_id, to_obj, to_id, type_id = self._endpoints(req)
        body = request_json(req)
        specs = body if isinstance(body, list) else None
        wanted = {int(s.get("associationTypeId", -1)) for s in specs or [] if isinstance(s, dict)}
        if not specs or wanted != {type_id}:
            raise fail(400, "VALIDATION_ERROR", f"The only association type from {from_obj} to {to_obj} is {type_id}")
        self.org.associate(from_obj, from_id, to_obj, to_id, type_id, HS_ASSOCIATION_TYPES[(to_obj, from_obj)])
        body = {"fromObjectTypeId": TYPE_IDS[from_obj], "fromObjectId": from_id, "toObjectTypeId": TYPE_IDS[to_obj],
                "toObjectId": to_id, "labels": []}  # fmt: skip
        return json_response(201, body)

    def dissociate(self, req: Request) -> Response:
        """Remove every link between two records; 204."""
        from_obj, from_id, to_obj, to_id, _ = self._endpoints(req)
        self.org.dissociate(from_obj, from_id, to_obj, to_id)
        return Response(204)

    # -- properties ---------------------------------------------------------------------------------------
    def _type(self, req: Request) -> str:
        obj = TYPE_NAMES.get(req.params["type"])
        if obj is None or not self.org.has(obj):
            raise fail(400, "VALIDATION_ERROR", f"Unable to infer object type from: {req.params['type']}")
        return obj

    def property_json(self, obj: str, fdef: FieldDef, order: int) -> dict[str, Any]:
        """A Property with every field the client's model requires."""
        created = self.property_times.get((obj, fdef.name), self.created)
        options = [{"label": o, "value": o, "displayOrder": i, "hidden": False} for i, o in enumerate(fdef.options)]
        return {
            "name": fdef.name, "label": fdef.label or fdef.name, "type": fdef.type,
            "fieldType": fdef.field_type or "text", "description": "", "groupName": fdef.group or "contactinformation",
            "options": options, "displayOrder": order, "calculated": False, "externalOptions": False,
            "hasUniqueValue": fdef.unique, "hidden": False, "hubspotDefined": not fdef.custom,
            "modificationMetadata": {"archivable": fdef.custom, "readOnlyDefinition": not fdef.custom,
                                     "readOnlyValue": not fdef.updateable},
            "formField": fdef.custom, "archived": False, "createdAt": iso(created), "updatedAt": iso(created),
        }  # fmt: skip

    def _visible(self, obj: str) -> list[FieldDef]:
        return [f for f in self.org.schema(obj).fields.values() if not f.hidden]

    def properties(self, req: Request) -> Response:
        """Every property of the object type (``archived=true``: none, the sandbox archives no properties)."""
        obj = self._type(req)
        if (req.arg("archived") or "false").lower() == "true":
            return json_response(200, {"results": []})
        return json_response(
            200, {"results": [self.property_json(obj, f, i) for i, f in enumerate(self._visible(obj))]}
        )

    def prop(self, req: Request) -> Response:
        """One property; 404 when the object type has none by that name."""
        obj = self._type(req)
        visible = self._visible(obj)
        for i, fdef in enumerate(visible):
            if fdef.name == req.params["name"]:
                return json_response(200, self.property_json(obj, fdef, i))
        raise fail(404, "OBJECT_NOT_FOUND", f"Unable to find property {req.params['name']} on {obj}")

    def create_property(self, req: Request) -> Response:
        """201 with the new custom property; 400 for a bad definition; 409 when the name is taken."""
        obj = self._type(req)
        body = request_json(req)
        if not isinstance(body, dict):
            raise fail(400, "VALIDATION_ERROR", "Invalid input JSON: the body must be a property definition")
        fdef = _property_def(body)
        schema = self.org.schema(obj)
        with self.org.lock:
            if fdef.name in schema.fields:
                raise fail(409, "OBJECT_ALREADY_EXISTS", f"A property named '{fdef.name}' already exists.")
            schema.add_field(fdef)
            self.property_times[(obj, fdef.name)] = req.now
        return json_response(201, self.property_json(obj, fdef, len(self._visible(obj)) - 1))


def _property_def(body: dict[str, Any]) -> FieldDef:
    """A FieldDef from a PropertyCreate body; 400 listing what is missing or invalid."""
    problems = [
        f"'{key}' is required" for key in ("name", "label", "type", "fieldType", "groupName") if not body.get(key)
    ]
    if body.get("type") and body["type"] not in PROPERTY_TYPES:
        problems.append(f"type must be one of {sorted(PROPERTY_TYPES)}")
    if body.get("fieldType") and body["fieldType"] not in FIELD_TYPES:
        problems.append(f"fieldType must be one of {sorted(FIELD_TYPES)}")
    options = tuple(str(o.get("value")) for o in body.get("options") or [] if isinstance(o, dict))
    if body.get("type") == "enumeration" and not options:
        problems.append("an enumeration property needs options")
    if problems:
        errors = [{"message": p, "code": "INVALID_PROPERTY_DEFINITION"} for p in problems]
        raise fail(400, "VALIDATION_ERROR", "Invalid property definition: " + "; ".join(problems), errors=errors)
    return FieldDef(
        name=str(body["name"]), type=str(body["type"]), label=str(body["label"]), custom=True, options=options,
        unique=bool(body.get("hasUniqueValue")), field_type=str(body["fieldType"]), group=str(body["groupName"]),
    )  # fmt: skip
