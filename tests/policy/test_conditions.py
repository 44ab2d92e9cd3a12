"""The condition language: operators, string numbers, missing fields, the field mapping, compile-time checks."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from crmsync.policy.conditions import Condition, compile_condition

ADAPTER: TypeAdapter[Any] = TypeAdapter(Condition)
MAPPING = {"score": "Lead_Score__c", "size": "NumberOfEmployees"}

CASES: list[tuple[str, dict[str, Any], dict[str, object], bool]] = [
    ("eq string", {"field": "LeadSource", "eq": "Demo Request"}, {"LeadSource": "Demo Request"}, True),
    ("eq is case-sensitive", {"field": "LeadSource", "eq": "Demo Request"}, {"LeadSource": "demo request"}, False),
    ("eq number vs string number", {"field": "score", "eq": 60}, {"Lead_Score__c": "60.0"}, True),
    ("eq bool vs HubSpot string", {"field": "hs_flag", "eq": True}, {"hs_flag": "true"}, True),
    ("ne", {"field": "Status", "ne": "Open"}, {"Status": "Working"}, True),
    ("ne on missing is false", {"field": "Status", "ne": "Open"}, {}, False),
    ("in", {"field": "LeadSource", "in": ["Web", "Demo Request"]}, {"LeadSource": "Web"}, True),
    ("in with numbers", {"field": "score", "in": [1, 2]}, {"Lead_Score__c": "2"}, True),
    ("not_in", {"field": "LeadSource", "not_in": ["Web"]}, {"LeadSource": "Partner"}, True),
    ("not_in on missing is false", {"field": "LeadSource", "not_in": ["Web"]}, {}, False),
    ("gte string number", {"field": "score", "gte": 60}, {"Lead_Score__c": "60"}, True),
    ("gte numeric not lexical", {"field": "score", "gte": 60}, {"Lead_Score__c": "100"}, True),
    ("gt below", {"field": "score", "gt": 60}, {"Lead_Score__c": 60}, False),
    ("lt", {"field": "size", "lt": 50}, {"NumberOfEmployees": 49}, True),
    ("lte with thousands separator", {"field": "size", "lte": 5000}, {"NumberOfEmployees": "5,000"}, True),
    ("range on one field", {"field": "score", "gte": 40, "lt": 60}, {"Lead_Score__c": "50"}, True),
    ("range outside", {"field": "score", "gte": 40, "lt": 60}, {"Lead_Score__c": "60"}, False),
    ("gte on non-number is false", {"field": "score", "gte": 60}, {"Lead_Score__c": "high"}, False),
    ("gte on string dates", {"field": "CreatedDate", "gte": "2026-01-01"}, {"CreatedDate": "2026-02-01T10:00Z"}, True),
    ("contains substring, any case", {"field": "Title", "contains": "vp"}, {"Title": "VP of Sales"}, True),
    ("contains list element", {"field": "tags", "contains": "hot"}, {"tags": ["cold", "hot"]}, True),
    ("exists", {"field": "Email", "exists": True}, {"Email": "x@y.test"}, True),
    ("exists on empty string", {"field": "Email", "exists": True}, {"Email": "  "}, False),
    ("exists false on missing", {"field": "Email", "exists": False}, {}, True),
    ("exists false on present", {"field": "Email", "exists": False}, {"Email": "x@y.test"}, False),
    ("matches", {"field": "Title", "matches": r"(?i)\b(vp|chief)\b"}, {"Title": "Chief of Staff"}, True),
    ("matches no", {"field": "Title", "matches": r"(?i)\b(vp|chief)\b"}, {"Title": "Engineer"}, False),
    ("missing field is false", {"field": "score", "gte": 0}, {}, False),
    ("None is missing", {"field": "score", "gte": 0}, {"Lead_Score__c": None}, False),
    ("raw CRM name without mapping", {"field": "Lead_Score__c", "gte": 1}, {"Lead_Score__c": "5"}, True),
    ("all", {"all": [{"field": "a", "eq": 1}, {"field": "b", "eq": 2}]}, {"a": "1", "b": "2"}, True),
    ("all, one false", {"all": [{"field": "a", "eq": 1}, {"field": "b", "eq": 2}]}, {"a": "1"}, False),
    ("empty all is true", {"all": []}, {}, True),
    ("any", {"any": [{"field": "a", "eq": 1}, {"field": "b", "eq": 2}]}, {"b": 2}, True),
    ("empty any is false", {"any": []}, {}, False),
    ("not", {"not": {"field": "a", "eq": 1}}, {"a": 2}, True),
    ("not of missing is true", {"not": {"field": "a", "eq": 1}}, {}, True),
]


@pytest.mark.parametrize(("condition", "fields", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_condition(condition: dict[str, Any], fields: dict[str, object], expected: bool) -> None:
    """Each operator gives the documented answer, with string numbers and missing fields handled."""
    predicate = compile_condition(ADAPTER.validate_python(condition), MAPPING)
    assert predicate(fields) is expected


def test_none_is_always_true() -> None:
    """No condition matches every lead."""
    assert compile_condition(None)({}) is True


def test_description_names_crm_fields() -> None:
    """A compiled condition describes itself with the CRM field names, for explain."""
    predicate = compile_condition(ADAPTER.validate_python({"not": {"field": "score", "gte": 60}}), MAPPING)
    assert str(predicate) == "not (Lead_Score__c gte 60.0)"


INVALID = [
    ("bad regex", {"field": "Title", "matches": "(vp"}, "invalid regular expression '(vp'"),
    ("no operator", {"field": "Title"}, "give an operator for field 'Title'"),
    ("no kind", {"eq": 1}, "a condition is a mapping with one of: field, all, any, not"),
    ("unknown operator", {"field": "a", "equals": 1}, "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("condition", "message"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_conditions(condition: dict[str, Any], message: str) -> None:
    """Malformed conditions are rejected when the policy is validated, not when a lead is tested."""
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        ADAPTER.validate_python(condition)
