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
def main() -> None:
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

    verdict = run_check(_config(project), online=online)
    click.echo(scrub(verdict.to_json() if as_json else verdict.render()))  # no secret reaches a CI log
    sys.exit(verdict.exit_code)


@main.command()
@_project
@click.option("--format", "fmt", type=click.Choice(["pylock", "requirements", "maven"]), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Default: pylock.toml, requirements.txt or maven-pins.pom; '-' for stdout.")
def export(project: Path, fmt: str, output: Path | None) -> None:
    """Write the Python pins as a PEP 751 pylock.toml or a hash-pinned requirements file, or the Maven pins as a BOM."""
    from releaser.lock import export as exporting

    current = exporting.current_lock(_config(project))
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
