"""Add [[sources]] to a configuration file: after a backup, never twice, never breaking it.

`newswatch discover --write` and `newswatch sources import` add what they found to the
user's own file. The file is appended to (the user's comments and layout stay), a
timestamped copy is kept first, a source whose name or address the file has already is
left out, and the result must load: otherwise the original is put back.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_NAME = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class SourceBlock:
    """One [[sources]] table to write, with comment lines (why it was chosen) above it."""

    values: dict[str, Any]  # name, kind, url, ... in the order they are written
    comments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Added:
    backup: Path | None  # None: nothing was written
    written: list[str] = field(default_factory=list)  # source names
    skipped: list[str] = field(default_factory=list)  # "name: why"


def source_name(text: str) -> str:
    """A source name from a title or host: lower case, words joined by '-'."""
    name = _NAME.sub("-", text.lower().removeprefix("www.")).strip("-")
    return name[:60] or "source"


def render(blocks: Sequence[SourceBlock]) -> str:
    """The TOML text of `blocks` (what `--write` would append, or what is printed)."""
    lines: list[str] = []
    for block in blocks:
        lines.append("")
        lines.extend(f"# {_one_line(comment)}" for comment in block.comments)
        lines.append("[[sources]]")
        lines.extend(f"{key} = {_toml(value)}" for key, value in block.values.items())
    return "\n".join(lines) + "\n"


def append_sources(path: Path, blocks: Sequence[SourceBlock], *, note: str) -> Added:
    """Append the blocks that are new to the file at `path`; see the module docstring.

    Raises ValueError when the file cannot be read as TOML or would not load afterwards.
    """
    from newswatch.settings import ConfigError, load_settings

    existed = path.exists()
    text = path.read_text(encoding="utf-8") if existed else ""
    try:
        existing = tomllib.loads(text).get("sources", [])
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: not valid TOML ({error}): nothing written") from None
    if not isinstance(existing, list) or not all(isinstance(s, dict) for s in existing):
        raise ValueError(f"{path}: sources must be [[sources]] tables: nothing written")
    names = {source.get("name") for source in existing}
    urls = {url for source in existing for url in _urls(source)}
    fresh, skipped = [], []
    for block in blocks:
        name = block.values["name"]
        if set(_urls(block.values)) & urls:
            skipped.append(f"{name}: its address is configured already")
        elif name in names:
            skipped.append(f"{name}: a source of that name exists already")
        else:
            fresh.append(block)
            names.add(name)
            urls.update(_urls(block.values))
    if not fresh:
        return Added(None, [], skipped)
    backup = _backup(path) if existed else None
    addition = f"\n# --- {_one_line(note)} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
    _replace(path, text.rstrip("\n") + "\n" + addition + render(fresh))
    try:
        load_settings(path, env={})
    except Exception as error:  # whatever it is, the user's file must not stay broken
        _replace(path, text) if existed else path.unlink()
        lines = error.lines() if isinstance(error, ConfigError) else [str(error)]
        raise ValueError(
            f"{path}: the result would not load, nothing written:\n" + "\n".join(lines)
        ) from None
    return Added(backup, [block.values["name"] for block in fresh], skipped)


def _backup(path: Path) -> Path:
    """A copy of the file as it was, under a name no earlier backup has."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for number in range(1000):
        backup = path.with_name(f"{path.name}.{stamp}{f'-{number}' if number else ''}.bak")
        if not backup.exists():
            shutil.copy2(path, backup)
            return backup
    raise ValueError(f"{path}: too many backups from this second: nothing written")


def _replace(path: Path, text: str) -> None:
    """Write the whole file at once: a crash leaves the old file or the new, never half."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _one_line(text: str) -> str:
    """A comment stays a comment: no line break or control character can end it."""
    return "".join(char if char.isprintable() else " " for char in text)


def _urls(values: dict[str, Any]) -> list[str]:
    urls = values.get("urls", [])
    return [*([urls] if isinstance(urls, str) else urls), *filter(None, [values.get("url")])]


def _toml(value: Any) -> str:
    # JSON strings, numbers, booleans and lists of them are valid TOML values, but for
    # DEL, which TOML wants escaped and JSON leaves as it is.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
