"""The console commands one generation's scripts registered (``msys.registerControl``), and
what running one produced. Plain data: the console's dispatcher reads it without the Lua
binding (control.py) that fills it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..lua.errors import LuaScriptError


@dataclass
class ControlRegistry:
    """Console command prefixes (as word tuples) registered in one generation."""

    warn: Callable[[str], None] = lambda message: None
    commands: dict[tuple[str, ...], int] = field(default_factory=dict)
    command_ids: list[int] = field(default_factory=list)  # every number given, replaced too

    def register(self, prefix: str, command_id: int) -> None:
        words = tuple(prefix.split())
        if words in self.commands:
            self.warn(f"registerControl: '{' '.join(words)}' registered again; the last one wins")
        self.commands[words] = command_id
        self.command_ids.append(command_id)

    def match(self, words: list[str]) -> tuple[tuple[str, ...], int] | None:
        """The longest registered prefix of ``words`` and its command number."""
        for length in range(len(words), 0, -1):
            prefix = tuple(words[:length])
            command_id = self.commands.get(prefix)
            if command_id is not None:
                return prefix, command_id
        return None

    def names(self) -> list[str]:
        return sorted(" ".join(words) for words in self.commands)


@dataclass(frozen=True)
class CommandOutcome:
    """What a Lua command printed, and its error if it raised one."""

    output: str
    error: LuaScriptError | None = None
