"""Build lupa's Lua 5.1 module with thrLua's number conversions, once, and cache the wheel.

thrLua converts strings to numbers and numbers to strings differently from stock Lua 5.1,
inside the VM instructions where no Lua function or metamethod can step in
(docs/lua-vm.md). So the Makefile installs lupa from this wheel: lupa's source
distribution (its hash checked), only its bundled Lua 5.1 kept, two functions of that Lua
changed by the edits below, compiled with the venv's Python (gcc and the Python headers,
about 15 seconds). The wheel is cached under a key made of this file and the Python
version, so only a change here or a new Python builds again.

    python vm/build_lupa.py BUILD_DIR     # prints the wheel's path on stdout
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

LUPA_VERSION = "2.8"
LUPA_SDIST_SHA256 = "d8022641b9ec8ecf2c5ecbe9f47e5a70e0b87c4b5ae921b92cb02a638e0acd08"

LUA = "third-party/lua51/src"
# (file in the source distribution, text that must occur exactly once, replacement).
EDITS: list[tuple[str, str, str]] = [
    # String to number (arithmetic, `..`'s operands, tonumber, luaL_checknumber, the
    # lexer's numerals): after an optional '-', a '0' not followed by '.' makes the whole
    # text read as C's strtol reads it with base 0, so "010" is 8, "0x10" is 16, and
    # "08", "0e1" and "00.5" are not numbers (strtol stops at the '8', 'e' or '.').
    (
        f"{LUA}/lobject.c",
        "  *result = lua_str2number(s, &endptr);\n",
        "  const char *digits = (s[0] == '-') ? s + 1 : s;\n"
        "  if (digits[0] == '0' && digits[1] != '.')  /* thrLua: strtol's octal and hex */\n"
        "    *result = cast_num(strtol(s, &endptr, 0));\n"
        "  else\n"
        "    *result = lua_str2number(s, &endptr);\n",
    ),
    # Number to string (tostring, print, `..`, table.concat, %s): infinities and NaN are
    # written without a sign, as "inf" and "nan".
    (f"{LUA}/lvm.c", "#include <string.h>\n", "#include <string.h>\n#include <math.h>\n"),
    (
        f"{LUA}/lvm.c",
        "    lua_number2str(s, n);\n",
        "    if (isnan(n))  /* thrLua: no sign on nan and inf */\n"
        "      strcpy(s, \"nan\");\n"
        "    else if (isinf(n))\n"
        "      strcpy(s, \"inf\");\n"
        "    else\n"
        "      lua_number2str(s, n);\n",
    ),
    # string.format with too few arguments: the conversion's own check reports it, as in
    # Lua 5.1.4 ("number expected, got no value"), not Lua 5.1.5's "no value".
    (f"{LUA}/lstrlib.c", "  int top = lua_gettop(L);\n", ""),
    (
        f"{LUA}/lstrlib.c",
        "      if (++arg > top)\n        luaL_argerror(L, arg, \"no value\");\n",
        "      arg++;  /* thrLua: the conversion's own check names what was expected */\n",
    ),
]


class BuildError(Exception):
    """The source distribution could not be fetched, checked, edited or compiled."""


def cache_key() -> str:
    """What the wheel depends on: these edits (this file), the Python and the machine."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(f"{sys.version}|{platform.machine()}".encode())
    return digest.hexdigest()[:16]


def log(message: str) -> None:
    print(f"vm/build_lupa: {message}", file=sys.stderr, flush=True)


# lupa's own Linux wheels are compiled with these (its pyproject.toml); Python's default
# flags (-g, -fwrapv, no LTO) made Lua loops 1-3 % slower here. A CFLAGS or LDFLAGS in the
# environment wins.
COMPILER_FLAGS = {"CFLAGS": "-O3 -g0 -pipe -fPIC -flto", "LDFLAGS": "-fPIC -flto"}


def run(command: list[str], step: str, log_path: Path) -> None:
    """Run one pip step; a failure is one line (pip's last error line), its whole output
    kept in ``log_path``: pages of a compiler's or pip's output hide what is missing."""
    # LUPA_NO_LUAJIT: lupa's setup.py would otherwise compile LuaJIT (about 50 seconds)
    # even to read the source distribution's metadata.
    environment = {**COMPILER_FLAGS, **os.environ, "LUPA_NO_LUAJIT": "true"}
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        output = result.stdout + result.stderr
        log_path.write_text(f"$ {' '.join(command)}\n{output}")
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        # the build's own (setuptools', gcc's) "error:" says more than pip's "ERROR:"
        built = [line for line in lines if "error:" in line]
        pips = [line for line in lines if "ERROR" in line]
        last = (built or pips or lines or [f"exit status {result.returncode}"])[-1]
        raise BuildError(f"{step} failed: {last} (the whole output: {log_path})")


def check_compiler() -> None:
    """gcc (or $CC) and the Python headers, asked for before anything is fetched."""
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "gcc").split()[0]
    if shutil.which(compiler) is None:
        raise BuildError(f"no C compiler ({compiler}) to build lupa's Lua with: install gcc "
                         "and the Python headers (Debian: apt-get install gcc python3-dev)")
    header = Path(sysconfig.get_paths()["include"], "Python.h")
    if not header.is_file():
        raise BuildError(f"no Python headers ({header}) to build lupa's Lua with: install "
                         "them (Debian: apt-get install python3-dev)")


def fetch_sdist(directory: Path) -> Path:
    """lupa's source distribution through pip (its cache, the configured index)."""
    sdist = directory / f"lupa-{LUPA_VERSION}.tar.gz"
    if not sdist.exists():
        log(f"downloading lupa {LUPA_VERSION}'s source distribution")
        run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--no-binary", "lupa", "--no-build-isolation", "-d", str(directory),
             f"lupa=={LUPA_VERSION}"],
            f"downloading lupa {LUPA_VERSION} (network or pip index)", directory / "build.log")
    found = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if found != LUPA_SDIST_SHA256:
        raise BuildError(f"{sdist}: sha256 {found}, expected {LUPA_SDIST_SHA256}; "
                         f"delete it to download again")
    return sdist


def edit_sources(root: Path, local_version: str) -> None:
    third_party = root / "third-party"
    for bundled in third_party.iterdir():  # lupa builds every bundled Lua it finds
        if bundled.name != "lua51":
            shutil.rmtree(bundled)
    # setup.py writes lupa/version.py from its VERSION line: the installed lupa says which
    # build it is (`pip list`: lupa 2.8+thrlua.<key>), and pip replaces an older build.
    version = ("setup.py", f"VERSION = '{LUPA_VERSION}'\n", f"VERSION = '{local_version}'\n")
    for name, old, new in [version, *EDITS]:
        path = root / name
        text = path.read_text()
        if text.count(old) != 1:
            raise BuildError(f"{path}: expected exactly one {old!r}")
        path.write_text(text.replace(old, new))


def build(build_dir: Path) -> Path:
    key = cache_key()
    wheel_dir = build_dir / f"wheel-{key}"
    cached = sorted(wheel_dir.glob("lupa-*.whl"))
    if cached:
        return cached[0]
    check_compiler()
    build_dir.mkdir(parents=True, exist_ok=True)
    for stale in build_dir.glob("wheel-*"):  # built from an older version of this file
        shutil.rmtree(stale)
    sdist = fetch_sdist(build_dir)
    source = build_dir / "source"
    shutil.rmtree(source, ignore_errors=True)
    with tarfile.open(sdist) as archive:
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later
            archive.extractall(source, filter="data")
        else:
            archive.extractall(source)
    root = source / f"lupa-{LUPA_VERSION}"
    edit_sources(root, f"{LUPA_VERSION}+thrlua.{key}")
    log("compiling lupa's Lua 5.1 with thrLua's number conversions")
    # The generated C (lupa/lua51.c) is in the sdist, so no Cython is needed.
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
         "--no-build-isolation", "-w", str(wheel_dir), str(root)],
        "compiling lupa's Lua 5.1", build_dir / "build.log")
    shutil.rmtree(source)
    return sorted(wheel_dir.glob("lupa-*.whl"))[0]


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        print(build(Path(sys.argv[1]).resolve()))
    except BuildError as error:
        log(str(error))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
