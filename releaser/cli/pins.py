"""Commands that make and judge the lock: lock, check, export, init."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from releaser.cli.app import (
    as_of_time,
    global_options,
    load_config,
    main,
    options,
    project_command,
)
from releaser.core.console import print_verdict
from releaser.core.errors import ConfigError
from releaser.lock.export import formats as export_formats


@main.command(epilog="""\b
Examples:
  releaser lock                                 pin what is new, keep every earlier pin
  releaser lock --as-of 2026-11-01T00:00:00Z    as the indexes were then
  releaser lock --upgrade sqlpath               move one pin on purpose
  releaser lock --strict                        a yanked release is an error, not a warning
  releaser lock --refresh                       resolve again even when nothing changed""")
@project_command
@click.option("--as-of", "as_of", callback=as_of_time, metavar="TIME", help="Resolve as the indexes were at TIME (ISO 8601; UTC without a zone).")
@click.option("--upgrade", "upgrade", is_flag=True, help="Re-resolve every pin (with PKG names: only those).")
@click.option("--strict", is_flag=True, help="Refuse (exit 1) to pin a release its index has yanked.")
@click.option("--refresh", is_flag=True, help="Resolve even when nothing changed since the lock was written.")
@click.argument("packages", nargs=-1, metavar="[PKG]...")
def lock(project: Path, as_of: datetime | None, upgrade: bool, strict: bool, refresh: bool, packages: tuple[str, ...]) -> None:
    """Pin every input to an exact, hashed, dated artifact in release.lock.

    Reads release.toml: [python] requirement files and pyproject.toml, [[maven]]
    coordinates, [[git]] refs and [[artifact]] URLs. Every Python file of every
    pinned version is recorded with its sha256 (all platforms), a SNAPSHOT becomes
    its timestamped build, a branch its commit, a URL its sha256. Earlier pins are
    kept unless --upgrade is given; a relock that moves no pin leaves release.lock
    byte-identical, and one whose inputs did not change since the lock was written
    answers from it without resolving (--refresh resolves anyway). The lock is
    replaced in one step; a failure leaves it as it was.
    """
    from releaser.lock.locking import lock as run_lock

    if packages and not upgrade:
        raise ConfigError("package names are only taken with --upgrade: releaser lock --upgrade PKG...")
    cfg = load_config(project)
    with options.progress() as show:
        result = run_lock(
            cfg, as_of=as_of, upgrade_all=upgrade and not packages, upgrade=packages, progress=show, strict=strict,
            refresh=refresh,
        )
    for note in result.notes:
        options.echo(f"note: {note}")
    for line in result.changes:
        options.echo(f"  {line}")
    verb = "wrote" if result.written else "unchanged:"
    options.echo(f"{verb} {cfg.release.lockfile} ({result.pins} pins, as of {result.as_of.isoformat()})")
    for line in result.warnings:
        options.echo(f"warning: {line} (pinned anyway; `releaser lock --strict` refuses it)", err=True)
    options.document({
        "lockfile": cfg.release.lockfile, "written": result.written, "pins": result.pins,
        "as_of": result.as_of.isoformat(), "changes": result.changes, "warnings": list(result.warnings),
        "notes": list(result.notes),
    })


@main.command(epilog="""\b
Examples:
  releaser check                  in CI: exit 1 when release.lock is stale or floats
  releaser check --json           the verdict as one JSON document (docs/check.md)
  releaser check --online         also re-verify every pinned file upstream""")
@project_command
@click.option("--online", is_flag=True, help="Also re-verify every pinned file and commit upstream.")
def check(project: Path, online: bool) -> None:
    """Fail when release.lock is stale, floats or was edited by hand.

    Offline and fast by default: compares release.toml and every requirement file
    with the inputs the lock recorded, names what changed, and ends with the command
    that fixes it. Exit 0: fresh; 1: stale, floating, tampered, missing (with
    --online also gone, changed or yanked upstream); 2: bad input; 3: upstream
    unreachable.
    """
    from releaser.record import plaincheck

    verdict = plaincheck.run(load_config(project), online=online)
    sys.exit(print_verdict(verdict, as_json=options.json, quiet=options.quiet))


@main.command(epilog="""\b
Examples:
  releaser export --format requirements         then: pip install --require-hashes --no-deps -r requirements.txt
  releaser export --format pylock -o -          PEP 751, on stdout
  releaser export --format maven                maven-pins.pom, a BOM to import (docs/maven.md)
  releaser export --format cyclonedx            sbom.cdx.json, the SBOM of every pin
  releaser export --format dockerfile --write   every Dockerfile's FROM pinned by digest, in place
  releaser export --format workflows --write    every workflow's uses: pinned to owner/repo@<sha> # <ref>, in place""")
@project_command
@click.option("--format", "fmt", type=click.Choice(export_formats()), required=True,
              help="pylock: PEP 751 pylock.toml; requirements: hash-pinned requirements.txt; maven: a BOM pinning every "
                   "Maven artifact; cyclonedx: a CycloneDX 1.6 JSON SBOM of every pin, every kind; dockerfile, compose: "
                   "the [containers] files with every image as name:tag@sha256:...; workflows: the [actions] workflow "
                   "files with every uses: as owner/repo@<sha> # <ref> (printed; --write: in place).")
@click.option("--write", is_flag=True, help="dockerfile, compose, workflows: rewrite the files in place (comments and layout kept).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Default: pylock.toml, requirements.txt, maven-pins.pom or sbom.cdx.json; '-' for stdout.")
def export(project: Path, fmt: str, output: Path | None, write: bool) -> None:
    """Write the pins of release.lock in a format other tools read.

    From release.lock alone: no network, no resolver; refused (exit 1) when
    `releaser check` would refuse the lock. pylock and requirements hold the Python
    pins; maven the Maven pins, transitive ones included; cyclonedx every pin
    (purls, every file's SHA-256, the as-of), as `releaser cut` records it in every
    RC as sbom.cdx.json.
    """
    from releaser.check.checking import insist_fit
    from releaser.lock import export as exporting

    cfg = load_config(project)
    current = exporting.current_lock(cfg)
    insist_fit(cfg, "export from")  # stale or edited: what it pins is not what the inputs ask for
    if fmt in exporting.file_formats():
        _export_files(cfg, exporting.pinned_files(cfg, current, fmt), fmt, output, write)
        return
    if write:
        *others, last = exporting.file_formats()
        raise ConfigError(f"--write rewrites input files (--format {', '.join(others)} or {last}), not --format {fmt}; use -o")
    if str(output) == "-":
        if options.json:
            raise ConfigError("-o - prints the export on stdout, where --json prints its document: choose one")
        click.echo(exporting.render(current, fmt, cfg), nl=False)
        return
    target = output or project / exporting.default_output(fmt)
    exporting.write(current, fmt, target, cfg)
    options.echo(f"wrote {target}")
    options.document({"wrote": str(target), "format": fmt})


def _export_files(cfg: Any, texts: dict[Path, str], fmt: str, output: Path | None, write: bool) -> None:
    """`export --format dockerfile|compose|workflows`: the input files with their pins, printed, to -o, or in place."""
    from releaser.plumbing.fsutil import write_atomic

    if write:
        if output is not None:
            raise ConfigError("--write rewrites the files in place; -o writes one elsewhere: choose one")
        changed = [path for path, text in texts.items() if write_atomic(path, text.encode("utf-8"))]
        for path in changed:
            options.echo(f"pinned {path.relative_to(cfg.root).as_posix()}")
        options.document({"wrote": [str(p) for p in changed], "format": fmt})
        return
    if output is not None and str(output) != "-":
        if len(texts) != 1:
            raise ConfigError(f"-o names one file, but there are {len(texts)} {fmt} files: print them, or --write")
        write_atomic(output, next(iter(texts.values())).encode("utf-8"))
        options.echo(f"wrote {output}")
        return
    for path, text in texts.items():
        if len(texts) > 1:
            click.echo(f"# ==> {path.relative_to(cfg.root).as_posix()} <==")
        click.echo(text, nl=False)


@main.command(epilog="""\b
Examples:
  releaser init
  releaser init --index-url https://pypi.example.org/simple
  releaser init && releaser lock && releaser check""")
@global_options
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

    root = options.project or Path(".")
    result = initialize(root, index_url=index_url)
    for line in result.found:
        options.echo(f"  {line}")
    options.echo(f"wrote {result.path}; next: releaser lock")
    options.document({"wrote": str(result.path), "found": list(result.found)})
