"""The ``momentum_site`` fixture finds a relative configuration beside the test file or
under the rootdir (not the current directory), keeps the paniclog out of the site's
folder, and fails a test with one line when the site cannot start."""

from __future__ import annotations

import textwrap
from pathlib import Path

pytest_plugins = ["pytester"]

SCRIPT = """\
require("msys.extended.httpsrv")
local mod = {}
function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/ping", function(s)
    print("pinged")
    s:response_status_set_std(200, "pong", "text/plain")
  end)
  return true
end
msys.registerModule("ping", mod)
"""


def make_site(directory: Path, paniclog: str | None = None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ping.lua").write_text(SCRIPT)
    logger = f'ec_logger {{ paniclog = "{paniclog}" }}\n' if paniclog else ""
    (directory / "ecelerity.conf").write_text(
        logger + 'scriptlet "scriptlet" { script "ping" { source = "ping" } }\n')


TEST = """
    def test_ping(momentum_site):
        site = momentum_site("{path}")
        assert site.get("/ping").text == "pong"
        assert "pinged" in site.paniclog
"""


def test_a_relative_site_is_found_under_the_rootdir_from_any_directory(pytester, monkeypatch):
    make_site(pytester.path / "conf")
    pytester.makeini("[pytest]\n")
    tests = pytester.mkpydir("deep")
    (tests / "test_ping.py").write_text(textwrap.dedent(TEST.format(path="conf/ecelerity.conf")))
    monkeypatch.chdir(pytester.mkdir("elsewhere"))
    result = pytester.runpytest("-p", "no:cacheprovider", f"--rootdir={pytester.path}",
                                str(tests))
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "conf" / "paniclog.ec").exists()


def test_a_site_beside_the_test_file_wins(pytester):
    make_site(pytester.path / "tests" / "site")
    pytester.makeini("[pytest]\n")
    (pytester.path / "tests" / "test_ping.py").write_text(
        textwrap.dedent(TEST.format(path="site/ecelerity.conf")))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert not (pytester.path / "tests" / "site" / "paniclog.ec").exists()


def test_paniclog_none_keeps_the_configured_place(pytester):
    make_site(pytester.path, paniclog="site.log")
    pytester.makepyfile(test_ping="""
        def test_ping(momentum_site):
            assert momentum_site("ecelerity.conf", paniclog=None).get("/ping").status == 200
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert "pinged" in (pytester.path / "site.log").read_text()


def test_a_missing_or_broken_site_fails_in_one_line(pytester):
    (pytester.path / "broken.conf").write_text("HTTP_Listener {\n")
    pytester.makepyfile(test_sites="""
        def test_missing(momentum_site):
            momentum_site("nowhere/ecelerity.conf")

        def test_broken(momentum_site):
            momentum_site("broken.conf")
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "*momentum_site: no nowhere/ecelerity.conf beside the test file or under the rootdir*",
        "*momentum_site('broken.conf'): *broken.conf:2:*",
    ])
    assert "Traceback" not in result.stdout.str()
    assert "ConfigSyntaxError" not in result.stdout.str()

