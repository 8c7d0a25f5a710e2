"""`releaser cut`: build an RC against exactly the pinned dependency set, gate it, record it.

The steps, in order; every one before the record is written can refuse, and a
refusal leaves the project as it was (no record, no tag, nothing in dist/):

1. Preconditions (`prepare`), nothing written: the project is in a git repository
   with a commit, the tree is clean, the lock passes `releaser check` (the same
   `Verdict`, so the two can never disagree), the RC id is free (neither recorded
   nor tagged), `dist/` is ignored by git, the records folder is not, a git
   identity exists for the commit and the tag, the MANIFEST template is there.
2. An isolated virtual environment (no pip configuration reaches it) gets the
   locked Python set, every file hash-verified (`pip install --require-hashes
   --no-deps`); the locked Maven and URL files are fetched into `dist/<rc>/deps/`
   and verified by sha256.
3. `[release] build` runs in that environment, then every `[release] gates`
   command. A failing build is an outside failure (exit 3), a failing gate a
   refusal (exit 1); both name the command and show the end of its output, and
   `dist/<rc>/` is removed again.
4. The record `releases/<rc>/` (manifest.json, MANIFEST.md, a byte copy of the
   lock) is written in one step by `record.write`, which never overwrites.
5. The record is committed (`Record <rc>`), so the RC's tag points at a commit
   that contains its own record, whose parent is the commit that was built; then
   the annotated tag. `commit=False` leaves the record untracked and tags the
   built commit; `tag=False` skips the tag.

Up to and including the commit a cut is all or nothing: should the commit fail,
the record is removed again. The tag comes last; if it fails, the error says the
command that finishes the job.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Callable
from urllib.parse import urlsplit

from packaging.version import InvalidVersion, Version

from releaser import __version__, lockfile, record
from releaser.config import ReleaseConfig
from releaser.errors import ConfigError, Refused, ReleaserError, UpstreamError
from releaser.lockfile import KINDS, Lock, Pin
from releaser.redact import scrub, strip_credentials

DIST = "dist"
DEPS = "deps"  # dist/<rc>/deps/<kind>/<file>: the locked Maven and URL files
BUNDLE = "bundle"  # dist/<rc>/bundle/: written by `releaser bundle`, not a built file
TAIL = 20  # lines of a failed command's output shown
GIT_TIMEOUT = 120
DEP_KINDS = ("maven", "artifact")  # pins whose files are fetched into deps/
KIND_TITLES = {"python": "Python", "maven": "Maven", "git": "git", "artifact": "URL artifacts"}

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

    @property
    def root(self) -> Path:
        return self.config.root

    @property
    def records_dir(self) -> Path:
        return self.root / self.config.release.records

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


# -- the cut ------------------------------------------------------------------


def cut(
    config: ReleaseConfig,
    *,
    rc_number: int | None = None,
    tag: bool = True,
    commit: bool = True,
    log: Log | None = None,
) -> CutResult:
    """Cut the next RC (or `{version}rc{rc_number}`); see the module docstring."""
    say = log or (lambda _line: None)
    plan = prepare(config, rc_number=rc_number, tag=tag, commit=commit)
    say(f"cutting {plan.rc} of {config.release.name} from commit {plan.commit[:12]} ({len(plan.lock.pins)} pins)")
    dist = plan.dist
    notes: list[str] = []
    if dist.exists():  # only a killed earlier attempt leaves one: the RC is not recorded
        notes.append(f"removed {DIST}/{plan.rc}/, left over from an interrupted cut")
        shutil.rmtree(dist)
    try:
        with tempfile.TemporaryDirectory(prefix="releaser-cut-") as tmp:
            work = Path(tmp)
            venv = create_environment(work / "venv")
            say(f"installing {len(plan.lock.of_kind('python'))} locked Python packages, hash-verified")
            install_python(config, plan.lock, venv, work)
            dist.mkdir(parents=True)
            fetched = fetch_dependencies(config, plan.lock, dist / DEPS)
            if fetched:
                say(f"fetched {fetched} locked files into {DIST}/{plan.rc}/{DEPS}/, sha256-verified")
            env = build_environment(venv, plan, dist)
            if config.release.build:
                say(f"build: {_show(config.release.build)}")
                last = run_step(_expand(config.release.build, plan, dist), plan.root, env, work / "build.log", what="build")
                say(f"  ok{': ' + last if last else ''}")
            for gate in config.release.gates:
                say(f"gate: {_show(gate)}")
                last = run_step(_expand(gate, plan, dist), plan.root, env, work / "gate.log", what="gate")
                say(f"  passed{': ' + last if last else ''}")
        notes += _after_build(plan)
        built = built_files(dist)
        manifest = make_manifest(plan, built)
        files = {
            record.MANIFEST: dump_manifest(manifest),
            record.MANIFEST_MD: render_markdown(config, manifest).encode("utf-8"),
            record.LOCK_COPY: plan.lock_bytes,
        }
        path = record.write(plan.records_dir, plan.rc, files)
    except BaseException:
        shutil.rmtree(dist, ignore_errors=True)
        raise
    say(f"recorded {plan.rc} in {config.release.records}/{plan.rc}/")

    record_commit = None
    if plan.commit_record:
        try:
            record_commit = _commit_record(plan, path)
        except BaseException:
            if _undo_record(plan, path):
                shutil.rmtree(dist, ignore_errors=True)
            raise
        say(f"committed the record: {record_commit[:12]} Record {plan.rc}")
    if plan.tag is not None:
        target = record_commit or plan.commit
        message = tag_message(plan, manifest)
        try:
            _git(plan.root, "tag", "-a", plan.tag, "-m", message, target)
        except ReleaserError as exc:
            raise UpstreamError(
                f"{plan.rc} is recorded{' and committed' if record_commit else ''}, but the tag failed: {exc}; "
                f"finish with: git tag -a {plan.tag} -m 'Release candidate {plan.rc}' {target[:12]}"
            ) from None
        say(f"tagged {plan.tag} -> {target[:12]}")
    return CutResult(plan.rc, path, manifest, plan.commit, record_commit, plan.tag, dist, tuple(notes))


# -- 1. preconditions ---------------------------------------------------------


def prepare(config: ReleaseConfig, *, rc_number: int | None = None, tag: bool = True, commit: bool = True) -> Plan:
    """Check everything a cut needs, in the order a release engineer would; write nothing."""
    from releaser.check import check

    root = config.root
    repo = _repository(root)
    head = _head(root)
    dirty = _status(root)
    if dirty:
        shown = ", ".join(dirty[:8]) + (f" and {len(dirty) - 8} more" if len(dirty) > 8 else "")
        raise Refused(
            f"the work tree of {repo} is not clean ({shown}): an RC is built from a commit, exactly. "
            "Commit or stash the changes (ignore generated files in .gitignore), then cut again"
        )
    verdict = check(config)
    if not verdict.ok:
        raise Refused(f"{config.release.lockfile} is not fit to cut an RC from:\n{verdict.render()}")
    lock_bytes = config.lockfile.read_bytes()
    lock = lockfile.loads(lock_bytes.decode("utf-8"), config.lockfile)

    rc = rc_id(config, root, rc_number)
    tag_name = tag_name_of(config, rc) if tag else None
    records_dir = root / config.release.records
    if (records_dir / rc).exists():
        raise Refused(
            f"{rc} is already recorded in {config.release.records}/{rc}/; a record is never overwritten. "
            "Cut the next RC: releaser cut"
        )
    tagged = tagged_rcs(config, root)
    if rc in tagged:
        raise Refused(f"{rc} is already tagged ({tag_name_of(config, rc)}); cut the next RC: releaser cut")
    if tag_name is not None:
        if not _git_ok(root, "check-ref-format", f"refs/tags/{tag_name}"):
            raise ConfigError(f"[release] tag gives {tag_name!r}, which is not a valid git tag name")
        if _git_ok(root, "rev-parse", "-q", "--verify", f"refs/tags/{tag_name}"):
            raise Refused(f"the tag {tag_name} exists already; cut the next RC: releaser cut")
    if not _git_ok(root, "check-ignore", "-q", f"{DIST}/{rc}/file"):
        raise Refused(
            f"{DIST}/ is not ignored by git: the built files would make the tree dirty. "
            f"Add `/{DIST}/` to .gitignore, commit it, then cut again"
        )
    if commit and _git_ok(root, "check-ignore", "-q", f"{config.release.records}/{rc}/{record.MANIFEST}"):
        raise Refused(
            f"{config.release.records}/ is ignored by git, but records are committed: "
            "remove it from .gitignore (or cut with --no-commit)"
        )
    if (commit or tag) and not _git_ok(root, "var", "GIT_COMMITTER_IDENT"):
        raise Refused(
            "git has no identity to commit and tag the record with: "
            "git config user.name 'NAME' && git config user.email 'EMAIL'"
        )
    _template_source(config)  # a configured template folder must hold MANIFEST.md.j2
    return Plan(config, rc, head, _commit_time(root, head), lock_bytes, lock, tag_name, commit)


def rc_id(config: ReleaseConfig, root: Path, number: int | None) -> str:
    """`{version}rc{N}`: N is `number`, or one more than any RC recorded or tagged."""
    version = config.release.version
    if number is None:
        taken = [*_rc_numbers(config, record.recorded(root / config.release.records)), *_rc_numbers(config, tagged_rcs(config, root))]
        number = max(taken, default=0) + 1
    if number < 1:
        raise ConfigError(f"--rc {number}: RC numbers start at 1")
    rc = f"{version}rc{number}"
    try:
        parsed = Version(rc)
    except InvalidVersion:
        parsed = None
    if parsed is None or parsed.pre != ("rc", number) or parsed.dev is not None or parsed.post is not None:
        raise ConfigError(
            f"[release] version {version!r} gives the RC id {rc!r}, which is not a PEP 440 release candidate; "
            "set version to the final release, e.g. \"1.0.0\""
        )
    return rc


def tagged_rcs(config: ReleaseConfig, root: Path) -> list[str]:
    """The RC ids of this version that have a tag named by `[release] tag`."""
    prefix, _, suffix = config.release.tag.partition("{rc}")
    pattern = re.compile(re.escape(prefix) + "(" + re.escape(config.release.version) + r"rc\d+)" + re.escape(suffix) + "$")
    found = []
    for name in _git(root, "tag", "--list").splitlines():
        match = pattern.match(name.strip())
        if match:
            found.append(match.group(1))
    return found


def tag_name_of(config: ReleaseConfig, rc: str) -> str:
    return config.release.tag.replace("{rc}", rc)


def _rc_numbers(config: ReleaseConfig, ids: list[str]) -> list[int]:
    pattern = re.compile(re.escape(config.release.version) + r"rc(\d+)$")
    return [int(m.group(1)) for m in map(pattern.match, ids) if m]


# -- 2. the build environment --------------------------------------------------


def create_environment(path: Path) -> Path:
    """A fresh virtual environment without pip, so it holds only what is installed into it."""
    done = subprocess.run(
        [sys.executable, "-P", "-m", "venv", "--without-pip", str(path)], capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise UpstreamError(f"cannot create the build environment: {_tail(done.stdout + done.stderr, 3)}")
    return path


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / ("python.exe" if os.name == "nt" else "python")


def install_python(config: ReleaseConfig, lock: Lock, venv: Path, work: Path) -> None:
    """`pip install --require-hashes --no-deps` the locked Python set into `venv`.

    This interpreter's pip (releaser's own, pip >= 26) installs into the venv with
    `--python`, isolated from the machine's pip configuration. The requirements are
    `releaser export --format requirements`, the indexes given back their credentials
    from release.toml (the lock records none); the file lives in a private temp folder.
    """
    from releaser.export import to_requirements
    from releaser.sources.python import cache_dir, isolated_env

    if not lock.of_kind("python"):
        return
    text = to_requirements(lock)
    configured = {strip_credentials(u): u for u in (config.python.index_urls if config.python else ())}
    lines, hosts = [], set()
    for line in text.splitlines():
        option, _, url = line.partition(" ")
        if option in ("--index-url", "--extra-index-url"):
            url = configured.get(url, url)
            parts = urlsplit(url)
            if parts.scheme == "http" and parts.hostname:
                hosts.add(parts.hostname)
            line = f"{option} {url}"
        lines.append(line)
    requirements = work / "requirements.txt"
    fd = os.open(requirements, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    command = [
        sys.executable, "-P", "-m", "pip", "--python", str(venv_python(venv)), "install",
        "--require-hashes", "--no-deps", "--no-input", "--disable-pip-version-check",
        "--cache-dir", str(cache_dir()), "-r", str(requirements),
    ]
    for host in sorted(hosts):
        command += ["--trusted-host", host]
    done = subprocess.run(command, capture_output=True, text=True, env=isolated_env(), timeout=3600, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        output = done.stdout + done.stderr
        if "HASHES" in output.upper() and "DO NOT MATCH" in output.upper():
            raise Refused(
                "a locked Python file did not match its sha256 in the lock: upstream serves other bytes now; "
                f"find out why (releaser check --online) before relocking:\n{_tail(output)}"
            )
        raise UpstreamError(f"installing the locked Python packages failed:\n{_tail(output)}")


def fetch_dependencies(config: ReleaseConfig, lock: Lock, deps: Path, *, http: Any = None) -> int:
    """Download every file of every Maven and URL pin into `deps/<kind>/`, verified by sha256."""
    from releaser.check import _configured_userinfo, _with_userinfo
    from releaser.http import Http

    wanted: dict[Path, tuple[Pin, lockfile.Artifact]] = {}
    for pin in (p for kind in DEP_KINDS for p in lock.of_kind(kind)):
        for artifact in pin.artifacts:
            name = PurePosixPath(artifact.name).name
            if name != artifact.name or name in ("", ".", "..") or "\\" in name or any(ord(c) < 32 for c in name):
                raise ConfigError(f"{config.release.lockfile}: {pin.kind} {pin.name}: {artifact.name!r} is not a plain file name")
            dest = deps / pin.kind / name
            other = wanted.get(dest)
            if other is not None and other[1].sha256 != artifact.sha256:
                raise ConfigError(
                    f"{config.release.lockfile}: two different files are both named {name} "
                    f"({other[0].kind} {other[0].name} and {pin.kind} {pin.name})"
                )
            wanted[dest] = (pin, artifact)
    if not wanted:
        return 0
    userinfo = _configured_userinfo(config)

    def fetch(item: tuple[Path, tuple[Pin, lockfile.Artifact]]) -> None:
        dest, (pin, artifact) = item
        what = f"{pin.kind} {pin.name} {pin.version}"
        if urlsplit(artifact.url).scheme not in ("http", "https"):
            raise UpstreamError(f"{what}: cannot fetch {artifact.url}: only http(s) URLs are fetched")
        sha256, _size = session.download(_with_userinfo(artifact.url, userinfo), dest, what=f"{what} file {artifact.name}")
        if sha256 != artifact.sha256:
            dest.unlink(missing_ok=True)
            raise Refused(
                f"{what}: {artifact.url} now serves other bytes (sha256 {sha256[:12]}…, locked {artifact.sha256[:12]}…); "
                "find out why (releaser check --online) before relocking"
            )

    session = http or Http()
    try:
        session.map(fetch, sorted(wanted.items()))
    finally:
        if http is None:
            session.session.close()
    return len(wanted)


def build_environment(venv: Path, plan: Plan, dist: Path) -> dict[str, str]:
    """The environment of the build and the gates: the venv first on PATH, nothing of pip's config."""
    from releaser.sources.python import isolated_env

    env = isolated_env()
    for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "__PYVENV_LAUNCHER__"):
        env.pop(name, None)
    bindir = venv_python(venv).parent
    env.update(
        PATH=str(bindir) + os.pathsep + env.get("PATH", os.defpath),
        VIRTUAL_ENV=str(venv),
        PYTHONNOUSERSITE="1",
        SOURCE_DATE_EPOCH=str(plan.commit_time),
        RELEASER_RC=plan.rc,
        RELEASER_DIST=str(dist),
        RELEASER_DEPS=str(dist / DEPS),
    )
    return env


# -- 3. build and gates --------------------------------------------------------


def run_step(argv: list[str], cwd: Path, env: dict[str, str], log: Path, *, what: str) -> str:
    """Run one build or gate command; return the last line it printed (scrubbed).

    A failure names the command and shows the end of its output.
    """
    error = UpstreamError if what == "build" else Refused
    with open(log, "w+b") as out:
        try:
            done = subprocess.run(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise error(f"{what} `{_show(argv)}`: {argv[0]} is not found on the build environment's PATH") from None
        except PermissionError as exc:
            raise error(f"{what} `{_show(argv)}` cannot be run: {exc}") from None
        out.seek(max(0, out.tell() - (1 << 16)))  # the end is what is shown
        output = out.read().decode("utf-8", "replace")
        if done.returncode != 0:
            verdict = "nothing is recorded" if what == "build" else "the gate said no; nothing is recorded"
            raise error(
                f"{what} `{_show(argv)}` exited {done.returncode}; {verdict}. The end of its output:\n{_tail(output)}"
            )
    lines = [line.strip() for line in scrub(output).splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def _expand(argv: tuple[str, ...], plan: Plan, dist: Path) -> list[str]:
    return [arg.replace("{dist}", str(dist) + os.sep).replace("{rc}", plan.rc) for arg in argv]


def _after_build(plan: Plan) -> list[str]:
    """The build must not have changed the commit it built; new untracked files are noted."""
    root = plan.root
    if _head(root) != plan.commit:
        raise Refused(f"HEAD moved during the build (was {plan.commit[:12]}); nothing is recorded")
    changed = [line for line in _status(root) if not line.startswith("??")]
    if changed:
        raise Refused(
            f"the build or a gate changed tracked files ({', '.join(changed[:8])}): what was built is not "
            "the commit; nothing is recorded. Make the build write only into {dist} (or ignored files)"
        )
    untracked = [line[3:] for line in _status(root) if line.startswith("??")]
    if untracked:
        return [f"the build left untracked files ({', '.join(untracked[:8])}); ignore them in .gitignore, or the next cut finds the tree dirty"]
    return []


def built_files(dist: Path) -> list[dict[str, Any]]:
    """Every file the build wrote under dist/<rc>/, except the fetched deps/ and a bundle/."""
    found = []
    for current, dirs, files in os.walk(dist):
        here = Path(current)
        if here == dist:
            dirs[:] = [d for d in dirs if d not in (DEPS, BUNDLE)]
        dirs.sort()
        for name in files:
            path = here / name
            if not path.is_file():
                continue
            sha256, size = _hash(path)
            found.append({"name": path.relative_to(dist).as_posix(), "sha256": sha256, "size": size})
    return sorted(found, key=lambda f: f["name"])


# -- 4. the record -------------------------------------------------------------


def make_manifest(plan: Plan, built: list[dict[str, Any]]) -> dict[str, Any]:
    """manifest.json, schema 1 (docs/records.md)."""
    config, lock = plan.config, plan.lock
    return {
        "schema": record.SCHEMA,
        "rc": plan.rc,
        "name": config.release.name,
        "version": config.release.version,
        "commit": plan.commit,
        "tag": plan.tag,
        "cut_at": _iso(datetime.now(timezone.utc).replace(microsecond=0)),
        "as_of": _iso(lock.as_of),
        "lock_digest": record.lock_digest(plan.lock_bytes),
        "lock_content_digest": lock.content_digest,
        "pins": [_pin(p) for p in sorted(lock.pins, key=lambda p: (KINDS.index(p.kind), p.name.lower(), p.version))],
        "built": built,
        "build": [scrub(a) for a in config.release.build],
        "gates": [[scrub(a) for a in gate] for gate in config.release.gates],
        "builder": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": sysconfig.get_platform(),
            "releaser": __version__,
            "resolver": lock.resolver,
            "locked_by": lock.releaser,
        },
    }


def dump_manifest(manifest: dict[str, Any]) -> bytes:
    """Deterministic JSON: sorted keys, two-space indent, a final newline."""
    return (json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def render_markdown(config: ReleaseConfig, manifest: dict[str, Any]) -> str:
    """MANIFEST.md from `MANIFEST.md.j2`: the project's `[release] templates` folder or releaser's own."""
    import jinja2

    folder, text = _template_source(config)
    loader = jinja2.FileSystemLoader(str(folder)) if folder is not None else jinja2.DictLoader({TEMPLATE: text or ""})
    env = jinja2.Environment(
        loader=loader,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["short"] = _short
    env.filters["cell"] = _cell
    env.filters["shell"] = _show
    pins_by_kind: dict[str, list[dict[str, Any]]] = {}
    for pin in manifest["pins"]:
        pins_by_kind.setdefault(pin["kind"], []).append(pin)
    try:
        page = env.get_template(TEMPLATE).render(manifest=manifest, pins_by_kind=pins_by_kind, kinds=KIND_TITLES)
    except jinja2.TemplateError as exc:
        where = f"{folder / TEMPLATE}" if folder is not None else TEMPLATE
        raise ConfigError(f"{where}: {type(exc).__name__}: {exc}") from None
    page = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in page.splitlines())).strip("\n")
    return page + "\n"


TEMPLATE = "MANIFEST.md.j2"


def _template_source(config: ReleaseConfig) -> tuple[Path | None, str | None]:
    """(the project's template folder, None) or (None, releaser's own template text)."""
    if config.release.templates is not None:
        folder = config.root / config.release.templates
        if not (folder / TEMPLATE).is_file():
            raise ConfigError(f"{config.path}: [release] templates: {folder} has no {TEMPLATE}")
        return folder, None
    return None, default_template()


def default_template() -> str:
    """releaser's own MANIFEST.md.j2: packaged as `releaser.templates` in a wheel, `templates/` in a checkout."""
    from importlib import resources

    try:
        packaged = resources.files("releaser.templates") / TEMPLATE
        if packaged.is_file():
            return packaged.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    checkout = Path(__file__).resolve().parent.parent / "templates" / TEMPLATE
    try:
        return checkout.read_text(encoding="utf-8")
    except OSError:
        raise UpstreamError(f"releaser's {TEMPLATE} is missing from its installation; reinstall releaser") from None


def tag_message(plan: Plan, manifest: dict[str, Any]) -> str:
    return (
        f"Release candidate {plan.rc} of {plan.config.release.name}\n\n"
        f"Built from {plan.commit}\n"
        f"Lock {manifest['lock_digest']} (as of {manifest['as_of']})\n"
        f"Record {plan.config.release.records}/{plan.rc}/\n"
    )


# -- 5. commit -----------------------------------------------------------------


def _commit_record(plan: Plan, path: Path) -> str:
    where = os.path.relpath(path, plan.root)
    _git(plan.root, "add", "--", where)
    _git(plan.root, "commit", "-q", "-m", f"Record {plan.rc}", "--", where)
    return _git(plan.root, "rev-parse", "HEAD").strip()


def _undo_record(plan: Plan, path: Path) -> bool:
    """After a failed commit: unstage and remove the record, unless it was committed after all."""
    done = _run_git(plan.root, "rev-parse", "--verify", "-q", "HEAD^{commit}")
    if done.returncode != 0 or done.stdout.strip() != plan.commit:
        return False  # interrupted after the commit was made: the record stays, committed
    _git_ok(plan.root, "rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", os.path.relpath(path, plan.root))
    shutil.rmtree(path, ignore_errors=True)
    return True


# -- git -----------------------------------------------------------------------


def _git_env() -> dict[str, str]:
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


def _run_git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, env=_git_env(), timeout=GIT_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise UpstreamError("git is not installed; `releaser cut` records the commit it builds and tags it") from None
    except subprocess.TimeoutExpired:
        raise UpstreamError(f"git {args[0]} did not finish within {GIT_TIMEOUT} s") from None


def _git(root: Path, *args: str) -> str:
    done = _run_git(root, *args)
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        raise UpstreamError(f"git {args[0]} failed: {scrub(' / '.join(lines[-3:]) or f'exit {done.returncode}')}")
    return done.stdout


def _git_ok(root: Path, *args: str) -> bool:
    return _run_git(root, *args).returncode == 0


def _repository(root: Path) -> Path:
    if not root.is_dir():
        raise ConfigError(f"{root}: no such folder")
    done = _run_git(root, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        raise Refused(
            f"{root} is not in a git repository: an RC records the commit it was built from. "
            "Put the project under git (git init && git add -A && git commit), then cut"
        )
    return Path(done.stdout.strip())


def _head(root: Path) -> str:
    done = _run_git(root, "rev-parse", "--verify", "-q", "HEAD^{commit}")
    if done.returncode != 0:
        raise Refused(f"the git repository of {root} has no commit yet: commit the project, then cut")
    return done.stdout.strip()


def _commit_time(root: Path, commit: str) -> int:
    return int(_git(root, "show", "-s", "--format=%ct", commit).strip())


def _status(root: Path) -> list[str]:
    """`git status --porcelain` lines of the whole repository: tracked changes and untracked files."""
    return [line for line in _git(root, "status", "--porcelain", "--untracked-files=all").splitlines() if line.strip()]


# -- small helpers -------------------------------------------------------------


def _hash(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _pin(pin: Pin) -> dict[str, Any]:
    return {
        "kind": pin.kind,
        "name": pin.name,
        "version": pin.version,
        "requested": pin.requested,
        "source": pin.source,
        "date": _iso(pin.date),
        "artifacts": [
            {
                "name": a.name,
                "url": a.url,
                "sha256": a.sha256,
                "size": a.size,
                "date": _iso(a.date),
                "upstream": dict(sorted(a.upstream)),
            }
            for a in sorted(pin.artifacts, key=lambda a: (a.name, a.url))
        ],
    }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _tail(text: str, lines: int = TAIL) -> str:
    kept = [line.rstrip() for line in scrub(text).splitlines() if line.strip()][-lines:]
    return "\n".join(f"  | {line}" for line in kept) or "  | (no output)"


def _show(argv: tuple[str, ...] | list[str]) -> str:
    import shlex

    return scrub(shlex.join(argv))


def _short(value: Any, n: int = 12) -> str:
    text = str(value or "")
    return text if len(text) <= n else text[:n] + "…"


def _cell(value: Any) -> str:
    return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ")
