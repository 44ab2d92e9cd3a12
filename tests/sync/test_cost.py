"""A cycle's cost follows the changed and due leads: every read and write of the big tables goes through an index.

The bench (``bench/cycle_scale.py``) measures it; this test pins the cause on SQLite, whose planner (without
ANALYZE statistics) picks the same plans on a small store as on a large one: no statement of a cycle may scan
a table that grows with the org or its history.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event

from crmsync.domain import Vendor
from tests.sync.conftest import FloorFactory

GROWING = ("leads", "activities", "assignments", "outbox", "audit", "activity_ledger")
FULL_SCAN = re.compile(rf"^(SCAN ({'|'.join(GROWING)})\b|SEARCH ({'|'.join(GROWING)}) USING .*\(connection=\?\)$)")
"""A table scan, or a search bounded by the connection alone (one org: the whole table)..."""
PARTIAL = ("ix_outbox_unfinished", "ix_leads_open_by_owner")
"""...unless through a partial index, which holds only the rows still in play (unfinished outbox rows, open leads)."""


def test_every_statement_of_a_cycle_uses_an_index_on_the_growing_tables(make_floor: FloorFactory) -> None:
    """Pull, derive, decide, enqueue and dispatch never scan leads, activities, history or the outbox, and the
    open-lead counts of routing read only open leads."""
    floor = make_floor(Vendor.HUBSPOT)
    for score, owner in ((20, "ana"), (80, floor.queue), (80, "ben")):
        floor.lead(score=score, owner=owner)
    floor.settle()
    floor.cycle().run()
    floor.touch(floor.lead(score=80, owner="cy"), "cy")
    floor.lead(score=10, owner="ana")
    floor.settle()
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, _context: Any, many: bool) -> None:
        if not many and sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "INSERT")):
            statements.append((sql, params))

    event.listen(floor.db.engine, "before_cursor_execute", record)
    try:
        report = floor.cycle().run()
    finally:
        event.remove(floor.db.engine, "before_cursor_execute", record)
    assert report.decided >= 2
    scans: list[tuple[str, str]] = []
    with floor.db.engine.connect() as connection:
        for sql, params in statements:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
            details = [str(row[-1]) for row in plan]
            scans.extend((d, sql) for d in details if FULL_SCAN.match(d) and not any(index in d for index in PARTIAL))
            if "closed_at IS NULL" in sql and "count(*)" in sql:  # open leads per rep: the partial index only
                assert any("ix_leads_open_by_owner" in d for d in details), (details, sql)
    assert len(statements) > 10
    assert scans == []
