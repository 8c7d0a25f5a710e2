"""The `releaser` console entry point: the CI gate without the command-line framework.

`releaser check` is run on every commit and push, so it must answer in a fraction
of a second; importing click and every command's module costs more than the check
itself. The plain forms of it (`check` with only `-C DIR`, `--json` and `--quiet`,
before or after it) are answered here: from the lock's check seal, before anything
else is imported, when it holds (`sealed`); otherwise by the full offline check,
exactly as `releaser.cli` answers them (same output, same exit codes, errors as one
line or as JSON); everything else, `--help`,
`--online`, `--debug` and any form not recognized here included, goes to
`releaser.cli:main`, which stays the full command line. So does an unexpected error:
`check` writes nothing, so the full command line runs it again and tells it its way.

A plain `releaser lock` (only `-C DIR`) whose lock's seal holds is answered here too
(`answered`): nothing it would read has changed since it wrote the lock, so it resolves
nothing and says so, as `releaser.cli` does, in a fraction of the time. Any other form,
or a seal that does not hold, goes to the full command line.
"""

from __future__ import annotations

import os
import sys

_INTERRUPTED = "interrupted; files are as they were before this command"


def main() -> None:
    plain = _plain_check(sys.argv[1:])
    try:
        code = sealed(*plain) if plain is not None else None
        relock = _plain(sys.argv[1:], "lock") if plain is None else None
        if relock is not None and relock[1:] == (False, False):
            code = answered(relock[0])
    except KeyboardInterrupt:  # read only, so far: one line, as the command line says it
        from releaser.core.console import print_error

        sys.exit(print_error(_INTERRUPTED, 130, plain is not None and plain[1]))
    if code is None and plain is not None:
        code = check(*plain)
    if code is None:
        from releaser.cli import main as cli

        cli()
        return
    sys.exit(code)


def sealed(project: str | None, as_json: bool, quiet: bool) -> int | None:
    """0 when the lock's check seal holds (`releaser.core.seal`; with `[migrations]`, and the
    gate's part kept by the last plain check, `releaser.core.gateseal`): the verdict, printed
    without parsing anything; None when the full check must decide (no seal, or it does not hold).

    Only text: the JSON verdict comes from the full check, which pays for `json` anyway.
    """
    from releaser import __version__
    from releaser.core import seal
    from releaser.core.console import fresh, project_dir

    if as_json:
        return None
    root = project_dir(project)
    found = seal.holding(root, __version__)
    if found is None:
        return None
    pins, inputs, gate = found
    if gate:  # with [migrations]: the gate's part, kept by the last plain check that passed
        from releaser.core import gateseal

        text = gateseal.verdict(root, gate)
        if text is None:
            return None
    else:
        text = fresh(seal.LOCKFILE, pins, inputs)
    if not quiet:
        print(text)
    return 0


def answered(project: str | None) -> int | None:
    """0 after printing what `releaser lock` prints when the lock's check seal holds (nothing it
    reads has changed since it wrote the lock: `releaser.lock.locking.unchanged`), without
    importing the command line; None when the full command must decide (then it resolves,
    or answers from a lock the seal cannot stand for)."""
    from releaser import __version__
    from releaser.core import seal
    from releaser.core.console import project_dir

    root = project_dir(project)
    found = seal.holding(root, __version__)
    if found is None:
        return None
    from pathlib import Path

    from releaser.core.errors import ReleaserError
    from releaser.plumbing.privatefiles import sweep as sweep_private_files
    from releaser.plumbing.projectlock import LOCK_NAME, in_git_dir

    held = in_git_dir(Path(root))
    try:
        if held is None:  # the project lock is in the records folder, which release.toml may move
            toml = seal.read_in(root, "release.toml")
            if toml is None or b"records" in toml:
                return None
            held = Path(root, "releases", f".{LOCK_NAME}")
        if held.exists() or any(Path(root).glob(f".{seal.LOCKFILE}.*.tmp")):
            return None  # another releaser at work, or one's leftovers: the full command waits, refuses or cleans up
        sweep_private_files()  # what a killed releaser could not remove, as every full command does
    except (OSError, ReleaserError):  # an unsafe private folder among them: the full command says so, in its words
        return None
    data = seal.read_in(root, seal.LOCKFILE)  # as `holding` reads it: never through a symlink leaving the project
    as_of = seal.header_as_of(data) if data is not None else None
    if as_of is None:
        return None
    print(f"note: {seal.UNCHANGED}")
    print(f"unchanged: {seal.LOCKFILE} ({found[0]} pins, as of {as_of.isoformat()})")
    return 0


def check(project: str | None, as_json: bool, quiet: bool) -> int | None:
    """`releaser check [-C PROJECT] [--json] [--quiet]`: print the verdict; its exit code.

    None when the full command line must answer instead (an error that is not releaser's own).
    """
    from releaser.core.errors import ReleaserError

    try:
        from releaser.core import config
        from releaser.core.console import print_error, print_verdict, project_root
        from releaser.ecosystems import load_config
        from releaser.record import plaincheck

        verdict = plaincheck.run(load_config(project_root(project) / config.CONFIG_NAME))
    except ReleaserError as exc:
        return print_error(str(exc), exc.exit_code, as_json)
    except KeyboardInterrupt:
        return print_error(_INTERRUPTED, 130, as_json)
    except Exception:
        return None
    return print_verdict(verdict, as_json=as_json, quiet=quiet)


def _plain_check(args: list[str]) -> tuple[str | None, bool, bool] | None:
    """(project, --json, --quiet) when `args` are `check` with only -C/--project, --json and
    --quiet around it; else None."""
    return _plain(args, "check")


def _plain(args: list[str], command: str) -> tuple[str | None, bool, bool] | None:
    """(project, --json, --quiet) when `args` are `command` with only -C/--project, --json and
    --quiet around it; else None."""
    project, as_json, quiet, commands, rest = None, False, False, 0, list(args)
    while rest:
        arg = rest.pop(0)
        if arg == command:
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
