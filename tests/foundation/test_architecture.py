"""The pure core stays pure: no I/O libraries and no wall clock in the packages that decide."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "crmsync"

PURE_PATHS = [
    "domain",
    "engine",
    "policy/model.py",
    "policy/conditions.py",
    "policy/calendar.py",
    "policy/durations.py",
    "policy/scoring.py",
    "outbox/model.py",
    "outbox/codec.py",
    "crm/mapping.py",
    "capture/matching.py",
    "capture/model.py",
    "capture/indexes.py",
    "capture/mail.py",
    "capture/ical.py",
    "sync/plan.py",
    "reports/compute.py",
    "reports/compute",
]
FORBIDDEN_MODULES = {
    "sqlalchemy",
    "requests",
    "urllib3",
    "simple_salesforce",
    "hubspot",
    "apscheduler",
    "psycopg",
    "imapclient",
    "socket",
    "http",
    "subprocess",
}
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "monotonic"),
    ("time", "perf_counter"),
    ("time", "time_ns"),
}


def _pure_files() -> list[Path]:
    files: list[Path] = []
    for rel in PURE_PATHS:
        path = ROOT / rel
        if path.is_dir():
            files.extend(sorted(path.rglob("*.py")))
        elif path.exists():
            files.append(path)
    return files


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            names = []
        found.extend(f"{path.name}:{node.lineno} imports {n}" for n in names if n.split(".")[0] in FORBIDDEN_MODULES)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
            if (owner_name, node.func.attr) in FORBIDDEN_CALLS:
                found.append(f"{path.name}:{node.lineno} reads the wall clock ({owner_name}.{node.func.attr})")
    return found


def test_pure_packages_exist() -> None:
    """The rule applies to real files: at least the domain package is found (the list is not silently empty)."""
    assert any(p.parent.name == "domain" for p in _pure_files())


@pytest.mark.parametrize("path", _pure_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_has_no_io_and_no_clock(path: Path) -> None:
    """A pure module imports no database, HTTP, CRM SDK or scheduler library and never reads the clock."""
    assert _violations(path) == []


def test_checker_catches_a_violation(tmp_path: Path) -> None:
    """The checker itself flags a forbidden import and a clock read (so the rule cannot pass vacuously)."""
    bad = tmp_path / "bad.py"
    bad.write_text("import requests\nfrom datetime import datetime\nx = datetime.now()\n")
    assert len(_violations(bad)) == 2
