"""docs/policy.md documents every key of the policy file."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from crmsync.policy import conditions, sections
from crmsync.policy.model import Policy

DOCS = Path(__file__).resolve().parents[2] / "docs" / "policy.md"


def models() -> list[type[BaseModel]]:
    """Every model a policy file is made of."""
    found = [Policy]
    for module in (sections, conditions):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == module.__name__:
                found.append(value)
    return found


def test_every_key_is_documented() -> None:
    """Each key any section accepts appears in the reference, as `key` or in an example as key:."""
    text = DOCS.read_text()
    missing = sorted(
        {
            f"{model.__name__}.{info.alias or name}"
            for model in models()
            for name, info in model.model_fields.items()
            if f"`{info.alias or name}`" not in text and f"{info.alias or name}:" not in text
        }
    )
    assert missing == []
