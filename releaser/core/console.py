"""What every command prints the same way, with or without the full command line.

`releaser.entry` (the lean `releaser check`) and `releaser.cli` both answer through
these, so the two cannot drift: where the project is, how an error is told, how
`check`'s verdict is shown. Nothing heavier than `os` and `sys` is imported here up
front: the sealed `releaser check` (`releaser.core.seal`) prints through it.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not `typing`'s: importing it costs the sealed check a tenth of its time
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any, Protocol

    class Verdict(Protocol):  # releaser.core.verdict.Verdict, which prints through here
        @property
        def ok(self) -> bool: ...
        @property
        def exit_code(self) -> int: ...
        def to_dict(self) -> dict[str, Any]: ...
        def render(self) -> str: ...


def project_dir(project: str | os.PathLike[str] | None) -> str:
    """-C DIR; else the nearest folder holding release.toml, from here upwards; else here."""
    if project is not None:
        return os.fspath(project)
    folder = os.getcwd()
    while True:
        if os.path.isfile(os.path.join(folder, "release.toml")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return "."
        folder = parent


def project_root(project: str | os.PathLike[str] | None) -> Path:
    """`project_dir` as a Path."""
    from pathlib import Path

    return Path(project_dir(project))


def fresh(lockfile: str, pins: int, inputs: int, online: bool = False) -> str:
    """`check`'s last line for a lock with no error."""
    what = "every pinned file verified upstream" if online else "nothing floats"
    return f"{lockfile} is fresh: {_count(pins, 'pin')}, {_count(inputs, 'input')} unchanged, {what}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def json_document(document: Mapping[str, Any], code: int = 0) -> str:
    """The one envelope of every `--json` output: the command's document with `ok` and `exit`
    beside its own keys, scrubbed of every secret (docs/init.md, "--json")."""
    import json

    from releaser.core.redact import scrub

    return scrub(json.dumps({**document, "ok": code == 0, "exit": code}, indent=2, sort_keys=True))


def print_error(message: str, code: int, as_json: bool) -> int:
    """An error as releaser tells it: one line on stderr, or one JSON document on stdout; its exit code."""
    from releaser.core.redact import scrub

    if as_json:
        print(json_document({"error": message}, code))
    else:
        print(f"releaser: {scrub(message)}", file=sys.stderr)
    return code


def print_verdict(verdict: Verdict, *, as_json: bool, quiet: bool) -> int:
    """`check`'s verdict as text, or as one JSON document (no secret reaches a CI log); its exit code."""
    if as_json:
        print(json_document(verdict.to_dict(), verdict.exit_code))
    elif not (quiet and verdict.ok):
        print(shown(verdict))
    return verdict.exit_code


def shown(verdict: Verdict) -> str:
    """`check`'s verdict as text, as printed (no secret reaches a CI log)."""
    from releaser.core.redact import scrub

    return scrub(verdict.render())
