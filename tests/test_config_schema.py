"""Warnings from the schema of known scopes and options; typical configs load quietly."""

from __future__ import annotations

import pytest

from momentum_httpsrv.config import ConfigDiagnostic, ConfigLocation, parse_config_text

# Written for these tests in the shape of a production ecelerity.conf.
TYPICAL = """
Spool_Mode = 0640
Keep_Message_Dicts_In_Memory = true
Server_Max_Outbound_Connections = 20000
Message_Expiration = 86400
Relay_Hosts = ( "127.0.0.0/8" )
Security { User = ecuser  Group = ecuser }
Debug_Flags { DEBUG = ()  ERROR = ( ALL ) }
ThreadPool "IO" { Concurrency = 50 }
EventLoop "loops" { Concurrency = 4 }
Datasource "sqlite" {
  uri = ( "sqlite:/var/db/users.db" )
  cache_size = 1000
  no_cache = false
}
ec_logger "ec_logger" {
  mainlog = "/var/log/ecelerity/mainlog.ec"
  paniclog = "/var/log/ecelerity/paniclog.ec"
  heartbeat = 60
  mainlog_mode = 0644
}
http_logger "http_logger" { log = "file:///var/log/ecelerity/httplog.ec" }
alerting {}
httpsrv { debug_level = "NOTICE" }
scriptlet "scriptlet" {
  script_ttl = 300
  gc_pause = 150
  script "boot" { source = "msys.boot" }
  script "api" { source = "scripts.api" }
}
inbound_audit { monitors = ( "300,6" ) }
Control_Listener {
  Enable_Authentication = false
  Timeout = 120
  Listen "/tmp/2025" { File_Mode = 0666 }
  Listen "127.0.0.1:2025" { Always_Allow = true }
}
HTTP_Listener {
  Idle_Time = 300
  Max_Request_Size = 1048576
  AuthDigestMD5Parameters = [ uri = "ecauth://" realm = "api" ]
  Always_Deny = true
  Peer "10.20.0.0/16" { Always_Deny = false }
  Listen ":2081" {
    TCP_Recv_Buffer_Size = 65536
    Peer "127.0.0.1" { Always_Allow = true }
  }
}
ESMTP_Listener {
  SMTP_Extensions = ( "ENHANCEDSTATUSCODES" "8BITMIME" )
  Listen ":25" { Concurrency = 4  Pool_Name = "IO" }
}
Binding_Group "bulk" {
  Binding "bulk-1" {
    Bind_Address = 10.0.0.5
    Domain "example.com" { Max_Outbound_Connections = 10 }
  }
}
Domain "gmail.com" { Outbound_Throttle_Messages = "100/60" }
"""


def test_typical_configuration_loads_without_warnings() -> None:
    config = parse_config_text(TYPICAL)
    assert config.warnings == []


def test_control_listener_listen_options_and_defaults() -> None:
    config = parse_config_text(TYPICAL)
    assert config.eval(["Control_Listener", "Listen", "/tmp/2025"], "File_Mode") == 0o666
    assert config.eval(["Control_Listener", "Listen", "127.0.0.1:2025"], "File_Mode") == 0o660


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nonsense { a = b  Inner { c = d } }", [(1, 1, "unknown scope 'Nonsense' in the global "
                                                  "scope; its contents are not checked")]),
        ("HTTP_Listener {\n  Widget {}\n}", [(2, 3, "unknown scope 'Widget' in HTTP_Listener; "
                                               "its contents are not checked")]),
        ('HTTP_Listener { Listen ":1" { Nope = 1 } }',
         [(1, 31, "unknown option 'Nope' in HTTP_Listener Listen \":1\"")]),
        # AuthPlainParameters is not valid in a Peer (docs/emulation.md#configuration).
        ('HTTP_Listener { Peer "x" { AuthPlainParameters = [ uri = "file:///p" ] } }',
         [(1, 28, "unknown option 'AuthPlainParameters' in HTTP_Listener Peer \"x\"")]),
        # SMTP-only options are unknown in HTTP scopes.
        ('HTTP_Listener { Listen ":1" { Relay_Hosts = ( a ) } }',
         [(1, 31, "unknown option 'Relay_Hosts' in HTTP_Listener Listen \":1\"")]),
        ("Gizmo = 1", [(1, 1, "unknown option 'Gizmo' in the global scope")]),
        ("HTTP_Listener { Enable = maybe }",
         [(1, 17, "option 'Enable': expected a boolean (true/false, on/off, enabled/disabled, "
                  "yes/no or 1/0), found maybe")]),
        ("HTTP_Listener { Max_Request_Size = big }",
         [(1, 17, "option 'Max_Request_Size': expected an integer (decimal, 0-prefixed octal or "
                  "0x hex), found big")]),
        ("HTTP_Listener { AuthPlainParameters = file }",
         [(1, 17, "option 'AuthPlainParameters': expected a parameter block [ key = value … ], "
                  "found file")]),
        ('httpsrv "x" {}', [(1, 9, 'scope \'httpsrv\' takes no instance name; found "x"')]),
        ("HTTP_Listener { Listen {} }",
         [(1, 17, "scope 'Listen' expects an instance name, as in Listen \"name\" { }")]),
        ("scriptlet {}", [(1, 1, "scope 'scriptlet' expects an instance name, as in "
                                 'scriptlet "name" { }')]),
        ("Domain x {\n  Max_Outbound_Connections = 1\n  max_outbound_connections = 2\n}",
         [(3, 3, "option 'max_outbound_connections' is set again in Domain x; this value "
                 "replaces the one at <string>:2:3 (last wins)")]),
        ("Gizmo = 1\nGizmo = 2",
         [(1, 1, "unknown option 'Gizmo' in the global scope"),
          (2, 1, "option 'Gizmo' is set again in the global scope; this value replaces the one "
                 "at <string>:1:1 (last wins)"),
          (2, 1, "unknown option 'Gizmo' in the global scope")]),
        # Modules whose options are not catalogued are not checked, except known options.
        ("bounce_logger \"b\" { whatever = 1  Sub { x = 1 } }", []),
        ("bounce_logger \"b\" { enabled = perhaps }",
         [(1, 21, "option 'enabled': expected a boolean (true/false, on/off, enabled/disabled, "
                  "yes/no or 1/0), found perhaps")]),
    ],
)  # fmt: skip
def test_warnings_carry_location_and_message(
    text: str, expected: list[tuple[int, int, str]]
) -> None:
    warnings = parse_config_text(text).warnings
    assert warnings == [
        ConfigDiagnostic(ConfigLocation("<string>", line, col), message)
        for line, col, message in expected
    ]


def test_warning_text_format() -> None:
    (warning,) = parse_config_text("Gizmo = 1", filename="conf/e.conf").warnings
    assert str(warning) == "conf/e.conf:1:1: warning: unknown option 'Gizmo' in the global scope"


def test_merged_stanza_is_checked_once() -> None:
    assert parse_config_text('httpsrv "x" {}\nhttpsrv "x" {}').warnings == [
        ConfigDiagnostic(
            ConfigLocation("<string>", 1, 9), "scope 'httpsrv' takes no instance name; found \"x\""
        )
    ]
