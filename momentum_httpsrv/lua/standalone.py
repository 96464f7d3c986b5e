"""The command line of ``momentum-httpsrv lua``, read as thrLua's ``rclua`` reads its own:
``[-e STAT | -l NAME]… [FILE | - [ARGS…]]``.

``-e`` chunks and ``-l`` libraries run in the order given, then the script; the ``arg``
table numbers the words as rclua does (``arg[0]`` the script, ``arg[-1]`` the word before
it, down to the program itself). The main chunk runs as a task, so that it may sleep and
wait as a loaded script does, but scripts see it as rclua's main thread:
``coroutine.running()`` is nil there and a yield of their own is an error.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from .runtime import LuaState


class StandaloneUsageError(ValueError):
    """A command line rclua would reject (an option without its value, an unknown one)."""


@dataclass
class StandaloneCommand:
    argv: list[str]  # argv[0] is the program
    actions: list[tuple[str, str]] = field(default_factory=list)  # ("e" | "l", text)
    script_at: int = 0  # index of the script in argv; 0 when there is none

    @property
    def script(self) -> str | None:
        return self.argv[self.script_at] if self.script_at else None


def parse_command_line(program: str, words: tuple[str, ...] | list[str]) -> StandaloneCommand:
    argv = [program, *words]
    command = StandaloneCommand(argv)
    at = 1
    while at < len(argv):
        word = argv[at]
        if word == "--":
            at += 1
            break
        if word == "-" or not word.startswith("-"):
            break
        option = word[1:2]
        if option not in ("e", "l"):
            raise StandaloneUsageError(f"unrecognized option '{word}'")
        value = word[2:]
        if not value:
            at += 1
            if at >= len(argv):
                raise StandaloneUsageError(f"'-{option}' needs argument")
            value = argv[at]
        command.actions.append((option, value))
        at += 1
    if at < len(argv):
        command.script_at = at
    return command


async def run_command(state: LuaState, command: StandaloneCommand) -> None:
    """Run the -e/-l actions and the script, each as the main chunk (prelude.lua's
    ``as_main_chunk``); raises LuaScriptError or OSError."""
    as_main_chunk = state.api.as_main_chunk
    for option, text in command.actions:
        if option == "e":
            await state.run_in_task(as_main_chunk(state.compile(text, "=(command line)")))
        else:
            await state.run_in_task(as_main_chunk(state.lua.globals().require), text)
    script = command.script
    if script is None:
        return
    lua = state.lua
    lua.globals().arg = lua.table_from(
        {index - command.script_at: word for index, word in enumerate(command.argv)}
    )
    if script == "-":
        source, chunkname = sys.stdin.buffer.read().decode("latin-1"), "=stdin"
    else:
        source, chunkname = Path(script).read_bytes().decode("latin-1"), "@" + script
    await state.run_in_task(
        as_main_chunk(state.compile(source, chunkname)), *command.argv[command.script_at + 1:]
    )

