"""The JSON Schema shipped for editors: equal to the generated one, and it accepts the shipped policies."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from crmsync.policy.loader import load_policy
from crmsync.policy.schema import policy_json_schema, render_schema

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [ROOT / "config" / "policies.yaml", *sorted((ROOT / "config" / "examples").glob("*.yaml"))]


def as_json(node: Any) -> Any:
    """YAML data as an editor plugin sees it: dates as ISO strings."""
    if isinstance(node, dict):
        return {k: as_json(v) for k, v in node.items()}
    if isinstance(node, list):
        return [as_json(v) for v in node]
    return node.isoformat() if isinstance(node, date | datetime) else node


def test_committed_schema_is_current() -> None:
    """config/policy.schema.json equals the generated schema (regenerate: `crmsync policy schema > ...`)."""
    assert (ROOT / "config" / "policy.schema.json").read_text() == render_schema()


def test_schema_is_valid_json_schema() -> None:
    """The schema itself is a valid JSON Schema (draft 2020-12)."""
    jsonschema.Draft202012Validator.check_schema(policy_json_schema())


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_policies_are_valid(path: Path) -> None:
    """Every shipped policy loads, and the editor schema accepts it too."""
    load_policy(path)
    data = as_json(YAML(typ="safe").load(path.read_text()))
    jsonschema.Draft202012Validator(policy_json_schema()).validate(data)


def test_schema_rejects_unknown_keys() -> None:
    """An editor flags an unknown key, as the loader does."""
    data = as_json(YAML(typ="safe").load(SHIPPED[0].read_text()))
    data["routing"][0]["methd"] = "weighted"
    errors = list(jsonschema.Draft202012Validator(policy_json_schema()).iter_errors(data))
    assert any("methd" in error.message for error in errors)


def test_schema_describes_durations() -> None:
    """Durations are strings with a pattern the editor can check."""
    rendered = json.loads(render_schema())
    first_touch = rendered["$defs"]["SlaTier"]["properties"]["first_touch"]
    assert first_touch["type"] == "string"
    assert first_touch["pattern"].startswith("^")
