"""Listen addresses as Momentum writes them, parsed in one place
(docs/request-lifecycle.md#listen-addresses)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass


class ListenAddressError(ValueError):
    """A ``Listen`` address that is not one of the documented forms."""


@dataclass(frozen=True)
class ListenAddress:
    """Where to bind: an IP host and port, or a Unix-domain socket path."""

    family: socket.AddressFamily
    host: str | None = None  # literal IP to bind ("0.0.0.0" / "::" for all addresses)
    port: int = 0
    path: str | None = None  # Unix-domain socket path


_IPV4_ANY = "0.0.0.0"
_IPV6_ANY = "::"

_FORMS = '":2081", "*:2081", "127.0.0.1:2081", "[::1]:2081", "[::]:2081" or "/path/to/socket"'


def parse_listen_address(text: str) -> ListenAddress:
    """Parse ``":port"``, ``"*:port"``, ``"ipv4:port"``, ``"[ipv6]:port"`` or ``"/path"``.

    ``":port"`` and ``"*:port"`` mean all IPv4 addresses, ``"[*]:port"`` all IPv6 ones.
    Port 0 asks the kernel for an ephemeral port (used by tests).
    """
    if text.startswith("/"):
        return ListenAddress(family=socket.AF_UNIX, path=text)
    host_part, sep, port_part = text.rpartition(":")
    if not sep:
        raise ListenAddressError(f"Listen address {text!r} has no ':port'; use one of {_FORMS}")
    port = _parse_port(text, port_part)
    if host_part in ("", "*"):
        return ListenAddress(socket.AF_INET, _IPV4_ANY, port)
    if host_part.startswith("[") and host_part.endswith("]"):
        inner = host_part[1:-1]
        if inner == "*":
            return ListenAddress(socket.AF_INET6, _IPV6_ANY, port)
        try:
            return ListenAddress(socket.AF_INET6, str(ipaddress.IPv6Address(inner)), port)
        except ValueError:
            raise ListenAddressError(
                f"Listen address {text!r}: {inner!r} is not an IPv6 address"
            ) from None
    if ":" in host_part:
        raise ListenAddressError(
            f"Listen address {text!r}: IPv6 addresses need brackets, e.g. \"[::1]:{port}\""
        )
    try:
        return ListenAddress(socket.AF_INET, str(ipaddress.IPv4Address(host_part)), port)
    except ValueError:
        raise ListenAddressError(
            f"Listen address {text!r}: {host_part!r} is not an IP address; use one of {_FORMS}"
        ) from None


def _parse_port(text: str, port_part: str) -> int:
    if not port_part.isascii() or not port_part.isdigit() or int(port_part) > 65535:
        raise ListenAddressError(
            f"Listen address {text!r}: port {port_part!r} is not a number from 0 to 65535"
        )
    return int(port_part)
