"""momentum-httpsrv: run Momentum Lua HTTP endpoints and console commands outside Momentum.

Text convention used across the package: Lua strings are byte strings. Python sees them as
``str`` decoded with Latin-1 (one character per byte), so binary data survives every trip
across the Lua boundary; convert with ``.encode("latin-1")`` only at the I/O edges.
"""

__version__ = "0.1.0"
