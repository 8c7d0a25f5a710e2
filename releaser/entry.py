"""The `releaser` console entry point: the CI gate without the command-line framework.

`releaser check` is run on every commit and push, so it must answer in a fraction
of a second; importing click and every command's module costs more than the check
itself. The plain forms of it (`check` with only `-C DIR`, `--json` and `--quiet`,
before or after it) are answered here, exactly as `releaser.cli` answers them (same
output, same exit codes, errors as one line or as JSON); everything else, `--help`,
`--online`, `--debug` and any form not recognized here included, goes to
`releaser.cli:main`, which stays the full command line. So does an unexpected error:
`check` writes nothing, so the full command line runs it again and tells it its way.
"""

from __future__ import annotations

import os
import sys

_INTERRUPTED = "interrupted; files are as they were before this command"


def main() -> None:
    plain = _plain_check(sys.argv[1:])
    code = check(*plain) if plain is not None else None
    if code is None:
        from releaser.cli import main as cli

        cli()
        return
    sys.exit(code)


def check(project: str | None, as_json: bool, quiet: bool) -> int | None:
    """`releaser check [-C PROJECT] [--json] [--quiet]`: print the verdict; its exit code.

    None when the full command line must answer instead (an error that is not releaser's own).
    """
    from releaser.core.errors import ReleaserError

    try:
        from releaser.check.checking import check as run_check
        from releaser.core import config

        loaded = config.load(_project_root(project) / config.CONFIG_NAME)
        previous = None  # the migration gate's baseline, as releaser.cli's check reads it
        if loaded.migrations is not None:
            from releaser.record.baseline import previous as newest_rc

            previous = newest_rc(loaded)
        verdict = run_check(loaded, previous=previous)
    except ReleaserError as exc:
        return _fail(str(exc), exc.exit_code, as_json)
    except KeyboardInterrupt:
        return _fail(_INTERRUPTED, 130, as_json)
    except Exception:
        return None
    from releaser.core.redact import scrub

    if as_json:
        print(scrub(verdict.to_json()))  # no secret reaches a CI log
    elif not (quiet and verdict.ok):
        print(scrub(verdict.render()))
    return verdict.exit_code


def _fail(message: str, code: int, as_json: bool) -> int:
    """The error as releaser.cli tells it: one line on stderr, or one JSON document on stdout."""
    from releaser.core.redact import scrub

    if as_json:
        import json

        print(json.dumps({"ok": False, "error": scrub(message), "exit": code}, indent=2, sort_keys=True))
    else:
        print(f"releaser: {scrub(message)}", file=sys.stderr)
    return code


def _project_root(project: str | None):  # type: ignore[no-untyped-def]
    """-C DIR; else the nearest folder holding release.toml, from here upwards; else here (as releaser.cli)."""
    from pathlib import Path

    if project is not None:
        return Path(project)
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "release.toml").is_file():
            return folder
    return Path(".")


def _plain_check(args: list[str]) -> tuple[str | None, bool, bool] | None:
    """(project, --json, --quiet) when `args` are `check` with only -C/--project, --json and
    --quiet around it; else None."""
    project, as_json, quiet, commands, rest = None, False, False, 0, list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "check":
            commands += 1
        elif arg == "--json":
            as_json = True
        elif arg in ("-q", "--quiet"):
            quiet = True
        elif arg in ("-C", "--project") and rest and not rest[0].startswith("-"):
            project = rest.pop(0)
        elif arg.startswith("--project="):
            project = arg.partition("=")[2]
        elif arg.startswith("-C") and len(arg) > 2:
            project = arg[2:]
        else:
            return None  # --online, --help, --debug, anything else: the full command line decides
    if commands != 1 or project == "" or (project is not None and os.path.isfile(project)):
        return None  # click's own message for a project that is a file
    return project, as_json, quiet
