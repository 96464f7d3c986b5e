"""What an HTTP/1.1 message can carry: one definition shared by the protocol (which
enforces it on the wire), the session setters (which refuse the rest with EINVAL) and
offline calls (which answer like the listener). Strings are Latin-1 decoded bytes.
"""

from __future__ import annotations

import re
from http import HTTPStatus

# RFC 9110 §5.6.2: method and field names are tokens.
TCHAR = r"-!#$%&'*+.^_`|~0-9A-Za-z"
# RFC 9112 §3.2: a request-target is visible ASCII; a space, a control or a byte >= 0x80
# cannot be carried (the listener answers 400).
TARGET_CHAR = r"\x21-\x7e"
# RFC 9110 §5.5: field values and reason phrases may hold HTAB, SP, visible ASCII and
# obs-text; any other control character could split or corrupt the head.
_CONTROL_EXCEPT_HTAB = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_TOKEN = re.compile(f"[{TCHAR}]+")
_TARGET = re.compile(f"[{TARGET_CHAR}]+")

# Headers the server owns: a handler's values are dropped at commit
# (docs/request-lifecycle.md#framing-and-server-owned-headers).
FRAMING_HEADERS = frozenset(("content-length", "transfer-encoding", "connection"))

# Reasons Momentum's helper functions use, and the ones the server uses for the responses
# it generates itself (docs/request-lifecycle.md#responses-the-server-makes-itself).
MOMENTUM_REASONS = {200: "OK", 403: "DENIED", 404: "NOT FOUND", 500: "ERROR"}


def is_token(text: str) -> bool:
    return _TOKEN.fullmatch(text) is not None


def is_request_target(text: str) -> bool:
    return _TARGET.fullmatch(text) is not None


def is_field_value(text: str) -> bool:
    """True when ``text`` can be sent as a header value or reason phrase."""
    return _CONTROL_EXCEPT_HTAB.search(text) is None


def without_controls(text: str) -> str:
    """``text`` with every character a field value cannot carry replaced by a space."""
    return _CONTROL_EXCEPT_HTAB.sub(" ", text)


def is_final_status(code: int) -> bool:
    """A status a handler's response can have: 1xx are interim, not final, responses and
    the status line has room for three digits."""
    return 200 <= code <= 999


def standard_reason(code: int) -> str:
    """IANA reason phrase for ``code`` ("" for codes without one)."""
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""
