"""`releaser reproduce` and `releaser bundle`: an RC's exact dependency set, again, later.

Everything is read from the RC's record (`releases/<rc>/`, through `releaser.record`),
never from the current lock, so a developer gets what the RC was built from after
upstream has moved on. Every file is checked against the sha256 the record holds:

- a download lands under a hidden `.unverified` name and is renamed into place only
  when its sha256 and size are the recorded ones; a file whose bytes changed upstream
  is refused with its name (UpstreamError, exit 3) and nothing takes its place;
- a file already in place is hashed and kept when it is right (a re-run downloads
  nothing), replaced by the recorded bytes when it is not;
- a bundle (`releaser bundle RC`) holds every pinned file of the record and a git
  bundle per repository, so `reproduce --from-bundle` works offline, after upstream
  deleted things.

The layout of a reproduction (docs/reproduce.md):

    DIR/venv/                      exactly the recorded Python set
    DIR/cache/python/<file>        the Python file chosen for this interpreter, per pin
    DIR/maven/<g/r/o/u/p>/<artifact>/<baseVersion>/<file>, DIR/maven/classpath.txt
    DIR/git/<name>/                a clone, detached at the recorded commit
    DIR/artifacts/<file>           URL artifacts

and of a bundle (`dist/<rc>/bundle/`): python/ (every recorded file, all platforms),
maven/ (repository layout), artifacts/, git/<name>.bundle, bundle.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, TypeVar

from releaser import record as records
from releaser.errors import ConfigError, Refused, ReleaserError, UpstreamError
from releaser.fsutil import write_atomic
from releaser.lockfile import Artifact, Lock, Pin
from releaser.redact import scrub, strip_credentials

if TYPE_CHECKING:
    from releaser.config import ReleaseConfig
    from releaser.http import Http

T = TypeVar("T")
R = TypeVar("R")

MARKER = ".releaser-reproduce.json"  # in DIR: which RC it reproduces
VENV_MARKER = "releaser-set.json"  # in DIR/venv: the digest of the installed set
BUNDLE_INDEX = "bundle.json"
BUNDLE_SCHEMA = 1
GIT_BUNDLE_REF = "refs/heads/pinned"
GIT_TIMEOUT = 30 * 60
PIP_TIMEOUT = 30 * 60
# A Maven timestamped SNAPSHOT build: 1.0-20071115.230503-12 lives in 1.0-SNAPSHOT/.
_BUILD = re.compile(r"^(?P<base>.+)-(?P<stamp>\d{8}\.\d{6})-(?P<number>\d+)$")
_PLAIN = re.compile(r"^[A-Za-z0-9_+~][A-Za-z0-9_.+~%=,@-]*$")
_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")


# -- what goes where -----------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    """One recorded file and its path in a tree (`python/...`, `maven/...`, `artifacts/...`)."""

    pin: Pin
    artifact: Artifact
    rel: PurePosixPath

    @property
    def what(self) -> str:
        return f"{self.pin.kind} {self.pin.name} {short_version(self.pin)}: {self.artifact.name}"


def records_dir(config: ReleaseConfig) -> Path:
    return config.root / config.release.records


def plain(name: str, what: str) -> str:
    """`name` when it can be one path segment; a path trick is refused (exit 2)."""
    if not name or name in (".", "..") or ".." in name or not _PLAIN.match(name):
        raise ConfigError(f"{what}: {name[:80]!r} is not a plain file name; refusing it (path trick?)")
    return name


def short_version(pin: Pin) -> str:
    """A pin's version as people read it: a commit or a sha256 shortened."""
    if pin.kind == "git":
        return pin.version[:12]
    if pin.kind == "artifact" and re.fullmatch(r"[0-9a-f]{64}", pin.version):
        return "sha256:" + pin.version[:12]
    return pin.version


def maven_parts(pin: Pin) -> tuple[list[str], str, str]:
    """(group path segments, artifact id, base version) of a Maven pin, each checked."""
    what = f"maven {pin.name}"
    fields = pin.name.split(":")
    if not 2 <= len(fields) <= 4:
        raise ConfigError(f"{what}: the record's name is not group:artifact[:extension[:classifier]]")
    group = [plain(part, what) for part in fields[0].split(".")]
    artifact = plain(fields[1], what)
    match = _BUILD.match(pin.version)
    base = match["base"] + "-SNAPSHOT" if match else pin.version
    return group, artifact, plain(base, what)


def maven_rel(pin: Pin, artifact: Artifact) -> PurePosixPath:
    group, artifact_id, base = maven_parts(pin)
    return PurePosixPath("maven", *group, artifact_id, base, plain(artifact.name, f"maven {pin.name}"))


def artifact_rels(pins: Iterable[Pin]) -> dict[tuple[str, str], PurePosixPath]:
    """(pin name, file name) -> artifacts/<file>; files whose names collide go under artifacts/<pin>/."""
    files = [(p, a) for p in pins for a in p.artifacts]
    counts: dict[str, set[str]] = {}
    for pin, art in files:
        counts.setdefault(plain(art.name, f"artifact {pin.name}"), set()).add(art.sha256)
    rels = {}
    for pin, art in files:
        if len(counts[art.name]) > 1:
            rels[(pin.name, art.name)] = PurePosixPath("artifacts", plain(pin.name, f"artifact {pin.name}"), art.name)
        else:
            rels[(pin.name, art.name)] = PurePosixPath("artifacts", art.name)
    return rels


def every_file(lock: Lock) -> list[Placed]:
    """Every recorded file of every pin (git has none), as a bundle holds them."""
    return _files(lock, lambda pin: list(pin.artifacts))


def files_for_here(lock: Lock) -> list[Placed]:
    """What a reproduction on this interpreter needs: one Python file per pin, every other file."""
    return _files(lock, lambda pin: [choose_python_file(pin)] if pin.kind == "python" else list(pin.artifacts))


def _files(lock: Lock, select: Callable[[Pin], list[Artifact]]) -> list[Placed]:
    rels = artifact_rels(lock.of_kind("artifact"))
    placed = []
    for pin in lock.pins:
        if pin.kind == "git":
            _commit(pin)
            plain(pin.name, f"git {pin.name}")
            continue
        if pin.kind not in ("python", "maven", "artifact"):
            continue
        if not pin.artifacts:
            raise Refused(f"{pin.kind} {pin.name} {pin.version}: the record holds no file of it, so it cannot be reproduced")
        for art in select(pin):
            if pin.kind == "python":
                rel = PurePosixPath("python", plain(art.name, f"python {pin.name}"))
            elif pin.kind == "maven":
                rel = maven_rel(pin, art)
            else:
                rel = rels[(pin.name, art.name)]
            placed.append(Placed(pin, art, rel))
    seen: dict[PurePosixPath, str] = {}
    for item in placed:
        if seen.setdefault(item.rel, item.artifact.sha256) != item.artifact.sha256:
            raise ConfigError(f"{item.rel}: the record names two different files for this path")
    return list({item.rel: item for item in placed}.values())


def choose_python_file(pin: Pin) -> Artifact:
    """The file pip would pick here: the wheel whose tag this interpreter prefers most, else the sdist."""
    from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename

    priority = _tag_priority()
    best: tuple[int, str] | None = None
    chosen: Artifact | None = None
    sdist: Artifact | None = None
    for art in pin.artifacts:
        if art.name.endswith(".whl"):
            try:
                tags = parse_wheel_filename(art.name)[3]
            except InvalidWheelFilename:
                continue
            rank = min((priority[t] for t in tags if t in priority), default=None)
            if rank is not None and (best is None or (rank, art.name) < best):
                best, chosen = (rank, art.name), art
        elif sdist is None or art.name < sdist.name:
            try:
                parse_sdist_filename(art.name)
            except InvalidSdistFilename:
                continue
            sdist = art
    found = chosen or sdist
    if found is None:
        names = ", ".join(sorted(a.name for a in pin.artifacts))
        raise Refused(
            f"python {pin.name} {pin.version}: none of the recorded files installs on this interpreter "
            f"({sys.implementation.name} {sys.version.split()[0]}, {sys.platform}): {names}"
        )
    return found


_TAGS: dict[object, int] | None = None


def _tag_priority() -> dict[object, int]:
    global _TAGS
    if _TAGS is None:
        from packaging.tags import sys_tags

        _TAGS = {}
        for i, tag in enumerate(sys_tags()):
            _TAGS.setdefault(tag, i)
    return _TAGS


def _commit(pin: Pin) -> str:
    if not _COMMIT.match(pin.version):
        raise ConfigError(f"git {pin.name}: the record's version {pin.version[:80]!r} is not a full commit id")
    return pin.version


# -- placing files, verified -----------------------------------------------------


def sha256_of(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _copy_hashing(source: Path, dest: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as src, dest.open("wb") as out:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


class _Placer:
    """Puts recorded files in place: kept when right, else downloaded (or copied from a bundle) and verified."""

    def __init__(self, rc: str, http: Http | None, bundle: Path | None, *, hint: bool = True) -> None:
        self.rc, self.http, self.bundle = rc, http, bundle
        self.hint = f"; {_bundle_hint(rc)}" if hint and bundle is None else ""

    def place(self, item: Placed, dest: Path) -> str:
        """'kept', 'downloaded' or 'copied'; a mismatch raises and leaves nothing at `dest`."""
        expected = item.artifact
        if dest.is_file():
            if sha256_of(dest) == (expected.sha256, expected.size):
                return "kept"
            dest.unlink()  # not the recorded bytes: replaced by them, never kept
        dest.parent.mkdir(parents=True, exist_ok=True)
        unverified = dest.with_name(f".{dest.name}.unverified")
        unverified.unlink(missing_ok=True)
        try:
            if self.bundle is not None:
                source = self.bundle / item.rel
                if not source.is_file():
                    raise Refused(f"{item.what}: the bundle {self.bundle} has no {item.rel}; it is not a complete bundle of {self.rc}")
                sha256, size = _copy_hashing(source, unverified)
                origin = f"the bundle's {item.rel}"
            else:
                assert self.http is not None
                try:
                    sha256, size = self.http.download(expected.url, unverified, what=item.what)
                except UpstreamError as exc:
                    raise type(exc)(f"{exc}{self.hint}") from None
                origin = f"upstream ({strip_credentials(expected.url)})"
            if (sha256, size) != (expected.sha256, expected.size):
                error = Refused if self.bundle is not None else UpstreamError
                raise error(
                    f"{item.what}: {origin} now has sha256 {sha256} ({size} bytes), but {self.rc} recorded "
                    f"{expected.sha256} ({expected.size} bytes); refused, nothing was put in its place"
                    + self.hint
                )
            os.replace(unverified, dest)
        finally:
            unverified.unlink(missing_ok=True)
        return "copied" if self.bundle is not None else "downloaded"

    def place_all(self, items: list[tuple[Placed, Path]]) -> dict[str, list[Placed]]:
        """Every item, concurrently; every refusal is collected and raised together."""

        def one(pair: tuple[Placed, Path]) -> str | ReleaserError:
            try:
                return self.place(*pair)
            except ReleaserError as exc:
                return exc

        outcome = self.http.map(one, items) if self.http is not None else _map(one, items)
        failed = [(item.artifact.name, e) for (item, _), e in zip(items, outcome) if isinstance(e, ReleaserError)]
        if failed:
            raise _combined(failed)
        done: dict[str, list[Placed]] = {}
        for (item, _), status in zip(items, outcome):
            done.setdefault(status, []).append(item)  # type: ignore[arg-type]
        return done


def _bundle_hint(rc: str) -> str:
    return f"if upstream is gone or changed it, reproduce from a bundle made earlier: releaser reproduce {rc} --from-bundle dist/{rc}/bundle"


def _combined(failed: list[tuple[str, ReleaserError]]) -> ReleaserError:
    """One error for several refusals: every name, then the first one's whole story."""
    if len(failed) == 1:
        return failed[0][1]
    worst = max((e for _, e in failed), key=lambda e: e.exit_code)
    names = ", ".join(name for name, _ in failed)
    return type(worst)(f"{len(failed)} could not be reproduced ({names}); the first: {failed[0][1]}")


# -- git ----------------------------------------------------------------------


def _git(args: list[str], *, what: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    from releaser.sources.git import run_git

    return run_git(args, what=what, timeout=GIT_TIMEOUT, cwd=cwd)


def _git_summary(done: subprocess.CompletedProcess[str]) -> str:
    from releaser.sources.git import summary

    return summary(done.stderr)


def git_head(path: Path, what: str) -> str | None:
    done = _git(["rev-parse", "--verify", "HEAD^{commit}"], what=what, cwd=path)
    return done.stdout.strip() if done.returncode == 0 else None


def checkout(pin: Pin, dest: Path, *, bundle_file: Path | None) -> str:
    """Clone the pin's remote (or its git bundle) into `dest`, detached at the recorded commit.

    'kept' when `dest` is already a clean checkout of it; a checkout with local
    changes is never touched (Refused).
    """
    sha, what = _commit(pin), f"git {pin.name}"
    if dest.exists():
        if not (dest / ".git").exists():
            raise Refused(f"{what}: {dest} exists and is not a git checkout; move it away to reproduce it")
        dirty = _git(["status", "--porcelain", "--untracked-files=no"], what=what, cwd=dest)
        if dirty.returncode != 0 or dirty.stdout.strip():
            raise Refused(f"{what}: {dest} has local changes; releaser leaves them alone: commit, stash or delete them")
        if git_head(dest, what) == sha:
            return "kept"
        if _git(["checkout", "--quiet", "--detach", sha], what=what, cwd=dest).returncode == 0 and git_head(dest, what) == sha:
            return "checked out"
        shutil.rmtree(dest)
    partial = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    origin = str(bundle_file) if bundle_file is not None else pin.source
    try:
        done = _git(["clone", "--quiet", "--no-checkout", "--", origin, str(partial)], what=what)
        if done.returncode != 0:
            raise UpstreamError(f"{what}: cloning {strip_credentials(origin)} failed: {_git_summary(done)}")
        if _git(["cat-file", "-e", f"{sha}^{{commit}}"], what=what, cwd=partial).returncode != 0:
            # Not on any branch or tag any more (a force-push): ask for the commit itself.
            _git(["fetch", "--quiet", "origin", sha], what=what, cwd=partial)
        done = _git(["checkout", "--quiet", "--detach", sha], what=what, cwd=partial)
        if done.returncode != 0:
            raise UpstreamError(
                f"{what}: {strip_credentials(origin)} no longer has commit {sha} that {pin.name} was pinned to "
                f"({_git_summary(done)}); reproduce from a bundle made earlier (releaser bundle)"
            )
        head = git_head(partial, what)
        if head != sha:
            raise UpstreamError(f"{what}: the checkout is at {head}, not the recorded {sha}; refused")
        if bundle_file is not None:
            _git(["remote", "set-url", "origin", pin.source], what=what, cwd=partial)
        os.rename(partial, dest)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return "cloned"


def make_git_bundle(pin: Pin, dest: Path, workdir: Path) -> None:
    """`dest`: a git bundle of the pin's commit and its history, ref `refs/heads/pinned`."""
    sha, what = _commit(pin), f"git {pin.name}"
    repo = workdir / pin.name
    shutil.rmtree(repo, ignore_errors=True)
    done = _git(["clone", "--quiet", "--bare", "--", pin.source, str(repo)], what=what)
    if done.returncode != 0:
        raise UpstreamError(f"{what}: cloning {pin.source} failed: {_git_summary(done)}")
    if _git(["cat-file", "-e", f"{sha}^{{commit}}"], what=what, cwd=repo).returncode != 0:
        _git(["fetch", "--quiet", "--", pin.source, sha], what=what, cwd=repo)
    if _git(["update-ref", GIT_BUNDLE_REF, sha], what=what, cwd=repo).returncode != 0:
        raise UpstreamError(f"{what}: {pin.source} no longer has commit {sha}; it cannot be bundled")
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        done = _git(["bundle", "create", "--quiet", str(partial), GIT_BUNDLE_REF], what=what, cwd=repo)
        if done.returncode != 0:
            raise UpstreamError(f"{what}: git bundle create failed: {_git_summary(done)}")
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(repo, ignore_errors=True)


# -- the Python environment ------------------------------------------------------


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def installed_set(venv: Path) -> dict[str, str] | None:
    """canonical name -> version of every distribution in the venv, or None when it is not one."""
    python = venv_python(venv)
    if not python.exists():
        return None
    code = (
        "import importlib.metadata as m, json, re\n"
        "print(json.dumps({re.sub(r'[-_.]+', '-', d.metadata['Name']).lower(): d.version for d in m.distributions()}))"
    )
    done = subprocess.run([str(python), "-I", "-c", code], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        return None
    try:
        return json.loads(done.stdout)
    except ValueError:
        return None


def _set_digest(chosen: list[Placed]) -> str:
    rows = sorted((p.pin.name, p.pin.version, p.artifact.name, p.artifact.sha256) for p in chosen)
    return "sha256:" + hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def make_venv(venv: Path, chosen: list[tuple[Placed, Path]], rc: str) -> str:
    """'kept' when the venv already holds exactly this set, else 'created' from the verified files."""
    from packaging.version import Version

    from releaser.sources.python import isolated_env

    wanted = {p.pin.name: str(Version(p.pin.version)) for p, _ in chosen}
    digest = _set_digest([p for p, _ in chosen])
    marker = venv / VENV_MARKER
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8")).get("digest")
    except (OSError, ValueError, AttributeError):
        recorded = None
    if recorded == digest and _normalized(installed_set(venv)) == wanted:
        return "kept"
    if venv.exists():
        shutil.rmtree(venv)
    import venv as venvs

    # Without pip: the environment holds the recorded set and nothing else; releaser's
    # own pip (>= 26) installs into it with --python.
    venvs.EnvBuilder(with_pip=False, clear=True, symlinks=os.name != "nt").create(venv)
    requirements = venv / "releaser-requirements.txt"
    requirements.write_text(
        "".join(f"{path.resolve()} --hash=sha256:{p.artifact.sha256}\n" for p, path in sorted(chosen, key=lambda c: c[0].pin.name)),
        encoding="utf-8",
    )
    command = [
        sys.executable, "-P", "-m", "pip", "--python", str(venv_python(venv)), "install",
        "--no-index", "--no-deps", "--require-hashes", "--no-cache-dir", "--disable-pip-version-check",
        "--quiet", "-r", str(requirements),
    ]
    try:
        done = subprocess.run(command, env=isolated_env(), capture_output=True, text=True, timeout=PIP_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise UpstreamError(f"pip install into {venv} did not finish within {PIP_TIMEOUT // 60} minutes") from None
    if done.returncode != 0:
        lines = [line.strip() for line in scrub(done.stderr).splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("ERROR")] or lines[-2:]
        sdists = [f"{p.pin.name} {p.pin.version}" for p, _ in chosen if not p.artifact.name.endswith(".whl")]
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


# -- reproduce --------------------------------------------------------------------


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
    placed: dict[str, list[Placed]] = field(default_factory=dict)  # status -> items
    venv: Path | None = None
    venv_status: str | None = None
    packages: list[tuple[str, str]] = field(default_factory=list)
    maven_repo: Path | None = None
    classpath: Path | None = None
    maven: list[Pin] = field(default_factory=list)
    git: list[GitResult] = field(default_factory=list)
    artifacts: list[Path] = field(default_factory=list)

    @property
    def downloaded(self) -> int:
        return len(self.placed.get("downloaded", [])) + len(self.placed.get("copied", []))

    @property
    def kept(self) -> int:
        return len(self.placed.get("kept", []))


def _reproduction_path(into: Path, rel: PurePosixPath) -> Path:
    if rel.parts[0] == "python":
        return into / "cache" / Path(*rel.parts)
    return into / Path(*rel.parts)


def _claim(into: Path, rc: str) -> None:
    """DIR must be new, empty, or an earlier reproduction of the same RC: nothing else is touched."""
    marker = into / MARKER
    if into.exists() and not into.is_dir():
        raise ConfigError(f"{into} exists and is not a folder")
    if into.is_dir() and any(into.iterdir()):
        try:
            held = json.loads(marker.read_text(encoding="utf-8")).get("rc")
        except (OSError, ValueError, AttributeError):
            raise Refused(f"{into} is not empty and is not a releaser reproduction; choose another --into") from None
        if held != rc:
            raise Refused(f"{into} holds a reproduction of {held}, not {rc}; choose another --into or delete it")
        return
    into.mkdir(parents=True, exist_ok=True)
    write_atomic(marker, json.dumps({"rc": rc}) + "\n")


def reproduce(
    config: ReleaseConfig, rc: str, into: Path, *, bundle: Path | None = None, http: Http | None = None
) -> Reproduction:
    """Recreate `rc`'s dependency set in `into`, every file verified; offline with `bundle`."""
    rec = records.read(records_dir(config), rc)
    lock = rec.lock
    into = into.absolute()
    items = files_for_here(lock)  # validates every name before anything is written
    bundle_root = open_bundle(bundle.absolute(), rec) if bundle is not None else None
    _claim(into, rc)
    result = Reproduction(rc, into, bundle_root)
    targets = [(item, _reproduction_path(into, item.rel)) for item in items]

    if bundle_root is not None:
        result.placed = _Placer(rc, None, bundle_root).place_all(targets)
    else:
        with _session(http) as session:
            result.placed = _Placer(rc, session, None).place_all(targets)

    python = [(item, path) for item, path in targets if item.pin.kind == "python"]
    if python:
        result.venv = into / "venv"
        result.venv_status = make_venv(result.venv, python, rc)
        result.packages = sorted((item.pin.name, item.pin.version) for item, _ in python)

    maven = [(item, path) for item, path in targets if item.pin.kind == "maven"]
    if maven:
        result.maven_repo = into / "maven"
        result.maven = sorted({item.pin for item, _ in maven}, key=lambda p: p.name)
        _snapshot_aliases(maven)
        jars = sorted(str(path.resolve()) for item, path in maven if item.artifact.name.endswith(".jar"))
        result.classpath = result.maven_repo / "classpath.txt"
        write_atomic(result.classpath, os.pathsep.join(jars) + "\n")

    gits = lock.of_kind("git")
    if gits:
        (into / "git").mkdir(exist_ok=True)

        def clone(pin: Pin) -> GitResult | ReleaserError:
            try:
                bundle_file = bundle_root / "git" / f"{pin.name}.bundle" if bundle_root is not None else None
                if bundle_file is not None:
                    _check_bundle_file(bundle_root, bundle_file, pin)  # type: ignore[arg-type]
                status = checkout(pin, into / "git" / pin.name, bundle_file=bundle_file)
                return GitResult(pin.name, pin.version, into / "git" / pin.name, status)
            except ReleaserError as exc:
                return exc

        ordered = sorted(gits, key=lambda p: p.name)
        outcome = _map(clone, ordered)
        failed = [(p.name, e) for p, e in zip(ordered, outcome) if isinstance(e, ReleaserError)]
        if failed:
            raise _combined(failed)
        result.git = outcome  # type: ignore[assignment]

    result.artifacts = sorted(path for item, path in targets if item.pin.kind == "artifact")
    return result


def _snapshot_aliases(maven: list[tuple[Placed, Path]]) -> None:
    """Next to a timestamped SNAPSHOT file, the same bytes under its -SNAPSHOT name, as a local
    repository holds a snapshot, so a build asking for 1.0-SNAPSHOT finds it offline."""
    for item, path in maven:
        match = _BUILD.match(item.pin.version)
        if not match or item.pin.version not in item.artifact.name:
            continue
        alias = path.with_name(item.artifact.name.replace(item.pin.version, match["base"] + "-SNAPSHOT", 1))
        if alias.is_file() and sha256_of(alias) == (item.artifact.sha256, item.artifact.size):
            continue
        tmp = alias.with_name(f".{alias.name}.unverified")
        tmp.unlink(missing_ok=True)
        shutil.copyfile(path, tmp)
        os.replace(tmp, alias)


@contextmanager
def _session(http: Http | None) -> Iterator[Http]:
    """`http`, or a new session closed afterwards."""
    if http is not None:
        yield http
        return
    from releaser.http import Http

    with Http() as session:
        yield session


def _map(fn: Callable[[T], R], items: list[T]) -> list[R]:
    if len(items) <= 1:
        return [fn(i) for i in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(16, len(items))) as pool:
        return list(pool.map(fn, items))


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
    return lines


# -- bundles ----------------------------------------------------------------------


@dataclass
class Bundled:
    rc: str
    root: Path
    files: dict[str, str]  # rel path -> sha256
    placed: dict[str, list[Placed]]
    git: dict[str, str]  # name -> status


def bundle_root(config: ReleaseConfig, rc: str) -> Path:
    return config.root / "dist" / rc / "bundle"


def make_bundle(config: ReleaseConfig, rc: str, *, into: Path | None = None, http: Http | None = None) -> Bundled:
    """Store every pinned file of `rc`'s record (and a git bundle per repository) under dist/<rc>/bundle/."""
    import tempfile

    rec = records.read(records_dir(config), rc)
    items = every_file(rec.lock)
    root = (into or bundle_root(config, rc)).absolute()
    root.mkdir(parents=True, exist_ok=True)
    index = root / BUNDLE_INDEX
    previous = _read_index(index)
    if previous and previous.get("lock_digest") != rec.manifest.get("lock_digest"):
        raise Refused(f"{root} is a bundle of another lock of {previous.get('rc')}; delete it to bundle {rc}")
    targets = [(item, root / Path(*item.rel.parts)) for item in items]
    with _session(http) as session:
        placed = _Placer(rc, session, None, hint=False).place_all(targets)
    files = {str(item.rel): item.artifact.sha256 for item in items}

    git_status: dict[str, str] = {}
    known = (previous or {}).get("files", {})
    gits = sorted(rec.lock.of_kind("git"), key=lambda p: p.name)
    if gits:
        (root / "git").mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="releaser-bundle-") as tmp:
            def one(pin: Pin) -> tuple[str, str] | ReleaserError:
                rel = f"git/{plain(pin.name, f'git {pin.name}')}.bundle"
                path = root / rel
                try:
                    if path.is_file() and known.get(rel) == sha256_of(path)[0] and _bundle_has(path, pin):
                        return rel, "kept"
                    make_git_bundle(pin, path, Path(tmp))
                    if not _bundle_has(path, pin):
                        path.unlink(missing_ok=True)
                        raise UpstreamError(f"git {pin.name}: the bundle made of {pin.source} lacks commit {pin.version}")
                    return rel, "bundled"
                except ReleaserError as exc:
                    return exc

            outcome = _map(one, gits)
        failed = [(p.name, e) for p, e in zip(gits, outcome) if isinstance(e, ReleaserError)]
        if failed:
            raise _combined(failed)
        for (rel, status), pin in zip(outcome, gits):  # type: ignore[misc]
            files[rel] = sha256_of(root / rel)[0]
            git_status[pin.name] = status

    document = {
        "schema": BUNDLE_SCHEMA,
        "rc": rc,
        "lock_digest": rec.manifest.get("lock_digest"),
        "files": dict(sorted(files.items())),
    }
    write_atomic(index, json.dumps(document, indent=2, sort_keys=True) + "\n")  # last: the bundle is complete
    return Bundled(rc, root, document["files"], placed, git_status)


def _bundle_has(path: Path, pin: Pin) -> bool:
    done = _git(["bundle", "list-heads", str(path)], what=f"git {pin.name}")
    return done.returncode == 0 and any(line.split()[:1] == [pin.version] for line in done.stdout.splitlines())


def _read_index(path: Path) -> dict | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("files"), dict):
        raise ConfigError(f"{path}: not a releaser bundle index")
    return document


def open_bundle(path: Path, rec: records.Record) -> Path:
    """The bundle root for `rec`: `path` or `path/bundle`; refused when it is not a complete bundle of it."""
    root = path if (path / BUNDLE_INDEX).is_file() else path / "bundle"
    document = _read_index(root / BUNDLE_INDEX)
    if document is None:
        raise ConfigError(f"{path}: no {BUNDLE_INDEX} there, so not a complete bundle; run `releaser bundle {rec.rc}`")
    if document.get("rc") != rec.rc or document.get("lock_digest") != rec.manifest.get("lock_digest"):
        raise Refused(f"{root} is a bundle of {document.get('rc')} ({document.get('lock_digest')}), not of {rec.rc} as recorded")
    return root


def _check_bundle_file(root: Path, path: Path, pin: Pin) -> None:
    rel = path.relative_to(root).as_posix()
    expected = (_read_index(root / BUNDLE_INDEX) or {}).get("files", {}).get(rel)
    if not path.is_file() or expected is None:
        raise Refused(f"git {pin.name}: the bundle {root} has no {rel}")
    actual = sha256_of(path)[0]
    if actual != expected:
        raise Refused(f"git {pin.name}: {path} has sha256 {actual}, but {BUNDLE_INDEX} says {expected}; the bundle was altered")


def describe_bundle(result: Bundled) -> list[str]:
    placed = result.placed
    fetched = len(placed.get("downloaded", []))
    kept = len(placed.get("kept", []))
    gits = ", ".join(f"{name} ({status})" for name, status in sorted(result.git.items()))
    lines = [
        f"bundled {result.rc} in {result.root}: {len(result.files)} files ({fetched} downloaded, "
        f"{kept} already there and verified){'; git: ' + gits if gits else ''}",
        f"  index: {result.root / BUNDLE_INDEX}",
        f"  offline: releaser reproduce {result.rc} --from-bundle {result.root}",
    ]
    return lines


def notes(into: Path) -> list[str]:
    """Advice about where the reproduction lives: inside the project's git tree and not ignored."""
    from releaser.sources.git import git_env

    try:
        inside = subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree"], cwd=into, env=git_env(), capture_output=True, text=True, timeout=60
        )
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return []
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", str(into / MARKER)], cwd=into, env=git_env(), capture_output=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if ignored.returncode == 0:
        return []
    return [f"{into} is inside a git work tree and not ignored: add it to .gitignore (releaser cut refuses a dirty tree)"]
