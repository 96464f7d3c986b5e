"""Locations, warnings and exceptions of the configuration layer.

Every problem is reported as ``file:line:col: message`` (1-based line and column) so editors
and terminals can jump to it; warnings add ``warning:`` after the location.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class ConfigLocation(NamedTuple):
    """Where something was written: file as given/resolved, 1-based line and column."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class ConfigError(Exception):
    """Any configuration problem that stops a configuration from being used or changed."""


class ConfigSyntaxError(ConfigError):
    """Text or an include cannot be read as ecelerity.conf; ``str()`` is ``file:line:col: msg``."""

    def __init__(self, location: ConfigLocation, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


class ConfigValueError(ConfigError, ValueError):
    """An option's value does not have the type a caller asked for.

    Options set at runtime have no location; their errors carry only the message.
    """

    def __init__(self, location: ConfigLocation | None, message: str) -> None:
        super().__init__(f"{location}: {message}" if location else message)
        self.location = location
        self.message = message


@dataclass(frozen=True)
class ConfigDiagnostic:
    """A warning found while loading; the configuration is still usable."""

    location: ConfigLocation
    message: str

    def __str__(self) -> str:
        return f"{self.location}: warning: {self.message}"
