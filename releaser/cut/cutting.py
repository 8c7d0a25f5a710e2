"""`releaser cut`: build an RC against exactly the pinned dependency set, gate it, record it.

The steps, in order; every one before the record is written can refuse, and a
refusal leaves the project as it was (no record, no tag, nothing in dist/):

1. Preconditions (`prepare`), nothing written: the project is in a git repository
   with a commit, the tree is clean, the lock passes `releaser check` (the same
   `Verdict`, so the two can never disagree), the RC id is free (neither recorded
   nor tagged, `releaser.cut.numbering`), `dist/` is ignored by git, the records folder
   is not, a git identity exists for the commit and the tag, the MANIFEST template
   is there.
2. An isolated virtual environment (no pip configuration reaches it) gets the
   locked Python set, every file fetched and verified against the lock's sha256
   and size before pip installs it (`releaser.ecosystems.python.install`): installed
   once per locked set into a venv kept in the user's cache, and copied from there
   into the cut's work folder, each file checked against that install as it is
   copied (`releaser.ecosystems.python.keptvenv`); the locked Maven
   and URL files are fetched into `dist/<rc>/deps/` and verified alike
   (`releaser.cut.building`). A file not as the lock states it is a refusal.
3. `[release] build` runs in that environment, then every `[release] gates`
   command; with `[migrations] database` set, the rehearsal (`releaser.rehearse`) runs
   instead, the gates on its migrated database, and the record gains its figures and
   `revert.sh`. A failing build is an outside failure (exit 3), a failing gate a
   refusal (exit 1); both name the command and show the end of its output, and
   `dist/<rc>/` is removed again.
4. The record `releases/<rc>/` (manifest.json, MANIFEST.md, a byte copy of the
   lock, the CycloneDX SBOM `sbom.cdx.json`; `releaser.record.manifest`, `releaser.lock.sbom`) is written in one step by `records.write`, which
   never overwrites.
5. The record is committed (`Record <rc>`), so the RC's tag points at a commit
   that contains its own record, whose parent is the commit that was built; then
   the annotated tag (`releaser.plumbing.gitrepo`). `commit=False` leaves the record
   untracked and tags the built commit; `tag=False` skips the tag.
6. With `bundle=True`, every pinned file is stored in dist/<rc>/bundle/ (`releaser.install.bundle`).

Up to and including the commit a cut is all or nothing: should the commit fail,
the record is removed again. The tag comes last; if it fails, the error says the
command that finishes the job.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from releaser.core import lockfile
from releaser.core.config import ReleaseConfig
from releaser.core.errors import ConfigError, Refused, ReleaserError, UpstreamError
from releaser.core.lockfile import Lock
from releaser.core.progress import Progress
from releaser.core.redact import shown_command
from releaser.cut.building import (
    after_build,
    build_environment,
    built_files,
    fetch_dependencies,
    pinned_inputs,
    run_step,
)
from releaser.cut.numbering import rc_id, tag_name_of, tagged_rcs
from releaser.ecosystems.python.keptvenv import build_venv
from releaser.install.layout import DEPS, DIST, expand, of_role
from releaser.lock.sbom import SBOM_NAME, to_cyclonedx
from releaser.plumbing import gitrepo
from releaser.plumbing.fsutil import fault_point
from releaser.record import provenance, records
from releaser.record.attesting import attest, signer_of
from releaser.record.manifest import (
    Subject,
    make_manifest,
    render_markdown,
    tag_message,
    template_source,
)
from releaser.rehearse.rehearsing import NotRehearsed
from releaser.rehearse.revertplan import SCRIPT

if TYPE_CHECKING:
    from releaser.install.bundle import Bundled
    from releaser.rehearse.rehearsing import Rehearsal

Log = Callable[[str], None]


@dataclass(frozen=True)
class Plan:
    """Everything `prepare` established; nothing has been written yet."""

    config: ReleaseConfig
    rc: str
    commit: str  # the full id of HEAD, the commit that is built
    commit_time: int  # its committer time, for SOURCE_DATE_EPOCH
    lock_bytes: bytes
    lock: Lock
    tag: str | None  # the tag name, None with tag=False
    commit_record: bool
    migrations: dict[str, Any] | None = None  # manifest.json "migrations", with [migrations]

    @property
    def subject(self) -> Subject:
        return Subject(self.config, self.rc, self.commit, self.tag, self.lock, self.lock_bytes, self.migrations)

    @property
    def root(self) -> Path:
        return self.config.root

    @property
    def records_dir(self) -> Path:
        return records.records_dir(self.config)

    @property
    def dist(self) -> Path:
        return (self.root / DIST / self.rc).absolute()


@dataclass(frozen=True)
class CutResult:
    rc: str
    record: Path  # releases/<rc>/
    manifest: dict[str, Any]
    commit: str  # the commit that was built
    record_commit: str | None  # the commit holding the record (None with commit=False)
    tag: str | None
    dist: Path
    notes: tuple[str, ...] = field(default=())
    bundled: Bundled | None = None  # with bundle=True: every pinned file, in dist/<rc>/bundle/


# -- the cut ------------------------------------------------------------------


def cut(
    config: ReleaseConfig,
    *,
    rc_number: int | None = None,
    tag: bool = True,
    commit: bool = True,
    bundle: bool = False,
    log: Log | None = None,
    progress: Progress | None = None,
) -> CutResult:
    """Cut the next RC (or `{version}rc{rc_number}`); see the module docstring.

    `log` hears each step as a line; `progress` the files fetched, N of M. Holds the
    project lock throughout (`releaser.plumbing.projectlock`): a second cut waits or refuses.
    """
    from releaser.plumbing.projectlock import hold

    with hold(config, "cut") as cleaned:
        finished = finish_interrupted(config)
        if finished is not None:  # that RC is what this cut gives: the next one is another `releaser cut`
            return replace(finished, notes=(*cleaned, *finished.notes))
        return _cut(config, rc_number=rc_number, tag=tag, commit=commit, bundle=bundle, log=log, progress=progress, notes=cleaned)


def _cut(
    config: ReleaseConfig, *, rc_number: int | None, tag: bool, commit: bool, bundle: bool, log: Log | None,
    progress: Progress | None, notes: list[str],
) -> CutResult:
    say = log or (lambda _line: None)
    plan = prepare(config, rc_number=rc_number, tag=tag, commit=commit)
    started = datetime.now(UTC)
    signer = signer_of(config, notes)  # before anything is built: a bad key records nothing
    say(f"cutting {plan.rc} of {config.release.name} from commit {plan.commit[:12]} ({len(plan.lock.pins)} pins)")
    dist = plan.dist
    if dist.exists():  # only a killed earlier attempt leaves one: the RC is not recorded
        notes.append(f"removed {DIST}/{plan.rc}/, left over from an interrupted cut")
        shutil.rmtree(dist)
    made_dist = not dist.parent.exists()  # a refused first cut leaves no empty dist/ behind
    try:
        with tempfile.TemporaryDirectory(prefix="releaser-cut-") as tmp:
            work = Path(tmp)
            venv = _build_venv(plan, work, say, progress)
            dist.mkdir(parents=True)
            fetched = fetch_dependencies(config, plan.lock, dist / DEPS, plan.rc, progress=progress)
            if fetched:
                say(f"fetched {fetched} locked files into {DIST}/{plan.rc}/{DEPS}/, sha256-verified")
            pinned = pinned_inputs(config, plan.lock, dist / DEPS)
            if pinned:
                say(f"wrote the pinned {', '.join(sorted(pinned))} into {DIST}/{plan.rc}/{DEPS}/")
            env = build_environment(venv, rc=plan.rc, commit_time=plan.commit_time, dist=dist)
            if config.release.build:
                argv = expand(config.release.build, rc=plan.rc, dist=dist, files=pinned)
                say(f"build: {shown_command(argv)}")  # as run, {dist} filled: pasteable
                last = run_step(argv, plan.root, env, work / "build.log", what="build")
                say(f"  ok{': ' + last if last else ''}")
            rehearsal = _rehearse(plan, env, dist, say)  # with a database, the gates run on the migrated one
            if rehearsal is None:
                for gate in config.release.gates:
                    argv = expand(gate, rc=plan.rc, dist=dist, files=pinned)
                    say(f"gate: {shown_command(argv)}")
                    last = run_step(argv, plan.root, env, work / "gate.log", what="gate")
                    say(f"  passed{': ' + last if last else ''}")
        notes += after_build(plan.root, plan.commit)
        fault_point("cut:built")
        sbom = to_cyclonedx(plan.lock, name=config.release.name, version=config.release.version, rc=plan.rc)
        record = make_manifest(
            plan.subject, built_files(dist), sbom=sbom.encode("utf-8"), dist=f"{DIST}/{plan.rc}/",
            rehearsal=rehearsal or NotRehearsed("no [migrations] database is set"),
        )
        manifest = record.to_json()
        files = {
            records.MANIFEST: record.dump(),
            records.MANIFEST_MD: render_markdown(config, manifest).encode("utf-8"),
            records.LOCK_COPY: plan.lock_bytes,
            SBOM_NAME: sbom.encode("utf-8"),
        }
        if rehearsal is not None:
            files[SCRIPT] = rehearsal.plan.script().encode("utf-8")
        if signer is not None:
            files[provenance.FILE] = attest(signer, config, rc=plan.rc, files=files, manifest=manifest, lock=plan.lock, started=started)
            say(f"signed its provenance with key {signer.keyid[:16]}")
        path = records.write(plan.records_dir, plan.rc, files, executable={SCRIPT})
    except BaseException:
        _remove_dist(dist, made_dist)
        raise
    say(f"recorded {plan.rc} in {config.release.records}/{plan.rc}/")
    fault_point("cut:recorded")

    record_commit = None
    if plan.commit_record:
        try:
            record_commit = gitrepo.commit_paths(plan.root, path, f"Record {plan.rc}")
        except BaseException:
            if _undo_record(plan, path):
                _remove_dist(dist, made_dist)
            raise
        say(f"committed the record: {record_commit[:12]} Record {plan.rc}")
        fault_point("cut:committed")
    if plan.tag is not None:
        target = record_commit or plan.commit
        try:
            gitrepo.git(plan.root, "tag", "-a", plan.tag, "-m", tag_message(plan.subject, manifest), target)
        except ReleaserError as exc:
            raise UpstreamError(
                f"{plan.rc} is recorded{' and committed' if record_commit else ''}, but the tag failed: {exc}; "
                "finish with: " + shown_command(["git", "tag", "-a", plan.tag, "-m", f"Release candidate {plan.rc}", target])
            ) from None
        say(f"tagged {plan.tag} -> {target[:12]}")
    bundled = None
    if bundle:
        from releaser.install.bundle import make_bundle

        try:
            bundled = make_bundle(config, plan.rc)
        except ReleaserError as exc:
            raise type(exc)(
                f"{plan.rc} is cut and recorded, but bundling it failed: {exc}; finish with: releaser bundle {plan.rc}"
            ) from None
    return CutResult(plan.rc, path, manifest, plan.commit, record_commit, plan.tag, dist, tuple(notes), bundled)


def _build_venv(plan: Plan, work: Path, say: Log, progress: Progress | None) -> Path:
    """The locked Python set in a venv of the cut's own, copied from the one kept for this lock."""
    count = len(of_role(plan.lock, "environment"))
    say(f"the build environment: {count} locked Python packages")
    built = build_venv(plan.config, plan.lock, work / "venv", work, progress=progress)
    if built.how == "kept":
        say("  from the environment kept for this lock, every file checked against its install")
    elif built.how == "installed":
        say("  installed, each file verified against the lock's sha256 and size (kept for the next cut)")
    else:
        say(f"  installed afresh, each file verified against the lock's sha256 and size: the kept environment "
            f"has changed since its install ({built.changed}); it is installed again next time")
    return built.venv


def _rehearse(plan: Plan, env: dict[str, str], dist: Path, say: Log) -> Rehearsal | None:
    """The rehearsal (docs/rehearsal.md) in the build environment, when `[migrations] database` is set."""
    settings = plan.config.migrations
    if settings is None or settings.database is None:
        return None
    from releaser.rehearse.rehearsing import rehearse

    return rehearse(plan.config, rc=plan.rc, lock=plan.lock, lock_bytes=plan.lock_bytes, env=env, dist=dist, log=say)


def finish_interrupted(config: ReleaseConfig) -> CutResult | None:
    """Finish what a cut killed after writing its record left undone: the record commit, the tag.

    A record not yet committed is committed when it was built from HEAD and is the
    only change in the tree; a committed record whose manifest names a tag that does
    not exist gets it (None, with --no-tag, is left alone), on the commit that added
    the record, as a cut makes it. Anything else is left for `prepare` to report.
    """
    root = config.root
    top = gitrepo.toplevel(root)
    if top is None:
        return None
    existing, notes, finished = set(gitrepo.tags(root)), [], None
    folder = records.records_dir(config)
    for rc in records.recorded(folder)[-1:]:  # only the newest record can be a cut's that was interrupted
        manifest_path = folder / rc / records.MANIFEST
        try:
            rec = records.read(folder, rc)
        except ReleaserError:
            continue  # `releaser list` reports a record that does not verify
        tag = rec.manifest.get("tag")
        if not isinstance(tag, str) or tag in existing:
            continue
        added = gitrepo.run(root, "log", "-1", "--format=%H", "--diff-filter=A", "--", str(manifest_path)).stdout.strip()
        if not added:
            dirt = gitrepo.status(root)
            if rec.manifest.get("commit") != gitrepo.head(root) or not all(
                line.startswith("?? ") and (top / line[3:]).resolve().is_relative_to(rec.path.resolve()) for line in dirt
            ):
                continue  # not ours to finish: prepare reports the dirty tree
            added = gitrepo.commit_paths(root, rec.path, f"Record {rc}")
            notes.append(f"committed the record of {rc} ({added[:12]}), left uncommitted by an interrupted cut")
        subject = Subject(config, rc, str(rec.manifest.get("commit")), tag, rec.lock, (rec.path / records.LOCK_COPY).read_bytes())
        gitrepo.git(root, "tag", "-a", tag, "-m", tag_message(subject, rec.manifest), added)
        notes.append(f"tagged {tag} -> {added[:12]}: {rc} was recorded by a cut interrupted before its tag")
        finished = CutResult(rc, rec.path, rec.manifest, subject.commit, added, tag, config.root / DIST / rc, tuple(notes))
    return finished


def _remove_dist(dist: Path, made_parent: bool) -> None:
    """dist/<rc>/ removed, and dist/ too when this cut made it and it is empty."""
    shutil.rmtree(dist, ignore_errors=True)
    if made_parent:
        try:
            dist.parent.rmdir()
        except OSError:
            pass  # another RC's files are there, or it is not empty


def _undo_record(plan: Plan, path: Path) -> bool:
    """After a failed commit: unstage and remove the record, unless it was committed after all."""
    if gitrepo.head(plan.root) != plan.commit:
        return False  # interrupted after the commit was made: the record stays, committed
    gitrepo.unstage(plan.root, path)
    shutil.rmtree(path, ignore_errors=True)
    return True


# -- 1. preconditions ---------------------------------------------------------


def prepare(config: ReleaseConfig, *, rc_number: int | None = None, tag: bool = True, commit: bool = True) -> Plan:
    """Check everything a cut needs, in the order a release engineer would; write nothing."""
    from releaser.check.checking import insist_fit
    from releaser.record.baseline import previous

    root = config.root
    if not root.is_dir():
        raise ConfigError(f"{root}: no such folder")
    repo = gitrepo.toplevel(root)
    if repo is None:
        raise Refused(
            f"{root} is not in a git repository: an RC records the commit it was built from. "
            "Put the project under git (git init && git add -A && git commit), then cut"
        )
    head = gitrepo.head(root)
    if head is None:
        raise Refused(f"the git repository of {root} has no commit yet: commit the project, then cut")
    dirty = gitrepo.status(root)
    if dirty:
        shown = ", ".join(dirty[:8]) + (f" and {len(dirty) - 8} more" if len(dirty) > 8 else "")
        raise Refused(
            f"the work tree of {repo} is not clean ({shown}): an RC is built from a commit, exactly. "
            "Commit or stash the changes (ignore generated files in .gitignore), then cut again"
        )
    config.require_environment()  # the build environment is installed from the indexes
    verdict = insist_fit(config, "cut an RC from", previous=previous(config), migrations=True)
    lock_bytes = config.lockfile.read_bytes()
    lock = lockfile.loads(lock_bytes.decode("utf-8"), config.lockfile)

    rc = rc_id(config, root, rc_number)
    tag_name = tag_name_of(config, rc) if tag else None
    if (records.records_dir(config) / rc).exists():
        raise Refused(
            f"{rc} is already recorded in {config.release.records}/{rc}/; a record is never overwritten. "
            "Cut the next RC: releaser cut"
        )
    if rc in tagged_rcs(config, root):
        raise Refused(f"{rc} is already tagged ({tag_name_of(config, rc)}); cut the next RC: releaser cut")
    if tag_name is not None:
        if not gitrepo.ok(root, "check-ref-format", f"refs/tags/{tag_name}"):
            raise ConfigError(f"[release] tag gives {tag_name!r}, which is not a valid git tag name")
        if gitrepo.ok(root, "rev-parse", "-q", "--verify", f"refs/tags/{tag_name}"):
            raise Refused(f"the tag {tag_name} exists already; cut the next RC: releaser cut")
    if not gitrepo.ignored(root, f"{DIST}/{rc}/file"):
        raise Refused(
            f"{DIST}/ is not ignored by git: the built files would make the tree dirty. "
            f"Add `/{DIST}/` to .gitignore, commit it, then cut again"
        )
    if commit and gitrepo.ignored(root, f"{config.release.records}/{rc}/{records.MANIFEST}"):
        raise Refused(
            f"{config.release.records}/ is ignored by git, but records are committed: "
            "remove it from .gitignore (or cut with --no-commit)"
        )
    if (commit or tag) and not gitrepo.ok(root, "var", "GIT_COMMITTER_IDENT"):
        raise Refused(
            "git has no identity to commit and tag the record with: "
            "git config user.name 'NAME' && git config user.email 'EMAIL'"
        )
    template_source(config)  # a configured template folder must hold MANIFEST.md.j2
    migrations = verdict.migrations.record() if verdict.migrations is not None else None
    return Plan(config, rc, head, gitrepo.commit_time(root, head), lock_bytes, lock, tag_name, commit, migrations)
