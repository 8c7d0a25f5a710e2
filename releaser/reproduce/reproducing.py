"""`releaser reproduce`: an RC's exact dependency set, again, later.

Everything is read from the RC's record (`releases/<rc>/`, through `releaser.record.records`),
never from the current lock, so a developer gets what the RC was built from after
upstream has moved on. Every file is checked against the sha256 the record holds
(`releaser.plumbing.fetch`): a file whose bytes changed upstream is refused with its name
(UpstreamError, exit 3) and nothing takes its place; a file already in place is
kept when it is right, so a re-run downloads nothing. With `--from-bundle`
(`releaser.install.bundle`) every file comes from a bundle made earlier, offline.

The layout of a reproduction (docs/reproduce.md; `releaser.install.layout`):

    DIR/venv/                      exactly the recorded Python set (`releaser.ecosystems.python.buildenv`)
    DIR/cache/python/<file>        the Python file chosen for this interpreter, per pin
    DIR/maven/<g/r/o/u/p>/<artifact>/<baseVersion>/<file>, DIR/maven/classpath.txt
    DIR/git/<name>/                a clone, detached at the recorded commit (`releaser.ecosystems.git.checkouts`)
    DIR/artifacts/<file>           URL artifacts
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from releaser.core.errors import ConfigError, Refused, ReleaserError, UpstreamError
from releaser.core.kinds import KINDS
from releaser.core.lockfile import Lock, Pin
from releaser.core.paths import confined, confined_output
from releaser.core.progress import Progress
from releaser.ecosystems import ecosystem
from releaser.ecosystems.git.checkouts import checkout
from releaser.ecosystems.maven.layout import snapshot_aliases
from releaser.ecosystems.python.buildenv import create_venv, install_hashed, installed_set
from releaser.ecosystems.python.sdists import OFFLINE, build_files, install_lines
from releaser.install.bundle import check_bundle_file, open_bundle, record_fetcher
from releaser.install.layout import checkout_of, files_for_here, folder_of, of_role
from releaser.plumbing import gitrepo
from releaser.plumbing.credentials import configured_userinfo
from releaser.plumbing.fetch import PinnedFile, raise_failures, session
from releaser.plumbing.fsutil import fault_point, write_atomic
from releaser.plumbing.piprun import pip_errors
from releaser.record import records

if TYPE_CHECKING:
    from releaser.core.config import ReleaseConfig
    from releaser.plumbing.http import Http

MARKER = ".releaser-reproduce.json"  # in DIR: which RC it reproduces
VENV_MARKER = "releaser-set.json"  # in DIR/venv: the digest of the installed set
PIP_TIMEOUT = 30 * 60


@dataclass
class GitResult:
    name: str
    commit: str
    path: Path
    status: str  # cloned, kept, checked out


@dataclass
class Reproduction:
    rc: str
    into: Path
    from_bundle: Path | None
    placed: dict[str, list[PinnedFile]] = field(default_factory=dict)  # status -> items
    venv: Path | None = None
    venv_status: str | None = None
    packages: list[tuple[str, str]] = field(default_factory=list)
    maven_repo: Path | None = None
    classpath: Path | None = None
    maven: list[Pin] = field(default_factory=list)
    git: list[GitResult] = field(default_factory=list)
    own: list[str] = field(default_factory=list)  # what kinds with their own bytes (images) restored
    artifacts: list[Path] = field(default_factory=list)

    @property
    def downloaded(self) -> int:
        return len(self.placed.get("downloaded", [])) + len(self.placed.get("copied", []))

    @property
    def kept(self) -> int:
        return len(self.placed.get("kept", []))


def reproduce(
    config: ReleaseConfig, rc: str, into: Path, *, bundle: Path | None = None, http: Http | None = None,
    progress: Progress | None = None, push: str | None = None,
) -> Reproduction:
    """Recreate `rc`'s dependency set in `into`, every file verified; offline with `bundle`.

    `progress` hears of the files placed, N of M. `push`: a registry (host[:port]) the
    recorded container images are put back into, by digest and tag. Holds the project lock (`releaser.plumbing.projectlock`) while it runs.
    """
    from releaser.plumbing.projectlock import hold

    with hold(config, "reproduce"):
        return _reproduce(config, rc, into, bundle=bundle, http=http, progress=progress, push=push)


def _reproduce(config: ReleaseConfig, rc: str, into: Path, *, bundle: Path | None, http: Http | None,
    progress: Progress | None, push: str | None = None,
) -> Reproduction:
    rec = records.read(records.records_dir(config), rc)
    lock = rec.lock
    into = into.absolute()
    items = files_for_here(lock)  # validates every name before anything is written
    builds = build_files(lock)  # what building a pin's sdist here needs
    bundle_root = open_bundle(bundle.absolute(), rec) if bundle is not None else None
    targets = [(item, _reproduction_path(into, item)) for item in items]
    build_targets = [(item, _reproduction_path(into, item)) for item in builds]
    # A commit can carry reproduce/<rc>/artifacts as a symlink: nothing is written through one leading out.
    fixed = [
        into / MARKER, into / "venv", *(into / folder_of(p) / "classpath.txt" for p in of_role(lock, "repository")[:1]),
        *(into / folder_of(p) / checkout_of(p) for p in of_role(lock, "checkout")),
        *(into / ecosystem(kind).folder for kind in dict.fromkeys(p.kind for p in of_role(lock, "own"))),
    ]
    confined_output(config.root, into, [*fixed, *(path for _, path in targets + build_targets)])
    if bundle_root is not None:
        for item in [*items, *builds]:
            confined(bundle_root, bundle_root / item.rel)  # a bundle's file is never one elsewhere, linked in
    _claim(into, rc)
    result = Reproduction(rc, into, bundle_root)

    if bundle_root is None:
        config.require_environment()  # the record's URLs get their credentials from release.toml
    userinfo = configured_userinfo(config)  # the record keeps no credentials: release.toml gives them, as to cut
    if bundle_root is not None:
        result.placed = record_fetcher(rc, bundle=bundle_root).fetch_all(targets + build_targets, doing="reproduced", progress=progress)
    else:
        with session(http) as web:
            result.placed = record_fetcher(rc, http=web, userinfo=userinfo).fetch_all(targets + build_targets, doing="reproduced", progress=progress)

    fault_point("reproduce:fetched")
    roles = {kind: ecosystem(kind).role for kind in KINDS}
    python = [(item, path) for item, path in targets if roles[item.pin.kind] == "environment"]
    if python:
        result.venv = into / "venv"
        result.venv_status = make_venv(result.venv, python, rc, {item.rel: path for item, path in build_targets})
        fault_point("reproduce:venv")
        result.packages = sorted((item.pin.name, item.pin.version) for item, _ in python)

    maven = [(item, path) for item, path in targets if roles[item.pin.kind] == "repository"]
    if maven:
        result.maven_repo = into / folder_of(maven[0][0].pin)
        result.maven = sorted({item.pin for item, _ in maven}, key=lambda p: p.name)
        snapshot_aliases(maven)
        jars = sorted(str(path.resolve()) for item, path in maven if item.artifact.name.endswith(".jar"))
        result.classpath = result.maven_repo / "classpath.txt"
        write_atomic(result.classpath, os.pathsep.join(jars) + "\n")

    gits = of_role(lock, "checkout")
    if gits:
        from releaser.plumbing.http import concurrently

        for folder in {folder_of(pin) for pin in gits}:
            (into / folder).mkdir(exist_ok=True)

        def clone(pin: Pin) -> GitResult | ReleaserError:
            try:
                where, name = PurePosixPath(folder_of(pin)), checkout_of(pin)
                bundle_file = bundle_root / where / f"{name}.bundle" if bundle_root is not None else None
                if bundle_file is not None:
                    check_bundle_file(bundle_root, bundle_file, pin)  # type: ignore[arg-type]
                status = checkout(pin, into / where / name, bundle_file=bundle_file, userinfo=userinfo)
                return GitResult(pin.name, pin.version, into / where / name, status)
            except ReleaserError as exc:
                return exc

        ordered = sorted(gits, key=lambda p: p.name)
        outcome = concurrently(clone, ordered)
        raise_failures([(p.name, e) for p, e in zip(ordered, outcome)], doing="reproduced")
        result.git = outcome  # type: ignore[assignment]

    result.artifacts = sorted(path for item, path in targets if roles[item.pin.kind] == "files")
    result.own = _restore_own_kinds(config, lock, into, bundle_root, http, push)
    return result


def _reproduction_path(into: Path, item: PinnedFile) -> Path:
    """An installed kind's files wait in DIR/cache/ (what is used is the venv); the others are used in place."""
    if ecosystem(item.pin.kind).role == "environment":
        return into / "cache" / Path(*item.rel.parts)
    return into / Path(*item.rel.parts)


def _restore_own_kinds(
    config: ReleaseConfig, lock: Lock, into: Path, bundle: Path | None, http: Http | None, push: str | None
) -> list[str]:
    """The kinds that keep their own bytes (container images), restored; what each says it did."""
    lines: list[str] = []
    kinds = [kind for kind in KINDS if ecosystem(kind).role == "own" and lock.of_kind(kind)]
    if push and not kinds:
        raise ConfigError("--push puts an RC's container images into a registry, but this RC pins none")
    for kind in kinds:
        lines += ecosystem(kind).restore_pins(config, lock.of_kind(kind), into, bundle, http, push)
    return lines


def _claim(into: Path, rc: str) -> None:
    """DIR must be new, empty, or an earlier reproduction of the same RC: nothing else is touched."""
    marker = into / MARKER
    if into.exists() and not into.is_dir():
        raise ConfigError(f"{into} exists and is not a folder")
    # A run killed while it wrote the marker left only the marker's temporary file: no content.
    for leftover in into.glob(f".{MARKER}.*.tmp") if into.is_dir() else ():
        leftover.unlink(missing_ok=True)
    if into.is_dir() and any(into.iterdir()):
        try:
            held = json.loads(marker.read_text(encoding="utf-8")).get("rc")
        except (OSError, ValueError, AttributeError, RecursionError):
            raise Refused(f"{into} is not empty and is not a releaser reproduction; choose another --into") from None
        if held != rc:
            raise Refused(f"{into} holds a reproduction of {held}, not {rc}; choose another --into or delete it")
        return
    into.mkdir(parents=True, exist_ok=True)
    write_atomic(marker, json.dumps({"rc": rc}) + "\n")


# -- the Python environment ------------------------------------------------------


def make_venv(venv: Path, chosen: list[tuple[PinnedFile, Path]], rc: str, build: dict[PurePosixPath, Path] | None = None) -> str:
    """'kept' when the venv already holds exactly this set, else 'created' from the verified files.

    A pin chosen as its sdist with build pins is built first, from `build` (rel -> verified file).
    """
    from packaging.version import Version

    wanted = {p.pin.name: str(Version(p.pin.version)) for p, _ in chosen}
    digest = _set_digest([p for p, _ in chosen])
    marker = venv / VENV_MARKER
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8")).get("digest")
    except (OSError, ValueError, AttributeError, RecursionError):
        recorded = None
    if recorded == digest and _normalized(installed_set(venv)) == wanted:
        return "kept"
    if venv.exists():
        shutil.rmtree(venv)
    create_venv(venv)
    with tempfile.TemporaryDirectory(prefix="releaser-build-") as work:
        lines = install_lines(chosen, build or {}, Path(work))
        done = install_hashed(venv, lines, venv / "releaser-requirements.txt", options=OFFLINE, timeout=PIP_TIMEOUT)
    if done.returncode != 0:
        errors = pip_errors(done.stderr, otherwise=2)
        sdists = [f"{p.pin.name} {p.pin.version}" for p, _ in chosen if not p.artifact.name.endswith(".whl") and not p.pin.build]
        hint = (
            f"; {', '.join(sdists)}: no wheel for this interpreter, and building the sdist offline needs build "
            "dependencies the record does not pin (reproduce on a platform the RC has wheels for)"
            if sdists else ""
        )
        raise UpstreamError(
            f"pip could not install {rc}'s Python set into {venv}: {' / '.join(errors[:3]) or 'no output'}{hint}"
        )
    got = _normalized(installed_set(venv))
    if got != wanted:
        raise UpstreamError(f"{venv} holds {got} after installing, not the recorded {wanted}")
    write_atomic(marker, json.dumps({"rc": rc, "digest": digest, "packages": dict(sorted(wanted.items()))}, indent=2) + "\n")
    return "created"


def _set_digest(chosen: list[PinnedFile]) -> str:
    rows = sorted((p.pin.name, p.pin.version, p.artifact.name, p.artifact.sha256) for p in chosen)
    return "sha256:" + hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def _normalized(found: dict[str, str] | None) -> dict[str, str] | None:
    from packaging.version import InvalidVersion, Version

    if found is None:
        return None
    out = {}
    for name, version in found.items():
        try:
            out[name] = str(Version(version))
        except InvalidVersion:
            out[name] = version
    return out


# -- for the terminal -------------------------------------------------------------


def describe(result: Reproduction, cwd: Path | None = None) -> list[str]:
    """What was made and how to use it, for the terminal."""
    def show(path: Path) -> str:
        try:
            return str(path.resolve().relative_to((cwd or Path.cwd()).resolve()))
        except ValueError:
            return str(path)

    fetched = "copied from the bundle" if result.from_bundle is not None else "downloaded"
    lines = [
        f"reproduced {result.rc} in {show(result.into)}: {result.downloaded} files {fetched}, "
        f"{result.kept} already there and verified (every file matches its recorded sha256)"
    ]
    if result.venv is not None:
        packages = ", ".join(f"{n} {v}" for n, v in result.packages)
        state = "reused (already exactly this set)" if result.venv_status == "kept" else "created"
        activate = show(result.venv / ("Scripts/activate" if os.name == "nt" else "bin/activate"))
        lines += [
            f"  python    {show(result.venv)}: {len(result.packages)} packages, {state}: {packages}",
            f"            activate: source {activate}",
        ]
    if result.maven_repo is not None:
        lines += [
            f"  maven     {show(result.maven_repo)}: {', '.join(f'{p.name} {p.version}' for p in result.maven)}",
            f"            mvn -o -Dmaven.repo.local={result.maven_repo.resolve()} ...",
            f"            java -cp \"$(cat {show(result.classpath)})\" ...",  # type: ignore[arg-type]
        ]
    for git in result.git:
        lines.append(f"  git       {git.name} at {git.commit[:12]} ({git.status}): {show(git.path)}")
    for path in result.artifacts:
        lines.append(f"  artifact  {show(path)}")
    return lines + result.own


def notes(into: Path) -> list[str]:
    """Advice about where the reproduction lives: inside the project's git tree and not ignored."""
    try:
        if gitrepo.toplevel(into) is None or gitrepo.ignored(into, str(into / MARKER)):
            return []
    except (OSError, ReleaserError):
        return []
    return [f"{into} is inside a git work tree and not ignored: add it to .gitignore (releaser cut refuses a dirty tree)"]


def reproduce_from_registry(
    config: ReleaseConfig, rc: str, into: Path, target: str, *, key: Path | None = None, progress: Progress | None = None,
    push: str | None = None,
) -> tuple[Reproduction, list[str]]:
    """`releaser reproduce RC --from-bundle oci://…`: pull the bundle (every blob digest-checked),
    check its signed provenance when a key is given or configured, and reproduce from it offline."""
    from releaser.install import ocibundle
    from releaser.plumbing.http import Http
    from releaser.record.verifying import trusted_key

    parsed = ocibundle.parse_target(target)
    configured = config.attest is not None and config.attest.public_key is not None
    verifier = trusted_key(config, key) if key is not None or configured else None
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="releaser-pull-") as tmp:
        with Http() as http:
            digest, signed = ocibundle.pull(ocibundle.registry_for(config, http, parsed.host), parsed, rc, Path(tmp))
        note = ocibundle.check_provenance(config, rc, signed, verifier)
        notes.append(f"pulled the bundle of {rc} from {parsed} ({digest})")
        if note:
            notes.append(note)
        elif verifier is not None:
            notes.append(f"its provenance verifies with key {verifier.keyid[:16]}")
        result = reproduce(config, rc, into, bundle=Path(tmp), progress=progress, push=push)
    return result, notes
