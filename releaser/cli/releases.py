"""Commands about recorded RCs: cut, list, show, reproduce, bundle, diff."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from releaser.cli.app import load_config, main, options, project_command
from releaser.core.errors import Refused
from releaser.core.redact import scrub


@main.command(epilog="""\b
Examples:
  releaser cut                 the next RC: 0.9.0rc1, then 0.9.0rc2, ...
  releaser cut --rc 7          0.9.0rc7
  releaser cut --bundle        and keep every pinned file in dist/<RC>/bundle/""")
@project_command
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
    from releaser.cut.cutting import cut as run_cut

    cfg = load_config(project)
    with options.progress() as show:
        result = run_cut(
            cfg, rc_number=rc_number, tag=not no_tag, commit=not no_commit, bundle=bundle_it,
            log=options.echo, progress=show,
        )
    for note in result.notes:
        options.echo(f"note: {note}")
    where = f"{cfg.release.records}/{result.rc}/"
    pins, built = len(result.manifest["pins"]), len(result.manifest["built"])
    options.echo(
        f"cut {result.rc}: commit {result.commit[:12]}, {pins} pin{'s' if pins != 1 else ''}, "
        f"{built} built file{'s' if built != 1 else ''}; recorded in {where}"
        + (f" (committed {result.record_commit[:12]})" if result.record_commit else " (not committed: commit it)")
        + (f", tagged {result.tag}" if result.tag else "")
    )
    if result.bundled is not None:
        from releaser.install.bundle import describe_bundle

        for line in describe_bundle(result.bundled):
            options.echo(line)
    if cfg.release.site:  # [release] site = true: the pages follow the records
        from releaser.core.errors import ReleaserError
        from releaser.site.building import build

        try:
            site = build(cfg)
        except ReleaserError as exc:  # the RC is cut and recorded: the pages are not worth failing it
            options.echo(f"warning: {result.rc} is cut, but the site was not refreshed: {exc}", err=True)
        else:
            for warning in site.warnings:
                options.echo(f"warning: {warning}", err=True)
            options.echo(f"site: {site.rcs} RCs rendered in {site.out}/")
    options.document({
        "rc": result.rc, "record": where, "commit": result.commit, "record_commit": result.record_commit,
        "tag": result.tag, "pins": pins, "built": built, "notes": list(result.notes),
    })


@main.command(name="list", epilog="\b\nExample:\n  releaser list --json")
@project_command
def list_(project: Path, as_json: bool) -> None:
    """The recorded RCs: id, cut time, commit, pin count.

    Each record is read verified: one whose manifest does not match its copy of
    the lock is listed as such, and the exit code is 1.
    """
    from releaser.record import showing

    cfg = load_config(project)
    items = showing.entries(cfg)
    code = 0 if all(item.ok for item in items) else Refused.exit_code
    if as_json:
        options.document(showing.list_document(items), code)
    elif not items:
        options.echo(f"no RC recorded in {cfg.release.records}/ yet; cut one with: releaser cut")
    else:
        for line in showing.list_lines(items):
            options.echo(line)
    sys.exit(code)


@main.command(epilog="\b\nExamples:\n  releaser show 0.9.0rc1\n  releaser show 0.9.0rc1 --json      its manifest.json, as recorded")
@project_command
@click.argument("rc")
def show(project: Path, as_json: bool, rc: str) -> None:
    """What went into a recorded RC: its commit, cut-off, pins and built files.

    With --json, the record's manifest.json as recorded, with `ok` and `exit` (docs/records.md).
    """
    from releaser.record import records, showing

    cfg = load_config(project)
    found = records.read(records.records_dir(cfg), rc)
    if as_json:
        options.document(found.manifest)
    else:
        click.echo(showing.summary(found.manifest))


@main.command(epilog="""\b
Examples:
  releaser reproduce 0.9.0rc1
  releaser reproduce 0.9.0rc1 --into /tmp/rc1
  releaser reproduce 0.9.0rc1 --from-bundle dist/0.9.0rc1/bundle     offline
  releaser reproduce 0.9.0rc1 --from-bundle dist/0.9.0rc1/bundle --push registry.example.com:5000
  releaser reproduce 0.9.0rc1 --from-bundle oci://registry.example.org/releases/cosmo:0.9.0rc1""")
@project_command
@click.argument("rc")
@click.option("--into", type=click.Path(file_okay=False, path_type=Path), help="Default: reproduce/<RC> in the project.")
@click.option(
    "--from-bundle", "from_bundle", metavar="DIR|oci://…",
    help="Take every file from this bundle: a folder (dist/<RC>/bundle), or one pushed to a registry (oci://HOST/REPO[:TAG]).",
)
@click.option("--key", "key", type=click.Path(dir_okay=False, path_type=Path), help="With oci://: the PEM public key its provenance must verify with.")
@click.option("--push", metavar="REGISTRY", help="Also put the RC's container images into REGISTRY (host[:port]), by digest and tag.")
def reproduce(project: Path, rc: str, into: Path | None, from_bundle: str | None, key: Path | None, push: str | None) -> None:
    """Recreate RC's exact dependency set from its record, every file sha256-verified.

    Makes venv/ (exactly the recorded Python set), maven/ (a local repository and
    classpath.txt), git/<name>/ (detached at the recorded commit), artifacts/ and
    images/ (the container images, an OCI image layout).
    A re-run verifies what is there and fetches only what is missing.
    """
    from releaser.reproduce import reproducing

    cfg = load_config(project)
    target = into or project / "reproduce" / rc
    pulled: list[str] = []
    with options.progress() as show:
        if from_bundle is not None and from_bundle.startswith("oci://"):
            result, pulled = reproducing.reproduce_from_registry(cfg, rc, target, from_bundle, key=key, progress=show, push=push)
        else:
            bundle = Path(from_bundle) if from_bundle is not None else None
            result = reproducing.reproduce(cfg, rc, target, bundle=bundle, progress=show, push=push)
    for line in pulled:
        options.echo(f"note: {line}", err=True)
    for line in reproducing.describe(result):
        options.echo(line)
    notes = reproducing.notes(result.into)
    for note in notes:
        options.echo(f"note: {note}", err=True)
    options.document({"rc": rc, "into": str(target), "notes": notes})


@main.command(epilog="""\b
Examples:
  releaser bundle 0.9.0rc1 && releaser reproduce 0.9.0rc1 --from-bundle dist/0.9.0rc1/bundle
  releaser bundle 0.9.0rc1 --push oci://registry.example.org/releases/cosmo""")
@project_command
@click.argument("rc")
@click.option(
    "--push", "push_to", metavar="oci://HOST/REPO[:TAG]",
    help="Also push it to this registry as an OCI artifact (tag: the RC), its provenance attached.",
)
def bundle(project: Path, rc: str, push_to: str | None) -> None:
    """Store every pinned file of RC (and a git bundle per repository) in dist/<RC>/bundle/.

    `releaser reproduce RC --from-bundle dist/RC/bundle` then works offline, after
    upstream deleted or replaced things.
    """
    from releaser.install.bundle import describe_bundle, make_bundle

    cfg = load_config(project)
    result = make_bundle(cfg, rc)
    lines = describe_bundle(result)
    pushed = None
    if push_to is not None:
        from releaser.install.ocibundle import push_bundle

        pushed = push_bundle(cfg, rc, push_to, result.root)
        found_by = "the referrers API" if pushed.referrers == "api" else "the tag " + pushed.digest.replace(":", "-")
        lines.append(
            f"pushed {pushed.files} files to {pushed.target} as {pushed.digest}"
            + (f"; its provenance attached ({pushed.attestation}, found by {found_by})" if pushed.attestation else "")
        )
    for line in lines:
        options.echo(line)
    options.document({"rc": rc, "lines": [scrub(line) for line in lines], **({"pushed": pushed.digest} if pushed else {})})


@main.command(epilog="""\b
Examples:
  releaser diff 0.9.0rc1 0.9.0rc2
  releaser diff old/release.lock release.lock --json""")
@project_command
@click.argument("a")
@click.argument("b")
def diff(project: Path, as_json: bool, a: str, b: str) -> None:
    """What changed from A to B: two RC ids, or two lockfile paths (an existing file is a lockfile).

    Added, removed and changed pins by kind, with old and new versions and dates.
    """
    from releaser.record import records
    from releaser.reproduce import diffing

    def records_dir() -> Path:
        return records.records_dir(load_config(project))

    found = diffing.diff(diffing.load(a, records_dir), diffing.load(b, records_dir))
    if as_json:
        options.document(found.to_json())
    else:
        click.echo(scrub(found.render().rstrip("\n")))


@main.command(epilog="""\b
Examples:
  releaser verify 0.9.0rc1                      with [attest] public-key
  releaser verify 0.9.0rc1 --key release.pub    with this public key (PEM)""")
@project_command
@click.argument("rc")
@click.option("--key", "key", type=click.Path(dir_okay=False, path_type=Path), help="The PEM public key to trust (default: [attest] public-key).")
def verify(project: Path, rc: str, key: Path | None) -> None:
    """Check RC's signed provenance (releases/<RC>/provenance.intoto.jsonl).

    Every signature against the public key, every signed file against its sha256 (the
    record's lock, manifest and SBOM; the built files when dist/<RC>/ is here), and
    the signed resolvedDependencies against the recorded lock. Exit 1 names the first
    thing that does not match.
    """
    from releaser.record import verifying

    cfg = load_config(project)
    result = verifying.verify(cfg, rc, verifying.trusted_key(cfg, key))
    options.echo(
        f"{rc}: signed by key {result.keyid[:16]}; {len(result.statements)} statement"
        f"{'s' if len(result.statements) != 1 else ''} verified; {len(result.checked)} signed files match"
    )
    if result.not_here:
        options.echo(f"note: {len(result.not_here)} built files are not here (no dist/{rc}/): their digests were not checked", err=True)
    options.document(result.to_json())
