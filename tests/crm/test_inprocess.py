"""The in-process port's change log: incremental reads follow the changes, and memory stays flat."""

from __future__ import annotations

from datetime import timedelta

from crmsync.clock import FakeClock
from crmsync.crm.ports import Watermark
from crmsync.crm.sandbox import ChangeLog
from crmsync.sandbox.org import SALESFORCE_RULES, Org
from crmsync.sandbox.schema import salesforce_schemas


def test_change_log_keeps_only_the_latest_change_of_each_record(clock: FakeClock) -> None:
    """20,000 edits of three leads leave three entries after compaction, and a window sees each lead once."""
    org = Org(SALESFORCE_RULES, salesforce_schemas(), clock)
    ids = [str(org.create("Lead", {"LastName": f"L{i}", "Company": "Co", "Status": "Open - Not Contacted"})["Id"])
           for i in range(3)]  # fmt: skip
    log = ChangeLog(org, "Lead", ("SystemModstamp",))
    start = clock.now()
    for n in range(20_000):
        clock.advance(timedelta(milliseconds=1))
        org.update("Lead", ids[n % 3], {"Title": str(n)})
    window = log.window(Watermark(start), clock.now())
    assert sorted(rid for _, rid in window) == sorted(ids)
    assert len(log._entries) == 3


def test_back_dated_changes_are_still_found(clock: FakeClock) -> None:
    """A change stamped earlier than the last one (a simulation writing history) lands in its window."""
    org = Org(SALESFORCE_RULES, salesforce_schemas(), clock)
    log = ChangeLog(org, "Lead", ("SystemModstamp",))
    late = org.create("Lead", {"LastName": "Late", "Company": "Co", "Status": "Open - Not Contacted"})
    early = org.create("Lead", {"LastName": "Early", "Company": "Co", "Status": "Open - Not Contacted"},
                       now=clock.now() - timedelta(hours=2))  # fmt: skip
    window = log.window(Watermark(clock.now() - timedelta(hours=3)), clock.now() - timedelta(hours=1))
    assert [rid for _, rid in window] == [early["Id"]]
    assert late["Id"] not in [rid for _, rid in window]
