"""The `releaser` command line: parse arguments, call the library, print, exit.

No policy lives here. Errors are `ReleaserError`s whose class carries the exit
code of the contract; they are printed on one line, scrubbed of secrets, with
no traceback.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import click

from releaser import __version__
from releaser.core.errors import ConfigError, Refused, ReleaserError
from releaser.core.redact import scrub


def _fail(message: str, code: int) -> None:
    click.echo(f"releaser: {scrub(message)}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """Turns every ReleaserError into its one-line message and exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReleaserError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted; files are as they were before this command", 130)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # usage errors, --help, --version: click's own
        except OSError as exc:  # the disk or the system, not the input: an outside failure
            _fail(f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or type(exc).__name__}", 3)
        except Exception as exc:  # the last resort: a bug, told in one line (the traceback with --debug)
            if (ctx.params or {}).get("debug"):
                import traceback

                click.echo(scrub(traceback.format_exc()).rstrip(), err=True)
            where = f" (at {_bug_site(exc)})" if _bug_site(exc) else ""
            _fail(f"this is a bug in releaser: {type(exc).__name__}{where}; run with --debug for the traceback", 3)


def _bug_site(exc: BaseException) -> str:
    """file:line of the innermost frame that raised, without the message (it may hold input)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}" if tb is not None else ""


def _as_of(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    """ISO 8601 time or date; without a zone it is UTC (release times should not depend on TZ)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time such as 2026-11-01T12:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _project(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "-C",
        "--project",
        "project",
        type=click.Path(file_okay=False, path_type=Path),
        default=".",
        show_default=True,
        help="The project root, where release.toml is.",
    )(func)


def _config(project: Path):  # type: ignore[no-untyped-def]
    from releaser.core import config

    return config.load(project / config.CONFIG_NAME)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="releaser")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error (a bug in releaser).")
def main(debug: bool) -> None:
    """Cut release candidates in which no dependency floats."""


@main.command()
@_project
@click.option("--as-of", "as_of", callback=_as_of, metavar="TIME", help="Resolve as the indexes were at TIME (ISO 8601).")
@click.option("--upgrade", "upgrade", is_flag=True, help="Re-resolve every pin (with PKG names: only those).")
@click.argument("packages", nargs=-1, metavar="[PKG]...")
def lock(project: Path, as_of: datetime | None, upgrade: bool, packages: tuple[str, ...]) -> None:
    """Pin every input to an exact, hashed, dated artifact in release.lock.

    Earlier pins are kept unless --upgrade is given; `releaser lock --upgrade PKG`
    re-resolves only PKG.
    """
    from releaser.lock.locking import lock as run_lock

    if packages and not upgrade:
        raise ConfigError("package names are only taken with --upgrade: releaser lock --upgrade PKG...")
    cfg = _config(project)
    result = run_lock(cfg, as_of=as_of, upgrade_all=upgrade and not packages, upgrade=packages)
    for note in result.notes:
        click.echo(f"note: {note}")
    for line in result.changes:
        click.echo(f"  {line}")
    verb = "wrote" if result.written else "unchanged:"
    click.echo(
        f"{verb} {cfg.release.lockfile} ({len(result.lock.pins)} pins, as of {result.lock.as_of.isoformat()})"
    )


@main.command()
@_project
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as one JSON document (docs/check.md).")
@click.option("--online", is_flag=True, help="Also re-verify every pinned file and commit upstream.")
def check(project: Path, as_json: bool, online: bool) -> None:
    """Fail when release.lock is stale, floats or was edited by hand.

    Offline and fast by default. Exit 0: fresh; 1: stale, floating, tampered,
    missing (with --online also gone, changed or yanked upstream); 2: bad input;
    3: upstream unreachable.
    """
    from releaser.check.checking import check as run_check

    cfg = _config(project)
    verdict = run_check(cfg, online=online, previous=_previous_rc(cfg))
    click.echo(scrub(verdict.to_json() if as_json else verdict.render()))  # no secret reaches a CI log
    sys.exit(verdict.exit_code)


def _previous_rc(cfg: Any) -> Any:
    """The migration gate's baseline: the newest recorded RC (None without [migrations])."""
    if cfg.migrations is None:
        return None  # and nothing imported: `check` stays fast
    from releaser.record.baseline import previous

    return previous(cfg)


@main.command()
@_project
@click.option("--json", "as_json", is_flag=True, help="One JSON document (schema: docs/migrations.md).")
def migrations(project: Path, as_json: bool) -> None:
    """The migration graph: heads per app, what is new since the previous RC, every finding.

    Exit 1 when any finding is refused (not named in [migrations] allow).
    """
    import json

    from releaser.check.checking import migration_gate

    cfg = _config(project)
    report = migration_gate(cfg, _previous_rc(cfg))
    if report is None:
        raise ConfigError(f"{cfg.path}: has no [migrations] table (docs/migrations.md says how to describe them)")
    click.echo(scrub(json.dumps(report.to_dict(), indent=2) if as_json else report.render()))
    sys.exit(report.exit_code)


@main.command()
@_project
@click.option("--format", "fmt", type=click.Choice(["pylock", "requirements", "maven"]), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Default: pylock.toml, requirements.txt or maven-pins.pom; '-' for stdout.")
def export(project: Path, fmt: str, output: Path | None) -> None:
    """Write the Python pins as a PEP 751 pylock.toml or a hash-pinned requirements file, or the Maven pins as a BOM."""
    from releaser.check.checking import insist_fit
    from releaser.lock import export as exporting

    cfg = _config(project)
    current = exporting.current_lock(cfg)
    insist_fit(cfg, "export from")  # stale or edited: what it pins is not what the inputs ask for
    if str(output) == "-":
        click.echo(exporting.render(current, fmt), nl=False)
        return
    target = output or project / exporting.DEFAULT_OUTPUT[fmt]
    exporting.write(current, fmt, target)
    click.echo(f"wrote {target}")


@main.command()
@_project
@click.option("--rc", "rc_number", type=int, metavar="N", help="Cut {version}rcN (default: the next free number).")
@click.option("--no-tag", "no_tag", is_flag=True, help="Do not create the git tag.")
@click.option("--no-commit", "no_commit", is_flag=True, help="Leave the record uncommitted (the tag then points at the built commit).")
@click.option("--bundle", "bundle_it", is_flag=True, help="Then store every pinned file in dist/<RC>/bundle/, as `releaser bundle` does.")
def cut(project: Path, rc_number: int | None, no_tag: bool, no_commit: bool, bundle_it: bool) -> None:
    """Build, gate and record a release candidate from exactly the locked dependencies.

    Refused (nothing written) when the tree is dirty, the lock is stale, tampered or
    floats (as `releaser check` says), or the RC id is recorded or tagged already.
    """
    import signal

    from releaser.cut.cutting import cut as run_cut

    def terminated(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt  # so a killed cut cleans up as an interrupted one does

    signal.signal(signal.SIGTERM, terminated)
    cfg = _config(project)
    result = run_cut(
        cfg, rc_number=rc_number, tag=not no_tag, commit=not no_commit, bundle=bundle_it,
        log=lambda line: click.echo(scrub(line)),
    )
    for note in result.notes:
        click.echo(f"note: {scrub(note)}")
    where = f"{cfg.release.records}/{result.rc}/"
    pins, built = len(result.manifest["pins"]), len(result.manifest["built"])
    click.echo(
        f"cut {result.rc}: commit {result.commit[:12]}, {pins} pin{'s' if pins != 1 else ''}, "
        f"{built} built file{'s' if built != 1 else ''}; recorded in {where}"
        + (f" (committed {result.record_commit[:12]})" if result.record_commit else " (not committed: commit it)")
        + (f", tagged {result.tag}" if result.tag else "")
    )
    if result.bundled is not None:
        from releaser.install.bundle import describe_bundle

        for line in describe_bundle(result.bundled):
            click.echo(scrub(line))


@main.command(name="list")
@_project
@click.option("--json", "as_json", is_flag=True, help="A JSON document instead of text.")
def list_(project: Path, as_json: bool) -> None:
    """The recorded RCs: id, cut time, commit, pin count."""
    from releaser.record import showing

    cfg = _config(project)
    items = showing.entries(cfg)
    if as_json:
        click.echo(showing.list_json(items))
    elif not items:
        click.echo(f"no RC recorded in {cfg.release.records}/ yet; cut one with: releaser cut")
    else:
        for item in items:
            click.echo(item.line())
    if not all(item.ok for item in items):
        sys.exit(Refused.exit_code)


@main.command()
@_project
@click.option("--json", "as_json", is_flag=True, help="Print manifest.json as recorded.")
@click.argument("rc")
def show(project: Path, as_json: bool, rc: str) -> None:
    """What went into a recorded RC: its commit, cut-off, pins and built files."""
    from releaser.record import records, showing

    cfg = _config(project)
    found = records.read(records.records_dir(cfg), rc)
    if as_json:
        click.echo((found.path / records.MANIFEST).read_text(encoding="utf-8"), nl=False)
    else:
        click.echo(showing.summary(found.manifest))


@main.command()
@_project
@click.argument("rc")
@click.option("--into", type=click.Path(file_okay=False, path_type=Path), help="Default: reproduce/<RC> in the project.")
@click.option(
    "--from-bundle", "from_bundle", type=click.Path(file_okay=False, path_type=Path),
    help="Take every file from this bundle (dist/<RC>/bundle), offline.",
)
def reproduce(project: Path, rc: str, into: Path | None, from_bundle: Path | None) -> None:
    """Recreate RC's exact dependency set from its record, every file sha256-verified.

    Makes venv/ (exactly the recorded Python set), maven/ (a local repository and
    classpath.txt), git/<name>/ (detached at the recorded commit) and artifacts/.
    A re-run verifies what is there and fetches only what is missing.
    """
    from releaser.reproduce import reproducing

    cfg = _config(project)
    result = reproducing.reproduce(cfg, rc, into or project / "reproduce" / rc, bundle=from_bundle)
    for line in reproducing.describe(result):
        click.echo(scrub(line))
    for note in reproducing.notes(result.into):
        click.echo(f"note: {scrub(note)}", err=True)


@main.command()
@_project
@click.argument("rc")
def bundle(project: Path, rc: str) -> None:
    """Store every pinned file of RC (and a git bundle per repository) in dist/<RC>/bundle/.

    `releaser reproduce RC --from-bundle dist/RC/bundle` then works offline, after
    upstream deleted or replaced things.
    """
    from releaser.install.bundle import describe_bundle, make_bundle

    cfg = _config(project)
    result = make_bundle(cfg, rc)
    for line in describe_bundle(result):
        click.echo(scrub(line))


@main.command()
@_project
@click.option("--json", "as_json", is_flag=True, help="One JSON document (schema: docs/reproduce.md).")
@click.argument("a")
@click.argument("b")
def diff(project: Path, as_json: bool, a: str, b: str) -> None:
    """What changed from A to B: two RC ids, or two lockfile paths (an existing file is a lockfile)."""
    import json

    from releaser.record import records
    from releaser.reproduce import diffing

    def records_dir() -> Path:
        return records.records_dir(_config(project))

    document = diffing.diff(diffing.load(a, records_dir), diffing.load(b, records_dir))
    click.echo(scrub(json.dumps(document, indent=2) if as_json else diffing.render(document).rstrip("\n")))


@main.command()
@_project
@click.option("--json", "as_json", is_flag=True, help="The figures as one JSON document (manifest.json's `rehearsal`).")
def rehearse(project: Path, as_json: bool) -> None:
    """Rehearse the upgrade from the last recorded RC on a fresh database: migrate, gate, revert, check, time.

    Exit 0: every step passed; 1: refused (a step failed or was too slow, the revert
    lost data); 2: bad input; 3: an outside failure (the database, a seed command).
    """
    import json

    from releaser.rehearse.rehearsing import rehearse_tree

    cfg = _config(project)
    result = rehearse_tree(cfg, log=None if as_json else lambda line: click.echo(scrub(line)))
    if as_json:
        click.echo(scrub(json.dumps(result.to_record(), indent=2, sort_keys=True)))
        return
    for note in result.notes:
        click.echo(f"note: {scrub(note)}")
    total = sum(s.seconds for s in result.steps)
    click.echo(f"rehearsal passed in {total:.1f} s: upgrade, revert to {result.previous or 'an empty database'}, data intact")


@main.command(name="revert-plan")
@_project
@click.option("--to", "to", metavar="PREV", help="The RC to go back to (default: the RC recorded before RC).")
@click.option("--json", "as_json", is_flag=True, help="The plan as one JSON document.")
@click.argument("rc")
def revert_plan(project: Path, rc: str, to: str | None, as_json: bool) -> None:
    """The ordered steps and commands that take a database from RC back to PREV (RC's revert.sh runs them)."""
    import json

    from releaser.rehearse.revertplan import plan_from_records

    found = plan_from_records(_config(project), rc, to)
    click.echo(json.dumps(found.to_json(), indent=2, sort_keys=True) if as_json else found.render().rstrip("\n"))
