"""``ec_parse_url``: a request-target split into Momentum's ``ec_url_details``
(docs/request-lifecycle.md#the-session-object)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


class UrlParseError(ValueError):
    """The request-target is not a URL ec_parse_url would accept (answered with 400)."""


def percent_decode(text: str) -> str:
    """RFC 3986 decoding on Latin-1 text; ``+`` stays ``+``
    (docs/request-lifecycle.md#the-session-object)."""
    if "%" not in text:
        return text
    return _PERCENT.sub(lambda m: chr(int(m.group(1), 16)), text)


@dataclass(frozen=True)
class UrlDetails:
    """Momentum's ``ec_url_details``; strings are Latin-1 text, absent parts are None."""

    url: str
    path: str
    scheme: str | None = None
    user: str | None = None
    password: str | None = None
    host: str | None = None
    port: int = 0
    raw_query: str | None = None
    query: str | None = None
    fragment: str | None = None
    attrs: tuple[tuple[str, str], ...] | None = None  # decoded query pairs; None if not k=v&…


def parse_query_attrs(raw_query: str) -> tuple[tuple[str, str], ...] | None:
    """``key=value(&key=value)*`` decoded, duplicates resolved last-wins, or None when the
    query does not have that shape (a piece without ``=``, an empty piece, a bad escape)."""
    pairs: dict[str, str] = {}
    for piece in raw_query.split("&"):
        key, sep, value = piece.partition("=")
        if not sep or not key or _BAD_PERCENT.search(piece):
            return None
        pairs[percent_decode(key)] = percent_decode(value)
    return tuple(pairs.items())


def plain_path(target: str) -> str | None:
    """The path of an origin-form target with nothing to decode or check (no ``%``, no
    fragment) — what ``parse_url(target).path`` is — without parsing the rest; None when
    the target needs ``parse_url``. The dispatcher routes on it; the URL is parsed when a
    handler asks for it."""
    path = target.partition("?")[0]
    if path[:1] != "/" or "%" in path or "#" in target:
        return None
    return path


def parse_url(target: str) -> UrlDetails:
    """Parse an origin-form (``/p?q``) or absolute-form (``http://h:1/p``) request-target."""
    rest = target
    fragment = None
    if "#" in rest:
        rest, fragment = rest.split("#", 1)
        fragment = percent_decode(fragment)
    raw_query = None
    if "?" in rest:
        rest, raw_query = rest.split("?", 1)
    scheme = user = password = host = None
    port = 0
    match = _SCHEME.match(rest)
    if match and rest[match.end() : match.end() + 2] == "//":
        scheme = match.group(1).lower()
        authority, slash, path_part = rest[match.end() + 2 :].partition("/")
        rest = slash + path_part
        if "@" in authority:
            userinfo, authority = authority.rsplit("@", 1)
            user, _, pw = userinfo.partition(":")
            user = percent_decode(user)
            password = percent_decode(pw) if ":" in userinfo else None
        host, port = _split_host_port(authority)
    elif not rest.startswith("/") and rest != "*":
        raise UrlParseError(f"request-target must start with '/': {target!r}")
    if _BAD_PERCENT.search(rest):
        raise UrlParseError(f"invalid percent-escape in path: {target!r}")
    query = attrs = None
    if raw_query is not None:
        query = percent_decode(raw_query)
        attrs = parse_query_attrs(raw_query)
    return UrlDetails(
        url=target,
        path=percent_decode(rest),
        scheme=scheme,
        user=user,
        password=password,
        host=host,
        port=port,
        raw_query=raw_query,
        query=query,
        fragment=fragment,
        attrs=attrs,
    )


def _split_host_port(authority: str) -> tuple[str, int]:
    if authority.startswith("["):
        host, _, after = authority[1:].partition("]")
        port_text = after[1:] if after.startswith(":") else ""
    else:
        host, _, port_text = authority.partition(":")
    if port_text and not port_text.isdigit():
        raise UrlParseError(f"invalid port in URL: {authority!r}")
    return percent_decode(host), int(port_text) if port_text else 0
