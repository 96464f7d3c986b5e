"""Console replies in the layouts Momentum's console-command pages show. Each DOC_* sample
is the page's sample output, typed out by hand; a layout is checked either by producing
the sample itself from the sample's numbers, or by one pattern that both the sample and our
reply must match (where the values are the machine's own: version, dates, uname)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from momentum_httpsrv.console.commands import delayed_row, module_block, paniclog_line
from momentum_httpsrv.lua.threadpools import describe_pool
from momentum_httpsrv.node import MomentumNode

# console-commands/delayed.md
DOC_DELAYED = (
    "Domain:                   mailcity.com  C:  0  A:      9  D:  1169  S: 16838\n"
    "Domain:                   peoplepc.com  C:  0  A:    575  D:  1180  S:  7735\n"
    "Domain:                       sina.com  C:  3  A:      1  D:  1232  S:  1069\n"
    "                                Total:  C: 532  A:  22692  D: 34915  S:1953716\n"
)

# console-commands/4-module.md (its ec_logger and ds_core entries)
DOC_MODULE_LIST = (
    "Module: ec_logger:ec_logger\n"
    "  Scope_Name: ec_logger\n"
    "  Instance_Name: ec_logger\n"
    "  Enabled: enabled\n"
    "  API: Logger\n"
    "  Name: ec_logger.c\n"
    "  Description: Momentum minimalistic logging module\n"
    "Module: ds_core\n"
    "  Scope_Name: ds_core\n"
    "  Enabled: enabled\n"
    "  API: Singleton\n"
    "  Name: ds_core.c\n"
    "  Description: generic datasource module\n"
)

# console-commands/domain.md: the configuration block and the queue part of its sample
# (the MX part between them needs DNS and delivery, which are not emulated).
DOC_DOMAIN_CONFIG = "Domain hotmail.com {\n  max_outbound_connections = 20\n}\n"
DOC_DOMAIN_QUEUE = (
    "Queue:\n"
    "        Active:        212\n"
    "        Delayed:       190\n"
    "Deliveries:     10715\n"
    "Failures:         612\n"
    "Active Connections: 12\n"
)
DOMAIN_QUEUE_LAYOUT = re.compile(
    r"Queue:\n        Active:[ \d]{11}\n        Delayed:[ \d]{10}\n"
    r"Deliveries:[ \d]{10}\nFailures:[ \d]{12}\nActive Connections: \d+\n"
)

# console-commands/paniclog.md
DOC_PANICLOG_LINE = "[Sun 30 Nov 2003 10:31:37] [serious] Validating software license.\n"

# console-commands/sysinfo.md (the Ecelerity samples) and the 5.0 sample of
# 4-container-running.md; the page's first sample ("Momentum Version: HEAD …", no OS
# release line) is the odd one out, so the layout follows the others.
DOC_SYSINFO = (
    "Ecelerity Version: 3.0.0.36220 r(36220) (64-bit)\n"
    "build date: Mar 23 2010 (RELEASE)\n"
    "product name: Ecelerity Momentum Sending\n"
    "CentOS release 5 (Final)\n"
    "Linux rh5bare 2.6.18-8.el5 #1 SMP Thu Mar 15 19:46:53 EDT 2007 x86_64\n"
)
SYSINFO_LAYOUT = re.compile(
    r"Ecelerity Version: \S+ r\(\S+\) \((32|64)-bit\)\n"
    r"build date: [A-Z][a-z]{2} [ \d]\d \d{4} \(RELEASE\)\n"
    r"product name: [^\n]+\n"
    r"(?:[^\n]+\n)?"  # the OS release, where the system names one
    r"\S+ \S+ \S+ [^\n]+ \S+\n"
)

# 3/3-reference/3-reference-console-commands-version.md (the 3.0.23 sample less its two
# copyright lines; that sample's top rule has 45 "#", every other rule on the pages 46)
DOC_VERSION = (
    "##############################################\n"
    "# ecelerity version: 3.0.23.36220 r(36220)\n"
    "# Momentum Sending\n"
    "##############################################\n"
)
VERSION_LAYOUT = re.compile(r"(#{46})\n# ecelerity version: [^\n]+\n# [^\n]+\n\1\n")

# console-commands/threads.md (the IO and CLOSE pools)
DOC_THREADS_STATS = (
    "IO thread pool: concurrency 5\n"
    "               Total invocations: 46010\n"
    "    Observed average concurrency: 1.00\n"
    "          Thread pool saturation:  0.01%\n"
    "   Average wallclock time per op: 0.11ms\n"
    "            Current thread count: 0\n"
    "  [inactive threads]\n"
    "            Current thread count: 5\n"
    "CLOSE thread pool: concurrency 0\n"
)

# console-commands/config.md: the configuration of its "Example config Commands" and the
# replies shown for it.
DOC_CONFIG_SITE = """
Message_Expiration = 86400

Domain earthlink.net {
  Message_Expiration = 900
}

Binding smtp-01 {
  EHLO_Hostname = "smtp-01.com"
  Domain relay.com {
    EHLO_Hostname = "relay.com"
  }
}
"""
DOC_CONFIG_SESSION = [
    ("config get message_expiration", "Message_Expiration = 86400\n"),
    ("config get domain earthlink.net message_expiration", "        Message_Expiration = 900\n"),
    (
        "config unset domain earthlink.net message_expiration",
        '"Message_Expiration" has been unset. Effective value is now:\n'
        "        Message_Expiration = 86400\n",
    ),
    ("config get binding smtp-01 ehlo_hostname", '        EHLO_Hostname = "smtp-01.com"\n'),
    (
        "config get binding smtp-01 domain relay.com ehlo_hostname",
        '        EHLO_Hostname = "relay.com"\n',
    ),
    (
        "config unset binding smtp-01 domain relay.com ehlo_hostname",
        '"EHLO_Hostname" has been unset. Effective value is now:\n'
        '        EHLO_Hostname = "smtp-01.com"\n',
    ),
    ("config get blackhole", "Option 'Blackhole' is not set in scope ''.\n"),
    ("config eval blackhole", "Blackhole = 0\n"),
    ("config set suspend_delivery true", "Suspend_Delivery = true\n"),
    ("config set suspend_delivery 1", "Suspend_Delivery = 1\n"),
    ("config set suspend_delivery enabled", "Suspend_Delivery = enabled\n"),
    ("config set suspend_delivery on", "Suspend_Delivery = on\n"),
]


@pytest.fixture
def node(tmp_path: Path):
    config = tmp_path / "ecelerity.conf"
    config.write_text(
        DOC_CONFIG_SITE
        + 'ec_logger "ec_logger" { paniclog = "paniclog.ec" }\n'
        + "httpsrv {}\n"
        + 'threadpool "LUA_TXT_LOGS" { concurrency = 2 }\n'
    )
    started = MomentumNode(config)
    started.start()
    yield started
    started.stop()


def test_delayed_rows_and_totals_have_the_documented_columns() -> None:
    rows = [
        delayed_row(f"Domain: {'mailcity.com':>30}", 0, 9, 1169, 16838),
        delayed_row(f"Domain: {'peoplepc.com':>30}", 0, 575, 1180, 7735),
        delayed_row(f"Domain: {'sina.com':>30}", 3, 1, 1232, 1069),
        delayed_row("Total:", 532, 22692, 34915, 1953716),
    ]
    assert "".join(rows) == DOC_DELAYED


def test_delayed_lists_domains_over_the_threshold_and_totals_all(node: MomentumNode) -> None:
    node.mail_queue.delay("a.example", "451 later")
    node.mail_queue.delay("b.example", "451 later")
    node.mail_queue.delay("b.example", "451 later")
    assert node.console("delayed 1") == (
        "Domain:                      b.example  C:  0  A:      0  D:     2  S:     0\n"
        "                                Total:  C:  0  A:      0  D:     3  S:     0\n"
    )
    assert node.console("delayed").count("Domain:") == 2
    assert node.console("delayed x") == "Usage: delayed <threshold>\n"


def test_module_list_blocks_have_the_documented_fields() -> None:
    logger = module_block(
        "ec_logger", "ec_logger", True, "Logger", "ec_logger.c",
        "Momentum minimalistic logging module",
    )
    ds_core = module_block(
        "ds_core", None, True, "Singleton", "ds_core.c", "generic datasource module"
    )
    assert logger + ds_core == DOC_MODULE_LIST


def test_module_list_names_the_loaded_modules(node: MomentumNode) -> None:
    listed = node.console("module list")
    assert listed.startswith("Module: ec_logger:ec_logger\n  Scope_Name: ec_logger\n")
    assert "Module: httpsrv\n  Scope_Name: httpsrv\n  Enabled: enabled\n" in listed
    assert "\n\n" not in listed


def test_domain_shows_its_configuration_and_queues_as_documented(tmp_path: Path) -> None:
    config = tmp_path / "ecelerity.conf"
    config.write_text(DOC_DOMAIN_CONFIG)
    node = MomentumNode(config)
    node.start()
    try:
        node.mail_queue.delay("hotmail.com", "451 later")
        reply = node.console("domain hotmail.com")
    finally:
        node.stop()
    assert reply.startswith(DOC_DOMAIN_CONFIG)
    assert DOMAIN_QUEUE_LAYOUT.fullmatch(DOC_DOMAIN_QUEUE)
    assert DOMAIN_QUEUE_LAYOUT.fullmatch(reply[len(DOC_DOMAIN_CONFIG):])
    assert "        Delayed:         1\n" in reply


def test_paniclog_lines_have_the_documented_date_and_level() -> None:
    stamp = time.mktime((2003, 11, 30, 10, 31, 37, 0, 0, -1))
    assert paniclog_line(stamp, "serious", "Validating software license.") == DOC_PANICLOG_LINE


def test_paniclog_shows_the_last_ten_of_each_level(node: MomentumNode) -> None:
    assert node.paniclog is not None
    for number in range(12):
        node.paniclog.warn(f"warning {number}")
    node.paniclog.error("one error")
    shown = node.console("paniclog").splitlines()
    warnings = [line for line in shown if "] [warning] warning " in line]
    assert [line.rsplit(" ", 1)[1] for line in warnings] == [str(n) for n in range(2, 12)]
    assert shown[-1].endswith("] [error] one error")
    assert re.fullmatch(r"\[\w{3} \d\d \w{3} \d{4} \d\d:\d\d:\d\d\] \[error\] one error", shown[-1])


def test_sysinfo_has_the_documented_layout(node: MomentumNode) -> None:
    assert SYSINFO_LAYOUT.fullmatch(DOC_SYSINFO)
    assert SYSINFO_LAYOUT.fullmatch(node.console("sysinfo"))


def test_version_has_the_documented_banner(node: MomentumNode) -> None:
    assert VERSION_LAYOUT.fullmatch(DOC_VERSION)
    assert VERSION_LAYOUT.fullmatch(node.console("version"))


def test_threads_stats_prints_pools_as_documented(node: MomentumNode) -> None:
    io_pool = {
        "name": "IO", "num_threads": 5, "invocations": 46010, "avg_concurrency": 1.0,
        "saturation": 0.01, "avg_wallclock_time_per_op": 0.11, "num_active_threads": 0,
        "num_inactive_threads": 5,
    }
    close_pool = {"name": "Close", "num_threads": 0, "invocations": 0}
    assert describe_pool(io_pool) + describe_pool(close_pool) == DOC_THREADS_STATS
    stats = node.console("threads stats")
    assert stats.startswith("SWAPOUT thread pool: concurrency 5\n")
    assert "LUA_TXT_LOGS thread pool: concurrency 2\n" in stats
    assert node.console("threads io queue") == "Jobs in the IO pool\n0 jobs\n"
    assert node.console("threads cpu queue") == "Jobs in the CPU pool\n0 jobs\n"


def test_config_commands_answer_as_the_documented_session(node: MomentumNode) -> None:
    for line, reply in DOC_CONFIG_SESSION:
        assert node.console(line) == reply, line


def test_config_set_of_a_list_prints_it_over_several_lines(node: MomentumNode) -> None:
    # The page shows the closing ")" indented under `config set` but flush left under
    # `config show`; both are the same option rendering here, flush left, so that what
    # `config showrecurse` prints is the configuration file's own syntax.
    assert node.console("config set Relay_Hosts ( 10.0.0.1 10.0.0.2 )") == (
        "Relay_Hosts = (\n  10.0.0.1\n  10.0.0.2\n)\n"
    )
