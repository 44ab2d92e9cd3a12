"""The JSON Schema of policy files, generated from the model, for editors (``config/policy.schema.json``). Pure."""

from __future__ import annotations

import json
from typing import Any

from crmsync.policy.model import Policy

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def policy_json_schema() -> dict[str, Any]:
    """The schema of what a policy file may contain (validation mode: what an admin writes)."""
    schema = Policy.model_json_schema(mode="validation", by_alias=True)
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "crmsync policy",
        "description": "config/policies.yaml: qualification, routing, SLA, dispositions, capture and reports. "
        "Reference: docs/policy.md.",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def render_schema() -> str:
    """The schema as the text committed in ``config/policy.schema.json`` (2-space indent, final newline)."""
    return json.dumps(policy_json_schema(), indent=2, ensure_ascii=False) + "\n"
