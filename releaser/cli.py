"""The `releaser` command line: parse arguments, call the library, print, exit.

No policy lives here. Errors are `ReleaserError`s whose class carries the exit
code of the contract; they are printed on one line, scrubbed of secrets, with
no traceback.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import click

from releaser import __version__
from releaser.core.errors import ConfigError, Refused, ReleaserError
from releaser.core.redact import scrub

if TYPE_CHECKING:
    from releaser.core.progress import Progress


# -- global options: given before or after the command's name -------------------


@dataclass
class _Run:
    """What this invocation was asked for by the options every command takes."""

    project: Path | None = None  # -C DIR
    json: bool = False  # --json: one JSON document on stdout, errors included
    quiet: bool = False  # --quiet: nothing but failures
    debug: bool = False  # --debug: the traceback of an unexpected error (a bug in releaser)

    def echo(self, line: str = "", *, err: bool = False) -> None:
        """A line for people; not with --quiet or --json (stdout is the document then)."""
        if not (self.quiet or self.json):
            click.echo(scrub(line), err=err)

    def document(self, document: dict[str, Any]) -> None:
        """With --json, the command's result as one document: {"ok": true, "exit": 0, ...}."""
        if self.json:
            click.echo(scrub(json.dumps({"ok": True, "exit": 0, **document}, indent=2, sort_keys=True)))

    @contextlib.contextmanager
    def progress(self) -> Iterator[Progress | None]:
        """Progress on stderr while the block runs: none with --json or --quiet."""
        from releaser.core.progress import renderer

        shown = None if self.json else renderer(sys.stderr, quiet=self.quiet)
        try:
            yield shown
        finally:
            if shown is not None:
                shown.close()


_run = _Run()


def _remember(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(_ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value:  # before or after the command name: either counts; an absent one changes nothing
            setattr(_run, name, value)

    return callback


_GLOBAL_OPTIONS = (
    click.option(
        "-C", "--project", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
        expose_value=False, callback=_remember("project"),
        help="Run in the project at DIR (default: the nearest folder with a release.toml, here or above).",
    ),
    click.option(
        "--json", is_flag=True, expose_value=False, callback=_remember("json"),
        help='Print one JSON document on stdout, errors too ({"ok": false, "error": ..., "exit": N}).',
    ),
    click.option(
        "-q", "--quiet", is_flag=True, expose_value=False, callback=_remember("quiet"),
        help="Print nothing but failures; no progress.",
    ),
    click.option(
        "--debug", is_flag=True, expose_value=False, callback=_remember("debug"),
        help="Show the traceback of an unexpected error (a bug in releaser).",
    ),
)


def _global_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in _GLOBAL_OPTIONS:
        func = option(func)
    params = func.__click_params__  # type: ignore[attr-defined]
    shared = params[-len(_GLOBAL_OPTIONS):]
    params[:] = shared + params[: -len(_GLOBAL_OPTIONS)]  # click lists them reversed: the command's own first
    return func


def _fail(message: str, code: int) -> None:
    if _run.json:
        click.echo(json.dumps({"ok": False, "error": scrub(message), "exit": code}, indent=2, sort_keys=True))
    else:
        click.echo(f"releaser: {scrub(message)}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """Options before or after the command; every error its one-line message and exit code."""

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        extra.pop("standalone_mode", None)  # errors are rendered here, as text or as JSON
        global _run
        _run = _Run(json="--json" in argv[: argv.index("--")] if "--" in argv else "--json" in argv)
        try:
            code = super().main(argv, prog_name=prog_name or "releaser", standalone_mode=False, **extra)
        except click.ClickException as exc:  # usage: exit 2, as JSON too with --json
            if _run.json:
                _fail(exc.format_message(), exc.exit_code)
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            _fail("interrupted; files are as they were before this command", 130)
        sys.exit(code if isinstance(code, int) else 0)

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
            if _run.debug:
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
    """The global options on a command, and its `project` argument: -C DIR, else found."""

    code = func.__code__
    takes_json = "as_json" in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]

    @functools.wraps(func)
    def command(**params: Any) -> Any:
        if takes_json:  # the command's own --json, or the global one
            params["as_json"] = params.get("as_json", False) or _run.json
        return func(project=_project_root(), **params)

    return _global_options(command)


def _project_root() -> Path:
    """-C DIR; else the nearest folder holding release.toml, from here upwards; else here."""
    from releaser.core.config import CONFIG_NAME

    if _run.project is not None:
        return _run.project
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return Path(".")


def _config(project: Path):  # type: ignore[no-untyped-def]
    from releaser.core import config

    return config.load(project / config.CONFIG_NAME)


EPILOG = """\b
Every command takes -C DIR, --json and --quiet, before or after its name.
Exit codes: 0 done, 1 the gate said no, 2 bad input or usage, 3 an outside failure.
Documentation: docs/ in releaser's repository (README.md first)."""


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.version_option(__version__, prog_name="releaser")
@_global_options
def main() -> None:
    """Cut release candidates in which no dependency floats.

    \b
    Start with:
      releaser init        write release.toml from what the project has
      releaser lock        pin every dependency: exact, hashed, dated
      releaser check       the CI gate: is the lock fresh, does anything float?
      releaser cut         build, gate and record a release candidate
    """


@main.command(epilog="""\b
Examples:
  releaser lock                                 pin what is new, keep every earlier pin
  releaser lock --as-of 2026-11-01T00:00:00Z    as the indexes were then
  releaser lock --upgrade sqlpath               move one pin on purpose
  releaser lock --strict                        a yanked release is an error, not a warning""")
@_project
@click.option("--as-of", "as_of", callback=_as_of, metavar="TIME", help="Resolve as the indexes were at TIME (ISO 8601; UTC without a zone).")
@click.option("--upgrade", "upgrade", is_flag=True, help="Re-resolve every pin (with PKG names: only those).")
@click.option("--strict", is_flag=True, help="Refuse (exit 1) to pin a release its index has yanked.")
@click.argument("packages", nargs=-1, metavar="[PKG]...")
def lock(project: Path, as_of: datetime | None, upgrade: bool, strict: bool, packages: tuple[str, ...]) -> None:
    """Pin every input to an exact, hashed, dated artifact in release.lock.

    Reads release.toml: [python] requirement files and pyproject.toml, [[maven]]
    coordinates, [[git]] refs and [[artifact]] URLs. Every Python file of every
    pinned version is recorded with its sha256 (all platforms), a SNAPSHOT becomes
    its timestamped build, a branch its commit, a URL its sha256. Earlier pins are
    kept unless --upgrade is given; a relock that moves no pin leaves release.lock
    byte-identical. The lock is replaced in one step; a failure leaves it as it was.
    """
    from releaser.lock.locking import lock as run_lock

    if packages and not upgrade:
        raise ConfigError("package names are only taken with --upgrade: releaser lock --upgrade PKG...")
    cfg = _config(project)
    with _run.progress() as show:
        result = run_lock(
            cfg, as_of=as_of, upgrade_all=upgrade and not packages, upgrade=packages, progress=show, strict=strict
        )
    for note in result.notes:
        _run.echo(f"note: {note}")
    for line in result.changes:
        _run.echo(f"  {line}")
    verb = "wrote" if result.written else "unchanged:"
    _run.echo(f"{verb} {cfg.release.lockfile} ({len(result.lock.pins)} pins, as of {result.lock.as_of.isoformat()})")
    for line in result.warnings:
        _run.echo(f"warning: {line} (pinned anyway; `releaser lock --strict` refuses it)", err=True)
    _run.document({
        "lockfile": cfg.release.lockfile, "written": result.written, "pins": len(result.lock.pins),
        "as_of": result.lock.as_of.isoformat(), "changes": result.changes, "warnings": list(result.warnings),
    })


@main.command(epilog="""\b
Examples:
  releaser check                  in CI: exit 1 when release.lock is stale or floats
  releaser check --json           the verdict as one JSON document (docs/check.md)
  releaser check --online         also re-verify every pinned file upstream""")
@_project
@click.option("--online", is_flag=True, help="Also re-verify every pinned file and commit upstream.")
def check(project: Path, online: bool) -> None:
    """Fail when release.lock is stale, floats or was edited by hand.

    Offline and fast by default: compares release.toml and every requirement file
    with the inputs the lock recorded, names what changed, and ends with the command
    that fixes it. Exit 0: fresh; 1: stale, floating, tampered, missing (with
    --online also gone, changed or yanked upstream); 2: bad input; 3: upstream
    unreachable.
    """
    from releaser.check.checking import check as run_check

    cfg = _config(project)
    verdict = run_check(cfg, online=online, previous=_previous_rc(cfg))
    if _run.json:
        click.echo(scrub(verdict.to_json()))  # no secret reaches a CI log
    elif not (_run.quiet and verdict.ok):
        click.echo(scrub(verdict.render()))
    sys.exit(verdict.exit_code)


def _previous_rc(cfg: Any) -> Any:
    """The migration gate's baseline: the newest recorded RC (None without [migrations])."""
    if cfg.migrations is None:
        return None  # and nothing imported: `check` stays fast
    from releaser.record.baseline import previous

    return previous(cfg)


@main.command(epilog="""\b
Examples:
  releaser migrations             heads per app, what is new since the previous RC, findings
  releaser migrations --json      the same as one JSON document (docs/migrations.md)""")
@_project
def migrations(project: Path, as_json: bool) -> None:
    """The migration graph: heads per app, what is new since the previous RC, every finding.

    Read statically (the project is never imported). Exit 1 when any finding is
    refused (not named in [migrations] allow).
    """
    from releaser.check.checking import migration_gate

    cfg = _config(project)
    report = migration_gate(cfg, _previous_rc(cfg))
    if report is None:
        raise ConfigError(f"{cfg.path}: has no [migrations] table (docs/migrations.md says how to describe them)")
    if as_json:
        click.echo(scrub(json.dumps(report.to_dict(), indent=2)))
    elif not (_run.quiet and report.exit_code == 0):
        click.echo(scrub(report.render()))
    sys.exit(report.exit_code)


@main.command(epilog="""\b
Examples:
  releaser export --format requirements         then: pip install --require-hashes --no-deps -r requirements.txt
  releaser export --format pylock -o -          PEP 751, on stdout
  releaser export --format maven                maven-pins.pom, a BOM to import (docs/maven.md)
  releaser export --format cyclonedx            sbom.cdx.json, the SBOM of every pin""")
@_project
@click.option("--format", "fmt", type=click.Choice(["pylock", "requirements", "maven", "cyclonedx"]), required=True,
              help="pylock: PEP 751 pylock.toml; requirements: hash-pinned requirements.txt; maven: a BOM pinning every "
                   "Maven artifact; cyclonedx: a CycloneDX 1.6 JSON SBOM of every pin, every kind.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Default: pylock.toml, requirements.txt, maven-pins.pom or sbom.cdx.json; '-' for stdout.")
def export(project: Path, fmt: str, output: Path | None) -> None:
    """Write the pins of release.lock in a format other tools read.

    From release.lock alone: no network, no resolver; refused (exit 1) when
    `releaser check` would refuse the lock. pylock and requirements hold the Python
    pins; maven the Maven pins, transitive ones included; cyclonedx every pin
    (purls, every file's SHA-256, the as-of), as `releaser cut` records it in every
    RC as sbom.cdx.json.
    """
    from releaser.check.checking import insist_fit
    from releaser.lock import export as exporting

    cfg = _config(project)
    current = exporting.current_lock(cfg)
    insist_fit(cfg, "export from")  # stale or edited: what it pins is not what the inputs ask for
    if str(output) == "-":
        if _run.json:
            raise ConfigError("-o - prints the export on stdout, where --json prints its document: choose one")
        click.echo(exporting.render(current, fmt, cfg), nl=False)
        return
    target = output or project / exporting.DEFAULT_OUTPUT[fmt]
    exporting.write(current, fmt, target, cfg)
    _run.echo(f"wrote {target}")
    _run.document({"wrote": str(target), "format": fmt})


@main.command(epilog="""\b
Examples:
  releaser cut                 the next RC: 0.9.0rc1, then 0.9.0rc2, ...
  releaser cut --rc 7          0.9.0rc7
  releaser cut --bundle        and keep every pinned file in dist/<RC>/bundle/""")
@_project
@click.option("--rc", "rc_number", type=int, metavar="N", help="Cut {version}rcN (default: the next free number).")
@click.option("--no-tag", "no_tag", is_flag=True, help="Do not create the git tag.")
@click.option("--no-commit", "no_commit", is_flag=True, help="Leave the record uncommitted (the tag then points at the built commit).")
@click.option("--bundle", "bundle_it", is_flag=True, help="Then store every pinned file in dist/<RC>/bundle/, as `releaser bundle` does.")
def cut(project: Path, rc_number: int | None, no_tag: bool, no_commit: bool, bundle_it: bool) -> None:
    """Build, gate and record a release candidate from exactly the locked dependencies.

    Refused (nothing written) when the tree is dirty, the lock is stale, tampered or
    floats (as `releaser check` says), or the RC id is recorded or tagged already.
    Then: the locked set installed, hash-verified, into a fresh environment; the
    build and the gates run in it; the record releases/<RC>/ (manifest.json,
    MANIFEST.md, release.lock, sbom.cdx.json) written in one step, committed and tagged.
    """
    import signal

    from releaser.cut.cutting import cut as run_cut

    def terminated(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt  # so a killed cut cleans up as an interrupted one does

    signal.signal(signal.SIGTERM, terminated)
    cfg = _config(project)
    with _run.progress() as show:
        result = run_cut(
            cfg, rc_number=rc_number, tag=not no_tag, commit=not no_commit, bundle=bundle_it,
            log=_run.echo, progress=show,
        )
    for note in result.notes:
        _run.echo(f"note: {note}")
    where = f"{cfg.release.records}/{result.rc}/"
    pins, built = len(result.manifest["pins"]), len(result.manifest["built"])
    _run.echo(
        f"cut {result.rc}: commit {result.commit[:12]}, {pins} pin{'s' if pins != 1 else ''}, "
        f"{built} built file{'s' if built != 1 else ''}; recorded in {where}"
        + (f" (committed {result.record_commit[:12]})" if result.record_commit else " (not committed: commit it)")
        + (f", tagged {result.tag}" if result.tag else "")
    )
    if result.bundled is not None:
        from releaser.install.bundle import describe_bundle

        for line in describe_bundle(result.bundled):
            _run.echo(line)
    _run.document({
        "rc": result.rc, "record": where, "commit": result.commit, "record_commit": result.record_commit,
        "tag": result.tag, "pins": pins, "built": built, "notes": list(result.notes),
    })


@main.command(name="list", epilog="\b\nExample:\n  releaser list --json")
@_project
def list_(project: Path, as_json: bool) -> None:
    """The recorded RCs: id, cut time, commit, pin count.

    Each record is read verified: one whose manifest does not match its copy of
    the lock is listed as such, and the exit code is 1.
    """
    from releaser.record import showing

    cfg = _config(project)
    items = showing.entries(cfg)
    if as_json:
        click.echo(showing.list_json(items))
    elif not items:
        _run.echo(f"no RC recorded in {cfg.release.records}/ yet; cut one with: releaser cut")
    else:
        for item in items:
            _run.echo(item.line())
    if not all(item.ok for item in items):
        sys.exit(Refused.exit_code)


@main.command(epilog="\b\nExamples:\n  releaser show 0.9.0rc1\n  releaser show 0.9.0rc1 --json      its manifest.json, as recorded")
@_project
@click.argument("rc")
def show(project: Path, as_json: bool, rc: str) -> None:
    """What went into a recorded RC: its commit, cut-off, pins and built files.

    With --json, the record's manifest.json as recorded (docs/records.md).
    """
    from releaser.record import records, showing

    cfg = _config(project)
    found = records.read(records.records_dir(cfg), rc)
    if as_json:
        click.echo((found.path / records.MANIFEST).read_text(encoding="utf-8"), nl=False)
    else:
        click.echo(showing.summary(found.manifest))


@main.command(epilog="""\b
Examples:
  releaser reproduce 0.9.0rc1
  releaser reproduce 0.9.0rc1 --into /tmp/rc1
  releaser reproduce 0.9.0rc1 --from-bundle dist/0.9.0rc1/bundle     offline""")
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
    target = into or project / "reproduce" / rc
    with _run.progress() as show:
        result = reproducing.reproduce(cfg, rc, target, bundle=from_bundle, progress=show)
    for line in reproducing.describe(result):
        _run.echo(line)
    notes = reproducing.notes(result.into)
    for note in notes:
        _run.echo(f"note: {note}", err=True)
    _run.document({"rc": rc, "into": str(target), "notes": notes})


@main.command(epilog="\b\nExample:\n  releaser bundle 0.9.0rc1 && releaser reproduce 0.9.0rc1 --from-bundle dist/0.9.0rc1/bundle")
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
    lines = describe_bundle(result)
    for line in lines:
        _run.echo(line)
    _run.document({"rc": rc, "lines": [scrub(line) for line in lines]})


@main.command(epilog="""\b
Examples:
  releaser diff 0.9.0rc1 0.9.0rc2
  releaser diff old/release.lock release.lock --json""")
@_project
@click.argument("a")
@click.argument("b")
def diff(project: Path, as_json: bool, a: str, b: str) -> None:
    """What changed from A to B: two RC ids, or two lockfile paths (an existing file is a lockfile).

    Added, removed and changed pins by kind, with old and new versions and dates.
    """
    from releaser.record import records
    from releaser.reproduce import diffing

    def records_dir() -> Path:
        return records.records_dir(_config(project))

    document = diffing.diff(diffing.load(a, records_dir), diffing.load(b, records_dir))
    click.echo(scrub(json.dumps(document, indent=2) if as_json else diffing.render(document).rstrip("\n")))


@main.command(epilog="""\b
Examples:
  releaser rehearse           the last RC's upgrade to this tree, on a fresh database
  releaser rehearse --json    the figures (manifest.json's `rehearsal`)""")
@_project
def rehearse(project: Path, as_json: bool) -> None:
    """Rehearse the upgrade from the last recorded RC on a fresh database: migrate, gate, revert, check, time.

    Exit 0: every step passed; 1: refused (a step failed or was too slow, the revert
    lost data); 2: bad input; 3: an outside failure (the database, a seed command).
    """
    from releaser.rehearse.rehearsing import rehearse_tree

    cfg = _config(project)
    result = rehearse_tree(cfg, log=None if as_json else _run.echo)
    if as_json:
        click.echo(scrub(json.dumps(result.to_record(), indent=2, sort_keys=True)))
        return
    for note in result.notes:
        _run.echo(f"note: {note}")
    total = sum(s.seconds for s in result.steps)
    _run.echo(f"rehearsal passed in {total:.1f} s: upgrade, revert to {result.previous or 'an empty database'}, data intact")


@main.command(name="revert-plan", epilog="""\b
Examples:
  releaser revert-plan 0.9.0rc2                 back to the RC recorded before it
  releaser revert-plan 0.9.0rc3 --to 0.9.0rc1   further back""")
@_project
@click.option("--to", "to", metavar="PREV", help="The RC to go back to (default: the RC recorded before RC).")
@click.argument("rc")
def revert_plan(project: Path, rc: str, to: str | None, as_json: bool) -> None:
    """The ordered steps and commands that take a database from RC back to PREV (RC's revert.sh runs them)."""
    from releaser.rehearse.revertplan import plan_from_records

    found = plan_from_records(_config(project), rc, to)
    click.echo(json.dumps(found.to_json(), indent=2, sort_keys=True) if as_json else found.render().rstrip("\n"))


@main.command(epilog="""\b
Examples:
  releaser init
  releaser init --index-url https://pypi.example.org/simple
  releaser init && releaser lock && releaser check""")
@_global_options
@click.option("--index-url", "index_url", metavar="URL", help="The Python index to lock against (default: https://pypi.org/simple).")
def init(index_url: str | None) -> None:
    """Write a release.toml, here or in -C DIR, from what the project already has.

    Reads requirement files that are inputs (requirements*.in, and requirements*.txt
    unless compiled from one), pyproject.toml ([project] dependencies, optional-dependencies,
    dependency-groups), pom.xml, migration folders (Django, Alembic's alembic.ini,
    Flyway) and the build and test commands it can see (python -m build, pytest),
    then writes a commented release.toml that `releaser lock` accepts as it is, and
    says what it found. An existing release.toml is never overwritten (exit 1).
    """
    from releaser.lock.init import initialize

    root = _run.project or Path(".")
    result = initialize(root, index_url=index_url)
    for line in result.found:
        _run.echo(f"  {line}")
    _run.echo(f"wrote {result.path}; next: releaser lock")
    _run.document({"wrote": str(result.path), "found": list(result.found)})
