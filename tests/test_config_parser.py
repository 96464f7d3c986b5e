"""Grammar of ecelerity.conf: scopes, options, values, comments and syntax errors."""

from __future__ import annotations

import pytest

from momentum_httpsrv.config import (
    ConfigError,
    ConfigLocation,
    ConfigScope,
    ConfigSyntaxError,
    parse_config_text,
)


def parse(text: str) -> ConfigScope:
    return parse_config_text(text).root


def test_scopes_anonymous_named_quoted_bare_and_nested() -> None:
    root = parse(
        """
        HTTP_Listener {
          Listen ":2081" { Peer "10.0.0.0/8" { Always_Allow = true } }
        }
        Domain earthlink.net { Max_Outbound_Connections = 2 }
        ThreadPool 'accept-pool' { Concurrency = 4 }
        alerting {}
        bounce_logger "bounce_logger1"
        {
          debug_level = NOTICE
        }
        http_logger "http_logger"{ log = "file:///tmp/httplog.ec" }
        """
    )
    listener = root.scope("HTTP_Listener")
    assert listener is not None and listener.name is None
    listen = listener.scope("Listen", ":2081")
    assert listen is not None
    peer = listen.scope("Peer", "10.0.0.0/8")
    assert peer is not None and peer.get("Always_Allow") == "true"
    assert peer.parent is listen and listen.parent is listener and listener.parent is root
    assert peer.path == ["HTTP_Listener", "Listen", ":2081", "Peer", "10.0.0.0/8"]
    assert root.scope("Domain", "earthlink.net").get_int("max_outbound_connections") == 2
    assert root.scope("ThreadPool", "accept-pool").header == "ThreadPool 'accept-pool'"
    alerting = root.scope("alerting")
    assert alerting is not None and alerting.options() == [] and alerting.scopes() == []
    assert root.scope("bounce_logger", "bounce_logger1").get("debug_level") == "NOTICE"
    assert root.scope("http_logger").name == "http_logger"
    assert [s.header for s in root.scopes()] == [
        "HTTP_Listener",
        "Domain earthlink.net",
        "ThreadPool 'accept-pool'",
        "alerting",
        'bounce_logger "bounce_logger1"',
        'http_logger "http_logger"',
    ]


def test_scope_location_is_the_kind_word() -> None:
    config = parse_config_text('\n  Control_Listener {\n    Listen "/tmp/2025" {}\n  }\n')
    listener = config.root.scope("control_listener")
    assert listener.location == ConfigLocation("<string>", 2, 3)
    assert listener.scope("listen").location == ConfigLocation("<string>", 3, 5)


@pytest.mark.parametrize(
    ("line", "expected_value", "expected_raw"),
    [
        ("a = 5", 5, "5"),
        ("a 5", 5, "5"),
        ("a = 0660", 0o660, "0660"),
        ("a = 0", 0, "0"),
        ("a = -1", -1, "-1"),
        ("a = 0x1F", 31, "0x1F"),
        ("a = 1.5", 1.5, "1.5"),
        ("a = 08", "08", "08"),
        ("a = 10.0.0.1", "10.0.0.1", "10.0.0.1"),
        ('a = "0660"', "0660", '"0660"'),
        ("a = '0660'", "0660", "'0660'"),
        ("a = true", "true", "true"),
        ('a = "two words"', "two words", '"two words"'),
        ("a = 'it \\n stays'", "it \\n stays", "'it \\n stays'"),
        (r'a = "q\"uote"', 'q"uote', r'"q\"uote"'),
        (r'a = "back\\slash"', "back\\slash", r'"back\\slash"'),
        (r'a = "tab\there\nnl"', "tab\there\nnl", r'"tab\there\nnl"'),
        (r'a = "/^(x|y)\.example$/"', r"/^(x|y)\.example$/", r'"/^(x|y)\.example$/"'),
        ("a = /var/log/ecelerity/mainlog.ec", "/var/log/ecelerity/mainlog.ec", None),
        ("a = *:25", "*:25", "*:25"),
        ('a = ( x "y z" 3 )', ["x", "y z", 3], '( x "y z" 3 )'),
        ("a = (TIME FD)", ["TIME", "FD"], "( TIME FD )"),
        ("a = ()", [], "( )"),
        ("a = ( ( 1 2 ) [ k = v ] )", [[1, 2], {"k": "v"}], "( ( 1 2 ) [ k = v ] )"),
        ('a = [ uri = "ecauth://" realm = x ]', {"uri": "ecauth://", "realm": "x"}, None),
        ("a [ k v  k2 = 0644 ]", {"k": "v", "k2": 0o644}, "[ k = v k2 = 0644 ]"),
        ("a = [ l = ( 1 2 ) ]", {"l": [1, 2]}, None),
        ("a = [ k = 1 k = 2 ]", {"k": 2}, None),
        ("a = []", {}, "[ ]"),
    ],
)
def test_option_values(line: str, expected_value: object, expected_raw: str | None) -> None:
    option = parse(line).option("a")
    assert option is not None
    assert option.value == expected_value
    assert type(option.value) is type(expected_value)
    if expected_raw is not None:
        assert option.raw == expected_raw


@pytest.mark.parametrize(
    "text",
    [
        "S { a = ( x # comment inside a list\n y ) }",
        "S { a = ( x /* block */ y ) }",
        "S { a = [ k = x # comment in a block\n l = y ] }\n",
        "S {\n  a = ( x /* spans\n  lines */ y )\n}",
        "S /* between kind and brace */ { a /* before = */ = /* after = */ ( x y ) }",
        "S { a = (x y)# trailing comment\n}",
        "# leading\n/* leading block */ S { a = ( x y ) } # trailing",
        "S{a=(x y)}",
        "S { a = ( x/* glued */y ) }",
    ],
)
def test_comments_in_awkward_places(text: str) -> None:
    scope = parse(text).scope("S")
    assert scope is not None
    assert scope.get("a") == ["x", "y"] or scope.get("a") == {"k": "x", "l": "y"}
    assert [o.name for o in scope.options()] == ["a"]


def test_hash_ends_a_bare_word_and_comment_hides_braces() -> None:
    root = parse("a = value#comment {\nb = /* } */ 2\n")
    assert root.get("a") == "value"
    assert root.get("b") == 2


def test_block_comments_do_not_nest() -> None:
    # If "/*" nested, "a = 1" would still be inside a comment that never ends.
    assert parse("/* outer /* inner */ a = 1").get("a") == 1


def test_slash_inside_bare_words_as_in_the_momentum_docs() -> None:
    root = parse("Control_Listener { Listen /tmp/2025 {} }\nRelay_Hosts = ( 127.0.0.0/8 )\n")
    assert root.scope("control_listener").scope("listen").name == "/tmp/2025"
    assert root.get("relay_hosts") == ["127.0.0.0/8"]


def test_repeated_stanzas_merge_into_one_scope() -> None:
    root = parse(
        """
        scriptlet "scriptlet" { script "a" { source = "a" } }
        HTTP_Listener { Listen ":1" {} }
        scriptlet "scriptlet" { script "b" { source = "b" } script_ttl = 10 }
        http_listener { listen ":1" { enable = false } }
        """
    )
    scriptlets = root.scopes("scriptlet")
    assert len(scriptlets) == 1
    assert [s.name for s in scriptlets[0].scopes("script")] == ["a", "b"]
    assert scriptlets[0].get_int("script_ttl") == 10
    listeners = root.scopes("HTTP_LISTENER")
    assert len(listeners) == 1 and listeners[0].kind == "HTTP_Listener"
    assert listeners[0].scope("Listen", ":1").get("enable") == "false"


def test_names_are_case_insensitive_but_keep_their_spelling() -> None:
    root = parse('HTTP_Listener { Idle_Time = 5  Listen ":2081" { Max_Request_Size 10 } }')
    listener = root.scope("http_listener")
    assert listener is root.scope("HTTP_LISTENER")
    assert listener.kind == "HTTP_Listener"
    option = listener.option("IDLE_TIME")
    assert option is not None and option.name == "Idle_Time"
    assert listener.scope("LISTEN", ":2081").get_int("max_request_size") == 10
    domain = parse("Domain Example.COM { a = 1 }").scope("domain", "example.com")
    assert domain.name == "Example.COM"


def test_duplicate_option_last_wins_keeping_one_entry() -> None:
    config = parse_config_text("S {\n  a = 1\n  b = 2\n  A = 3\n}\n")
    scope = config.root.scope("S")
    assert scope.get("a") == 3
    assert [o.name for o in scope.options()] == ["A", "b"]  # replaced in place


def test_latin1_bytes_survive_as_one_char_per_byte() -> None:
    text = b'a = "caf\xc3\xa9 \xff"'.decode("latin-1")
    assert parse(text).get("a") == "caf\xc3\xa9 \xff"


def test_include_word_cannot_be_an_option_name() -> None:
    with pytest.raises(ConfigSyntaxError) as info:
        parse("include = 5")
    assert str(info.value) == (
        "<string>:1:9: expected a file or directory name after 'include', found '='"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('a = "abc', '<string>:1:5: unterminated string: expected closing " before end of file'),
        ("a = 'abc\n", "<string>:1:5: unterminated string: expected closing ' before end of file"),
        ('a = "ab\\"', '<string>:1:5: unterminated string: expected closing " before end of file'),
        ("x = 1\n  /* c", "<string>:2:3: unterminated comment: expected '*/' before end of file"),
        (
            "A {\n  b = 1\n",
            "<string>:3:1: expected '}' to close 'A' opened at 1:3, found end of file",
        ),
        (
            'A {\n  L "x" {\n  }\n',
            "<string>:4:1: expected '}' to close 'A' opened at 1:3, found end of file",
        ),
        (
            'A {\n\tL "x" { b = 1\n',
            "<string>:3:1: expected '}' to close 'L \"x\"' opened at 2:8, found end of file",
        ),
        ("a = 1\n}\n", "<string>:2:1: unexpected '}': no scope is open at this point"),
        ("S {\n  a =\n}", "<string>:3:1: expected a value after 'a =', found '}'"),
        ("S { a }", "<string>:1:7: expected '=', a value or '{' after 'a', found '}'"),
        ("a", "<string>:1:2: expected '=', a value or '{' after 'a', found end of file"),
        ("a = = 1", "<string>:1:5: expected a value after 'a =', found '='"),
        ('"x" = 1', '<string>:1:1: expected an option or scope name, found string "x"'),
        ("= 1", "<string>:1:1: expected an option or scope name, found '='"),
        ("( a )", "<string>:1:1: expected an option or scope name, found '('"),
        ("a = 1 ]", "<string>:1:7: expected an option or scope name, found ']'"),
        (
            "a = ( b c",
            "<string>:1:10: expected a value or ')' to close the list opened at 1:5, "
            "found end of file",
        ),
        (
            "S {\n  a = ( b\n}",
            "<string>:3:1: expected a value or ')' to close the list opened at 2:7, found '}'",
        ),
        (
            "a = [ = b ]",
            "<string>:1:7: expected a parameter name or ']' to close the parameter block "
            "opened at 1:5, found '='",
        ),
        ("a = [ k ]", "<string>:1:9: expected a value for parameter 'k', found ']'"),
        (
            "a = ( x ] )",
            "<string>:1:9: expected a value or ')' to close the list opened at 1:5, found ']'",
        ),
        ("include {", "<string>:1:9: expected a file or directory name after 'include', found '{'"),
        (
            "readonly_include",
            "<string>:1:17: expected a file or directory name after "
            "'readonly_include', found end of file",
        ),
        (
            'scriptlet "scriptlet" {}\n  scriptlet "other" {}',
            '<string>:2:3: scriptlet instance "other" conflicts with scriptlet "scriptlet" at '
            "<string>:1:1: only one scriptlet instance name may be used",
        ),
        (
            'scriptlet "scriptlet" {}\nscriptlet {}',
            '<string>:2:1: scriptlet instance (unnamed) conflicts with scriptlet "scriptlet" at '
            "<string>:1:1: only one scriptlet instance name may be used",
        ),
        (
            '/* one\ntwo */ a = "x',
            '<string>:2:12: unterminated string: expected closing " before end of file',
        ),
    ],
)
def test_syntax_errors_report_file_line_col(text: str, expected: str) -> None:
    with pytest.raises(ConfigSyntaxError) as info:
        parse_config_text(text)
    assert str(info.value) == expected
    assert isinstance(info.value, ConfigError)
    assert str(info.value.location) + ": " + info.value.message == expected


def test_error_names_the_file_given() -> None:
    with pytest.raises(ConfigSyntaxError, match=r"^conf/x\.conf:1:5: unterminated string"):
        parse_config_text('a = "x', filename="conf/x.conf")


def test_same_scriptlet_name_in_another_case_is_the_same_instance() -> None:
    root = parse('scriptlet "scriptlet" {}\nScriptlet "SCRIPTLET" { script_ttl = 1 }')
    assert len(root.scopes("scriptlet")) == 1
