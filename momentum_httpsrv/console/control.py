"""The Lua side of the console: ``msys.registerControl``, running a registered command with
its ``print`` output captured, ``scriptlet eval``, and ``msys.core``'s mail-queue calls.

Command functions stay in Lua; the host's ``ControlRegistry`` holds their numbers, and a
fresh registry is used for every configuration generation, like the endpoint registry.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..lua.runtime import LuaScriptError, LuaState
from .mailqueue import MailQueue


@dataclass
class ControlRegistry:
    """Console command prefixes (as word tuples) registered in one generation."""

    warn: Callable[[str], None] = lambda message: None
    commands: dict[tuple[str, ...], int] = field(default_factory=dict)

    def register(self, prefix: str, command_id: int) -> None:
        words = tuple(prefix.split())
        if words in self.commands:
            self.warn(f"registerControl: '{' '.join(words)}' registered again; the last one wins")
        self.commands[words] = command_id

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


class LuaControlBinding:
    """Installs the console's Lua API into one Lua state."""

    def __init__(self, state: LuaState, mail_queue: MailQueue) -> None:
        self.state = state
        self.registry = ControlRegistry(warn=state.warn)  # where registerControl adds, now
        self._run_ids = itertools.count(1)
        host = state.lua.table_from(
            {"register": self._register, "delay_domain": mail_queue.delay}
        )
        core = state.lua.globals().require("msys.core")
        self._api = state.run_package_lua(Path(__file__).with_name("control.lua"), host, core)

    def _register(self, prefix: str, command_id: int) -> None:
        self.registry.register(prefix, command_id)

    async def run_command(
        self, command_id: int, words: list[str], line: str, xml: bool
    ) -> CommandOutcome:
        """Run a registered command as a task (it may ``msys.sleep``) and collect its print
        output; a Lua error is returned with whatever was printed before it."""
        run_id = next(self._run_ids)
        api = self._api

        def start(task_id: int) -> object:
            return self.state.api.start_task(
                task_id, api.run_command, run_id, command_id, 1 if xml else 0, line, *words
            )

        try:
            await self.state.run_task(start)
        except LuaScriptError as error:
            return CommandOutcome(api.take_output(run_id), error)
        return CommandOutcome(api.take_output(run_id))

    async def evaluate(self, source: str) -> CommandOutcome:
        """``scriptlet eval``: run a chunk in the shared state and print what it returns.
        An expression is tried first (``return <source>``), as Lua's interactive mode does."""
        try:
            chunk = self.state.compile("return " + source, "=console")
        except LuaScriptError:
            try:
                chunk = self.state.compile(source, "=console")
            except LuaScriptError as error:
                return CommandOutcome("", error)
        run_id = next(self._run_ids)
        try:
            results = await self.state.run_in_task(self._api.run, run_id, chunk)
        except LuaScriptError as error:
            return CommandOutcome(self._api.take_output(run_id), error)
        output = self._api.take_output(run_id)
        if results:
            tostring = self.state.lua.globals().tostring
            output += "\t".join(str(tostring(value)) for value in results) + "\n"
        return CommandOutcome(output)
