"""The project's own git repository: its state, what it ignores, its tags and commits.

`releaser cut` builds a commit, exactly, so it asks git here whether the tree is
clean, where HEAD is, which RC tags exist; it commits the record and tags it.
`releaser reproduce` asks whether its folder would make the tree dirty.

git runs here with the user's own configuration (identity, hooks, ignores: the
project's repository is theirs), never prompting, in the C locale (`project_env`).
The repositories a lock pins from are another matter: `run_git` runs git isolated
from every configuration of the machine and the user (`git_env`), credentials given
through its environment only. Every git releaser runs goes through this module.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from releaser.core.errors import UpstreamError
from releaser.core.redact import scrub

GIT_TIMEOUT = 120  # seconds


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`git ARGS` in `root`, output captured; a missing git or a hang is an UpstreamError."""
    try:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, env=project_env(), timeout=GIT_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise UpstreamError("git is not installed; `releaser cut` records the commit it builds and tags it") from None
    except subprocess.TimeoutExpired:
        raise UpstreamError(f"git {args[0]} did not finish within {GIT_TIMEOUT} s") from None


def git(root: Path, *args: str) -> str:
    """The output of `git ARGS`; a failure is an UpstreamError with git's last words."""
    done = run(root, *args)
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        raise UpstreamError(f"git {args[0]} failed: {scrub(' / '.join(lines[-3:]) or f'exit {done.returncode}')}")
    return done.stdout


def show_bytes(root: Path, revision_path: str) -> bytes | None:
    """The bytes of `git show REV:PATH` (a file as a commit or tag holds it); None when it holds none."""
    try:
        done = subprocess.run(
            ["git", "show", revision_path], cwd=root, capture_output=True, env=project_env(), timeout=GIT_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise UpstreamError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise UpstreamError(f"git show did not finish within {GIT_TIMEOUT} s") from None
    return done.stdout if done.returncode == 0 else None


def ok(root: Path, *args: str) -> bool:
    """Whether `git ARGS` succeeds."""
    return run(root, *args).returncode == 0


def toplevel(root: Path) -> Path | None:
    """The top of the work tree `root` is in; None outside any."""
    done = run(root, "rev-parse", "--show-toplevel")
    return Path(done.stdout.strip()) if done.returncode == 0 else None


def head(root: Path) -> str | None:
    """The full id of HEAD; None before the first commit."""
    done = run(root, "rev-parse", "--verify", "-q", "HEAD^{commit}")
    return done.stdout.strip() if done.returncode == 0 else None


def commit_time(root: Path, commit: str) -> int:
    """The committer time of `commit`, in seconds since the epoch."""
    return int(git(root, "show", "-s", "--format=%ct", commit).strip())


def status(root: Path) -> list[str]:
    """`git status --porcelain` lines of the whole repository: tracked changes and untracked files."""
    return [line for line in git(root, "status", "--porcelain", "--untracked-files=all").splitlines() if line.strip()]


def ignored(root: Path, path: str) -> bool:
    """Whether git ignores `path` (relative to `root`, or absolute), existing or not."""
    return ok(root, "check-ignore", "-q", path)


def tags(root: Path) -> list[str]:
    return [name.strip() for name in git(root, "tag", "--list").splitlines() if name.strip()]


def commit_paths(root: Path, path: Path, message: str) -> str:
    """Commit `path` (and nothing else) with `message`; return the new commit's id."""
    where = os.path.relpath(path, root)
    git(root, "add", "--", where)
    git(root, "commit", "-q", "-m", message, "--", where)
    return git(root, "rev-parse", "HEAD").strip()


def unstage(root: Path, path: Path) -> None:
    """Take `path` out of the index again, if it is there."""
    ok(root, "rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", os.path.relpath(path, root))


def project_env() -> dict[str, str]:
    """The project's own repository: the user's configuration, no prompt, the C locale."""
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


# -- upstream repositories: git isolated from the machine's and the user's configuration -----

_TRANSPORT_VARS = ("GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_PROXY_COMMAND")


def git_env() -> dict[str, str]:
    """The environment git runs in: no prompts, no system or global config, C locale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in _TRANSPORT_VARS}
    env.pop("SSH_ASKPASS", None)
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_ASKPASS="",  # set but empty: git then asks no askpass program, not even SSH_ASKPASS
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_HTTP_LOW_SPEED_LIMIT="1000",  # bytes/s; below it for GIT_HTTP_LOW_SPEED_TIME seconds: give up
        GIT_HTTP_LOW_SPEED_TIME="60",
        LC_ALL="C",
    )
    if "GIT_SSH" not in env and "GIT_SSH_COMMAND" not in env:
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"
    return env


def run_git(
    args: list[str], *, what: str, timeout: int, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run git; a missing binary or a hang is an UpstreamError naming `what`.

    `env` adds to git's environment: how credentials reach it (`credentials.git_credentials`),
    never in `args`, which every local user can read.
    """
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            env={**git_env(), **(env or {})},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
        )
    except FileNotFoundError:
        raise UpstreamError(f"{what}: the git command is not installed; releaser needs it to pin git dependencies") from None
    except subprocess.TimeoutExpired:
        raise UpstreamError(f"{what}: git {args[0]} did not finish within {timeout // 60} minutes") from None


def git_version() -> str | None:
    try:
        done = subprocess.run(["git", "--version"], env=git_env(), capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip().removeprefix("git version ").strip() or None
