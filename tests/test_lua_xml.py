"""The ``xml`` library: thrlua's libxml2 binding semantics on lxml, and safe parsing."""

from __future__ import annotations

import time

import pytest
from lupa import lua51

from momentum_httpsrv.lua.lib import LIBRARY_OPENERS

SAMPLE = """<?xml version="1.0" encoding="utf-8"?>
<doc>
  <item name="one">
    <property name="prop1" value="value1">hello</property>
  </item>
  <item name="two">
    <property name="prop1" value="value2">there</property>
  </item>
</doc>
"""


@pytest.fixture
def lua() -> lua51.LuaRuntime:
    runtime = lua51.LuaRuntime(
        encoding="latin-1", unpack_returned_tuples=True, register_eval=False,
        register_builtins=False,
    )
    runtime.globals().package.loaded["xml"] = LIBRARY_OPENERS["xml"](runtime)
    return runtime


def run(lua: lua51.LuaRuntime, body: str, text: str = SAMPLE) -> object:
    return lua.execute("local xml = require('xml')\nlocal doc = xml.parsexml(...)\n" + body, text)


def names(iterator_expression: str) -> str:
    """Lua code collecting ``name=contents`` of every node an iterator yields."""
    return f"""
        local out = {{}}
        for n in {iterator_expression} do out[#out + 1] = n:name() .. "=" .. n:contents() end
        return table.concat(out, "|")
    """


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("return doc:tostring() == ..., tostring(doc) == ...", (True, True)),
        ("return doc:root():name(), doc:root():doc() == doc", ("doc", True)),
        # children include text nodes, named "text"
        (names("xml.parsexml('<a>x<b>y</b>z<!--c--></a>'):root():children()"),
         "text=x|b=y|text=z|comment=c"),
        (names("doc:xpath('//item[@name=\"two\"]/property')"), "property=there"),
        (names("doc:xpath('//property/text()')"), "text=hello|text=there"),
        (names("doc:xpath('//@value')"), "value=value1|value=value2"),
        (names("doc:xpath('//property', doc:root())"), "property=hello|property=there"),
        # non-node results and bad expressions select nothing, as in libxml2
        (names("doc:xpath('count(//item)')"), ""),
        (names("doc:xpath('//[')"), ""),
        ("return doc:root():contents()", "hellothere"),  # blank text nodes were dropped
        # attributes: one argument reads, two write; nil leaves an empty attribute (xmlSetProp)
        ("local r = doc:root() r:attr('a', 'x<y') r:attribute('b', 5)\n"
         "return r:attr('a'), r:attr('b'), r:attr('nope')", ("x<y", "5", None)),
        ("local r = doc:root() r:attr('a', 'x') r:attr('a', nil)\n"
         "return r:attr('a'), r:tostring():match('^<doc a=\"\">') ~= nil", ("", True)),
        ("local p = doc:xpath('//property')() return p:attrns('name'), p:attrns('name', ''),\n"
         "p:attrns('name', 'urn:x')", ("prop1", None, None)),
        ("return xml.parsexml('<a xmlns:p=\"urn:p\" p:k=\"v\"/>'):root()\n"
         ":attrns('k', 'urn:p')", "v"),
        # addchild by name inherits the parent's namespace; contents replaces the children
        ("local n = doc:root():addchild('fruit') n:contents('and <veg>')\n"
         "return tostring(n), n:contents(), n:doc() == doc",
         ("<fruit>and &lt;veg&gt;</fruit>", "and <veg>", True)),
        ("local d = xml.parsexml('<a xmlns=\"urn:a\"><b/></a>') d:root():addchild('c')\n"
         "return d:root():tostring()", '<a xmlns="urn:a">\n  <b/>\n  <c/>\n</a>'),
        ("local n = doc:xpath('//item')() n:contents('') return tostring(n)", '<item name="one"/>'),
        # unlink keeps the node (and leaves its tail text in place); addchild moves it
        ("local d = xml.parsexml('<a>x<b>y</b>z</a>') local b = d:xpath('//b')()\n"
         "b:unlink() local s = d:root():tostring() d:root():addchild(b)\n"
         "return s, d:root():tostring(), b:doc() == d",
         ("<a>xz</a>", "<a>xz<b>y</b></a>", True)),
        ("local d = xml.parsexml('<a>x<b/></a>') local t = d:root():children()()\n"
         "t:unlink() return t:name(), t:contents(), d:root():tostring()",
         ("text", "x", "<a>\n  <b/>\n</a>")),
        ("local d = xml.parsexml('<a><b/></a>') local t = xml.parsexml('<c>hi</c>'):root()\n"
         ":children()() d:root():addchild(t) return d:root():tostring(), t:contents()",
         ("<a><b/>hi</a>", "hi")),
        # copies and new nodes belong to no document until added
        ("local c = doc:root():copy() c:attr('x', '1') return doc:root():attr('x'), c:attr('x'),"
         "c:doc(), c:name()", (None, "1", None, "doc")),
        ("local n = xml.newnode('foo') n:addchild('bar') local r = doc:root() r:addchild(n)\n"
         "return n:doc() == doc, tostring(n)", (True, "<foo>\n  <bar/>\n</foo>")),
        ("return tostring(doc:xpath('//property/text()')()), tostring(doc:xpath('//@name')())",
         ("hello", ' name="one"')),
        ("return getmetatable(doc)['@type'], doc:root()['@type']",
         ("libxml2:xmlDocPtr", "libxml2:xmlNodePtr")),
        # keep_blanks keeps whitespace-only text nodes
        (names("xml.parsexml('<a> <b/> </a>', 1):root():children()"), "text= |b=|text= "),
        (names("xml.parsexml('<a> <b/> </a>', 0):root():children()"), "b="),
        # entities: references are kept, internal ones expand in contents, external ones never
        ("local d = xml.parsexml('<!DOCTYPE a [<!ENTITY i \"inner\">]><a>&i;<![CDATA[c<d]]></a>')\n"
         "return d:root():contents(), d:root():tostring()",
         ("innerc<d", "<a>&i;<![CDATA[c<d]]></a>")),
    ],
)
def test_documents_and_nodes(lua: lua51.LuaRuntime, body: str, expected: object) -> None:
    assert run(lua, body) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("doc:root():name('boo')", "must be called with no arguments"),
        ("doc:root():copy(1)", "must be called with no arguments"),
        ("doc:root():attr()", "bad argument #1 to 'attr' (string expected, got nil)"),
        ("doc:root():attr('a', 'b', 'c')", "must be called with one argument"),
        ("doc:root():contents('a', 'b')", "must be called with no arguments"),
        ("doc:root('x')", "expects no arguments, got 1"),
        ("doc:tostring(1, 2)", "expects no arguments, got 2"),
        ("doc:xpath()", "expects 1 or 2 arguments, got 1"),
        ("doc:xpath({})", "no xpath expression provided"),
        ("doc:xpath('//a', doc)",
         "bad argument #2 to 'xpath' (libxml2:xmlNodePtr expected, got userdata)"),
        ("doc:root():addchild(doc)",
         "bad argument #1 to 'addchild' (libxml2:xmlNodePtr expected, got userdata)"),
        ("doc:root():addchild('bad name')", "Invalid tag name 'bad name'"),
        ("doc:root():attr('a', '\\1')", "All strings must be XML compatible: Unicode or ASCII, "
         "no NULL bytes or control characters"),
        ("doc:root():attr('a', '\\255')", "xml text must be valid UTF-8"),
        ("local r = doc:root() r:addchild(r)", "addchild: a node cannot become its own descendant"),
        ("local n = xml.newnode('foo') n:free() n:name()",
         "calling 'name' on bad self (libxml2:xmlNodePtr expected, got userdata)"),
        ("xml.parsexml()", "parsexml requires one argument"),
        ("xml.parsexml('<a/>', nil)", "bad argument #2 to 'parsexml' (number expected, got nil)"),
        ("doc:root():attrns('a', 'urn:x', 'v')",
         "attrns: setting namespaced attributes (with node:newns) is not emulated"),
    ],
)
def test_errors(lua: lua51.LuaRuntime, body: str, message: str) -> None:
    assert run(lua, f"return select(2, pcall(function() {body} end))") == message


@pytest.mark.parametrize("text", ["<a><b></a>", "", "<a>"])
def test_parse_errors_return_a_lone_nil(lua: lua51.LuaRuntime, text: str) -> None:
    assert lua.execute("return select('#', require('xml').parsexml(...))", text) == 1
    assert lua.execute("return require('xml').parsexml(...)", text) is None


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 2 else "") + ";") * 10}">'
        for i in range(2, 10)
    )
    + "]><lolz>&lol9;</lolz>"
)


def test_billion_laughs_is_rejected_quickly(lua: lua51.LuaRuntime) -> None:
    started = time.perf_counter()
    assert lua.execute("return require('xml').parsexml(...)", BILLION_LAUGHS) is None
    assert time.perf_counter() - started < 2


def test_external_entities_are_never_loaded(lua: lua51.LuaRuntime, tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    document = (f'<!DOCTYPE a [<!ENTITY xxe SYSTEM "file://{secret}">]>'
                "<a>&xxe;<b>&xxe;</b></a>")
    contents, text = run(lua, "return doc:root():contents(), tostring(doc)", document)
    assert "TOP SECRET" not in contents + text
    assert "<a>&xxe;<b>&xxe;</b></a>" in text


# -- node operations as libxml2 performs them for thrlua's xml.c ---------------------------


def test_unlinking_the_root_leaves_the_document_without_one(lua) -> None:
    """xmlUnlinkNode on the root element: xmlDocGetRootElement is then NULL (nil), the
    document serialises as its declaration alone, the node lives on."""
    result = run(lua, """
      local root = doc:root():unlink()
      local found = 0
      for _ in doc:xpath("//item") do found = found + 1 end
      return doc:root(), doc:tostring(), root:name(), found, root:doc() == doc,
        #root:tostring() > 0
    """)
    assert result == (None, '<?xml version="1.0" encoding="utf-8"?>\n', "doc", 0, True, True)


def test_moving_the_root_into_another_tree_also_empties_its_document(lua) -> None:
    result = run(lua, """
      local holder = xml.parsexml("<holder/>")
      holder:root():addchild(doc:root())
      return doc:root(), holder:root():tostring():match("<holder>%s*<doc>") ~= nil
    """)
    assert result == (None, True)


def test_unlinking_an_attribute_removes_it_and_keeps_its_value(lua) -> None:
    result = run(lua, """
      local attr
      for a in doc:xpath("//item[@name='one']/@name") do attr = a end
      attr:unlink()
      local item
      for i in doc:xpath("//item") do item = item or i end
      return item:attr("name"), attr:contents(), attr:name()
    """)
    assert result == (None, "one", "name")


def test_setting_a_text_node_keeps_the_escapes_an_element_reads_back(lua) -> None:
    """xml.c escapes the text, then xmlNodeSetContent parses references for an element but
    stores a text node's content as it is."""
    result = run(lua, """
      local property
      for p in doc:xpath("//property") do property = property or p end
      local text = property:children()()
      text:contents("a&b")
      local element = doc:root():addchild("note")
      element:contents("a&b")
      return text:contents(), property:tostring(), element:contents(), element:tostring()
    """)
    assert result == (
        "a&amp;b",
        '<property name="prop1" value="value1">a&amp;amp;b</property>',
        "a&b",
        "<note>a&amp;b</note>",
    )
