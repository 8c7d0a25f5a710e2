"""Building an RC: its environment, the build and the gates in it, and what they built.

- The locked Python set goes into an isolated venv (`releaser.ecosystems.python.install`), every
  file verified against the lock's sha256 and size first, from the lock's indexes with
  the credentials release.toml gives them; the locked Maven and URL files are fetched
  into `dist/<rc>/deps/` (`releaser.plumbing.fetch`), verified alike.
- `[release] build` runs in that environment, then every `[release] gates`
  command, each seeing SOURCE_DATE_EPOCH (the built commit's time), RELEASER_RC,
  RELEASER_DIST and RELEASER_DEPS, and `{dist}`/`{rc}` in its arguments replaced.
  A failing build is an outside failure (exit 3), a failing gate a refusal
  (exit 1); both name the command and show the end of its output.
- Afterwards the commit must be as it was built, and every file under
  `dist/<rc>/` but deps/ and bundle/ is a built file, hashed for the manifest.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from releaser.core.config import ReleaseConfig
from releaser.core.errors import ConfigError, Refused, UpstreamError
from releaser.core.kinds import KINDS
from releaser.core.lockfile import Lock
from releaser.core.progress import Progress
from releaser.core.redact import output_tail, scrub, shown_command
from releaser.ecosystems import ecosystem
from releaser.ecosystems.base import Role
from releaser.ecosystems.python.buildenv import activated_env
from releaser.ecosystems.python.install import changed_upstream
from releaser.install.layout import BUNDLE, DEPS, of_role
from releaser.plumbing import gitrepo
from releaser.plumbing.credentials import configured_userinfo
from releaser.plumbing.fetch import Fetcher, PinnedFile, session
from releaser.plumbing.fsutil import sha256_of
from releaser.record.manifest import BuiltFile

if TYPE_CHECKING:
    from releaser.plumbing.http import Http

DEP_ROLES: tuple[Role, ...] = ("repository", "files")  # kinds whose files a build reads from disk: fetched into deps/<kind>/
TAIL = 20  # lines of a failed command's output shown


# -- the environment ------------------------------------------------------------


def fetch_dependencies(
    config: ReleaseConfig, lock: Lock, deps: Path, rc: str, *, http: Http | None = None, progress: Progress | None = None
) -> int:
    """Download every file of every pin a build reads from disk (Maven, URL artifacts) into `deps/<kind>/`,
    verified by sha256 and size."""
    wanted: dict[Path, PinnedFile] = {}
    for pin in (p for role in DEP_ROLES for p in of_role(lock, role)):
        for artifact in pin.artifacts:
            name = PurePosixPath(artifact.name).name
            if name != artifact.name or name in ("", ".", "..") or "\\" in name or any(ord(c) < 32 for c in name):
                raise ConfigError(f"{config.release.lockfile}: {pin.kind} {pin.name}: {artifact.name!r} is not a plain file name")
            dest = deps / pin.kind / name
            other = wanted.get(dest)
            if other is not None and other.artifact.sha256 != artifact.sha256:
                raise ConfigError(
                    f"{config.release.lockfile}: two different files are both named {name} "
                    f"({other.pin.kind} {other.pin.name} and {pin.kind} {pin.name})"
                )
            what = f"{pin.kind} {pin.name} {pin.version} file {artifact.name}"
            wanted[dest] = PinnedFile(pin, artifact, PurePosixPath(pin.kind, name), what)
    targets = [(item, dest) for dest, item in sorted(wanted.items(), key=lambda pair: pair[0])]
    for item, _ in targets:
        if urlsplit(item.artifact.url).scheme not in ("http", "https"):
            pin = item.pin
            raise UpstreamError(f"{pin.kind} {pin.name} {pin.version}: cannot fetch {item.artifact.url}: only http(s) URLs are fetched")
    if not targets:
        return 0
    with session(http) as web:
        Fetcher(rc=rc, mismatch=changed_upstream, http=web, userinfo=configured_userinfo(config)).fetch_all(targets, progress=progress)
    return len(targets)


def pinned_inputs(config: ReleaseConfig, lock: Lock, deps: Path, *, http: Http | None = None) -> dict[str, Path]:
    """Each source's inputs the build reads with their pins (a Dockerfile with its images by digest),
    under `deps/<kind>/`, once upstream is checked to serve the pins still; `{placeholder}` -> path."""
    found: dict[str, Path] = {}
    for kind in KINDS:
        pins = lock.of_kind(kind)
        if not pins or ecosystem(kind).role != "own":
            continue
        with session(http) as web:
            found.update(ecosystem(kind).cut_inputs(config, pins, deps / kind, web))
    return found


def build_environment(venv: Path, *, rc: str, commit_time: int, dist: Path) -> dict[str, str]:
    """The environment of the build and the gates: the venv first on PATH, nothing of pip's config."""
    env = activated_env(venv)
    env.update(
        SOURCE_DATE_EPOCH=str(commit_time),
        RELEASER_RC=rc,
        RELEASER_DIST=str(dist),
        RELEASER_DEPS=str(dist / DEPS),
    )
    return env


# -- build and gates --------------------------------------------------------------


def run_step(argv: list[str], cwd: Path, env: dict[str, str], log: Path, *, what: str) -> str:
    """Run one build or gate command; return the last line it printed (scrubbed).

    A failure names the command and shows the end of its output.
    """
    error = UpstreamError if what == "build" else Refused
    shown = shown_command(argv)
    with open(log, "w+b") as out:
        try:
            done = subprocess.run(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise error(f"{what} `{shown}`: {argv[0]} is not found on the build environment's PATH") from None
        except PermissionError as exc:
            raise error(f"{what} `{shown}` cannot be run: {exc}") from None
        out.seek(max(0, out.tell() - (1 << 16)))  # the end is what is shown
        output = out.read().decode("utf-8", "replace")
        if done.returncode != 0:
            verdict = "nothing is recorded" if what == "build" else "the gate said no; nothing is recorded"
            raise error(
                f"{what} `{shown}` exited {done.returncode}; {verdict}. The end of its output:\n{output_tail(output, TAIL)}"
            )
    lines = [line.strip() for line in scrub(output).splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def after_build(root: Path, commit: str) -> list[str]:
    """The build must not have changed the commit it built; new untracked files are noted."""
    if gitrepo.head(root) != commit:
        raise Refused(f"HEAD moved during the build (was {commit[:12]}); nothing is recorded")
    status = gitrepo.status(root)
    changed = [line for line in status if not line.startswith("??")]
    if changed:
        raise Refused(
            f"the build or a gate changed tracked files ({', '.join(changed[:8])}): what was built is not "
            "the commit; nothing is recorded. Make the build write only into {dist} (or ignored files)"
        )
    untracked = [line[3:] for line in status if line.startswith("??")]
    if untracked:
        return [f"the build left untracked files ({', '.join(untracked[:8])}); ignore them in .gitignore, or the next cut finds the tree dirty"]
    return []


def built_files(dist: Path) -> list[BuiltFile]:
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
            sha256, size = sha256_of(path)
            found.append(BuiltFile(path.relative_to(dist).as_posix(), sha256, size))
    return sorted(found, key=lambda f: f.name)
