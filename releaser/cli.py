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
from releaser.errors import ConfigError, ReleaserError, Refused
from releaser.redact import scrub


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
    from releaser import config

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
    from releaser.locking import lock as run_lock

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
@click.option("--format", "fmt", type=click.Choice(["pylock", "requirements"]), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Default: pylock.toml or requirements.txt; '-' for stdout.")
def export(project: Path, fmt: str, output: Path | None) -> None:
    """Write the Python pins as a PEP 751 pylock.toml or a hash-pinned requirements file."""
    from releaser import export as exporting, lockfile

    cfg = _config(project)
    current = lockfile.read(cfg.lockfile)
    if current is None:
        raise Refused(f"{cfg.lockfile}: no lockfile yet; run `releaser lock` first")
    if str(output) == "-":
        click.echo(exporting.render(current, fmt), nl=False)
        return
    target = output or project / exporting.DEFAULT_OUTPUT[fmt]
    exporting.write(current, fmt, target)
    click.echo(f"wrote {target}")
