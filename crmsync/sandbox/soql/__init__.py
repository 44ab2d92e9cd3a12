"""A SOQL subset for the sandbox's Salesforce server: parse once, evaluate over in-memory rows. Pure: no I/O,
no wall clock (``now`` is an argument).

API::

    from crmsync.sandbox.soql import parse, execute, SoqlError, Related

    query = parse(text)                      # Query; raises SoqlError (error_code MALFORMED_QUERY, ...)
    query.sobject                            # the FROM object as written; look it up case-insensitively,
                                             # and answer unknown objects with invalid_type(query)
    result = execute(
        query,
        rows,                                # every row of that object: Mapping[str, object], canonical keys,
                                             # datetimes aware (or ISO strings), dates as date
        sobject="Lead",                      # canonical object name, for attributes.type/url
        now=clock.now(),                     # anchors TODAY, LAST_N_DAYS:n, ...
        fields={"Id": "id", "SystemModstamp": "datetime", ...},   # or a list of names, or None (no checks)
        resolve=lambda relationship, row: Related("User", owner_row, polymorphic=True) or None,
        api_version="59.0",
    )                                        # raises SoqlError INVALID_FIELD for unknown fields / mistyped literals
    result.total_size                        # rows after OFFSET/LIMIT (the count for SELECT COUNT())
    result.rows                              # matched source rows in order (slice these to page)
    result.render(row)                       # {"attributes": {"type", "url"}, "Id": ..., "Owner": {...}}
    result.records()                         # all rows rendered

    # errors answer 400 with [{"message": err.message, "errorCode": err.error_code}]

Supported: SELECT fields (one-level relationship paths such as Owner.Type, Who.Id) or COUNT(); FROM one
object; WHERE with AND/OR/NOT and parentheses (mixing AND and OR needs parentheses, as in SOQL); = != <> < <=
> >= IN NOT IN LIKE; string (with escapes), number, TRUE/FALSE, NULL, date, datetime (Z, ±hh:mm, fractions)
literals and YESTERDAY/TODAY/TOMORROW/LAST_N_DAYS:n/NEXT_N_DAYS:n/N_DAYS_AGO:n; ORDER BY several keys with
ASC/DESC and NULLS FIRST/LAST; LIMIT; OFFSET (≤ 2000). Anything else raises SoqlError naming the position and
what was expected there.
"""

from crmsync.sandbox.soql.evaluate import Result, execute
from crmsync.sandbox.soql.fields import Related, Resolver, format_value
from crmsync.sandbox.soql.model import Query, SoqlError
from crmsync.sandbox.soql.parser import parse


def invalid_type(query: Query) -> SoqlError:
    """The INVALID_TYPE error Salesforce gives for a FROM object the org does not have."""
    detail = (
        f"sObject type '{query.sobject}' is not supported. If you are attempting to use a custom object, be sure "
        "to append the '__c' after the entity name. Please reference your WSDL or the describe call for the "
        "appropriate names."
    )
    return SoqlError(query.text, query.sobject_pos, detail, "INVALID_TYPE")


__all__ = ["Query", "Related", "Resolver", "Result", "SoqlError", "execute", "format_value", "invalid_type", "parse"]
