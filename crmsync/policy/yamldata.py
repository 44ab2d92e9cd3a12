"""Read YAML into plain data plus the line and column of every key and value.

ruamel.yaml's round-trip loader keeps positions; this module turns its output into plain dicts, lists and
scalars (so pydantic sees ordinary Python values) and records, for each path, where its key and its value
start (1-based). Aliases are shared, not copied, and size and depth are bounded, so a hostile file cannot
blow up memory or the stack. Everything that goes wrong is a :class:`YamlProblem` with a position.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.timestamp import TimeStamp

Path = tuple[str | int, ...]
Position = tuple[int, int]
MAX_DEPTH = 40
MAX_NODES = 100_000


class YamlProblem(Exception):
    """The text is not YAML this loader accepts; ``line`` and ``column`` are 1-based."""

    def __init__(self, line: int, column: int, message: str) -> None:
        self.line, self.column, self.message = line, column, message
        super().__init__(f"{line}:{column}: {message}")


@dataclass
class Located:
    """Plain data and where each path's key (for mapping entries) and value start."""

    data: Any
    keys: dict[Path, Position] = field(default_factory=dict)
    values: dict[Path, Position] = field(default_factory=lambda: {(): (1, 1)})

    def value_at(self, path: Path) -> Position:
        """Where the value at ``path`` (or its nearest located ancestor) starts."""
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return (1, 1)

    def key_at(self, path: Path) -> Position:
        """Where the key of the mapping entry at ``path`` starts (its value's position when it has no key)."""
        return self.keys.get(path) or self.value_at(path)


def parse(text: str) -> Located:
    """Parse one YAML document; raise :class:`YamlProblem` for syntax errors or oversized input."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ruamel warns about reused anchors; the data is still defined
            raw = YAML(typ="rt", pure=True).load(text)
    except MarkedYAMLError as bad:
        mark = bad.problem_mark or bad.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = bad.problem or bad.context or "invalid YAML"
        opened = bad.context_mark
        if bad.problem and str(bad.context).startswith("while parsing") and opened and opened.line + 1 != line:
            problem += f" ({bad.context} that starts at line {opened.line + 1})"
        raise YamlProblem(line, column, f"YAML syntax error: {problem}") from None
    except (YAMLError, RecursionError, ValueError, TypeError) as bad:
        raise YamlProblem(1, 1, f"YAML syntax error: {type(bad).__name__}: {bad}") from None
    located = Located(None)
    located.data = _Converter(located).plain(raw, (), 0)
    return located


class _Converter:
    def __init__(self, located: Located) -> None:
        self.located = located
        self.done: dict[int, Any] = {}
        self.stack: set[int] = set()
        self.nodes = 0

    def plain(self, node: Any, path: Path, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise YamlProblem(*self.located.value_at(path), f"the file is too large (over {MAX_NODES} values)")
        if not isinstance(node, CommentedMap | CommentedSeq):
            return _scalar(node)
        if id(node) in self.stack:
            raise YamlProblem(*self.located.value_at(path), "an alias refers to the mapping or list that contains it")
        if id(node) in self.done:
            return self.done[id(node)]
        if depth > MAX_DEPTH:
            raise YamlProblem(*self.located.value_at(path), f"nested more than {MAX_DEPTH} levels deep")
        self.stack.add(id(node))
        out = self._mapping(node, path, depth) if isinstance(node, CommentedMap) else self._sequence(node, path, depth)
        self.stack.discard(id(node))
        self.done[id(node)] = out
        return out

    def _mapping(self, node: CommentedMap, path: Path, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in node.items():
            name = key if isinstance(key, str) else _key_text(key)
            child = (*path, name)
            key_pos = _position(node, "key", key)
            if key_pos is not None:
                self.located.keys.setdefault(child, key_pos)
            value_pos = _position(node, "value", key) or key_pos
            if value_pos is not None:
                self.located.values.setdefault(child, value_pos)
            out[str(name)] = self.plain(value, child, depth + 1)
        return out

    def _sequence(self, node: CommentedSeq, path: Path, depth: int) -> list[Any]:
        out: list[Any] = []
        for index, value in enumerate(node):
            child = (*path, index)
            item_pos = _position(node, "item", index)
            if item_pos is not None:
                self.located.values.setdefault(child, item_pos)
            out.append(self.plain(value, child, depth + 1))
        return out


def _position(node: CommentedMap | CommentedSeq, kind: str, key: Any) -> Position | None:
    """1-based position from ruamel's line/column data, or None when it has none (merged keys)."""
    try:
        line, column = getattr(node.lc, kind)(key)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return (int(line) + 1, int(column) + 1)


def _key_text(key: Any) -> str:
    if isinstance(key, bool) or key is None:
        return str(key).lower() if key is not None else "null"
    if isinstance(key, int | float | date):
        return str(_scalar(key))
    return str(list(key)) if isinstance(key, tuple) else str(key)


def _scalar(value: Any) -> Any:
    """ruamel's scalar subclasses as plain Python values."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, ScalarBoolean):
        return bool(value)
    if isinstance(value, TimeStamp):
        return _timestamp(value)
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, TaggedScalar):
        return str(value.value)
    return str(value)


def _timestamp(value: TimeStamp) -> datetime:
    plain = datetime(
        value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond, value.tzinfo
    )
    return plain
