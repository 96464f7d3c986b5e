"""include / readonly_include: files, directories, search order, cycles, read-only marking."""

from __future__ import annotations

from pathlib import Path

import pytest

from momentum_httpsrv.config import (
    ConfigError,
    ConfigLocation,
    ConfigSyntaxError,
    load_config,
    parse_config_text,
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="latin-1")
    return path


def test_relative_include_resolves_against_the_including_file_first(tmp_path: Path) -> None:
    main = write(tmp_path / "ecelerity.conf", 'a = main\ninclude "sub/one.conf"\n')
    write(tmp_path / "sub/one.conf", 'b = one\ninclude "two.conf"\n')
    write(tmp_path / "sub/two.conf", "c = sub-two\n")
    write(tmp_path / "two.conf", "c = top-two\n")  # the config dir comes after sub/
    config = load_config(main)
    assert [o.value for o in config.root.options()] == ["main", "one", "sub-two"]
    assert config.files == [main, tmp_path / "sub/one.conf", tmp_path / "sub/two.conf"]
    assert config.root.option("c").location == ConfigLocation(str(tmp_path / "sub/two.conf"), 1, 1)


def test_relative_include_falls_back_to_the_search_path(tmp_path: Path) -> None:
    main = write(tmp_path / "conf/ecelerity.conf", 'include "shared.conf"\n')
    write(tmp_path / "global/shared.conf", "from = global\n")
    write(tmp_path / "default/shared.conf", "from = default\n")
    config = load_config(main, search_path=[tmp_path / "global", str(tmp_path / "default")])
    assert config.root.get("from") == "global"
    assert config.search_path == [tmp_path / "conf", tmp_path / "global", tmp_path / "default"]
    assert config.path == main and config.directory == tmp_path / "conf"


def test_config_directory_wins_over_search_path(tmp_path: Path) -> None:
    main = write(tmp_path / "conf/ecelerity.conf", 'include "x.conf"\n')
    write(tmp_path / "conf/x.conf", "from = conf\n")
    write(tmp_path / "global/x.conf", "from = global\n")
    assert load_config(main, search_path=[tmp_path / "global"]).root.get("from") == "conf"


def test_absolute_include_inside_a_scope(tmp_path: Path) -> None:
    part = write(tmp_path / "elsewhere/listen.conf", 'Listen ":2081" { Enable = false }\n')
    main = write(tmp_path / "ecelerity.conf", f'HTTP_Listener {{\n  include "{part}"\n}}\n')
    listener = load_config(main).root.scope("HTTP_Listener")
    assert listener.scope("Listen", ":2081").get_bool("enable") is False


def test_directory_include_takes_visible_files_in_alphabetical_order(tmp_path: Path) -> None:
    main = write(tmp_path / "ecelerity.conf", 'include "conf.d"\n')
    write(tmp_path / "conf.d/20-b.conf", "order = ( b )\nlast = b\n")
    write(tmp_path / "conf.d/10-a.conf", "first = a\nlast = a\n")
    write(tmp_path / "conf.d/30-c.conf", "last = c\n")
    write(tmp_path / "conf.d/.hidden.conf", "hidden = yes\n")
    write(tmp_path / "conf.d/nested/40-d.conf", "nested = yes\n")
    config = load_config(main)
    assert config.root.get("last") == "c"
    assert config.root.option("hidden") is None and config.root.option("nested") is None
    assert [p.name for p in config.files] == [
        "ecelerity.conf",
        "10-a.conf",
        "20-b.conf",
        "30-c.conf",
    ]


def test_text_includes_resolve_against_the_search_path(tmp_path: Path) -> None:
    write(tmp_path / "lib/x.conf", "x = 1\n")
    config = parse_config_text('include "x.conf"', search_path=[tmp_path / "lib"])
    assert config.root.get("x") == 1 and config.path is None


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {
                "ecelerity.conf": 'include "a.conf"\n',
                "a.conf": 'x = 1\n  include "ecelerity.conf"\n',
            },
            "{d}/a.conf:2:11: include cycle: "
            "{d}/ecelerity.conf -> {d}/a.conf -> {d}/ecelerity.conf",
        ),
        (
            {"ecelerity.conf": 'S {\n  include "ecelerity.conf"\n}\n'},
            "{d}/ecelerity.conf:2:11: include cycle: {d}/ecelerity.conf -> {d}/ecelerity.conf",
        ),
        (
            {"ecelerity.conf": 'include "d"\n', "d/x.conf": 'include "."\n'},
            "{d}/d/x.conf:1:9: include cycle: {d}/ecelerity.conf -> {d}/d/x.conf -> {d}/d/x.conf",
        ),
        (
            {"ecelerity.conf": 'a = 1\ninclude "missing.conf"\n'},
            "{d}/ecelerity.conf:2:9: cannot include 'missing.conf': no such file or directory "
            "(tried {d}/missing.conf)",
        ),
        (
            {"ecelerity.conf": 'include "a.conf"\n', "a.conf": "\n\n   x = ( 1\n"},
            "{d}/a.conf:4:1: expected a value or ')' to close the list opened at 3:8, "
            "found end of file",
        ),
        (
            {"ecelerity.conf": 'S {\n include "a.conf"\n}\n', "a.conf": "x = 1 }\n"},
            "{d}/a.conf:1:7: unexpected '}': no scope is open at this point",
        ),
        (
            {"ecelerity.conf": 'S {\n include "a.conf"\n}\n', "a.conf": "T {\n"},
            "{d}/a.conf:2:1: expected '}' to close 'T' opened at 1:3, found end of file",
        ),
    ],
)
def test_include_errors(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    for name, text in files.items():
        write(tmp_path / name, text)
    with pytest.raises(ConfigSyntaxError) as info:
        load_config(tmp_path / "ecelerity.conf")
    assert str(info.value) == expected.replace("{d}", str(tmp_path))


def test_missing_include_lists_every_place_tried(tmp_path: Path) -> None:
    main = write(tmp_path / "conf/ecelerity.conf", 'include "gone.conf"')
    with pytest.raises(ConfigSyntaxError) as info:
        load_config(main, search_path=[tmp_path / "global"])
    assert info.value.message == (
        f"cannot include 'gone.conf': no such file or directory "
        f"(tried {tmp_path}/conf/gone.conf, {tmp_path}/global/gone.conf)"
    )


def test_unreadable_main_file_is_a_plain_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.conf")
    assert not isinstance(info.value, ConfigSyntaxError)
    assert str(info.value) == f"cannot read '{tmp_path}/nope.conf': No such file or directory"


def test_readonly_include_marks_its_own_options_only(tmp_path: Path) -> None:
    main = write(tmp_path / "ecelerity.conf", 'mine = 1\nreadonly_include "ro.conf"\n')
    write(tmp_path / "ro.conf", 'Domain yahoo.com {\n  Gateway = x\n  include "rw.conf"\n}\n')
    write(tmp_path / "rw.conf", "Max_Outbound_Connections = 5\n")
    config = load_config(main)
    domain = config.root.scope("domain", "yahoo.com")
    assert config.root.option("mine").readonly is False
    assert domain.option("gateway").readonly is True
    # conf-overview.md: a plain include inside a read-only file stays writable.
    assert domain.option("max_outbound_connections").readonly is False


def test_a_file_included_twice_is_read_only(tmp_path: Path) -> None:
    main = write(
        tmp_path / "ecelerity.conf",
        'A {\n  include "common.conf"\n}\nB {\n  include "common.conf"\n}\nown = 1\n',
    )
    write(tmp_path / "common.conf", "shared = 1\n")
    root = load_config(main).root
    assert root.scope("A").option("shared").readonly is True
    assert root.scope("B").option("shared").readonly is True
    assert root.option("own").readonly is False


def test_warnings_in_included_files_carry_their_location(tmp_path: Path) -> None:
    main = write(tmp_path / "ecelerity.conf", 'include "a.conf"\n')
    write(tmp_path / "a.conf", "\nHTTP_Listener {\n    Bogus_Option = 1\n}\n")
    (warning,) = load_config(main).warnings
    assert str(warning) == (
        f"{tmp_path}/a.conf:3:5: warning: unknown option 'Bogus_Option' in HTTP_Listener"
    )


def test_include_path_bytes_follow_the_latin1_convention(tmp_path: Path) -> None:
    write(tmp_path / "café.conf", "x = 1\n")
    name_as_lua_sees_it = "café.conf".encode().decode("latin-1")
    main = tmp_path / "ecelerity.conf"
    main.write_bytes(f'include "{name_as_lua_sees_it}"\n'.encode("latin-1"))
    assert load_config(main).root.get("x") == 1
