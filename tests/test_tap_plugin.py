"""The pytest plugin reads Test.More's TAP: a failing point fails the test."""

import pytest

from momentum_httpsrv.testing.tap import parse_tap

pytest_plugins = ["pytester"]


@pytest.mark.parametrize(
    ("tap", "problems"),
    [
        ("1..2\nok 1 - a\nok 2 - b\n", []),
        ("1..2\nok 1 - a\nnot ok 2 - b\n", ["not ok 2 - b"]),
        ("1..3\nok 1\nok 2\n", ["planned 3 tests but ran 2"]),
        ("ok 1\n", ["no plan (1..N) was printed"]),
        ("1..1\nnot ok 1 - later # TODO not yet\n", []),
        ("1..1\nok 1 - skipped # SKIP no db\n", []),
        ("1..0 # SKIP no network\n", []),
        ("1..1\nBail out! broken\n", ["Bail out! broken", "planned 1 tests but ran 0"]),
    ],
)
def test_parse_tap(tap, problems):
    assert parse_tap(tap).problems() == problems


def test_lua_files_are_collected_and_judged_by_their_tap(pytester):
    pytester.makefile(".lua", test_good='require("Test.More")\nplan(1)\nok(1 != 2, "fine")\n')
    pytester.makefile(".lua", test_bad='require("Test.More")\nplan(2)\nok(true)\nis(1, 2, "one")\n')
    pytester.makefile(".lua", test_error='require("Test.More")\nplan(1)\nlocal t = nil\nt.x = 1\n')
    # a script's UTF-8 text is reported as written
    pytester.makefile(".lua", test_utf8='require("Test.More")\nplan(1)\nerror("héllo ✓")\n')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(["*not ok 2 - one*", "*test_error.lua:4: attempt to index*"])
    result.stdout.fnmatch_lines(["*test_utf8.lua:3: héllo ✓*"])

