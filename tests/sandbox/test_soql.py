"""Table tests for the sandbox's SOQL subset: the queries crmsync and common tools send, and the errors for the rest.

Semantics pinned against Salesforce's SOQL reference (developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta):
comparison operators, quoted-string escapes, date formats and date literals, ORDER BY NULLS FIRST default,
OFFSET ≤ 2000, relationship queries (polymorphic keys report the ``Name`` entity).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.sandbox.soql import Related, SoqlError, execute, format_value, invalid_type, parse

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
LEAD_FIELDS = {
    "Id": "id",
    "OwnerId": "reference",
    "Email": "email",
    "Status": "picklist",
    "LeadSource": "picklist",
    "Company": "string",
    "NumberOfEmployees": "int",
    "IsConverted": "boolean",
    "ConvertedDate": "date",
    "SystemModstamp": "datetime",
    "CreatedDate": "datetime",
    "Crmsync_Status__c": "string",
}
USERS = {
    "005000000000001AAA": {
        "Id": "005000000000001AAA",
        "Name": "Ann Diligent",
        "Email": "ann@org.example",
        "IsActive": True,
        "Type": "User",
    },
    "005000000000002AAA": {
        "Id": "005000000000002AAA",
        "Name": "Bob Picky",
        "Email": "bob@org.example",
        "IsActive": False,
        "Type": "User",
    },
    "00G000000000001AAA": {"Id": "00G000000000001AAA", "Name": "Holding", "Email": None, "Type": "Queue"},
}


def _lead(n: int, owner: str, modstamp: datetime, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "Id": f"00Q{n:015d}",
        "OwnerId": owner,
        "Email": f"lead{n}@prospect.example",
        "Status": "Open",
        "LeadSource": "Webinar",
        "Company": f"Company {n}",
        "NumberOfEmployees": n * 100,
        "IsConverted": False,
        "ConvertedDate": None,
        "SystemModstamp": modstamp,
        "CreatedDate": datetime(2026, 1, 1, tzinfo=UTC),
        "Crmsync_Status__c": None,
    }
    row.update(extra)
    return row


LEADS = [
    _lead(1, "005000000000001AAA", datetime(2026, 3, 1, 9, 0, tzinfo=UTC), Status="Working", Company="Acme"),
    _lead(2, "00G000000000001AAA", datetime(2026, 3, 1, 9, 0, tzinfo=UTC), LeadSource=None),
    _lead(3, "005000000000002AAA", datetime(2026, 3, 2, 13, 55, tzinfo=UTC), Email="o'brien@prospect.example"),
    _lead(
        4,
        "005000000000001AAA",
        datetime(2026, 3, 2, 13, 56, tzinfo=UTC),
        IsConverted=True,
        ConvertedDate=date(2026, 3, 2),
    ),
    _lead(
        5, "00G000000000001AAA", datetime(2026, 2, 1, 0, 0, tzinfo=UTC), Company="acme corp", Crmsync_Status__c="hidden"
    ),
]


def _resolve(relationship: str, row: Mapping[str, object]) -> Related | None:
    """Owner → User or Queue (polymorphic, like Lead.Owner in a real org)."""
    assert relationship == "Owner"
    owner = USERS.get(str(row.get("OwnerId")))
    return None if owner is None else Related("User" if owner["Type"] == "User" else "Group", owner, True)


def _run(text: str, rows: list[dict[str, object]] | None = None) -> list[dict[str, object]]:
    result = execute(
        parse(text), LEADS if rows is None else rows, sobject="Lead", now=NOW, fields=LEAD_FIELDS, resolve=_resolve
    )
    return result.records()


def _ids(records: list[dict[str, object]]) -> list[int]:
    return [int(str(r["Id"])[3:]) for r in records]


SELECTION_CASES = [
    (
        "SELECT Id, OwnerId, Owner.Type, Email, Status, LeadSource, SystemModstamp FROM Lead "
        "WHERE SystemModstamp > 2026-03-01T00:00:00Z AND SystemModstamp <= 2026-03-02T13:55:00Z "
        "ORDER BY SystemModstamp, Id",
        [1, 2, 3],
    ),
    ("SELECT Id FROM Lead WHERE SystemModstamp >= 2026-03-01T09:00:00+00:00 ORDER BY Id", [1, 2, 3, 4]),
    ("SELECT Id FROM Lead WHERE SystemModstamp > 2026-03-01T09:59:59+01:00 ORDER BY Id", [1, 2, 3, 4]),
    ("SELECT Id FROM Lead WHERE SystemModstamp < 2026-03-02T13:55:00.001Z ORDER BY Id", [1, 2, 3, 5]),
    ("SELECT Id, OwnerId FROM Lead WHERE Id IN ('00Q000000000000001', '00Q000000000000004')", [1, 4]),
    ("SELECT Id FROM Lead WHERE Id NOT IN ('00Q000000000000001', '00Q000000000000004')", [2, 3, 5]),
    ("SELECT Id FROM Lead WHERE Id = '00Q000000000000'", [1, 2, 3, 4, 5]),
    ("SELECT Id FROM Lead WHERE OwnerId = '005000000000001'", [1, 4]),
    ("SELECT Id FROM Lead WHERE OwnerId = '005000000000001aaa'", [1, 4]),
    ("SELECT Id FROM Lead WHERE OwnerId != '00G000000000001AAA'", [1, 3, 4]),
    ("SELECT Id FROM Lead WHERE Owner.Type = 'Queue'", [2, 5]),
    ("SELECT Id FROM Lead WHERE Owner.Type != 'Queue' AND Status = 'Open'", [3, 4]),
    ("SELECT Id FROM Lead WHERE Status = 'working'", [1]),
    ("SELECT Id FROM Lead WHERE Status <> 'Open'", [1]),
    ("SELECT Id FROM Lead WHERE LeadSource = null", [2]),
    ("SELECT Id FROM Lead WHERE LeadSource != null", [1, 3, 4, 5]),
    ("SELECT Id FROM Lead WHERE LeadSource != 'Webinar'", [2]),
    ("SELECT Id FROM Lead WHERE IsConverted = true", [4]),
    ("SELECT Id FROM Lead WHERE IsConverted = FALSE AND NumberOfEmployees >= 300", [3, 5]),
    ("SELECT Id FROM Lead WHERE NumberOfEmployees < 250.5", [1, 2]),
    ("SELECT Id FROM Lead WHERE Company LIKE 'acme%'", [1, 5]),
    ("SELECT Id FROM Lead WHERE Company LIKE 'Company _'", [2, 3, 4]),
    ("SELECT Id FROM Lead WHERE Email LIKE '%o\\'brien%'", [3]),
    ("SELECT Id FROM Lead WHERE Email = 'o\\'brien@prospect.example'", [3]),
    ("SELECT Id FROM Lead WHERE NOT Status = 'Open'", [1]),
    ("SELECT Id FROM Lead WHERE (Status = 'Working' OR IsConverted = true) AND OwnerId = '005000000000001AAA'", [1, 4]),
    ("SELECT Id FROM Lead WHERE Status = 'Working' OR (IsConverted = true AND OwnerId = '005000000000002AAA')", [1]),
    ("SELECT Id FROM Lead WHERE NOT (Owner.Type = 'Queue' OR Status = 'Working')", [3, 4]),
    ("SELECT Id FROM Lead WHERE ConvertedDate = 2026-03-02", [4]),
    ("SELECT Id FROM Lead WHERE ConvertedDate = TODAY", [4]),
    ("SELECT Id FROM Lead WHERE SystemModstamp = TODAY ORDER BY Id", [3, 4]),
    ("SELECT Id FROM Lead WHERE SystemModstamp = YESTERDAY", [1, 2]),
    ("SELECT Id FROM Lead WHERE SystemModstamp < LAST_N_DAYS:1", [5]),
    ("SELECT Id FROM Lead WHERE SystemModstamp = LAST_N_DAYS:7 ORDER BY Id", [1, 2, 3, 4]),
    ("SELECT Id FROM Lead WHERE SystemModstamp = LAST_N_DAYS:29 ORDER BY Id", [1, 2, 3, 4, 5]),
    ("SELECT Id FROM Lead WHERE SystemModstamp = N_DAYS_AGO:1", [1, 2]),
    ("SELECT Id FROM Lead WHERE SystemModstamp > TODAY", []),
    ("SELECT Id FROM Lead WHERE SystemModstamp = NEXT_N_DAYS:3", []),
    ("SELECT Id FROM Lead WHERE Crmsync_Status__c = 'HIDDEN'", [5]),
    ("select id from lead where systemmodstamp >= 2026-03-02T00:00:00Z order by ID desc", [4, 3]),
    ("SELECT Id FROM Lead ORDER BY SystemModstamp DESC, Id ASC LIMIT 3", [4, 3, 1]),
    ("SELECT Id FROM Lead ORDER BY SystemModstamp, Id LIMIT 2 OFFSET 1", [1, 2]),
    ("SELECT Id FROM Lead ORDER BY LeadSource, Id", [2, 1, 3, 4, 5]),
    ("SELECT Id FROM Lead ORDER BY LeadSource NULLS LAST, Id", [1, 3, 4, 5, 2]),
    ("SELECT Id FROM Lead ORDER BY LeadSource DESC NULLS LAST, Id DESC", [5, 4, 3, 1, 2]),
    ("SELECT Id FROM Lead ORDER BY Company", [1, 5, 2, 3, 4]),
    ("SELECT Id FROM Lead ORDER BY Owner.Name, Id", [1, 4, 3, 2, 5]),
    ("SELECT Id FROM Lead LIMIT 0", []),
]


@pytest.mark.parametrize(
    ("text", "expected"), SELECTION_CASES, ids=[f"select-{n:02d}" for n in range(len(SELECTION_CASES))]
)
def test_query_selects_and_orders_the_expected_rows(text: str, expected: list[int]) -> None:
    """Each query returns exactly the expected leads, in order when it has ORDER BY (else as a set)."""
    got = _ids(_run(text))
    if "ORDER BY" in text.upper():
        assert got == expected
    else:
        assert sorted(got) == expected


def test_records_have_the_documented_shape_with_nested_polymorphic_owner() -> None:
    """Records carry attributes{type,url} first, fields in SELECT order, and Owner as the Name entity."""
    records = _run(
        "SELECT Id, Owner.Type, OwnerId, Owner.Email, SystemModstamp, ConvertedDate FROM Lead "
        "WHERE Id = '00Q000000000000004'"
    )
    assert records == [
        {
            "attributes": {"type": "Lead", "url": "/services/data/v59.0/sobjects/Lead/00Q000000000000004"},
            "Id": "00Q000000000000004",
            "Owner": {
                "attributes": {"type": "Name", "url": "/services/data/v59.0/sobjects/User/005000000000001AAA"},
                "Type": "User",
                "Email": "ann@org.example",
            },
            "OwnerId": "005000000000001AAA",
            "SystemModstamp": "2026-03-02T13:56:00.000+0000",
            "ConvertedDate": "2026-03-02",
        }
    ]
    assert list(records[0]) == ["attributes", "Id", "Owner", "OwnerId", "SystemModstamp", "ConvertedDate"]


def test_field_names_are_canonicalised_in_the_output() -> None:
    """A lower-case field list comes back under the object's canonical field and relationship names."""
    records = _run("select id, owner.type, systemmodstamp from lead where id = '00Q000000000000002'")
    assert list(records[0]) == ["attributes", "Id", "Owner", "SystemModstamp"]
    assert records[0]["Owner"] == {
        "attributes": {"type": "Name", "url": "/services/data/v59.0/sobjects/Group/00G000000000001AAA"},
        "Type": "Queue",
    }


def test_empty_lookup_renders_the_relationship_as_null() -> None:
    """A lead whose OwnerId points nowhere gets ``"Owner": null``, as Salesforce returns for an empty lookup."""
    rows = [_lead(9, "", NOW)]
    assert _run("SELECT Id, Owner.Name FROM Lead", rows)[0]["Owner"] is None


def test_count_returns_the_size_and_no_records() -> None:
    """SELECT COUNT() gives totalSize = matching rows and an empty record list."""
    result = execute(
        parse("SELECT COUNT() FROM Lead WHERE Owner.Type = 'User'"),
        LEADS,
        sobject="Lead",
        now=NOW,
        fields=LEAD_FIELDS,
        resolve=_resolve,
    )
    assert (result.total_size, result.records()) == (3, [])


def test_other_objects_tasks_by_who_and_users_and_queues() -> None:
    """Task/User/Group queries crmsync sends work with schemas given as plain field lists, with polymorphic Who."""
    tasks = [
        {"Id": "00T1", "WhoId": "00Q000000000000001", "Subject": "Call", "SystemModstamp": NOW, "TaskSubtype": "Call"},
        {"Id": "00T2", "WhoId": None, "Subject": "Email", "SystemModstamp": NOW, "TaskSubtype": "Email"},
    ]
    leads = {str(lead["Id"]): lead for lead in LEADS}

    def who(relationship: str, row: Mapping[str, object]) -> Related | None:
        lead = leads.get(str(row.get("WhoId")))
        return None if lead is None else Related("Lead", {**lead, "Type": "Lead"}, True)

    query = parse(
        "SELECT Id, WhoId, Who.Type, Subject, TaskSubtype FROM Task WHERE WhoId IN ('00Q000000000000001') "
        "AND SystemModstamp >= 2026-03-02T00:00:00Z ORDER BY SystemModstamp, Id"
    )
    out = execute(query, tasks, sobject="Task", now=NOW, fields=list(tasks[0]), resolve=who).records()
    assert [r["Id"] for r in out] == ["00T1"]
    assert out[0]["Who"] == {
        "attributes": {"type": "Name", "url": "/services/data/v59.0/sobjects/Lead/00Q000000000000001"},
        "Type": "Lead",
    }
    users = [dict(u) for u in USERS.values() if u["Type"] == "User"]
    user_q = parse("SELECT Id, Name, Email, IsActive FROM User WHERE IsActive = true")
    assert [r["Name"] for r in execute(user_q, users, sobject="User", now=NOW).records()] == ["Ann Diligent"]
    groups = [
        {"Id": "00G000000000001AAA", "Name": "Holding", "Type": "Queue"},
        {"Id": "00G000000000002AAA", "Name": "Roles", "Type": "Role"},
    ]
    group_q = parse("SELECT Id, Name FROM Group WHERE Type = 'Queue'")
    assert execute(group_q, groups, sobject="Group", now=NOW).records()[0]["Name"] == "Holding"


def _error(text: str) -> SoqlError:
    with pytest.raises(SoqlError) as info:
        execute(parse(text), LEADS, sobject="Lead", now=NOW, fields=LEAD_FIELDS, resolve=_resolve)
    return info.value


ERROR_CASES = [
    (
        "SELECT Id FROM Lead GROUP BY Id",
        "MALFORMED_QUERY",
        21,
        "unexpected token: 'GROUP' (expected WHERE, ORDER BY, LIMIT, OFFSET, end of query; "
        "GROUP BY is not supported by the crmsync sandbox)",
    ),
    ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY", 26, "unexpected token: <EOF> (expected a field name, NOT or '(')"),
    (
        "SELECT Id, (SELECT Id FROM Tasks) FROM Lead",
        "MALFORMED_QUERY",
        12,
        "unexpected token: '(' (relationship subqueries are not supported)",
    ),
    (
        "SELECT TYPEOF Owner WHEN User THEN Name END FROM Lead",
        "MALFORMED_QUERY",
        8,
        "unexpected token: 'TYPEOF' (expected a field name; TYPEOF is not supported by the crmsync sandbox)",
    ),
    (
        "SELECT COUNT(Id) FROM Lead",
        "MALFORMED_QUERY",
        14,
        "unexpected token: 'Id' (expected ')' (only COUNT() is supported, not COUNT(field)))",
    ),
    (
        "SELECT MAX(SystemModstamp) FROM Lead",
        "MALFORMED_QUERY",
        8,
        "unexpected token: '(' (function MAX() is not supported)",
    ),
    (
        "SELECT Id FROM Lead WHERE Id IN (SELECT WhoId FROM Task)",
        "MALFORMED_QUERY",
        34,
        "unexpected token: 'SELECT' (semi-join subqueries are not supported)",
    ),
    (
        "SELECT Id FROM Lead WHERE Email = :email",
        "MALFORMED_QUERY",
        35,
        "unexpected token: ':' (bind variables are not supported)",
    ),
    (
        "SELECT Id FROM Lead WHERE Status = 'Open' AND IsConverted = false OR OwnerId = '005000000000001AAA'",
        "MALFORMED_QUERY",
        67,
        "unexpected token: 'OR' (expected AND or ')' (use parentheses to mix AND and OR))",
    ),
    (
        'SELECT Id FROM Lead WHERE Email = "x@y"',
        "MALFORMED_QUERY",
        35,
        "unexpected token: '\"' (string literals take single quotes)",
    ),
    ("SELECT Id FROM Lead WHERE Email = 'x", "MALFORMED_QUERY", 35, "unexpected token: unterminated string literal"),
    (
        "SELECT Id FROM Lead WHERE Email = 'a\\qb'",
        "MALFORMED_QUERY",
        37,
        "Invalid string literal: illegal escape sequence '\\q'",
    ),
    (
        "SELECT Id FROM Lead WHERE SystemModstamp > 2026-03-01T00:00:00",
        "MALFORMED_QUERY",
        44,
        "line 1:43 no viable alternative at character '2026-03-01T00:00:00': a datetime needs seconds and a zone, "
        "as in 2026-03-02T14:00:00Z or 2026-03-02T14:00:00+00:00",
    ),
    (
        "SELECT Id FROM Lead WHERE Status = 'Open' FOR UPDATE",
        "MALFORMED_QUERY",
        43,
        "unexpected token: 'FOR' (expected ORDER BY, LIMIT, OFFSET, end of query; "
        "FOR VIEW/UPDATE/REFERENCE is not supported by the crmsync sandbox)",
    ),
    (
        "SELECT Id FROM Lead ORDER BY Id NULLS",
        "MALFORMED_QUERY",
        38,
        "unexpected token: <EOF> (expected FIRST or LAST)",
    ),
    (
        "SELECT Id FROM Lead LIMIT -1",
        "MALFORMED_QUERY",
        27,
        "unexpected token: '-1' (expected a non-negative integer after LIMIT)",
    ),
    ("SELECT Id, id FROM Lead", "MALFORMED_QUERY", 12, "duplicate field selected: id"),
    (
        "SELECT Id FROM Lead WHERE Status INCLUDES ('a')",
        "MALFORMED_QUERY",
        34,
        "unexpected token: 'INCLUDES' (expected =, !=, <>, <, <=, >, >=, LIKE, IN or NOT IN; "
        "INCLUDES is not supported by the crmsync sandbox)",
    ),
    ("SELECT Id FROM Lead OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE", 28, "Maximum SOQL offset allowed is 2000"),
    ("SELECT Id FROM Lead WHERE OwnerId IN ('1001')", "INVALID_QUERY_FILTER_OPERATOR", 39, "invalid ID field: 1001"),
    (
        "SELECT Id FROM Lead WHERE SystemModstamp > '2026-03-01T00:00:00Z'",
        "INVALID_FIELD",
        44,
        "value of filter criterion for field 'SystemModstamp' must be of type dateTime and "
        "should not be enclosed in quotes",
    ),
    (
        "SELECT Id FROM Lead WHERE IsConverted = 'false'",
        "INVALID_FIELD",
        41,
        "value of filter criterion for field 'IsConverted' must be of type boolean and "
        "should not be enclosed in quotes",
    ),
    (
        "SELECT Id FROM Lead WHERE Email = 5",
        "INVALID_FIELD",
        35,
        "value of filter criterion for field 'Email' must be of type string and should be enclosed in quotes",
    ),
    (
        "SELECT Id FROM Lead WHERE NumberOfEmployees > '5'",
        "INVALID_FIELD",
        47,
        "value of filter criterion for field 'NumberOfEmployees' must be of type double and "
        "should not be enclosed in quotes",
    ),
    (
        "SELECT Id, SystemModestamp FROM Lead",
        "INVALID_FIELD",
        12,
        "No such column 'SystemModestamp' on entity 'Lead'. If you are attempting to use a custom field, be sure to "
        "append the '__c' after the custom field name. Please reference your WSDL or the describe call for the "
        "appropriate names.",
    ),
    (
        "SELECT Id, Manager.Name FROM Lead",
        "INVALID_FIELD",
        12,
        "Didn't understand relationship 'Manager' in field path. If you are attempting to use a custom relationship, "
        "be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe "
        "call for the appropriate names.",
    ),
    (
        "SELECT Id, Owner.Manager.Name FROM Lead",
        "INVALID_FIELD",
        12,
        "relationship path 'Owner.Manager.Name' is deeper than the one level the crmsync sandbox supports",
    ),
]


@pytest.mark.parametrize(
    ("text", "code", "column", "detail"), ERROR_CASES, ids=[f"error-{n:02d}" for n in range(len(ERROR_CASES))]
)
def test_unsupported_or_invalid_query_gets_a_located_salesforce_error(
    text: str, code: str, column: int, detail: str
) -> None:
    """Each bad query raises SoqlError with Salesforce's errorCode, the column, and what was expected there."""
    err = _error(text)
    assert (err.error_code, err.column, err.detail) == (code, column, detail)
    assert err.message == f"\n{text}\n{' ' * (column - 1)}^\nERROR at Row:1:Column:{column}\n{detail}"


def test_error_position_counts_rows_in_multi_line_queries() -> None:
    """A query split over lines reports the row and column of the bad token and quotes only that line."""
    err = _error("SELECT Id\nFROM Lead\nWHERE Status == 'x'")
    assert (err.row, err.column) == (3, 15)
    assert err.message.startswith("\nWHERE Status == 'x'\n              ^\nERROR at Row:3:Column:15\n")


def test_unknown_object_error_is_invalid_type() -> None:
    """invalid_type() gives the INVALID_TYPE error Salesforce returns for a FROM object the org lacks."""
    err = invalid_type(parse("SELECT Id FROM Leed"))
    assert (err.error_code, err.column) == ("INVALID_TYPE", 16)
    assert err.detail.startswith("sObject type 'Leed' is not supported.")


def test_string_escapes_decode_as_documented() -> None:
    """Quoted-string escapes (\\n \\t \\' \\\\ \\uXXXX) decode to the characters Salesforce documents."""
    rows = [_lead(7, "005000000000001AAA", NOW, Company="a\nb\t'c'\\ é")]
    assert _ids(_run("SELECT Id FROM Lead WHERE Company = 'a\\nb\\t\\'c\\'\\\\ \\u00e9'", rows)) == [7]


def test_like_escapes_match_percent_and_underscore_literally() -> None:
    """In LIKE, \\% and \\_ match a literal percent and underscore, while bare % and _ stay wildcards."""
    rows = [
        _lead(1, "005000000000001AAA", NOW, Company="50% off"),
        _lead(2, "005000000000001AAA", NOW, Company="50 percent off"),
    ]
    assert _ids(_run("SELECT Id FROM Lead WHERE Company LIKE '50\\%%'", rows)) == [1]
    assert _ids(_run("SELECT Id FROM Lead WHERE Company LIKE '50_ off'", rows)) == [1]


def test_iso_string_values_compare_as_datetimes() -> None:
    """Rows holding Salesforce-formatted datetime strings compare with datetime literals by instant."""
    rows = [_lead(1, "005000000000001AAA", NOW, SystemModstamp="2026-03-02T13:00:00.000+0000")]
    assert _ids(_run("SELECT Id FROM Lead WHERE SystemModstamp < 2026-03-02T14:00:00+01:00", rows)) == []
    assert _ids(_run("SELECT Id FROM Lead WHERE SystemModstamp < 2026-03-02T14:00:01+01:00", rows)) == [1]


def test_format_value_writes_salesforce_datetimes() -> None:
    """Datetimes render as UTC with milliseconds and +0000, dates as ISO, other values unchanged."""
    berlin = datetime.fromisoformat("2026-03-02T15:00:00.123456+01:00")
    assert format_value(berlin) == "2026-03-02T14:00:00.123+0000"
    assert (format_value(date(2026, 3, 2)), format_value(7), format_value(None)) == ("2026-03-02", 7, None)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="SELECTFROMWHERELIMIT IdLead'()=<>!,.:0123456789-TZ%_\\\nabc", max_size=60))
def test_parse_raises_only_soql_error(text: str) -> None:
    """Whatever text arrives, parse either returns a Query or raises SoqlError (never another exception)."""
    try:
        outcome = parse(text).sobject
    except SoqlError as err:
        outcome = err.error_code
    assert isinstance(outcome, str)
    assert outcome not in ("INVALID_FIELD", "INVALID_TYPE")


def test_queries_built_by_simple_salesforce_format_soql_run() -> None:
    """format_soql's quoting (aware datetimes as +00:00, lists as IN tuples, escaped quotes) is accepted."""
    from simple_salesforce import format_soql

    text = format_soql(
        "SELECT Id FROM Lead WHERE SystemModstamp >= {} AND Id IN {} AND Email != {}",
        datetime(2026, 3, 1, tzinfo=UTC),
        ["00Q000000000000001", "00Q000000000000003", "00Q000000000000005"],
        "o'brien@prospect.example",
    )
    assert _ids(_run(text)) == [1]


TOOL_QUERIES = [
    (
        "airbyte-window",
        "SELECT Id,SystemModstamp FROM Lead WHERE SystemModstamp >= 2026-03-01T00:00:00.000+00:00 AND "
        "SystemModstamp < 2026-03-02T13:56:00.000+00:00 ORDER BY SystemModstamp ASC LIMIT 2000",
        [1, 2, 3],
    ),
    (
        "singer-bookmark",
        "SELECT Id, SystemModstamp FROM Lead WHERE SystemModstamp >= 2026-03-02T13:55:00.000000Z "
        "ORDER BY SystemModstamp ASC",
        [3, 4],
    ),
    ("workbench-limit", "SELECT Id FROM Lead LIMIT 2", [1, 2]),
    (
        "mixed-with-parentheses",
        "SELECT Id FROM Lead WHERE IsConverted = false AND (LeadSource = 'Webinar' OR LeadSource = null) "
        "AND Owner.Type = 'Queue'",
        [2, 5],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [q[1:] for q in TOOL_QUERIES], ids=[q[0] for q in TOOL_QUERIES])
def test_queries_common_tools_send(text: str, expected: list[int]) -> None:
    """Incremental-window queries as Airbyte and tap-salesforce write them, and Workbench-style ones, select right."""
    assert _ids(_run(text)) == expected
