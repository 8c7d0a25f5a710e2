"""A venv's own path in the files that hold it, moved with a copy of the venv.

A venv names itself in its scripts' shebangs (in one of the two forms pip writes),
`bin/activate*` and `pyvenv.cfg`; a copy of a venv (`keptvenv.clone`) runs only once those
name the copy.
"""

from __future__ import annotations

import sys

# Where a shebang may be one line (distlib's rule, which pip follows when it writes a script).
SHEBANG_MAX = 512 if sys.platform == "darwin" else 127


def rehomed(data: bytes, old: bytes, new: bytes) -> bytes:
    """A script or file of the venv at `old` as the venv at `new` holds it: a shebang naming `old`'s
    interpreter rewritten in the form pip would write for `new` (one line, or the `/bin/sh` form when
    the path is long or has a space), any other mention of `old` (bin/activate*, pyvenv.cfg) replaced."""
    head, python, rest = shebang_of(data)
    if python is not None and python.startswith(old + b"/"):
        return shebang_for(new + python[len(old) :], rest) + data[len(head) :].replace(old, new)
    return data.replace(old, new)


def shebang_of(data: bytes) -> tuple[bytes, bytes | None, bytes]:
    """(the shebang's bytes, the interpreter it names, what follows the interpreter) in either form."""
    if data.startswith(b"#!/bin/sh\n'''exec' "):
        lines = data.split(b"\n", 3)
        tail = b' "$0" "$@"'
        if len(lines) > 3 and lines[2] == b"' '''" and lines[1].endswith(tail):
            named = lines[1][len(b"'''exec' ") : -len(tail)]
            python, _, rest = named[1:].partition(b'"') if named.startswith(b'"') else named.partition(b" ")
            return b"\n".join(lines[:3]) + b"\n", python, (b" " + rest.lstrip() if rest.strip() else b"")
    elif data.startswith(b"#!"):
        line = data.split(b"\n", 1)[0]
        python, _, rest = line[2:].partition(b" ")
        return line + b"\n", python, (b" " + rest if rest else b"")
    return b"", None, b""


def shebang_for(python: bytes, rest: bytes) -> bytes:
    if b" " not in python and len(python) + len(rest) + 3 <= SHEBANG_MAX:
        return b"#!" + python + rest + b"\n"
    quoted = b'"' + python + b'"' if b" " in python else python
    return b"#!/bin/sh\n'''exec' " + quoted + rest + b' "$0" "$@"\n' + b"' '''\n"
