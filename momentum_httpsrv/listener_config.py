"""From a configuration to its HTTP listeners: which ``Listen`` scopes serve, and each
one's settings resolved by option fallback (docs/request-lifecycle.md#option-resolution)
and checked, so a bad value stops ``check`` at its ``file:line:col``."""

from __future__ import annotations

from .config import ConfigScope, Configuration, ConfigValueError
from .httpsrv.listener import ListenerSettings
from .httpsrv.tls import tls_context_for
from .netlistener import configured_listen_address


def http_listens(config: Configuration) -> list[tuple[str, ListenerSettings]]:
    """Every enabled ``HTTP_Listener`` ``Listen`` with its settings; a bad value or address
    stops ``check`` at its ``file:line:col`` rather than ``serve``."""
    listens = []
    for http_listener in config.root.scopes("HTTP_Listener"):
        if not http_listener.get_bool("enable", True):
            continue
        for listen in http_listener.scopes("Listen"):
            if listen.get_bool("enable", True):
                configured_listen_address(listen)
                listens.append((listen.name or "", listener_settings(config, listen)))
    return listens


def listener_settings(config: Configuration, listen: ConfigScope) -> ListenerSettings:
    """One ``Listen`` scope's settings, each option resolved by fallback and checked."""
    size, idle, response, chunked, backlog, mode = (
        config.lookup(listen.path, name)
        for name in ("max_request_size", "idle_time", "response_timeout", "disable_chunked",
                     "listen_backlog", "file_mode")
    )
    if size is not None and size.as_int() < 0:
        raise ConfigValueError(size.location, "Max_Request_Size must be 0 or more bytes")
    if response is not None and response.as_float() < 0:
        raise ConfigValueError(response.location, f"{response.name} must be 0 or more seconds")
    return ListenerSettings(
        max_request_size=None if size is None else size.as_int(),
        idle_time=0.0 if idle is None else idle.as_float(),
        response_timeout=0.0 if response is None else response.as_float(),
        disable_chunked=False if chunked is None else chunked.as_bool(),
        listen_backlog=500 if backlog is None else backlog.as_int(),
        file_mode=0o660 if mode is None else mode.as_int(),
        ssl_context=tls_context_for(config, listen),
    )
