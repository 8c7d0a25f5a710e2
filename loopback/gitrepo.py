"""Real git repositories for the tests and the demo: commits at chosen times, branches, tags.

`GitRepo` drives the real `git` binary with the machine's configuration shut
out and every commit's author and committer time set by the caller, so a test
can say "main had commit A on Jan 1 and B on Feb 1" and lock against it by a
file:// URL. `python_package` gives the files of a pip-installable project
whose PEP 517 backend lives in the repository and needs only the standard
library, so pip can build it offline.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

_IDENTITY = ["-c", "user.name=releaser-test", "-c", "user.email=test@releaser.invalid", "-c", "commit.gpgsign=false"]


def _env(when: datetime | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, LC_ALL="C")
    if when is not None:
        if when.tzinfo is None:
            raise ValueError("commit times must be timezone-aware")
        stamp = f"{int(when.timestamp())} +0000"
        env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
    return env


class GitRepo:
    """A non-bare repository at `path`, created on construction with branch `branch`."""

    def __init__(self, path: Path, *, branch: str = "main") -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", f"--initial-branch={branch}")

    @property
    def url(self) -> str:
        """file:// URL, as release.toml or a `git+` requirement would name it."""
        return self.path.resolve().as_uri()

    def git(self, *args: str, when: datetime | None = None) -> str:
        done = subprocess.run(
            ["git", *_IDENTITY, *args], cwd=self.path, env=_env(when), capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def commit(self, files: Mapping[str, str] | None = None, *, when: datetime, message: str = "change") -> str:
        """Write `files` (path -> text), commit everything at `when`; return the commit id."""
        for name, text in (files or {}).items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message, when=when)
        return self.rev("HEAD")

    def tag(self, name: str, rev: str = "HEAD", *, message: str | None = None, when: datetime | None = None) -> None:
        """A lightweight tag, or an annotated one when `message` is given."""
        if message is None:
            self.git("tag", name, rev)
        else:
            self.git("tag", "--annotate", "-m", message, name, rev, when=when or datetime.now(UTC))

    def branch(self, name: str, rev: str = "HEAD") -> None:
        self.git("branch", "--force", name, rev)

    def switch(self, name: str) -> None:
        self.git("switch", "--quiet", name)

    def rev(self, rev: str) -> str:
        return self.git("rev-parse", "--verify", f"{rev}^{{commit}}")


def python_package(name: str, version: str, *, requires: tuple[str, ...] = ()) -> dict[str, str]:
    """The files of a project pip can build with no index: an in-tree PEP 517 backend."""
    module = name.replace("-", "_").lower()
    deps = ", ".join(f'"{r}"' for r in requires)
    return {
        "pyproject.toml": textwrap.dedent(
            f"""\
            [build-system]
            requires = []
            build-backend = "backend"
            backend-path = ["."]

            [project]
            name = "{name}"
            version = "{version}"
            dependencies = [{deps}]
            """
        ),
        f"{module}/__init__.py": f'__version__ = "{version}"\n',
        "backend.py": _BACKEND,
    }


_BACKEND = '''\
"""A PEP 517 backend with the standard library only: metadata and a pure wheel."""

import base64
import hashlib
import os
import tomllib
import zipfile

with open("pyproject.toml", "rb") as _f:
    _PROJECT = tomllib.load(_f)["project"]
NAME, VERSION = _PROJECT["name"], _PROJECT["version"]
MODULE = NAME.replace("-", "_").lower()
INFO = f"{MODULE}-{VERSION}.dist-info"


def _metadata():
    lines = ["Metadata-Version: 2.1", f"Name: {NAME}", f"Version: {VERSION}"]
    lines += [f"Requires-Dist: {r}" for r in _PROJECT.get("dependencies", [])]
    return "\\n".join(lines) + "\\n\\n"


_WHEEL = "Wheel-Version: 1.0\\nGenerator: backend\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    os.makedirs(os.path.join(metadata_directory, INFO), exist_ok=True)
    for name, text in (("METADATA", _metadata()), ("WHEEL", _WHEEL)):
        with open(os.path.join(metadata_directory, INFO, name), "w", encoding="utf-8") as f:
            f.write(text)
    return INFO


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open(os.path.join(MODULE, "__init__.py"), "rb") as f:
        entries = {f"{MODULE}/__init__.py": f.read()}
    entries[f"{INFO}/METADATA"] = _metadata().encode()
    entries[f"{INFO}/WHEEL"] = _WHEEL.encode()
    record = []
    for path, data in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    entries[f"{INFO}/RECORD"] = ("\\n".join(record + [f"{INFO}/RECORD,,"]) + "\\n").encode()
    name = f"{MODULE}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as archive:
        for path, data in entries.items():
            archive.writestr(path, data)
    return name
'''
