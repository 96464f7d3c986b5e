"""Lua modules we ship for scripts to require (msys.getopt, Test.More): installed as the
``momentum_httpsrv.shipped_lua`` package (see pyproject.toml) and put on package.path."""
