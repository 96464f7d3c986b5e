"""The console: command lines as ``ec_console`` sends them, the built-in commands and the
Lua-registered ones (``msys.registerControl``), the Control_Listener that serves them and
the ``ec_console`` client. The console reaches the node only through ``ConsoleNode``
(node_interface.py).

Internal modules: ``protocol`` (framing and word splitting), ``mailqueue``.
"""

from .commands import CommandError, ConsoleDispatcher, ReconfigureError
from .control import LuaControlBinding
from .mailqueue import MailQueue
from .node_interface import ConsoleGeneration, ConsoleNode
from .registry import CommandOutcome, ControlRegistry
from .server import (
    DEFAULT_CONTROL_SOCKET,
    ControlListener,
    ControlListenerError,
    ControlListenSpec,
)

__all__ = [
    "DEFAULT_CONTROL_SOCKET",
    "CommandError",
    "CommandOutcome",
    "ConsoleDispatcher",
    "ConsoleGeneration",
    "ConsoleNode",
    "ControlListenSpec",
    "ControlListener",
    "ControlListenerError",
    "ControlRegistry",
    "LuaControlBinding",
    "MailQueue",
    "ReconfigureError",
]
