"""The `releaser` console entry point: the CI gate without the command-line framework.

`releaser check` is run on every commit and push, so it must answer in a fraction
of a second; importing click and every command's module costs more than the check
itself. The plain forms of it (`releaser check [-C DIR] [--json]`) are answered
here, exactly as `releaser.cli` answers them (same output, same exit codes);
everything else, `--help` and any form not recognized here included, goes to
`releaser.cli:main`, which stays the full command line.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    plain = _plain_check(sys.argv[1:])
    if plain is None:
        from releaser.cli import main as cli

        cli()
        return
    project, as_json = plain
    sys.exit(check(project, as_json=as_json))


def check(project: str, *, as_json: bool) -> int:
    """`releaser check -C PROJECT [--json]`: print the verdict; its exit code."""
    from releaser.core.errors import ReleaserError
    from releaser.core.redact import scrub

    try:
        from pathlib import Path

        from releaser.check.checking import check as run_check
        from releaser.core import config

        loaded = config.load(Path(project) / config.CONFIG_NAME)
        previous = None  # the migration gate's baseline, as releaser.cli's check reads it
        if loaded.migrations is not None:
            from releaser.record.baseline import previous as newest_rc

            previous = newest_rc(loaded)
        verdict = run_check(loaded, previous=previous)
    except ReleaserError as exc:
        print(f"releaser: {scrub(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("releaser: interrupted; files are as they were before this command", file=sys.stderr)
        return 130
    print(scrub(verdict.to_json() if as_json else verdict.render()))  # no secret reaches a CI log
    return verdict.exit_code


def _plain_check(args: list[str]) -> tuple[str, bool] | None:
    """(project, --json) when `args` are `check` with only -C/--project and --json; else None."""
    if not args or args[0] != "check":
        return None
    project, as_json, rest = ".", False, args[1:]
    while rest:
        arg = rest.pop(0)
        if arg == "--json":
            as_json = True
        elif arg in ("-C", "--project") and rest and not rest[0].startswith("-"):
            project = rest.pop(0)
        elif arg.startswith("--project="):
            project = arg.partition("=")[2]
        elif arg.startswith("-C") and len(arg) > 2:
            project = arg[2:]
        else:
            return None  # --online, --help, anything else: the full command line decides
    if not project or os.path.isfile(project):
        return None  # click's own message for a project that is a file
    return project, as_json
