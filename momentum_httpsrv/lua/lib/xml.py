"""``require("xml")``: thrlua's libxml2 binding, backed by lxml (the same libxml2 underneath).

Lua never holds lxml objects. Each document (or detached fragment from ``xml.newnode`` or
``node:copy``) has one :class:`NodeRegistry` that numbers the nodes Lua has seen; Lua's node
userdata carry ``(registry, number)`` and live in ``xml.lua``. The registry keeps the lxml tree
alive exactly as long as Lua references the document or any of its nodes.

libxml2 has text nodes; lxml keeps text in ``.text``/``.tail``. A text node is therefore a
:class:`TextSlot`: the element whose ``.text`` (or ``.tail``) holds it.

Parsing never touches the network or the file system (``no_network``, ``load_dtd=False``),
never substitutes entities (``resolve_entities=False``), and libxml2's amplification guard
rejects billion-laughs style documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lupa import lua51
from lxml import etree

from momentum_httpsrv.lua.lib._source import run_library_chunk

_PARSERS = {
    keep_blanks: etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        remove_blank_text=not keep_blanks, strip_cdata=False,
    )
    for keep_blanks in (False, True)
}


class XmlUsageError(Exception):
    """A script passed something libxml2 could not store (bad name, invalid UTF-8…)."""


@dataclass(frozen=True)
class TextSlot:
    """libxml2's text node: ``anchor.text`` (``is_tail`` false) or ``anchor.tail``."""

    anchor: Any
    is_tail: bool

    def get(self) -> str:
        return (self.anchor.tail if self.is_tail else self.anchor.text) or ""

    def set(self, text: str | None) -> None:
        if self.is_tail:
            self.anchor.tail = text or None
        else:
            self.anchor.text = text or None


@dataclass(frozen=True)
class AttributeSlot:
    """An attribute node returned by XPath (``//@name``)."""

    element: Any
    name: str


def _as_text(lua_string: str) -> str:
    try:
        return lua_string.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        raise XmlUsageError("xml text must be valid UTF-8") from None


def _as_lua(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


def _local_name(element: Any) -> str:
    if isinstance(element, etree._Comment):
        return "comment"
    if isinstance(element, etree._ProcessingInstruction):
        return element.target
    if isinstance(element, etree._Entity):
        return element.name
    return etree.QName(element).localname


def _element_text_content(element: Any) -> str:
    """xmlNodeGetContent: all descendant text, entity references expanded (bounded by
    libxml2's amplification guard at parse time)."""
    if isinstance(element, etree._Entity):
        return ""
    if isinstance(element, etree._Comment | etree._ProcessingInstruction):
        return element.text or ""
    return element.xpath("string()")


def _detach(element: Any) -> None:
    """xmlUnlinkNode: take ``element`` out of its parent; its tail text stays behind."""
    parent = element.getparent()
    if parent is None:
        return
    tail, element.tail = element.tail, None
    previous = element.getprevious()
    parent.remove(element)
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


def _encode_entities(text: str) -> str:
    """xmlEncodeEntitiesReentrant for a document with an encoding: markup characters
    become references; other characters stay."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _append_text(parent: Any, text: str) -> TextSlot:
    """xmlAddChild of a text node: merged into the parent's last text."""
    children = list(parent)
    slot = TextSlot(children[-1], True) if children else TextSlot(parent, False)
    slot.set(slot.get() + text)
    return slot


def _serialize(node: Any) -> bytes:
    return etree.tostring(node, encoding="utf-8", pretty_print=True, with_tail=False)


class NodeRegistry:
    """One document's (or fragment's) nodes as numbered handles for Lua."""

    def __init__(self, tree: Any | None) -> None:
        self.tree: Any = tree  # None for a fragment: node:doc() is nil
        # xmlUnlinkNode on the root element leaves the document without one (lxml keeps
        # the element as its tree's root, so the document's emptiness is kept here).
        self.rootless = False
        self._nodes: list[Any] = []
        self._handles: dict[Any, int] = {}

    def handle(self, node: Any) -> int:
        number = self._handles.get(node)
        if number is None:
            number = len(self._nodes)
            self._nodes.append(node)
            self._handles[node] = number
        return number

    def node(self, number: int) -> Any:
        return self._nodes[number]

    def replace(self, number: int, node: Any) -> None:
        """Point an existing handle at another object (a text node that moved)."""
        self._handles.pop(self._nodes[number], None)
        self._nodes[number] = node
        self._handles[node] = number


def _fragment(element: Any) -> tuple[NodeRegistry, int]:
    registry = NodeRegistry(None)
    return registry, registry.handle(element)


def _text_holder(text: str) -> TextSlot:
    holder = etree.Element("text")
    holder.text = text
    return TextSlot(holder, False)


class XmlLibrary:
    """The Python functions ``xml.lua`` calls. Strings in and out follow the runtime's
    Latin-1 convention; lxml works on real text."""

    def __init__(self, lua: lua51.LuaRuntime) -> None:
        self._lua = lua

    # -- documents ----------------------------------------------------------------------

    def parse(self, data: str, keep_blanks: bool) -> Any:
        try:
            root = etree.fromstring(data.encode("latin-1"), _PARSERS[bool(keep_blanks)])
        except etree.XMLSyntaxError:
            return None  # thrLua's parsexml returns a lone nil (libxml2 writes why to stderr)
        return NodeRegistry(root.getroottree())

    def root(self, registry: NodeRegistry) -> int | None:
        """xmlDocGetRootElement: nil once the root element was unlinked or moved away."""
        if registry.rootless:
            return None
        return registry.handle(registry.tree.getroot())

    def document_text(self, registry: NodeRegistry) -> str:
        """xmlSaveFormatFileTo(…, "utf-8", 1): declaration, then the indented tree."""
        info = registry.tree.docinfo
        standalone = ' standalone="yes"' if info.standalone else ""
        version = info.xml_version or "1.0"
        declaration = f'<?xml version="{version}" encoding="utf-8"{standalone}?>\n'
        if registry.rootless:
            return declaration
        body = etree.tostring(registry.tree, encoding="utf-8", pretty_print=True)
        return declaration + body.decode("latin-1")

    def _root_leaves(self, registry: NodeRegistry, node: Any) -> None:
        """``node`` leaves its place: if it was the document's root element, the document
        has none from now on."""
        if registry.tree is not None and not registry.rootless:
            if node is registry.tree.getroot():
                registry.rootless = True

    def xpath(self, registry: NodeRegistry, query: str, context: Any, number: Any) -> Any:
        """Handles of the nodes an XPath expression selects; anything else selects nothing
        (libxml2's evaluator returns no node-set for bad or non-node expressions)."""
        if context is None and registry.rootless:
            return self._lua.table_from([])  # a document without elements selects nothing
        target = registry.tree if context is None else context.node(number)
        if not isinstance(target, etree._ElementTree | etree._Element):
            target = target.anchor if isinstance(target, TextSlot) else target.element
        try:
            result = target.xpath(_as_text(query))
        except (etree.XPathError, XmlUsageError):
            return self._lua.table_from([])
        if not isinstance(result, list):
            return self._lua.table_from([])
        handles = []
        for item in result:
            if isinstance(item, etree._Element):
                handles.append(registry.handle(item))
            elif getattr(item, "is_attribute", False):
                handles.append(registry.handle(AttributeSlot(item.getparent(), item.attrname)))
            elif getattr(item, "is_text", False) or getattr(item, "is_tail", False):
                handles.append(registry.handle(TextSlot(item.getparent(), item.is_tail)))
        return self._lua.table_from(handles)

    # -- nodes --------------------------------------------------------------------------

    def name(self, registry: NodeRegistry, number: int) -> str:
        node = registry.node(number)
        if isinstance(node, TextSlot):
            return "text"
        if isinstance(node, AttributeSlot):
            return _as_lua(etree.QName(node.name).localname)
        return _as_lua(_local_name(node))

    def is_element(self, registry: NodeRegistry, number: int) -> bool:
        node = registry.node(number)
        return isinstance(node, etree._Element) and not isinstance(
            node, etree._Comment | etree._ProcessingInstruction | etree._Entity
        )

    def get_attribute(self, registry: NodeRegistry, number: int, name: str,
                      namespace: str | None) -> str | None:
        if not self.is_element(registry, number):
            return None
        key = _as_text(name) if namespace is None else f"{{{_as_text(namespace)}}}{_as_text(name)}"
        value = registry.node(number).get(key)
        return None if value is None else _as_lua(value)

    def set_attribute(self, registry: NodeRegistry, number: int, name: str,
                      value: str | None) -> None:
        """xmlSetProp: a nil value leaves the attribute present and empty, as libxml2 does."""
        if not self.is_element(registry, number):
            return
        try:
            registry.node(number).set(_as_text(name), "" if value is None else _as_text(value))
        except ValueError as error:
            raise XmlUsageError(str(error)) from None

    def children(self, registry: NodeRegistry, number: int) -> Any:
        node = registry.node(number)
        handles = []
        if self.is_element(registry, number):
            if node.text:
                handles.append(registry.handle(TextSlot(node, False)))
            for child in node:
                handles.append(registry.handle(child))
                if child.tail:
                    handles.append(registry.handle(TextSlot(child, True)))
        return self._lua.table_from(handles)

    def get_contents(self, registry: NodeRegistry, number: int) -> str:
        node = registry.node(number)
        if isinstance(node, TextSlot):
            return _as_lua(node.get())
        if isinstance(node, AttributeSlot):
            return _as_lua(node.element.get(node.name, ""))
        return _as_lua(_element_text_content(node))

    def set_contents(self, registry: NodeRegistry, number: int, text: str) -> None:
        """xml.c escapes the text (xmlEncodeEntitiesReentrant), then xmlNodeSetContent
        reads entity references back for an element or attribute, whose text is then
        exactly ``text``, but stores a text node's content as given: there the escapes
        stay (``a&b`` reads back as ``a&amp;b``)."""
        node = registry.node(number)
        value = _as_text(text)
        try:
            if isinstance(node, TextSlot):
                node.set(_encode_entities(value))
            elif isinstance(node, AttributeSlot):
                node.element.set(node.name, value)
            else:
                for child in list(node):
                    node.remove(child)
                node.text = value or None
        except ValueError as error:
            raise XmlUsageError(str(error)) from None

    def add_child_named(self, registry: NodeRegistry, number: int, name: str) -> int | None:
        """xmlNewChild: the child inherits the parent's namespace; non-elements get nil."""
        if not self.is_element(registry, number):
            return None
        parent = registry.node(number)
        namespace = etree.QName(parent).namespace
        local = _as_text(name)
        try:
            child = etree.SubElement(parent, f"{{{namespace}}}{local}" if namespace else local)
        except ValueError as error:
            raise XmlUsageError(str(error)) from None
        return registry.handle(child)

    def add_child_node(self, registry: NodeRegistry, number: int, child_registry: NodeRegistry,
                       child_number: int) -> int:
        """xmlAddChild: move the node under the parent; text merges into the last text."""
        if not self.is_element(registry, number):
            raise XmlUsageError("addchild: the parent must be an element node")
        parent = registry.node(number)
        child = child_registry.node(child_number)
        if isinstance(child, TextSlot | AttributeSlot):
            text = child.get() if isinstance(child, TextSlot) else child.element.get(child.name)
            return registry.handle(_append_text(parent, text or ""))
        if child is parent or child in parent.iterancestors():
            raise XmlUsageError("addchild: a node cannot become its own descendant")
        self._root_leaves(child_registry, child)
        _detach(child)
        parent.append(child)
        return registry.handle(child)

    def unlink(self, registry: NodeRegistry, number: int) -> None:
        """xmlUnlinkNode: out of its parent (the root element out of its document, an
        attribute out of its element); the node keeps its content and its document."""
        node = registry.node(number)
        if isinstance(node, TextSlot):
            text = node.get()
            node.set(None)
            registry.replace(number, _text_holder(text))
        elif isinstance(node, AttributeSlot):
            value = node.element.attrib.pop(node.name, "")
            holder = etree.Element("a", {node.name: value})
            registry.replace(number, AttributeSlot(holder, node.name))
        elif isinstance(node, etree._Element):
            self._root_leaves(registry, node)
            _detach(node)

    def copy(self, registry: NodeRegistry, number: int) -> Any:
        """xmlCopyNode(node, 1): a deep copy that belongs to no document."""
        node = registry.node(number)
        if isinstance(node, TextSlot):
            return _fragment(_text_holder(node.get()))
        if isinstance(node, AttributeSlot):
            return _fragment(_text_holder(node.element.get(node.name, "")))
        duplicate = etree.fromstring(etree.tostring(node, with_tail=False))
        return _fragment(duplicate)

    def node_text(self, registry: NodeRegistry, number: int) -> str:
        """xmlNodeDumpOutput(…, level 0, format 1): the subtree, no declaration."""
        node = registry.node(number)
        if isinstance(node, AttributeSlot):
            holder = etree.Element("a", {node.name: node.element.get(node.name, "")})
            text = _serialize(holder).decode("utf-8")
            return _as_lua(text[2:text.rindex("/>")])
        if isinstance(node, TextSlot):
            holder = etree.Element("t")
            holder.text = node.get()
            text = etree.tostring(holder, encoding="utf-8").decode("utf-8")
            return _as_lua(text[3:-4] if text.endswith("</t>") else "")
        return _serialize(node).rstrip(b"\n").decode("latin-1")

    def new_node(self, name: str) -> Any:
        try:
            return _fragment(etree.Element(_as_text(name)))
        except ValueError as error:
            raise XmlUsageError(str(error)) from None


def open_xml(lua: lua51.LuaRuntime) -> Any:
    """Create the ``xml`` module table in ``lua``."""
    library = XmlLibrary(lua)
    functions = {
        name: getattr(library, name)
        for name in (
            "parse", "root", "document_text", "xpath", "name", "get_attribute",
            "set_attribute", "children", "get_contents", "set_contents", "add_child_named",
            "add_child_node", "unlink", "copy", "node_text", "new_node",
        )
    }
    return run_library_chunk(lua, "xml.lua", lua.table_from(functions))
