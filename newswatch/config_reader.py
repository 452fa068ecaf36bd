"""Typed reads from a parsed TOML table that collect problems instead of raising."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$", re.I)
_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.I)
_BYTES = {"b": 1, "kb": 1000, "kib": 1024, "mb": 10**6, "mib": 2**20, "gb": 10**9, "gib": 2**30}
_MISSING = object()


@dataclass(frozen=True)
class Problem:
    key: str  # where, as a path: "sources[2].kind"
    message: str  # what is wrong, and what would be right


class TableReader:
    """Reads keys of one table; every bad value becomes a Problem naming its key."""

    def __init__(self, table: Any, path: str, problems: list[Problem]):
        self.path = path
        self.problems = problems
        if not isinstance(table, dict):
            self.problem(None, f"must be a table, not {_kind(table)}")
            table = {}
        self.values = table

    def key(self, name: str | None) -> str:
        if name is None:
            return self.path or "(top level)"
        return f"{self.path}.{name}" if self.path else name

    def problem(self, name: str | None, message: str) -> None:
        self.problems.append(Problem(self.key(name), message))

    def only(self, allowed: Iterable[str]) -> None:
        """Flag unknown keys, with a suggestion for a likely typo."""
        allowed = list(allowed)
        for name in self.values:
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.problem(name, f"unknown key{hint}")

    def _get(self, name: str, required: bool) -> Any:
        value = self.values.get(name, _MISSING)
        if value is _MISSING and required:
            self.problem(name, "is required")
        return value

    def text(self, name: str, default: Any = None, *, required: bool = False) -> Any:
        value = self._get(name, required)
        if value is _MISSING:
            return default
        if not isinstance(value, str) or not value.strip():
            self.problem(name, f"must be a non-empty string, not {_kind(value)}")
            return default
        return value.strip()

    def choice(self, name: str, choices: Iterable[str], default: Any = None, **kw: Any) -> Any:
        choices = tuple(choices)
        value = self.text(name, _MISSING, **kw)
        if value is _MISSING:
            return default
        if value not in choices:
            self.problem(name, f"must be one of {', '.join(choices)} (got {value!r})")
            return default
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self._get(name, False)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.problem(name, f"must be true or false, not {_kind(value)}")
            return default
        return value

    def number(self, name: str, default: Any, *, minimum: float = 0, integer: bool = False) -> Any:
        value = self._get(name, False)
        if value is _MISSING:
            return default
        wanted = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, wanted):
            self.problem(name, f"must be {'a whole number' if integer else 'a number'}")
            return default
        if value < minimum:
            self.problem(name, f"must be at least {minimum} (got {value})")
            return default
        return value

    def duration(self, name: str, default: Any) -> Any:
        """Seconds, from a number of seconds or a string like "90s", "15m", "2h"."""
        value = self._get(name, False)
        if value is _MISSING:
            return default
        seconds = _seconds(value)
        if seconds is None:
            self.problem(name, f'must be a duration like "90s", "15m" or "2h" (got {value!r})')
            return default
        return seconds

    def durations(self, name: str, default: tuple[float, ...]) -> tuple[float, ...]:
        """A list of durations, e.g. ["10m", "1h", "6h"], as seconds."""
        value = self._get(name, False)
        if value is _MISSING:
            return default
        seconds = [_seconds(item) for item in value] if isinstance(value, list) else [None]
        if not seconds or None in seconds:
            self.problem(name, f'must be a list of durations like ["10m", "1h"] (got {value!r})')
            return default
        return tuple(s for s in seconds if s is not None)

    def size(self, name: str, default: int) -> int:
        """Bytes, from a number or a string like "5MB", "512KiB"."""
        value = self._get(name, False)
        if value is _MISSING:
            return default
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        match = _SIZE.match(value) if isinstance(value, str) else None
        if not match or float(match[1]) <= 0:
            self.problem(name, f'must be a size like "5MB" or "512KiB" (got {value!r})')
            return default
        return int(float(match[1]) * _BYTES[(match[2] or "b").lower()])

    def strings(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """A list of strings; a single string is accepted as a list of one."""
        value = self._get(name, False)
        if value is _MISSING:
            return default
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problem(name, "must be a list of non-empty strings")
            return default
        return tuple(v.strip() for v in value)

    def tables(self, name: str) -> list[TableReader]:
        """An array of tables ([[name]]), one reader each."""
        value = self._get(name, False)
        if value is _MISSING:
            return []
        if not isinstance(value, list):
            self.problem(name, f"must be an array of tables ([[{name}]]), not {_kind(value)}")
            return []
        return [
            TableReader(item, f"{self.key(name)}[{i}]", self.problems)
            for i, item in enumerate(value)
        ]

    def subtable(self, name: str) -> TableReader:
        value = self.values.get(name, {})
        return TableReader(value, self.key(name), self.problems)


def _seconds(value: Any) -> float | None:
    """Seconds from a positive number or a string like "90s", "15m", "2h"; None if neither."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match or float(match[1]) <= 0:
        return None
    return float(match[1]) * _SECONDS[(match[2] or "s").lower()]


def _kind(value: Any) -> str:
    names = {
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "a boolean",
        list: "a list",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)
