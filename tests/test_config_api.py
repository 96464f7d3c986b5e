"""What the console and the server call: typed accessors, set/unset, render, eval."""

from __future__ import annotations

from pathlib import Path

import pytest

from momentum_httpsrv.config import (
    ConfigError,
    ConfigScope,
    ConfigSyntaxError,
    Configuration,
    ConfigValueError,
    load_config,
    parse_config_text,
)


def scope_of(text: str) -> ConfigScope:
    return parse_config_text(text).root


def snapshot(scope: ConfigScope) -> list[tuple]:
    """Everything that matters about a tree, comparable across parses."""
    items: list[tuple] = []
    for option in scope.options():
        items.append(("option", option.name, option.value))
    for child in scope.scopes():
        items.append(("scope", child.kind, child.name, tuple(snapshot(child))))
    return items


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("true", True), ("TRUE", True), ('"true"', True), ("on", True), ("On", True),
        ("enabled", True), ("yes", True), ("1", True), ('"1"', True), ("'enabled'", True),
        ("false", False), ("Off", False), ('"disabled"', False), ("no", False), ("0", False),
    ],
)  # fmt: skip
def test_get_bool_accepts_momentum_boolean_words(written: str, expected: bool) -> None:
    assert scope_of(f"flag = {written}").get_bool("flag") is expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [("60", 60), ('"60"', 60), ("0660", 0o660), ('"0640"', 0o640), ("0x10", 16), ("-1", -1)],
)
def test_get_int_accepts_octal_hex_and_quoted(written: str, expected: int) -> None:
    assert scope_of(f"n = {written}").get_int("n") == expected


@pytest.mark.parametrize(
    ("accessor", "written", "message"),
    [
        ("get_bool", "maybe", "expected a boolean (true/false, on/off, enabled/disabled, "
         "yes/no or 1/0), found maybe"),
        ("get_bool", "( on )", "expected a boolean (true/false, on/off, enabled/disabled, "
         "yes/no or 1/0), found ( on )"),
        ("get_int", "1.5", "expected an integer (decimal, 0-prefixed octal or 0x hex), found 1.5"),
        ("get_int", '"08"', "expected an integer (decimal, 0-prefixed octal or 0x hex), "
         'found "08"'),
        ("get_float", "fast", "expected a number, found fast"),
        ("get_str", "( a b )", "expected a single value, found ( a b )"),
        ("get_list", "[ k = v ]", "expected a list ( … ), found [ k = v ]"),
        ("get_params", "( a )", "expected a parameter block [ key = value … ], found ( a )"),
    ],
)  # fmt: skip
def test_wrong_types_raise_with_location(accessor: str, written: str, message: str) -> None:
    scope = parse_config_text(f"S {{\n  Opt = {written}\n}}", filename="x.conf").root.scope("S")
    with pytest.raises(ConfigValueError) as info:
        getattr(scope, accessor)("opt")
    assert str(info.value) == f"x.conf:2:3: option 'Opt': {message}"
    assert isinstance(info.value, ConfigError) and isinstance(info.value, ValueError)


def test_typed_accessors_and_defaults() -> None:
    scope = scope_of(
        'mode = 0660\nratio = 0.5\nhosts = ( a "b c" )\none = solo\n'
        'auth = [ uri = "file:///x" log_authentication = "true" ]\n'
    )
    assert scope.get_str("mode") == "0660"  # the text as written, not 432
    assert scope.get_float("ratio") == 0.5 and scope.get_float("mode") == 432.0
    assert scope.get_list("hosts") == ["a", "b c"]
    assert scope.get_list("one") == ["solo"]
    assert scope.get_params("auth") == {"uri": "file:///x", "log_authentication": "true"}
    assert scope.get("missing") is None and scope.get("missing", 7) == 7
    for accessor, default in [
        ("get_str", "d"), ("get_int", 3), ("get_bool", True), ("get_float", 1.0),
        ("get_list", ["x"]), ("get_params", {"k": "v"}),
    ]:  # fmt: skip
        assert getattr(scope, accessor)("missing") is None
        assert getattr(scope, accessor)("missing", default) == default


def test_scopes_filter_and_lookup() -> None:
    root = scope_of(
        'Listen ":1" {}\nPeer "p" {}\nlisten ":2" {}\nDomain a { x = 1 }\nDomain b {}\n'
    )
    assert [s.name for s in root.scopes("LISTEN")] == [":1", ":2"]
    assert [s.kind for s in root.scopes()] == ["Listen", "Peer", "listen", "Domain", "Domain"]
    assert root.scope("domain").name == "a"  # without a name: the first one
    assert root.scope("domain", "B") is root.scopes("domain")[1]
    assert root.scope("domain", "c") is None and root.scope("nothing") is None
    assert root.child("Domain", None) is None
    assert [o.name for o in root.scope("domain", "a").options()] == ["x"]


def test_set_option_replaces_in_place_and_validates_known_options() -> None:
    config = parse_config_text('HTTP_Listener {\n  Idle_Time = 5\n  Listen ":1" {}\n}\n')
    listener = config.root.scope("http_listener")
    new = listener.set_option("idle_time", 30)
    assert new.name == "Idle_Time" and new.value == 30 and new.location is None
    assert listener.render().splitlines()[0] == "Idle_Time = 30"
    listener.set_option("Always_Deny", True)
    assert listener.get_bool("always_deny") is True
    assert listener.option("always_deny").raw == "true"
    with pytest.raises(ConfigValueError) as info:
        listener.set_option("Enable", "sometimes")
    assert str(info.value).startswith("option 'Enable': expected a boolean")
    assert listener.option("enable") is None
    # Unknown options can be set anywhere, as Momentum's config set allows.
    listener.set_option("Custom_Thing", ["a", "b c"])
    assert listener.option("custom_thing").raw == '( a "b c" )'


def test_set_option_text_uses_configuration_syntax() -> None:
    root = scope_of("")
    assert root.set_option_text("File_Mode", "0666").value == 0o666
    assert root.set_option_text("Relay_Hosts", "( 10.0.0.1 10.0.0.2 )").value == [
        "10.0.0.1",
        "10.0.0.2",
    ]
    assert root.option("relay_hosts").render() == "Relay_Hosts = (\n  10.0.0.1\n  10.0.0.2\n)"
    with pytest.raises(ConfigSyntaxError) as info:
        root.set_option_text("x", "( a")
    assert str(info.value) == (
        "<value>:1:4: expected a value or ')' to close the list opened at 1:1, found end of file"
    )
    with pytest.raises(ConfigSyntaxError, match="expected end of value, found word 'b'"):
        root.set_option_text("x", "a b")
    with pytest.raises(ConfigError, match="invalid option name 'two words'"):
        root.set_option("two words", 1)


def test_unset_option_returns_what_was_removed() -> None:
    scope = scope_of("a = 1\nb = 2\n")
    removed = scope.unset_option("A")
    assert removed is not None and removed.value == 1
    assert scope.unset_option("a") is None
    assert [o.name for o in scope.options()] == ["b"]


def test_options_from_read_only_files_can_still_be_changed_online(tmp_path: Path) -> None:
    # conf-overview.md: read-only status only decides where `config writeback` saves.
    (tmp_path / "ro.conf").write_text("Gateway = old\n")
    (tmp_path / "ecelerity.conf").write_text('readonly_include "ro.conf"\n')
    root = load_config(tmp_path / "ecelerity.conf").root
    assert root.option("gateway").readonly is True
    replaced = root.set_option("Gateway", "new")
    assert replaced.readonly is False and root.get("gateway") == "new"
    assert root.unset_option("gateway") is replaced


ROUND_TRIP = r"""
# a little of everything
Spool_Mode = 0640
Relay_Hosts = ( 127.0.0.0/8 "10.0.0.0/8" )
Domain "/^(a|b)\.example$/" { Max_Outbound_Connections = 5 }
Control_Listener {
  Listen "/tmp/2025" { File_Mode = 0666 }
  Listen ":2025" {
    Enable_Authentication = "true"
    AuthDigestMD5Parameters [ uri = "digest:///etc/pw" realm = 'R' nested = ( 1 ( 2 ) ) ]
  }
}
scriptlet "scriptlet" {
  script "boot" { source = "msys.boot" }
  message = "say \"hi\"\tnow \\ \q"
}
empty {}
"""


def test_render_recursive_round_trips() -> None:
    config = parse_config_text(ROUND_TRIP)
    text = config.root.render(recursive=True)
    assert snapshot(parse_config_text(text).root) == snapshot(config.root)
    assert parse_config_text(text).root.render(recursive=True) == text


def test_render_round_trips_values_set_at_runtime() -> None:
    root = scope_of("")
    tricky = ["0660", "two words", 'quo"te', "back\\slash", "", "a/b", "#x", "line\nbreak", "é"]
    root.set_option("list", tricky)
    root.set_option("params", {"k": "v w", "n": 7, "b": False, "l": [1.5, "x"]})
    root.set_option("number_like", "0660")
    child = parse_config_text(root.render(recursive=True)).root
    assert child.get("list") == tricky
    assert child.get("params") == {"k": "v w", "n": 7, "b": "false", "l": [1.5, "x"]}
    assert child.get("number_like") == "0660"


def test_render_without_recursion_abbreviates_child_scopes() -> None:
    root = scope_of(
        'Esmtp_Listener {\n  Listen ":25" {\n  }\n  Idle_Time = 300\n'
        '  SMTP_Extensions = ( "ENHANCEDSTATUSCODES" )\n}\n'
    )
    assert root.scope("esmtp_listener").render() == (
        'Listen ":25" { ... }\nIdle_Time = 300\nSMTP_Extensions = (\n  "ENHANCEDSTATUSCODES"\n)\n'
    )
    assert root.render() == "Esmtp_Listener { ... }\n"


FALLBACK = """
Max_Outbound_Connections = 30
Message_Expiration = 86400
Domain "example.com" { Message_Expiration = 120 }
Binding_Group "group1" {
  Max_Outbound_Connections = 5
  Domain "example.com" { Retry_Interval = 60 }
  Binding "example" {
    Max_Outbound_Connections = 15
    Domain "example.com" { Connect_Timeout = 10 }
  }
}
HTTP_Listener {
  Idle_Time = 120
  Peer "10.0.0.1" { Always_Deny = true  Idle_Time = 1 }
  Listen ":2081" {
    Max_Request_Size = 100
    Peer "10.0.0.1" { Always_Deny = false }
  }
}
ESMTP_Listener { Listen ":25" {} }
"""

BG_DOMAIN = ["binding_group", "group1", "binding", "example", "domain", "example.com"]
PEER = ["HTTP_Listener", "Listen", ":2081", "Peer", "10.0.0.1"]


@pytest.mark.parametrize(
    ("words", "option", "expected"),
    [
        (BG_DOMAIN, "connect_timeout", 10),  # the scope itself
        (BG_DOMAIN, "retry_interval", 60),  # domain in the binding group, before the binding
        (BG_DOMAIN, "max_outbound_connections", 15),  # the binding
        (BG_DOMAIN, "message_expiration", 120),  # the global domain, before the global value
        (["binding_group", "group1", "binding", "example"], "max_outbound_connections", 15),
        (["domain", "example.com"], "max_outbound_connections", 30),
        (["domain", "unknown.com"], "message_expiration", 86400),  # missing scope: fallbacks
        ([], "message_expiration", 86400),
        (PEER, "always_deny", "false"),  # Listen's Peer
        (PEER, "idle_time", 1),  # the listener-level Peer before Listen and listener
        (PEER, "max_request_size", 100),  # Listen
        (["HTTP_Listener", "Listen", ":2081"], "idle_time", 120),  # listener
        (["HTTP_Listener", "Listen", ":9"], "tcp_recv_buffer_size", 32768),  # HTTP default
        (["ESMTP_Listener", "Listen", ":25"], "tcp_recv_buffer_size", 4096),  # ESMTP default
        (["Control_Listener", "Listen", "/tmp/2025"], "file_mode", 0o660),  # documented default
        (["Control_Listener"], "timeout", 60),
        ([], "blackhole", 0),  # as console-commands/config.md shows it (the summary: false)
        ([], "no_such_option", None),  # nothing applies
        (["NoSuchScope", "x"], "no_such_option", None),
    ],
)
def test_eval_falls_back_like_momentum(words: list[str], option: str, expected: object) -> None:
    assert parse_config_text(FALLBACK).eval(words, option) == expected


def test_lookup_reports_where_the_value_came_from() -> None:
    config = parse_config_text(FALLBACK, filename="e.conf")
    found = config.lookup(BG_DOMAIN, "retry_interval")
    assert found is not None and str(found.location) == "e.conf:7:26"
    default = config.lookup([], "Blackhole")
    assert default is not None and default.name == "Blackhole" and default.location is None
    assert default.as_bool() is False


def test_find_and_ensure_scope_follow_console_words() -> None:
    config = parse_config_text(FALLBACK)
    listen = config.find_scope(["http_listener", "listen", ":2081"])
    assert listen is not None and listen.get_int("max_request_size") == 100
    assert config.find_scope(["http_listener", "listen", ":1"]) is None
    created = config.ensure_scope(["HTTP_Listener", "Listen", ":1", "Peer", "127.0.0.1"])
    assert created.path == ["HTTP_Listener", "Listen", ":1", "Peer", "127.0.0.1"]
    assert config.find_scope(created.path) is created
    assert config.ensure_scope(["http_listener"]) is config.root.scope("HTTP_Listener")
    with pytest.raises(ConfigError, match="scope 'Domain' needs an instance name after it"):
        config.find_scope(["Domain"])


def test_unknown_scope_words_pair_up_from_what_the_file_contains() -> None:
    config = parse_config_text("custom { a = 1 }\nother x { b = 2 }\n")
    assert config.find_scope(["custom"]).get("a") == 1
    assert config.find_scope(["other", "x"]).get("b") == 2
    assert isinstance(config, Configuration) and config.path is None
