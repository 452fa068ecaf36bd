"""The options a channel kind declares, and the reading of a [channels.NAME] table against them.

Each channel class lists its options once, as `OPTIONS`; alerts.config reads a channel's
table with `read_options` and the list of its kind, so the keys a kind allows, their
types, defaults, whether they are required and what else they must satisfy are declared
next to the code that uses them, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crawler.config_reader import TableReader

# How an option is read:
#   text      a non-empty string
#   choice    one of `choices`
#   port      a whole number from 1 to 65535
#   duration  seconds, written as every duration of the configuration ("30s", "2m", 15)
#   strings   a list of non-empty strings (a required one must not be empty)
#   env       the name of an environment variable; its value goes to the channel's
#             secrets under `into`, never to its options
TYPES = ("text", "choice", "port", "duration", "strings", "env")


@dataclass(frozen=True)
class Option:
    """One key of a channel's table.

    `default` is a value, or a function of the options read before this one (the SMTP
    port follows `security`). `check` returns what is wrong with a value read, or None:
    it sees each item of a list, and an env option's variable's value (its message
    follows "environment variable NAME").
    """

    name: str
    type: str  # one of TYPES
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] = ()
    check: Callable[[Any], str | None] | None = None
    into: str | None = None  # env only: the key of the value in Channel.secrets

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"option {self.name}: unknown type {self.type!r}")
        if (self.type == "env") != (self.into is not None):
            raise ValueError(f"option {self.name}: an env option, and no other, has `into`")


def read_options(
    reader: TableReader, declared: Sequence[Option], env: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The options and the secrets of one channel; every problem is recorded by `reader`."""
    reader.only(["kind", *(option.name for option in declared)])
    options: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    for option in declared:
        if option.type == "env":
            value = _secret(reader, option, env)
            if value is not None:
                secrets[option.into or option.name] = value
        else:
            options[option.name] = _option(reader, option, options)
    return options, secrets


def _option(reader: TableReader, option: Option, read: Mapping[str, Any]) -> Any:
    name = option.name
    default = option.default(read) if callable(option.default) else option.default
    if name not in reader.values:
        if option.required:
            reader.problem(name, "is required")
        return default
    before = len(reader.problems)
    if option.type == "text":
        value = reader.text(name, default)
    elif option.type == "choice":
        value = reader.choice(name, option.choices, default)
    elif option.type == "port":
        value = reader.number(name, default, minimum=1, maximum=65535, integer=True)
    elif option.type == "duration":
        value = reader.duration(name, default)
    else:
        value = reader.strings(name, default or ())
        if option.required and not value and len(reader.problems) == before:
            reader.problem(name, "must not be empty")
    if len(reader.problems) > before or option.check is None:
        return value
    items = enumerate(value) if option.type == "strings" else [(None, value)]
    for index, item in items:
        problem = option.check(item)
        if problem:
            reader.problem(name if index is None else f"{name}[{index}]", problem)
    return value if len(reader.problems) == before else default


def _secret(reader: TableReader, option: Option, env: Mapping[str, str]) -> str | None:
    variable = reader.text(option.name, required=option.required)
    if variable is None:
        return None
    value = env.get(variable)
    if not value:
        reader.problem(option.name, f"environment variable {variable} is not set")
        return None
    problem = option.check(value) if option.check else None
    if problem:
        reader.problem(option.name, f"environment variable {variable} {problem}")
        return None
    return value
