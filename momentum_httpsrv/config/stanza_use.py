"""Which top-level stanzas momentum-httpsrv reads. The schema accepts every Momentum
stanza; the ones nothing here reads are reported by ``check`` (once per kind), so an
operator knows a ``securecreds`` or ``outbound_smtp_auth`` block has no effect here.

A feature that starts reading a stanza adds its kind to ``STANZAS_READ``: that set is the
one place that says so.
"""

from __future__ import annotations

from .tree import ConfigScope

# Lower-case kinds, with what reads them.
STANZAS_READ: frozenset[str] = frozenset(
    {
        "http_listener",     # listeners, access control, TLS
        "httpsrv",           # enabled
        "control_listener",  # the console
        "scriptlet",         # scripts, gc options
        "ec_logger",         # the paniclog path
        "binding",           # msys.core.config_get_binding_*
        "binding_group",     # msys.core.config_get_binding_group_size
        "domain",            # the console's domain command, msys.config
        "threadpool",        # msys.runInPool's pools, msys.threadpool
        "datasource",        # msys.db
    }
)


def unused_stanzas(root: ConfigScope) -> list[ConfigScope]:
    """The first stanza of each known kind that nothing here reads, in file order
    (unknown kinds are the schema's warnings already)."""
    seen: set[str] = set()
    unused = []
    for scope in root.scopes():
        kind = scope.kind.lower()
        if scope.spec is None or kind in STANZAS_READ or kind in seen:
            continue
        seen.add(kind)
        unused.append(scope)
    return unused


def unused_stanza_notes(root: ConfigScope) -> list[str]:
    """``file:line:col: note: …`` for each kind ``unused_stanzas`` finds."""
    notes = []
    for scope in unused_stanzas(root):
        where = str(scope.location) if scope.location else "?"
        notes.append(
            f"{where}: note: '{scope.kind}' is accepted but not used by momentum-httpsrv"
        )
    return notes
