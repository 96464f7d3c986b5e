"""The Lua examples of Momentum's reference pages, as a corpus written for this project
(tests/doc_examples/: our own code in the shape of each page's example, the page named at
the top of each piece), run in one minimal site.

Where a page's sample output disagrees with what its code does on Momentum, the test
follows the code (the libraries' sources) and says so next to the assertion.

With ``MOMENTUM_SUPPORT_DOCS`` naming a checkout of SparkPost/support-docs, the pages' own
example blocks are also run unchanged (test_documented_block_runs_unchanged); the corpus
never copies them.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from momentum_httpsrv.httpsrv.requests import ConnectionInfo, Request
from momentum_httpsrv.node import MomentumNode

CORPUS = Path(__file__).parent / "doc_examples"

SITE = """
Max_Outbound_Connections = 100
Domain "example.org" { Max_Outbound_Connections = 5 }
threadpool "CSV_LOGS" { concurrency = 4 }
HTTP_Listener {
  Listen "127.0.0.1:0" { }
  Listen ":2093" {
    Enable_Authentication = true
    AuthPlainParameters = [ uri = "teamscheme://" realm = "team" ]
  }
}
scriptlet "scriptlet" {
  script "console_delay_domain" { source = "console_delay_domain" }
  script "httpsrv_module" { source = "httpsrv_module" }
  script "register_auth" { source = "register_auth" }
  script "timers" { source = "timers" }
  script "io_wrapper_text_log" { source = "io_wrapper_text_log" }
  script "snippets" { source = "snippets" }
}
"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[MomentumNode]:
    for script in CORPUS.glob("*.lua"):
        shutil.copy(script, tmp_path)
    (tmp_path / "ecelerity.conf").write_text(SITE)
    node = MomentumNode(tmp_path / "ecelerity.conf")
    node.start()
    yield node
    node.stop()


def request(method: str, path: str, headers: list[tuple[str, str]] | None = None,
            listener: str = "127.0.0.1:0") -> Request:
    connection = ConnectionInfo(conn_id=1, listener=listener, peer=("127.0.0.1", 40000))
    return Request(method, path, headers=headers or [], connection=connection)


def test_the_whole_corpus_loads_without_a_warning(site: MomentumNode) -> None:
    assert site.paniclog is not None
    assert not [e for e in site.paniclog.entries if e.level != "info"]


def test_console_command_delays_a_domain(site: MomentumNode) -> None:
    # operations-console-lua.md, ref-msys-register-control.md
    assert site.console("hold_domain") == "hold_domain needs a domain name\n"
    assert site.console('hold_domain "example.com"') == "example.com\tis now held.\n"
    assert site.console("delayed").startswith("Domain:                    example.com  C:")


def test_module_registers_endpoint_and_command_in_rsrc_setup(site: MomentumNode) -> None:
    # ref-msys-httpsrv-register.md
    response = site.call(request("POST", "/greet"))
    assert (response.status, response.reason) == (200, "/greet answers: greetings")
    assert response.body == b"/greet answers: greetings"
    assert site.call(request("GET", "/greet")).status == 404
    assert site.console("hold example.net") == "example.net\theld.\n"


def test_registered_auth_scheme_guards_a_listener(site: MomentumNode) -> None:
    # ref-msys-register-auth.md
    good = [("Authorization", "Basic YWRtaW46b3BlbnNlc2FtZQ==")]  # admin:opensesame
    response = site.call(request("GET", "/private", good, listener=":2093"))
    assert (response.status, response.body) == (200, b"hello admin")
    bad = [("Authorization", "Basic YWRtaW46Z3Vlc3M=")]  # admin:guess
    assert site.call(request("GET", "/private", bad, listener=":2093")).status == 401


def test_timers_fire_once_and_repeatedly_until_stopped(site: MomentumNode) -> None:
    # ref-msys-timer-after.md, ref-msys-timer-every.md
    assert site.generation is not None

    async def serve_a_while() -> None:
        site.generation.lua.msys_async.start()
        for _ in range(500):  # up to 5 s on a loaded machine; done as soon as both ran
            if "once: the one-shot timer fired" in site.paniclog.text() and (
                await site.run_console("scriptlet eval ticks")
            ) == "3\n":
                break
            await asyncio.sleep(0.01)

    asyncio.run(serve_a_while())
    assert "once: the one-shot timer fired" in site.paniclog.text()
    assert site.console("scriptlet eval ticks, once:name(), ticker:name()") == (
        "3\tonce\tticker\n"
    )


def test_io_wrapper_job_appends_in_a_configured_pool(site: MomentumNode, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # ref-msys-core-io-wrapper-open.md (threadpool "LUA_TXT_LOGS" there, CSV_LOGS here)
    monkeypatch.chdir(tmp_path)
    assert site.console("log_line") == ""
    assert site.console("log_line") == ""
    assert (tmp_path / "lines.csv").read_text() == "one,two,three\n" * 2
    assert "no thread pool" not in site.paniclog.text()
    assert site.console("scriptlet eval msys.threadpool.stat('CSV_LOGS').invocations") == "2\n"


SNIPPETS = {
    # ref-json-decode.md shows `{ "hello": "world", "int": 4, "num": 3.500000 }`: json-c's
    # one-line form with doubles as %f, which is what we print.
    "json_decode": 'hi\n{ "greeting": "hi", "count": 7, "ratio": 0.250000 }\n',
    # ref-json-encode.md's sample output is indented and sorted, but the page's code prints
    # tostring(obj), json-c's one-line form in insertion order (as the decode page shows).
    "json_encode": '{ "colour": "red", "count": 2, "list": [ 5, 6 ] }\n',
    "json_new": '{ "key": "val" }\n',
    "xml_addchild": "<list>\n  <entry>first entry</entry>\n</list>\n",
    # ref-xml-doc-tostring.md shows encoding="utf8", Momentum before 4.3.1 (spec §4.4).
    "xml_doc_tostring": (
        '<?xml version="1.0" encoding="utf-8"?>\n<list>\n  <entry>first entry</entry>\n'
        "</list>\n\n"
    ),
    "xml_names": "entry\ntext\n",
    # ref-xml-node-attribute.md says attr(name, nil) "clears" the attribute; xml.c calls
    # xmlSetProp(node, name, NULL), which leaves it present and empty.
    "xml_attr_xpath": "entry\tnew\n\nentry\tnew\n\n",
    # ref-xml-node-tostring.md's sample shows the parent around the item; xml.c dumps the
    # node itself (xmlNodeDumpOutput), so the item alone.
    "xml_node_tostring": "<entry>only this</entry>\n",
    "xml_unlink": "list\tnil\n",
    "pcre_split_dumper": (
        'line:\treturn {\nline:\t  [1] = "192.0.2.1",\nline:\t  [2] = "192.0.2.2",\nline:\t}\n'
    ),
    "pcre_match_replace": "1234\t1234\t1234\norder #### shipped\n",
    "base64": "YW55IGNhcm5hbCBwbGVhcw==\tany carnal pleas\n",
    # ref-msys-runinpool.md's first example comments that "done" reaches `res`, but the
    # page's text says the asynchronous forms return nothing; they do return nothing.
    "run_in_pool": (
        "async form returns\tnil\tnil\nlifting in a pool\ntrue\ttrue\ntrue\t2\ncompletion ran\n"
    ),
    "run_in_inst": "working for:\tdomain.example\ntrue\ttrue\ntrue\tinner\n",
    "threadpool_stat": "0\t5\n0\tSwapOut\ntrue\t7\tSwapOut\n",
    "msys_config": (
        "100\t5\nMax_Outbound_Connections = 100\n        Max_Outbound_Connections = 5\n\n"
    ),
}


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_reference_snippet(site: MomentumNode, name: str) -> None:
    assert site.console(f"snippet {name}") == SNIPPETS[name]


# -- the pages' own blocks, from a support-docs checkout ----------------------------------

# (page, block number, how it runs). "command": the block is a console command's body;
# "script": the block is a script of the site. Blocks left out are in README's "Not
# emulated" list (SMTP callouts, msys.dnsLookup, message parts) or are not Lua (the
# synopses, "“GET”" with typographic quotes in ref-msys-httpsrv-register.md).
DOCUMENTED_BLOCKS = [
    ("4/operations-console-lua.md", 0, "script"),
    ("4/lua/ref-msys-register-control.md", 1, "script"),
    ("4/lua/ref-msys-httpsrv-register.md", 2, "script"),
    ("4/lua/ref-msys-register-auth.md", 1, "script"),
    ("4/lua/ref-msys-timer-after.md", 1, "script"),
    ("4/lua/ref-msys-timer-every.md", 1, "script"),
    ("4/lua/ref-json-decode.md", 0, "command"),
    ("4/lua/ref-json-encode.md", 0, "command"),
    ("4/lua/ref-json-new.md", 0, "command"),
    ("4/lua/ref-xml-doc-root.md", 0, "command"),
    ("4/lua/ref-xml-doc-tostring.md", 0, "command"),
    ("4/lua/ref-xml-node-addchild.md", 0, "command"),
    ("4/lua/ref-xml-node-name.md", 0, "command"),
    ("4/lua/ref-xml-node-tostring.md", 0, "command"),
    ("4/lua/ref-xml-node-unlink.md", 0, "command"),
    ("4/lua/ref-xml-parsexml.md", 1, "command"),
    ("4/lua/ref-msys-runinpool.md", 1, "command"),
    ("4/lua/ref-msys-runinpool.md", 2, "command"),
    ("4/lua/ref-msys-runinpool.md", 3, "command"),
    ("4/lua/ref-msys-runininst.md", 2, "command"),
    ("4/lua/ref-msys-runininst.md", 3, "command"),
    ("4/lua/ref-msys-threadpool-stat.md", 0, "command"),
    ("4/lua/ref-msys-config.md", 1, "command"),
    ("4/lua/ref-msys-core-io-wrapper-open.md", 1, "command"),
    ("3/3-reference/3-reference-lua-ref-msys-register-control.md", 1, "script"),
    ("3/3-reference/3-reference-lua-ref-msys-register-auth.md", 1, "script"),
    ("3/3-reference/3-reference-lua-ref-json-decode.md", 0, "command"),
    ("3/3-reference/3-reference-lua-ref-msys-runinpool.md", 2, "command"),
    ("3/3-reference/3-reference-lua-ref-msys-config.md", 1, "command"),
]

SUPPORT_DOCS = os.environ.get("MOMENTUM_SUPPORT_DOCS")

# What a command block may use that its page defines elsewhere on the page or in prose.
COMMAND_PRELUDE = (
    'require("json"); require("xml"); require("msys.threadpool"); '
    'local mod = { ["text_log_file.csv"] = "text_log_file.csv" }; '
)


def documented_block(page: str, number: int) -> str:
    """Block ``number`` of a page, with the docs' elision lines (``...``) dropped."""
    assert SUPPORT_DOCS is not None
    text = (Path(SUPPORT_DOCS) / "content" / "momentum" / page).read_text()
    block = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)[number]
    return "".join(line for line in block.splitlines(True) if line.strip() != "...")


if SUPPORT_DOCS:  # a checkout of SparkPost/support-docs to compare with

    @pytest.mark.parametrize(("page", "number", "kind"), DOCUMENTED_BLOCKS)
    def test_documented_block_runs_unchanged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: str, number: int, kind: str
    ) -> None:
        monkeypatch.chdir(tmp_path)  # the io_wrapper example writes a file where it runs
        block = documented_block(page, number)
        if kind == "script":
            (tmp_path / "example.lua").write_text(block)
        else:
            (tmp_path / "example.lua").write_text(
                "local site = {}\nfunction site:rsrc_setup()\n"
                f"  msys.registerControl('example', function(cc) {COMMAND_PRELUDE}\n"
                f"{block}\nend)\n  return true\nend\nmsys.registerModule('site', site)\n"
            )
        (tmp_path / "ecelerity.conf").write_text(
            'threadpool "LUA_TXT_LOGS" { concurrency = 10 }\n'
            'scriptlet "scriptlet" { script "example" { source = "example" } }\n'
        )
        node = MomentumNode(tmp_path / "ecelerity.conf")
        node.start()
        try:
            reply = node.console("example") if kind == "command" else ""
            assert node.paniclog is not None
            assert not [e for e in node.paniclog.entries if e.level == "error"], reply
            assert not re.search(r"example\.lua:\d+:", reply), reply
        finally:
            node.stop()
