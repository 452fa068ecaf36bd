"""Typed reads from a parsed TOML table that collect problems instead of raising.

The one configuration reader: newswatch.settings reads newswatch.toml with it, and
alerts.config its [alerts], [channels.*] and [[rules]]. It lives in the lowest layer so
that both use the same grammar of durations and sizes, bounds and wording.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from typing import Any, NamedTuple

# A number with an optional sign (so "-5m" is told "must be positive", not "not a duration")
# and any unit word (so "1TB" is told which units there are).
_AMOUNT = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.I)
_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_BYTES = {"b": 1, "kb": 1000, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}
DURATION_HINT = 'a duration like "90s", "15m" or "2h" (units: s, m, h, d)'
SIZE_HINT = 'a size like "5MB" or "512KiB" (units: B, KB, MB, GB, KiB, MiB, GiB)'
# Beyond a year a poll or timeout is a typo, and Python's timedelta overflows near 2.7 million
# years; beyond 1 GiB a page limit no longer limits anything a crawler should hold in memory.
MAX_SECONDS = 366 * 86400
MAX_BYTES = 2**30
_MISSING = object()


class Problem(NamedTuple):
    """One thing wrong with a configuration; a pair, so `key, message = problem` reads it."""

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
        if not isinstance(value, str):
            self.problem(name, f"must be a non-empty string, not {_kind(value)}")
            return default
        if not value.strip():
            self.problem(name, "must not be empty")
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

    def number(
        self,
        name: str,
        default: Any,
        *,
        minimum: float = 0,
        maximum: float | None = None,
        integer: bool = False,
    ) -> Any:
        value = self._get(name, False)
        if value is _MISSING:
            return default
        wanted = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, wanted) or not math.isfinite(value):
            self.problem(name, f"must be {'a whole number' if integer else 'a number'}")
            return default
        if value < minimum:
            self.problem(name, f"must be at least {minimum} (got {value})")
            return default
        if maximum is not None and value > maximum:
            self.problem(name, f"must be at most {maximum} (got {value})")
            return default
        return value

    def duration(self, name: str, default: Any, *, zero: bool = False) -> Any:
        """Seconds, from a number of seconds or a string like "90s", "15m", "2h".

        Above zero, unless `zero` allows it where none means something ("never retry").
        """
        value = self._get(name, False)
        if value is _MISSING:
            return default
        try:
            return _seconds(value, zero=zero)
        except ValueError as error:
            self.problem(name, str(error))
            return default

    def durations(self, name: str, default: tuple[float, ...]) -> tuple[float, ...]:
        """A list of durations, e.g. ["10m", "1h", "6h"], as seconds."""
        value = self._get(name, False)
        if value is _MISSING:
            return default
        if not isinstance(value, list) or not value:
            self.problem(name, f'must be a list of durations like ["10m", "1h"] (got {value!r})')
            return default
        seconds = []
        for index, item in enumerate(value):
            try:
                seconds.append(_seconds(item))
            except ValueError as error:
                self.problem(f"{name}[{index}]", str(error))
        return tuple(seconds) if len(seconds) == len(value) else default

    def size(self, name: str, default: int, *, maximum: int = MAX_BYTES) -> int:
        """Bytes, from a number or a string like "5MB", "512KiB"; at most `maximum`."""
        value = self._get(name, False)
        if value is _MISSING:
            return default
        try:
            return _bytes(value, maximum)
        except ValueError as error:
            self.problem(name, str(error))
            return default

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


def _seconds(value: Any, *, zero: bool = False) -> float:
    """Seconds from a number or a string like "90s", "15m", "2h"; ValueError says why not."""
    amount, unit = _amount(value, DURATION_HINT)
    if unit and unit.lower() not in _SECONDS:
        raise ValueError(f"must be {DURATION_HINT}; {unit!r} is not a unit (got {value!r})")
    seconds = amount * _SECONDS.get(unit.lower(), 1)
    if seconds < 0 or (seconds == 0 and not zero):
        least = "zero or more" if zero else "positive"
        raise ValueError(f"must be {least}, {DURATION_HINT} (got {value!r})")
    if seconds > MAX_SECONDS:
        raise ValueError(f"must be at most {MAX_SECONDS // 86400}d (got {value!r})")
    return seconds


def _bytes(value: Any, maximum: int) -> int:
    """Bytes from a whole number or a string like "5MB", "512KiB"; ValueError says why not."""
    if isinstance(value, float):  # 5.5 bytes means nothing; "5.5MB" does
        raise ValueError(f"must be {SIZE_HINT} (got {value!r})")
    amount, unit = _amount(value, SIZE_HINT)
    if unit and unit.lower() not in _BYTES:
        raise ValueError(f"must be {SIZE_HINT}; {unit!r} is not a unit (got {value!r})")
    size = amount * _BYTES.get(unit.lower(), 1)
    if size < 1:
        raise ValueError(f"must be positive, {SIZE_HINT} (got {value!r})")
    if size > maximum:
        raise ValueError(f"must be at most {_shown_bytes(maximum)} (got {value!r})")
    return int(size)


def _amount(value: Any, hint: str) -> tuple[float, str]:
    """The number and the unit ("" for none) of a number or a string like "15m"."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"must be {hint}, not {_kind(value)}")
    if isinstance(value, str):
        match = _AMOUNT.match(value)
        if not match:
            raise ValueError(f"must be {hint} (got {value!r})")
        amount, unit = float(match[1]), match[2]
    else:
        amount, unit = float(value), ""
    if not math.isfinite(amount):  # TOML has inf and nan
        raise ValueError(f"must be {hint} (got {value!r})")
    return amount, unit


def _shown_bytes(size: int) -> str:
    for unit in ("GiB", "MiB", "KiB"):
        if size % _BYTES[unit.lower()] == 0:
            return f"{size // _BYTES[unit.lower()]}{unit}"
    return f"{size}B"


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
