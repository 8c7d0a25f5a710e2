"""What every command prints the same way, with or without the full command line.

`releaser.entry` (the lean `releaser check`) and `releaser.cli` both answer through
these, so the two cannot drift: where the project is, how an error is told, how
`check`'s verdict is shown.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any


def project_root(project: str | os.PathLike[str] | None):  # type: ignore[no-untyped-def]
    """-C DIR; else the nearest folder holding release.toml, from here upwards; else here."""
    if project is not None:
        return Path(project)
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "release.toml").is_file():
            return folder
    return Path(".")


def print_error(message: str, code: int, as_json: bool) -> int:
    """An error as releaser tells it: one line on stderr, or one JSON document on stdout; its exit code."""
    from releaser.core.redact import scrub

    if as_json:
        import json

        print(json.dumps({"ok": False, "error": scrub(message), "exit": code}, indent=2, sort_keys=True))
    else:
        print(f"releaser: {scrub(message)}", file=sys.stderr)
    return code


def print_verdict(verdict: Any, *, as_json: bool, quiet: bool) -> int:
    """`check`'s verdict as text, or as one JSON document (no secret reaches a CI log); its exit code."""
    from releaser.core.redact import scrub

    if as_json:
        print(scrub(verdict.to_json()))
    elif not (quiet and verdict.ok):
        print(scrub(verdict.render()))
    return verdict.exit_code
