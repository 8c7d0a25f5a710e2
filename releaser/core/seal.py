"""The check seal: one header line with which `releaser check` answers without parsing.

`releaser check` runs on every push; reading a 300-pin lock with a TOML parser, and
importing one, takes longer than the rest of the check. So `releaser lock`, when the
lock it writes passes every offline check there and then (`releaser.lock.sealing`),
adds one line after `content-digest`:

    check-seal = "1 PINS INPUTS MODE SHA256 FILE|FILE|..."

SHA256 is the digest of this releaser's version, the interpreter key MODE names, the
line's other fields, the lock's bytes without this line, and the bytes of every file
the inputs were read from (release.toml, each requirement file and what it includes,
pyproject.toml) and of the project's other dependency files (`releaser.core.depfiles`:
a new one, too, sends `check` to the full verdict). When `releaser check` (plain, offline) computes the same digest,
nothing the offline verdict depends on has changed since that verdict was clean: it
prints it from the line's counts. Anything else (no seal, another digest, another
releaser, an unreadable file) and the full check runs, as it always did: the seal
can make `check` faster, never change what it says.

With `[migrations]` the line's first field is `1+migrations`: the seal holds the lock's
part of the verdict, and the migration gate's part is kept apart, by the plain check
that ran the gate (`releaser.core.gateseal`), under this line's digest.

MODE says what of the interpreter the verdict depended on:
`any` (a lock for `environments`: nothing), `target` (a lock for the one interpreter
it was made on: its platform, Python version and machine, as `other-target` compares
them) or `exact` (such a lock whose direct requirements carry environment markers:
everything a marker can test).

This module runs before anything else in `releaser check`: only `os` and `sys`, and a
sha256 that does not load OpenSSL.
"""

from __future__ import annotations

import os
import sys

from releaser.core.interpreter import target

TYPE_CHECKING = False  # not `typing`'s: the sealed check imports nothing it can do without
if TYPE_CHECKING:
    from datetime import datetime
    from hashlib import sha256 as sha256  # what the built-in one is, to a type checker (and to gateseal)
else:
    try:  # the built-in sha256: `hashlib` loads OpenSSL, which costs more than the check
        from _sha256 import sha256
    except ImportError:  # pragma: no cover - other Pythons (3.12+ calls it _sha2)
        try:
            from _sha2 import sha256
        except ImportError:
            from hashlib import sha256

KEY = "check-seal"
FORMAT = "1"
GATED = "1+migrations"  # the lock's part; the migration gate's is kept apart (releaser.core.gateseal)
MODES = ("any", "target", "exact")
LOCKFILE = "release.lock"  # the only lockfile name the seal answers for
# What `releaser lock` says of a relock a holding seal answers (releaser.lock.locking, releaser.entry).
UNCHANGED = "nothing changed since it was written: answered from it, nothing resolved (--refresh resolves again)"
_LINE = f'\n{KEY} = "'.encode()
_UNSAFE = frozenset('"\\|:') | frozenset(chr(c) for c in range(32)) | {"\x7f"}


def interpreter(mode: str) -> str:
    """What of the running interpreter a verdict sealed under `mode` depended on."""
    if mode == "any":
        return ""
    key = " ".join(target())  # what `releaser.core.targets.here` reads
    if mode == "exact":  # everything a PEP 508 marker tests, `platform_*` read as `platform` reads them
        uname = os.uname() if hasattr(os, "uname") else None
        implementation = ".".join(str(n) for n in sys.implementation.version[:3])
        key += f" {sys.implementation.name} {implementation} {sys.version.split()[0]} {os.name}"
        if uname:
            key += f" {uname.sysname} {uname.release} {uname.version}"
        else:  # pragma: no cover - Windows: `platform` reads them another way
            import platform

            key += f" {platform.system()} {platform.release()} {platform.version()}"
    return key


def safe_name(name: str) -> bool:
    """A file name the seal line can carry: relative (no drive letter), inside the project, nothing to escape."""
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and ".." not in parts and not (_UNSAFE & set(name))


def digest(version: str, mode: str, fields: str, body: bytes, files: list[tuple[str, bytes]]) -> str:
    """The seal's sha256 (hex); every part framed by its length, so no two inputs run together."""
    h = sha256()
    for part in (b"releaser check-seal " + FORMAT.encode(), version.encode(), interpreter(mode).encode(), fields.encode(), body):
        h.update(b"%d:" % len(part) + part)
    for name, data in files:
        h.update(b"%d:" % len(name.encode()) + name.encode() + b"%d:" % len(data) + data)
    return h.hexdigest()


def _fields(pins: int, inputs: int, mode: str, gated: bool) -> str:
    return f"{GATED if gated else FORMAT} {pins} {inputs} {mode}"


def split(data: bytes) -> tuple[bytes, str] | None:
    """(the lock without its seal line, the line's value), or None when it has not exactly one."""
    at = data.find(_LINE)
    if at < 0 or data.find(_LINE, at + 1) >= 0:
        return None
    end = data.find(b"\n", at + 1)
    if end < 0 or data[end - 1 : end] != b'"':
        return None
    try:
        value = data[at + len(_LINE) : end - 1].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return data[: at + 1] + data[end + 1 :], value


def sealed(
    text: str, version: str, pins: int, inputs: int, mode: str, files: list[tuple[str, bytes]], *, gated: bool = False
) -> str:
    """`text` (a lock as `lockfile.dumps` writes it) with its seal line after `content-digest`;
    `gated`: the line holds the lock's part of the verdict, the migration gate's is kept apart."""
    body = text.encode("utf-8")
    fields = _fields(pins, inputs, mode, gated)
    seal = f'{KEY} = "{fields} {digest(version, mode, fields, body, files)} {"|".join(n for n, _ in files)}"\n'
    head, sep, rest = text.partition("\ncontent-digest = ")
    first, newline, tail = rest.partition("\n")
    return head + sep + first + newline + seal + tail


def read_in(root: str, name: str) -> bytes | None:
    """The bytes of the regular file `name` inside `root`; None (the full check decides, and refuses)
    for a symlink that leaves the project, a device or a FIFO, or an unreadable file."""
    path = os.path.join(root, name)
    real_root, real = os.path.realpath(root), os.path.realpath(path)
    outside = real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep)
    if outside or not os.path.isfile(real):
        return None
    try:
        with open(real, "rb") as f:
            return f.read()
    except OSError:
        return None


def quick_verdict(root: str, version: str) -> tuple[int, int] | None:
    """(pins, inputs) when `root`'s lock carries a seal of the whole verdict that holds now; else None."""
    held = holding(root, version)
    return held[:2] if held is not None and not held[2] else None


def holding(root: str, version: str) -> tuple[int, int, str] | None:
    """(pins, inputs, GATE) when `root`'s lock carries a seal that holds now; else None (run the full check).

    GATE is "" when the seal holds the whole verdict, else the seal's digest, under which the
    migration gate's part is kept (`releaser.core.gateseal`).
    """
    data = read_in(root, LOCKFILE)
    if data is None:
        return None
    found = split(data)
    if found is None:
        return None
    body, value = found
    parts = value.split(" ", 5)
    if len(parts) != 6 or parts[0] not in (FORMAT, GATED) or parts[3] not in MODES or not all(p.isascii() and p.isdigit() for p in parts[1:3]):
        return None
    names = parts[5].split("|")
    if not all(safe_name(n) for n in names):
        return None
    from releaser.core.depfiles import candidates

    if not set(candidates(root)) <= set(names):  # a dependency file the seal never saw: `unlisted` decides
        return None
    files = []
    for name in names:
        read = read_in(root, name)
        if read is None:
            return None
        files.append((name, read))
    if digest(version, parts[3], " ".join(parts[:4]), body, files) != parts[4]:
        return None
    return int(parts[1]), int(parts[2]), parts[4] if parts[0] == GATED else ""


def header_as_of(data: bytes) -> datetime | None:
    """The cut-off in the header of a lock's bytes (the lines before its first table), read
    without parsing its pins (or importing the lock's model): what a relock the seal answers
    tells; None when the header does not say one."""
    from datetime import datetime

    import tomli

    try:
        found = tomli.loads(data.split(b"\n[", 1)[0].decode("utf-8")).get("as-of")
    except (UnicodeDecodeError, tomli.TOMLDecodeError, RecursionError):
        return None
    return found if isinstance(found, datetime) and found.tzinfo is not None else None
