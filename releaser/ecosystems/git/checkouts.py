"""A git pin, again: a clone detached at the recorded commit, or a git bundle of it.

`releaser reproduce` clones each git pin's remote (or the git bundle a bundle
holds for it) and checks out the recorded commit, even after a force-push took it
off every branch; `releaser bundle` stores that commit and its history as a git
bundle with the ref `refs/heads/pinned`. A clone with local changes is never
touched; a clone is made in a hidden `.partial` folder and renamed into place when
it is at the recorded commit. git runs as for the git source (`releaser.ecosystems.git.source`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from releaser.core.errors import Refused, UpstreamError
from releaser.core.lockfile import Pin
from releaser.core.redact import strip_credentials
from releaser.ecosystems.git.ids import commit_of
from releaser.plumbing.credentials import git_credentials, with_userinfo

GIT_BUNDLE_REF = "refs/heads/pinned"
GIT_TIMEOUT = 30 * 60


def checkout(pin: Pin, dest: Path, *, bundle_file: Path | None, userinfo: Mapping[str, str] | None = None) -> str:
    """Clone the pin's remote (or its git bundle) into `dest`, detached at the recorded commit.

    'kept' when `dest` is already a clean checkout of it; a checkout with local
    changes is never touched (Refused). `userinfo` gives credentials by host, as release.toml does.
    """
    sha, what = commit_of(pin), f"git {pin.name}"
    env = _credentials(pin, userinfo)
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
        done = _git(["clone", "--quiet", "--no-checkout", "--", origin, str(partial)], what=what, env=env)
        if done.returncode != 0:
            raise UpstreamError(f"{what}: cloning {strip_credentials(origin)} failed: {_summary(done)}")
        if _git(["cat-file", "-e", f"{sha}^{{commit}}"], what=what, cwd=partial).returncode != 0:
            # Not on any branch or tag any more (a force-push): ask for the commit itself.
            _git(["fetch", "--quiet", "origin", sha], what=what, cwd=partial, env=env)
        done = _git(["checkout", "--quiet", "--detach", sha], what=what, cwd=partial)
        if done.returncode != 0:
            raise UpstreamError(
                f"{what}: {strip_credentials(origin)} no longer has commit {sha} that {pin.name} was pinned to "
                f"({_summary(done)}); reproduce from a bundle made earlier (releaser bundle)"
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


def make_git_bundle(pin: Pin, dest: Path, workdir: Path, userinfo: Mapping[str, str] | None = None) -> None:
    """`dest`: a git bundle of the pin's commit and its history, ref `refs/heads/pinned`."""
    sha, what = commit_of(pin), f"git {pin.name}"
    env = _credentials(pin, userinfo)
    repo = workdir / pin.name
    shutil.rmtree(repo, ignore_errors=True)
    done = _git(["clone", "--quiet", "--bare", "--", pin.source, str(repo)], what=what, env=env)
    if done.returncode != 0:
        raise UpstreamError(f"{what}: cloning {pin.source} failed: {_summary(done)}")
    if _git(["cat-file", "-e", f"{sha}^{{commit}}"], what=what, cwd=repo).returncode != 0:
        _git(["fetch", "--quiet", "--", pin.source, sha], what=what, cwd=repo, env=env)
    if _git(["update-ref", GIT_BUNDLE_REF, sha], what=what, cwd=repo).returncode != 0:
        raise UpstreamError(f"{what}: {pin.source} no longer has commit {sha}; it cannot be bundled")
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        done = _git(["bundle", "create", "--quiet", str(partial), GIT_BUNDLE_REF], what=what, cwd=repo)
        if done.returncode != 0:
            raise UpstreamError(f"{what}: git bundle create failed: {_summary(done)}")
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(repo, ignore_errors=True)


def bundle_has(path: Path, pin: Pin) -> bool:
    """Whether the git bundle at `path` holds the pin's commit as a head."""
    done = _git(["bundle", "list-heads", str(path)], what=f"git {pin.name}")
    return done.returncode == 0 and any(line.split()[:1] == [pin.version] for line in done.stdout.splitlines())


def git_head(path: Path, what: str) -> str | None:
    done = _git(["rev-parse", "--verify", "HEAD^{commit}"], what=what, cwd=path)
    return done.stdout.strip() if done.returncode == 0 else None


def _git(
    args: list[str], *, what: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    from releaser.plumbing.gitrepo import run_git

    return run_git(args, what=what, timeout=GIT_TIMEOUT, cwd=cwd, env=env)


def _credentials(pin: Pin, userinfo: Mapping[str, str] | None) -> dict[str, str]:
    """git's environment for the pin's remote: release.toml's credentials for its host (never in its arguments)."""
    return git_credentials(with_userinfo(pin.source, userinfo or {}))[1]


def _summary(done: subprocess.CompletedProcess[str]) -> str:
    from releaser.ecosystems.git.source import summary

    return summary(done.stderr)
