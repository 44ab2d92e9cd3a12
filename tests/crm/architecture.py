"""Reuse of the foundation's purity check for the modules this package adds to the pure core."""

from __future__ import annotations

from tests.foundation.test_architecture import ROOT, _violations


def pure_violations(paths: list[str]) -> list[str]:
    """Forbidden imports and wall-clock reads in ``paths`` (relative to the crmsync package)."""
    found: list[str] = []
    for rel in paths:
        found.extend(_violations(ROOT / rel))
    return found
