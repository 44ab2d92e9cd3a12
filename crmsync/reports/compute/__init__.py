"""Report computations (pure): facts from the store, the policy's view and a period in; figures out."""

from crmsync.reports.compute.build import build_report
from crmsync.reports.compute.facts import ActivityFacts, AssignmentFacts, LeadFacts, LeadHistory, Period, RepFacts
from crmsync.reports.compute.model import (
    CapacityDay,
    CherryPick,
    GroupFigures,
    RepFigures,
    Report,
    TeamCapacityFigures,
)
from crmsync.reports.compute.rules import NO_TEAM, ReportRules, SlaTier, TeamCapacity

__all__ = [
    "NO_TEAM",
    "ActivityFacts",
    "AssignmentFacts",
    "CapacityDay",
    "CherryPick",
    "GroupFigures",
    "LeadFacts",
    "LeadHistory",
    "Period",
    "RepFacts",
    "RepFigures",
    "Report",
    "ReportRules",
    "SlaTier",
    "TeamCapacity",
    "TeamCapacityFigures",
    "build_report",
]
