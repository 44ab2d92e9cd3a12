"""Fuzzing the loader: whatever the file holds, the only error that escapes is a located PolicyError."""

from __future__ import annotations

import copy
import io
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from crmsync.errors import PolicyError
from crmsync.policy.loader import parse_policy
from crmsync.policy.model import Policy
from tests.policy.conftest import VALID_POLICY

VALID_TEXT = VALID_POLICY.read_text()
VALID_DATA: dict[str, Any] = YAML(typ="safe").load(VALID_TEXT)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

YAML_BITS = [*"abz:-[]{}&*!|>'\"#\n ,?%@`019.~\\", "version: 1\n", "teams:", "  ", "\t", "<<: ", "!!str ", "- "]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.dates(min_value=date(1, 1, 1)),
    st.sampled_from(["1h", "calendar 2d", "sdr", "US", "Recycled", "mon", "ana@acme.test", "(", "09:00-17:00"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def check(text: str | bytes) -> None:
    """Loading gives a Policy, or a PolicyError whose every problem is located and none is a crash."""
    result: Policy | PolicyError
    try:
        result = parse_policy(text, "fuzz.yaml")
    except PolicyError as error:
        result = error
    if isinstance(result, PolicyError):
        assert result.located
        for problem in result.located:
            assert problem.line >= 1
            assert problem.column >= 1
            assert "internal error" not in problem.message, problem
    else:
        assert isinstance(result, Policy)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a plain data tree."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


ALL_PATHS = [p for p in paths(VALID_DATA) if p]


def mutate(data: dict[str, Any], path: tuple[Any, ...], how: str, value: Any) -> dict[str, Any]:
    """A copy of ``data`` with the node at ``path`` deleted, replaced, or given an extra key."""
    out = copy.deepcopy(data)
    parent: Any = out
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "delete":
        del parent[last]
    elif how == "replace":
        parent[last] = value
    elif isinstance(parent[last], dict):
        parent[last][str(value)[:10]] = value
    else:
        parent[last] = [parent[last], value]
    return out


def dump(data: Any) -> str:
    """YAML text for plain data."""
    stream = io.StringIO()
    YAML(typ="safe").dump(data, stream)
    return stream.getvalue()


@FUZZ
@given(st.lists(st.sampled_from(YAML_BITS), max_size=60).map("".join))
def test_yaml_like_noise(text: str) -> None:
    """Random YAML-looking text never raises anything but a located PolicyError."""
    check(text)


@FUZZ
@given(st.binary(max_size=80))
def test_random_bytes(content: bytes) -> None:
    """Random bytes (often not UTF-8) never raise anything but a located PolicyError."""
    check(content)


@FUZZ
@given(st.sampled_from(ALL_PATHS), st.sampled_from(["delete", "replace", "add"]), values)
def test_mutated_valid_policy(path: tuple[Any, ...], how: str, value: Any) -> None:
    """A valid policy with one value deleted, replaced by any value, or extended, loads or fails cleanly."""
    check(dump(mutate(VALID_DATA, path, how, value)))


@FUZZ
@given(st.integers(0, len(VALID_TEXT)), st.integers(0, 12), st.sampled_from(YAML_BITS))
def test_edited_valid_text(at: int, cut: int, insert: str) -> None:
    """The valid file with a few characters cut and others inserted loads or fails cleanly."""
    check(VALID_TEXT[:at] + insert + VALID_TEXT[at + cut :])
