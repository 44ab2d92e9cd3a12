"""Fixtures for policy tests: a small valid policy, as text and as data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

VALID_POLICY = Path(__file__).with_name("valid_policy.yaml")


@pytest.fixture
def policy_text() -> str:
    """The DESIGN §4 example policy (with Recycled listed as a closed status), as YAML text."""
    return VALID_POLICY.read_text()


@pytest.fixture
def policy_data(policy_text: str) -> dict[str, Any]:
    """The same policy as plain data."""
    data: dict[str, Any] = YAML(typ="safe").load(policy_text)
    return data
