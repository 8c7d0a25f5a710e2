"""An sdist-only dependency: its build requirements pinned under the cut-off, and `cut` and `reproduce` build it from them.

The index serves a real setuptools (and wheel, which setuptools before 70.1 asks for
to build a wheel, and packaging, which wheel needs) packed from this interpreter's
own installation, so nothing comes from the network; and a fake "setuptools 99.0"
uploaded after the cut-off, which would break any build that took it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from helpers import Project, days, python_project, sdist_index
from loopback.pypi import PackageIndex
from releaser.core import lockfile
from releaser.core.errors import Refused
from releaser.ecosystems.python.buildenv import create_venv, venv_python
from releaser.lock.locking import lock
from releaser.record import records

RC = "0.9.0rc1"


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PackageIndex, Path]]:
    """The index, and a project (alpha needs sdonly) locked against it as of day 10: once, ~15 s."""
    with sdist_index(tmp_path_factory, "sdists") as (index, folder):
        index.publish("alpha", "1.0", requires=["sdonly"], uploaded=days(2))
        project = python_project(folder / "project", index.url)
        lock(project.config(), as_of=days(10))
        # Gone again: an undated relock's pip-compile prepares sdonly's metadata (pip's own
        # isolated build, at lock time) with the newest setuptools.
        index.remove("setuptools-99.0-py3-none-any.whl")
        yield index, project.root


@pytest.fixture
def project(locked, tmp_path) -> Project:  # type: ignore[no-untyped-def]
    shutil.copytree(locked[1], tmp_path / "project")
    return Project(tmp_path / "project")


def bundled(project: Project, data: bytes) -> str:
    """Record `data` as the lock of RC and bundle it; the bundle's path, for `reproduce --from-bundle`."""
    manifest = {"schema": records.SCHEMA, "rc": RC, "lock_digest": records.lock_digest(data)}
    records.write(project.root / "releases", RC, {"manifest.json": json.dumps(manifest).encode(), "release.lock": data})
    done = project.releaser("bundle", RC)
    assert done.returncode == 0, done.stderr
    return f"dist/{RC}/bundle"


def older(lock: lockfile.Lock) -> lockfile.Lock:
    """`lock` as releaser wrote it before build pins existed."""
    return replace(lock, pins=tuple(replace(p, build=()) for p in lock.pins))


def installed(venv: Path) -> dict[str, str]:
    code = "import importlib.metadata as m, json; print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    done = subprocess.run([str(venv_python(venv)), "-I", "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_build_requirements_are_pinned_hashed_and_dated_under_the_cut_off(project):  # type: ignore[no-untyped-def]
    pins = {p.name: p for p in lockfile.read(project.lockfile).pins}
    assert set(pins) == {"alpha", "sdonly"}  # build pins are not part of the set
    build = {b.name: b for b in pins["sdonly"].build}
    assert "setuptools" in build and build["setuptools"].version != "99.0"
    assert build["setuptools"].requested == "setuptools>=61"
    assert all(b.artifacts and all(a.date < days(10) for a in b.artifacts) for b in build.values())
    assert pins["alpha"].build == ()  # it has a wheel: nothing is built
    assert project.releaser("check").returncode == 0

    # A relock keeps them byte for byte.
    before = project.lockfile.read_bytes()
    assert not lock(project.config()).written and project.lockfile.read_bytes() == before


def test_reproduce_builds_the_sdist_from_its_pins_offline_from_a_bundle(project, locked, tmp_path):  # type: ignore[no-untyped-def]
    bundle = bundled(project, project.lockfile.read_bytes())
    index, seen = locked[0], len(locked[0].requests_seen)
    done = project.releaser("reproduce", RC, "--into", str(tmp_path / "out"), "--from-bundle", bundle)
    assert done.returncode == 0, done.stderr
    assert {k.lower(): v for k, v in installed(tmp_path / "out" / "venv").items()} == {"alpha": "1.0", "sdonly": "1.0"}
    assert len(index.requests_seen) == seen  # offline: the sdist and its build pins came from the bundle


def test_reproduce_of_a_record_without_build_pins_names_the_sdist_it_could_not_build(project, tmp_path):  # type: ignore[no-untyped-def]
    # An RC recorded before build pins existed is still reproduced where it can be: pip's own
    # build is tried. Offline, with nothing to build sdonly with, that fails, and says why.
    bundle = bundled(project, lockfile.dumps(older(lockfile.read(project.lockfile))).encode())
    done = project.releaser("reproduce", RC, "--into", str(tmp_path / "out"), "--from-bundle", bundle)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    line = done.stderr.strip().splitlines()[-1]  # after the progress lines
    assert line.startswith("releaser: pip could not install 0.9.0rc1's Python set"), line
    assert line.endswith(
        "sdonly 1.0: no wheel for this interpreter, and building the sdist offline needs build dependencies "
        "the record does not pin (reproduce on a platform the RC has wheels for)"
    ), line


def test_cut_builds_the_sdist_from_its_pins_and_refuses_an_older_lock_without_them(project, tmp_path):  # type: ignore[no-untyped-def]
    from releaser.ecosystems.python.install import install_python

    current = lockfile.read(project.lockfile)
    venv = create_venv(tmp_path / "venv")
    (tmp_path / "work").mkdir()
    install_python(project.config(), current, venv, tmp_path / "work")
    assert {k.lower(): v for k, v in installed(venv).items()} == {"alpha": "1.0", "sdonly": "1.0"}

    # A lock written before build pins existed is still read, and fresh; building from it would float.
    project.lockfile.write_text(lockfile.dumps(older(current)))
    assert "[[python.build]]" not in project.lockfile.read_text()
    assert project.releaser("check").returncode == 0
    (tmp_path / "work2").mkdir()
    with pytest.raises(Refused, match=r"sdonly 1.0: no wheel for this interpreter.*releaser lock --upgrade sdonly"):
        install_python(project.config(), lockfile.read(project.lockfile), create_venv(tmp_path / "v2"), tmp_path / "work2")


def test_check_online_verifies_the_build_pins_too(project, locked):  # type: ignore[no-untyped-def]
    assert project.releaser("check", "--online").returncode == 0
    locked[0].fail_next("/simple/setuptools/", 1, 404)  # the index no longer lists it
    done = project.releaser("check", "--online", "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    (gone,) = [f for f in json.loads(done.stdout)["findings"] if f["code"] == "gone"]
    assert gone["subject"].startswith("python sdonly 1.0 build requirement setuptools ")
    assert gone["fix"] == "releaser lock --upgrade sdonly"
