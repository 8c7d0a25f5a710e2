"""The database half of an RC: migrations, rehearse, revert-plan."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from releaser.cli.app import load_config, main, options, project_command
from releaser.core.errors import ConfigError
from releaser.core.redact import scrub
from releaser.record.baseline import previous


@main.command(epilog="""\b
Examples:
  releaser migrations             heads per app, what is new since the previous RC, findings
  releaser migrations --json      the same as one JSON document (docs/migrations.md)""")
@project_command
def migrations(project: Path, as_json: bool) -> None:
    """The migration graph: heads per app, what is new since the previous RC, every finding.

    Read statically (the project is never imported). Exit 1 when any finding is
    refused (not named in [migrations] allow).
    """
    from releaser.check.checking import migration_gate

    cfg = load_config(project)
    report = migration_gate(cfg, previous(cfg))
    if report is None:
        raise ConfigError(f"{cfg.path}: has no [migrations] table (docs/migrations.md says how to describe them)")
    if as_json:
        options.document(report.to_dict(), report.exit_code)
    elif not (options.quiet and report.exit_code == 0):
        click.echo(scrub(report.render()))
    sys.exit(report.exit_code)


@main.command(epilog="""\b
Examples:
  releaser rehearse           the last RC's upgrade to this tree, on a fresh database
  releaser rehearse --json    the figures (manifest.json's `rehearsal`)""")
@project_command
def rehearse(project: Path, as_json: bool) -> None:
    """Rehearse the upgrade from the last recorded RC on a fresh database: migrate, gate, revert, check, time.

    Exit 0: every step passed; 1: refused (a step failed or was too slow, the revert
    lost data); 2: bad input; 3: an outside failure (the database, a seed command).
    """
    from releaser.rehearse.rehearsing import rehearse_tree

    cfg = load_config(project)
    result = rehearse_tree(cfg, log=None if as_json else options.echo)
    if as_json:
        options.document(result.to_json())
        return
    for note in result.notes:
        options.echo(f"note: {note}")
    total = sum(s.seconds for s in result.steps)
    options.echo(f"rehearsal passed in {total:.1f} s: upgrade, revert to {result.previous or 'an empty database'}, data intact")


@main.command(name="revert-plan", epilog="""\b
Examples:
  releaser revert-plan 0.9.0rc2                 back to the RC recorded before it
  releaser revert-plan 0.9.0rc3 --to 0.9.0rc1   further back""")
@project_command
@click.option("--to", "to", metavar="PREV", help="The RC to go back to (default: the RC recorded before RC).")
@click.argument("rc")
def revert_plan(project: Path, rc: str, to: str | None, as_json: bool) -> None:
    """The ordered steps and commands that take a database from RC back to PREV (RC's revert.sh runs them)."""
    from releaser.rehearse.revertplan import plan_from_records

    found = plan_from_records(load_config(project), rc, to)
    if as_json:
        options.document(found.to_json())
    else:
        click.echo(scrub(found.render().rstrip("\n")))
