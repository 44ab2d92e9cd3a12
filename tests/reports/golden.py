"""Golden-file comparison for the renderers.

Regenerate after an intended change with ``CRMSYNC_UPDATE_GOLDEN=1 .venv/bin/pytest tests/reports`` and
review the diff of ``tests/reports/golden/`` before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CRMSYNC_UPDATE_GOLDEN") == "1"


def check_golden(name: str, actual: str) -> None:
    """Assert ``actual`` equals the golden file ``name`` (written instead when CRMSYNC_UPDATE_GOLDEN=1)."""
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
        return
    assert path.exists(), f"missing golden file {path}: run with CRMSYNC_UPDATE_GOLDEN=1 to create it"
    with path.open(encoding="utf-8", newline="") as handle:
        expected = handle.read()
    assert actual == expected, f"{name} differs from its golden file; if intended, regenerate (see {__name__})"
