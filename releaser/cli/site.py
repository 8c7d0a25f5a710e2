"""`releaser site`: the line of RCs as static pages."""

from __future__ import annotations

from pathlib import Path

import click

from releaser.cli.app import load_config, main, options, project_command


@main.command(epilog="""\b
Examples:
  releaser site                        dist/site/index.html
  releaser site --out public/rcs
  releaser site --online               and drift.html: what is newer upstream today""")
@project_command
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), metavar="DIR", help="Write the site here (default: dist/site/).")
@click.option("--online", is_flag=True, help="Also ask upstream what is newer than each pin of the newest RC (drift.html).")
def site(project: Path, out: Path | None, online: bool) -> None:
    """Render the recorded RCs as a static site: the line of RCs, a page per RC, timings.

    Each RC's page shows its pins (what changed since the RC before), the migrations
    it added with a drawing of their graph, and its rehearsal; the index charts every
    rehearsal step's time across the RCs. No script, no outside asset. A record that
    cannot be read is named on its page (and here, as a warning); the rest renders.
    """
    from releaser.site.building import build

    cfg = load_config(project)
    built = build(cfg, out, online=online)
    for warning in built.warnings:
        options.echo(f"warning: {warning}", err=True)
    options.echo(f"site: {built.rcs} RC{'s' if built.rcs != 1 else ''} rendered in {built.out}/ (open {built.out / 'index.html'})")
    options.document({"out": str(built.out), "rcs": built.rcs, "warnings": list(built.warnings), "drift": built.drift})
