"""Host side of ``os.setenv`` and ``io.popen``, which thrLua has and lupa's Lua lacks.

``io.popen`` hands Lua a real C ``FILE*``: the child's pipe end is opened by Lua's own
``io.open`` through ``/dev/fd/N``, so the handle is a file to ``io.type``, ``f:read``,
``f:lines`` and everything else of the io library; closing it waits for the child, as
``pclose`` does (``oslib.lua``).
"""

from __future__ import annotations

import os
import subprocess


def set_environment_variable(name: str, value: str | None, overwrite: bool) -> bool:
    """``setenv(name, value, overwrite)`` / ``unsetenv(name)`` on the process environment
    (the one C's ``getenv`` reads, so ``os.getenv`` and child processes see it)."""
    if value is None:
        os.environ.pop(name, None)
    elif overwrite or name not in os.environ:
        os.environ[name] = value
    return True


class PipedChildren:
    """The children ``io.popen`` started, until their pipe is closed."""

    def __init__(self) -> None:
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        self._next_id = 0

    def start(self, command: str, mode: str) -> tuple[int | None, int | str]:
        """Run ``command`` with ``/bin/sh -c``; ``(fd, id)`` of the pipe end Lua opens, or
        ``(None, message)``."""
        reading = not mode.startswith("w")
        try:
            child = subprocess.Popen(
                ["/bin/sh", "-c", command],
                stdout=subprocess.PIPE if reading else None,
                stdin=None if reading else subprocess.PIPE,
            )
        except OSError as error:
            return None, f"{command}: {error.strerror}"
        pipe = child.stdout if reading else child.stdin
        assert pipe is not None
        self._next_id += 1
        self._children[self._next_id] = child
        return pipe.fileno(), self._next_id

    def opened(self, child_id: int) -> None:
        """Lua has its own descriptor of the pipe now: close ours, so that the child sees
        end of input when Lua closes its file."""
        child = self._children.get(child_id)
        if child is not None:
            for pipe in (child.stdout, child.stdin):
                if pipe is not None:
                    pipe.close()

    def wait(self, child_id: int) -> int | None:
        """Wait for the child to end (``pclose``); its exit status, or None if unknown."""
        child = self._children.pop(child_id, None)
        return None if child is None else child.wait()
