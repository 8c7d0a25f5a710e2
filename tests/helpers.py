"""Plain helpers the tests share (fixtures are in conftest.py): time, projects, the command line."""


from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from loopback.pypi import PackageIndex
from releaser.core import config
from releaser.ecosystems import load_config

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def days(n: float) -> datetime:
    """T0 plus n days: upload times in tests are written relative to it."""
    return T0 + timedelta(days=n)


@contextmanager
def sdist_index(
    tmp_path_factory: pytest.TempPathFactory, name: str, auth: tuple[str, str] | None = None
) -> Iterator[tuple[PackageIndex, Path]]:
    """For a module's fixture: an index (asking for `auth`, if given) and a folder `name`, the run's
    shared pip cache, and on the index a real setuptools (with wheel and packaging, which it asks for)
    packed from this interpreter on day 0, a broken "setuptools 99.0" on day 30 that would fail any
    build taking it, and `sdonly` 1.0, an sdist only, built with setuptools>=61, on day 1."""
    from loopback.installed import wheel_of_installed
    from loopback.wheels import build_sdist

    folder = tmp_path_factory.mktemp(name)
    with PackageIndex(auth=auth) as index:
        for wheel in ("setuptools", "wheel", "packaging"):
            index.add(wheel_of_installed(wheel, folder), uploaded=days(0))
        index.publish("setuptools", "99.0", uploaded=days(30))
        index.add(build_sdist(folder, "sdonly", "1.0"), uploaded=days(1))
        yield index, folder


@dataclass
class Project:
    root: Path

    @property
    def lockfile(self) -> Path:
        return self.root / "release.lock"

    def config(self) -> config.ReleaseConfig:
        return load_config(self.root / config.CONFIG_NAME)

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    def releaser(self, *args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run the real command line in the project root, as a user would, in its own process."""
        return run_releaser(self.root, *args, env=env, timeout=timeout)


def run_releaser(
    cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`python -m releaser ARGS` in `cwd`, in its own process, with `env` over the current environment."""
    return subprocess.run(
        [sys.executable, "-m", "releaser", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def said(stderr: str) -> list[str]:
    """What a command said on stderr, without the progress lines a run off a terminal prints as
    each counted step ends ("files fetched 6/6"): its error is one line of what is left."""
    return [line for line in stderr.strip().splitlines() if not re.fullmatch(r"[a-z ]+ \d+/\d+", line)]


def python_project(
    root: Path, index_url: str, requirements: str = "alpha\n", extra: str = "", python: str = ""
) -> Project:
    """Write a project at `root`: requirements.in holds `requirements`; release.toml (cosmo 0.9.0) locks it
    against `index_url`, with `python` added to its [python] table and `extra` appended."""
    project = Project(root)
    project.root.mkdir(parents=True, exist_ok=True)
    project.write("requirements.in", requirements)
    project.write(
        "release.toml",
        f"""
        [release]
        name = "cosmo"
        version = "0.9.0"

        [python]
        requirements = ["requirements.in"]
        index-url = "{index_url}"
        {python}
        """,
    )
    if extra:
        with (project.root / "release.toml").open("a", encoding="utf-8") as f:
            f.write("\n" + textwrap.dedent(extra).lstrip())
    return project


def container_project(root: Path, registry_host: str, files: dict[str, str], containers: str = "") -> Project:
    """A project at `root` with `files` (Dockerfiles, compose files) and a release.toml whose
    [containers] table lists them (by name: `*Dockerfile*` as dockerfiles, the rest as compose),
    reaching `registry_host` over plain HTTP, with `containers` added to the table."""
    project = Project(root)
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        project.write(name, text)
    dockerfiles = [n for n in files if "Dockerfile" in n]
    compose = [n for n in files if "Dockerfile" not in n]
    project.write(
        "release.toml",
        f"""
        [release]
        name = "shop"
        version = "1.0.0"

        [containers]
        dockerfiles = {dockerfiles!r}
        compose = {compose!r}
        insecure = ["{registry_host}"]
        {containers}
        """.replace("'", '"'),
    )
    return project


def hostile_setup(hostile: PackageIndex, tmp_path: Path) -> tuple[Path, Path]:
    """What a machine's resolver configuration could point at to change the pins of `populated`:
    newer alpha and beta on `hostile`, a find-links folder with beta 8.0 and a constraints file
    pinning beta==1.0. Returns (links folder, constraints file)."""
    from loopback.wheels import build_wheel

    hostile.publish("alpha", "9.0", uploaded=days(1))
    hostile.publish("beta", "9.0", uploaded=days(1))
    links = tmp_path / "links"
    links.mkdir()
    build_wheel(links, "beta", "8.0")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("beta==1.0\n")
    return links, constraints


HOSTILE_AS_OF = "2024-03-01T00:00:00Z"


def home_env(tmp_path: Path) -> dict[str, str]:
    """A private HOME and XDG folders under `tmp_path`, where a test puts a machine's configuration."""
    home = tmp_path / "home"
    return {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CONFIG_DIRS": str(tmp_path / "xdg")}


def clean_lock(project: Project) -> bytes:
    """The lock `releaser lock --as-of HOSTILE_AS_OF` writes with nothing hostile about; the file removed after."""
    clean = project.releaser("lock", "--as-of", HOSTILE_AS_OF)
    assert clean.returncode == 0, clean.stderr
    expected = project.lockfile.read_bytes()
    project.lockfile.unlink()
    return expected


def assert_locks_alike(project: Project, expected: bytes, env: dict[str, str], hostile: PackageIndex) -> None:
    """`releaser lock` under `env` writes exactly `expected` and never asks `hostile`."""
    dirty = project.releaser("lock", "--as-of", HOSTILE_AS_OF, env=env)
    assert dirty.returncode == 0, dirty.stderr
    # The pins, hashes, dates and header byte for byte; the check seal aside, which also covers a
    # project file the hostile setup may add (a pyproject.toml holding [tool.uv]): not a resolution.
    assert _unsealed(project.lockfile.read_bytes()) == _unsealed(expected)
    assert hostile.requests_seen == []



def validated_sbom(text: str) -> dict[str, Any]:
    """The SBOM as JSON, after the CycloneDX 1.6 schema accepted it."""
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    assert errors is None, [str(e) for e in errors]
    return json.loads(text)


def _unsealed(lock: bytes) -> bytes:
    from releaser.core import seal

    found = seal.split(lock)
    return found[0] if found is not None else lock
