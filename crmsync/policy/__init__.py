"""Policy files admins edit (DESIGN §4): the typed model, conditions, business-time calendar, loader, reload.

Pure except :mod:`.loader` and :mod:`.source`, which read files. The engine uses :class:`Policy` (what is an
MQL, which rule routes a lead, which SLA tier applies, each rep's calendar) and :class:`BusinessCalendar`.
"""

from crmsync.policy.calendar import BusinessCalendar, CalendarError, HourRange
from crmsync.policy.conditions import Predicate, compile_condition
from crmsync.policy.durations import Duration
from crmsync.policy.model import Policy

__all__ = ["BusinessCalendar", "CalendarError", "Duration", "HourRange", "Policy", "Predicate", "compile_condition"]
