"""``require("yaml")``: thrLua's yaml module (lyaml over libyaml), with PyYAML's parser and
emitter doing the YAML text work. The parser is libyaml itself when PyYAML was built with
it (its wheels are), so parse errors read as lyaml's; otherwise PyYAML's Python port.

As in lyaml, the Lua side (``yaml.lua``) turns tables into emitter events and parser events
into tables; this file only translates event lists to and from PyYAML's events. Strings
are Latin-1 (one character per byte), as everywhere in the runtime.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import yaml
from lupa import lua51

from momentum_httpsrv.lua.lib._source import run_library_chunk

BINARY_TAG = "tag:yaml.org,2002:binary"
# libyaml's parser (CSafeLoader) when PyYAML has it: its error texts are lyaml's.
PARSER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlError(ValueError):
    """Text that is not YAML, or events the emitter refuses; the message goes to the script."""


def _as_text(value: str) -> str:
    """A Lua string (Latin-1 characters standing for bytes) as the UTF-8 text it holds."""
    return value.encode("latin-1").decode("utf-8", "surrogateescape")


def _as_lua(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def emit(events: Any) -> str:
    """YAML text for a Lua list of events: {"doc"}, {"enddoc"}, {"seq", anchor},
    {"map", anchor}, {"end"}, {"alias", anchor}, {"scalar", text, quoted, binary}."""
    converted: list[yaml.Event] = [yaml.StreamStartEvent(encoding="utf-8")]
    seen_end: list[type] = []
    for index in range(1, len(events) + 1):
        event = events[index]
        kind = event[1]
        if kind == "doc":
            converted.append(yaml.DocumentStartEvent(explicit=True))
        elif kind == "enddoc":
            converted.append(yaml.DocumentEndEvent(explicit=False))
        elif kind in ("seq", "map"):
            anchor = event[2] or None
            start = yaml.SequenceStartEvent if kind == "seq" else yaml.MappingStartEvent
            converted.append(start(anchor, None, True, flow_style=False))
            seen_end.append(yaml.SequenceEndEvent if kind == "seq" else yaml.MappingEndEvent)
        elif kind == "end":
            converted.append(seen_end.pop()())
        elif kind == "alias":
            converted.append(yaml.AliasEvent(event[2]))
        else:
            text, quoted, binary = event[2], bool(event[3]), bool(event[4])
            if binary:
                encoded = base64.b64encode(text.encode("latin-1")).decode("ascii")
                converted.append(yaml.ScalarEvent(None, BINARY_TAG, (False, False), encoded))
            else:
                converted.append(yaml.ScalarEvent(
                    None, None, (True, True), _as_text(text), style="'" if quoted else None
                ))
    converted.append(yaml.StreamEndEvent())
    try:
        output = yaml.emit(converted, allow_unicode=True)
    except yaml.YAMLError as error:
        raise YamlError(str(error)) from None
    return _as_lua(output)


def parse(lua: lua51.LuaRuntime, text: str) -> Any:
    """The parser events of ``text`` as a Lua list (the same shapes ``emit`` takes, scalars
    as {"scalar", text, plain, tag, anchor}). Text that is not YAML ends the list with
    {"error", message}: lyaml reads events one at a time, so what comes before the bad
    text (an alias to no anchor, say) fails first."""
    events: list[Any] = []
    documents = 0
    try:
        for event in yaml.parse(_as_text(text), Loader=PARSER):
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                events.append(lua.table_from(["doc"]))
            elif isinstance(event, yaml.DocumentEndEvent):
                events.append(lua.table_from(["enddoc"]))
            elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                kind = "seq" if isinstance(event, yaml.SequenceStartEvent) else "map"
                events.append(lua.table_from([kind, event.anchor or False]))
            elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                events.append(lua.table_from(["end"]))
            elif isinstance(event, yaml.AliasEvent):
                events.append(lua.table_from(["alias", event.anchor]))
            elif isinstance(event, yaml.ScalarEvent):
                value = _as_lua(event.value)
                if event.tag == BINARY_TAG:
                    value = _decode_binary(event.value)
                events.append(lua.table_from([
                    "scalar", value, not event.style, event.tag or False,
                    event.anchor or False,
                ]))
    except yaml.MarkedYAMLError as error:
        events.append(lua.table_from(["error", _as_lua(_parse_error_text(error, documents))]))
    except yaml.YAMLError as error:
        events.append(lua.table_from(["error", _as_lua(str(error))]))
    return lua.table_from(events)


def _parse_error_text(error: yaml.MarkedYAMLError, document: int) -> str:
    """lyaml's layout: the problem, the number of documents begun and where (unless at the
    very start), a newline, then what was being parsed and where, and a newline."""
    text = f"{error.problem or 'A problem'} at document: {document}"
    mark = error.problem_mark
    if mark is not None and (mark.line or mark.column):
        text += f", line: {mark.line + 1}, column: {mark.column + 1}"
    text += "\n"
    if error.context:
        mark = error.context_mark
        line, column = (mark.line, mark.column) if mark is not None else (0, 0)
        text += f"{error.context} at line: {line + 1}, column: {column + 1}\n"
    return text


def _decode_binary(text: str) -> str:
    try:
        return base64.b64decode("".join(text.split())).decode("latin-1")
    except binascii.Error:
        raise YamlError("invalid base64 in a !!binary scalar") from None


def open_yaml(lua: lua51.LuaRuntime) -> Any:
    """Create the ``yaml`` module table in ``lua``."""
    return run_library_chunk(lua, "yaml.lua", emit, lambda text: parse(lua, text))
