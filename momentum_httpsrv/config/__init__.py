"""ecelerity.conf: parse Momentum's configuration files into a tree the rest of the package reads.

Grammar: ``Kind { … }`` and ``Kind instance { … }`` scopes (instance quoted or bare, nesting
allowed, repeated stanzas merged), ``name = value`` options (``=`` optional), ``#`` and
``/* … */`` comments, ``include`` / ``readonly_include`` of files or directories. Names are
case-insensitive. See parser.py for the grammar and include rules, values.py for how values
are represented:

* bare integers → ``int`` (``0660`` is octal 432, ``0x1F`` hex), bare ``1.5`` → ``float``;
* other bare words and every quoted string → ``str`` (``raw`` keeps the text as written);
* ``( … )`` → ``list``; ``[ k = v … ]`` → ``dict``.

Typed accessors (``get_bool``/``get_int``/… on scopes, ``as_bool``/``as_int``/… on options)
convert on demand: booleans accept true/false, on/off, enabled/disabled, yes/no, 1/0 in any
case, quoted or bare; integers accept octal and hex, quoted or bare.

Errors raise ``ConfigSyntaxError`` whose ``str()`` is ``file:line:col: message``; unknown
scopes/options, wrongly typed known options and duplicate options are collected as
``ConfigDiagnostic`` warnings (``file:line:col: warning: message``) on ``Configuration.warnings``.
"""

from .configuration import Configuration, load_config, parse_config_text
from .errors import (
    ConfigDiagnostic,
    ConfigError,
    ConfigLocation,
    ConfigSyntaxError,
    ConfigValueError,
)
from .tree import ConfigOption, ConfigScope
from .values import ConfigValue

__all__ = [
    "ConfigDiagnostic",
    "ConfigError",
    "ConfigLocation",
    "ConfigOption",
    "ConfigScope",
    "ConfigSyntaxError",
    "ConfigValue",
    "ConfigValueError",
    "Configuration",
    "load_config",
    "parse_config_text",
]
