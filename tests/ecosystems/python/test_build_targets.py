"""A lock for named targets pins the build of each pin a target builds from its sdist, for that target.

`natlib` has a wheel for CPython 3.11 on Linux only, and an sdist: Linux installs the
wheel, Windows builds the sdist. `sdonly` has only an sdist: both build it. The index
serves a real setuptools (packed from this interpreter's own), as tests/test_sdist_builds.py.
Which wheel a target installs is checked against uv's own choice first.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from helpers import days, python_project, sdist_index
from loopback.pypi import PackageIndex
from releaser.core import lockfile, targets
from releaser.core.errors import Refused
from releaser.ecosystems.python.buildenv import create_venv
from releaser.ecosystems.python.resolve.uv import uv_binary, uv_env
from releaser.ecosystems.python.tags import wheel_fits
from releaser.lock.locking import lock

LINUX_311 = "sys_platform == 'linux' and python_version == '3.11'"
WIN_312 = "sys_platform == 'win32' and python_version == '3.12'"
MAC_312 = "sys_platform == 'darwin' and python_version == '3.12'"
MAC_INTEL_312 = f"{MAC_312} and platform_machine == 'x86_64'"
LINUX_ARM_312 = "sys_platform == 'linux' and python_version == '3.12' and platform_machine == 'aarch64'"

# (target, wheel tag): whether uv installs such a wheel there is what `wheel_fits` must say.
TAGS = [
    (LINUX_311, "cp311-cp311-manylinux_2_17_x86_64"),
    (LINUX_311, "cp311-cp311-manylinux2014_x86_64"),
    (LINUX_311, "cp311-cp311-manylinux_2_28_x86_64"),
    (LINUX_311, "cp311-cp311-manylinux_2_31_x86_64"),
    (LINUX_311, "cp311-cp311-musllinux_1_1_x86_64"),
    (LINUX_311, "cp311-cp311-linux_x86_64"),
    (LINUX_311, "cp312-cp312-manylinux_2_17_x86_64"),
    (LINUX_311, "cp310-abi3-manylinux_2_17_x86_64"),
    (LINUX_311, "cp312-abi3-manylinux_2_17_x86_64"),
    (LINUX_311, "cp311-cp311-manylinux_2_17_aarch64"),
    (LINUX_ARM_312, "cp312-cp312-manylinux_2_17_aarch64"),
    (WIN_312, "cp312-cp312-win_amd64"),
    (WIN_312, "cp312-cp312-win32"),
    (WIN_312, "py3-none-any"),
    (MAC_312, "cp312-cp312-macosx_13_0_arm64"),
    (MAC_312, "cp312-cp312-macosx_14_0_arm64"),
    (MAC_312, "cp312-cp312-macosx_10_9_universal2"),
    (MAC_312, "cp312-cp312-macosx_11_0_x86_64"),
    (MAC_INTEL_312, "cp312-cp312-macosx_10_9_x86_64"),
]


@pytest.fixture(scope="module")
def probes() -> Iterator[PackageIndex]:
    """probe-<n>: one project per case, with one wheel of its tag and no sdist."""
    with PackageIndex() as index:
        for n, (_, tag) in enumerate(TAGS):
            index.publish(f"probe-{n}", "1.0", tags=(tag,))
        yield index


@pytest.mark.parametrize("n", range(len(TAGS)), ids=[f"{targets.parse(t).uv_platform}-{tag}" for t, tag in TAGS])
def test_a_wheel_fits_a_target_exactly_when_uv_installs_it_there(probes, n, tmp_path):
    marker, tag = TAGS[n]
    target = targets.parse(marker)
    (tmp_path / "r.in").write_text(f"probe-{n}\n")
    done = subprocess.run(
        [uv_binary(), "pip", "compile", "--no-config", "--quiet", "--no-header", "--no-python-downloads", "--python", sys.executable,
         "--python-platform", target.uv_platform,
         "--python-version", target.python, "--cache-dir", str(tmp_path / "cache"), str(tmp_path / "r.in")],
        check=False, env=uv_env([probes.url]), capture_output=True, text=True, timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    assert wheel_fits(f"probe_{n}-1.0-{tag}.whl", target) is (done.returncode == 0), done.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PackageIndex, Path]]:
    """The index, and a project (app needs natlib and sdonly) locked for linux/3.11 and win32/3.12 as of day 10."""
    with sdist_index(tmp_path_factory, "targets") as (index, folder):
        index.publish("natlib", "1.0", tags=("cp311-cp311-manylinux_2_17_x86_64",), sdist=True, uploaded=days(1))
        index.publish("app", "1.0", requires=["natlib", "sdonly"], uploaded=days(2))
        project = python_project(
            folder / "project", index.url, "app\n", python=f'resolver = "uv"\nenvironments = ["{LINUX_311}", "{WIN_312}"]'
        )
        lock(project.config(), as_of=days(10))
        yield index, project.root


def build_markers(root: Path) -> dict[str, set[str | None]]:
    return {p.name: {b.marker for b in p.build} for p in lockfile.read(root / "release.lock").pins}


def test_each_target_that_builds_a_pin_gets_its_build_pinned_and_only_that_target(built, tmp_path):
    index, root = built
    locked = lockfile.read(root / "release.lock")
    pins = {p.name: p for p in locked.pins}
    assert build_markers(root) == {"app": set(), "natlib": {WIN_312}, "sdonly": {f"({LINUX_311}) or ({WIN_312})"}}
    setuptools = [b for b in pins["natlib"].build if b.name == "setuptools"]
    assert setuptools and setuptools[0].version != "99.0" and setuptools[0].requested == "setuptools>=61"
    assert all(a.date < days(10) for p in locked.pins for b in p.build for a in b.artifacts)

    # A relock keeps them byte for byte: they were made for these targets.
    project = python_project(tmp_path / "p", index.url, "app\n")
    (project.root / "release.toml").write_bytes((root / "release.toml").read_bytes())
    (project.root / "release.lock").write_bytes((root / "release.lock").read_bytes())
    assert not lock(project.config()).written

    # For Linux alone, natlib is no one's build, and sdonly's build pins are made again for Linux.
    text = (project.root / "release.toml").read_text().replace(f', "{WIN_312}"', "")
    (project.root / "release.toml").write_text(text)
    assert lock(project.config(), as_of=days(10)).written  # dated: setuptools 99.0 is no one's build
    assert build_markers(project.root) == {"app": set(), "natlib": set(), "sdonly": {LINUX_311}}


def test_cut_on_linux_installs_natlibs_wheel_and_builds_sdonly_from_the_build_pins_made_for_linux(built, tmp_path):
    from test_sdist_builds import installed

    from releaser.ecosystems.python.install import install_python

    if not targets.any_covers((LINUX_311,)):
        pytest.skip("installs on a linux/3.11 interpreter")
    project = python_project(tmp_path / "p", built[0].url, "app\n")
    (project.root / "release.toml").write_bytes((built[1] / "release.toml").read_bytes())
    locked = lockfile.read(built[1] / "release.lock")
    venv = create_venv(tmp_path / "venv")
    (tmp_path / "work").mkdir()
    install_python(project.config(), locked, venv, tmp_path / "work")
    assert {k.lower(): v for k, v in installed(venv).items()} == {"app": "1.0", "natlib": "1.0", "sdonly": "1.0"}
    assert not any((tmp_path / "work" / "sdists" / "python").glob("natlib*"))  # its wheel, not its sdist


def test_a_lock_made_on_another_platform_is_refused_naming_it_where_a_pin_has_no_wheel_here(built, tmp_path):
    from releaser.ecosystems.python.install import install_python

    if targets.any_covers((WIN_312,)):
        pytest.skip("needs an interpreter other than win32/3.12")
    index = built[0]
    if not any(p.startswith("winlib") for p in index.requests_seen):
        index.publish("winlib", "1.0", tags=("cp312-cp312-win_amd64",), sdist=True, uploaded=days(1))
    project = python_project(tmp_path / "p", index.url, "winlib\n", python=f'resolver = "uv"\nenvironments = ["{WIN_312}"]')
    locked = lock(project.config(), as_of=days(10)).lock
    assert build_markers(project.root) == {"winlib": set()}  # Windows installs its wheel: nothing to build
    # As the same lock made without environments on Windows reads.
    elsewhere = replace(locked, environments=(), target=WIN_312)
    with pytest.raises(Refused, match=r"winlib 1.0: no wheel for this interpreter.*locked on sys_platform == 'win32'.*environments"):
        install_python(project.config(), elsewhere, tmp_path / "venv", tmp_path)


def test_a_build_pin_marker_naming_no_target_of_the_lock_is_one_line_naming_the_pin(built, tmp_path):
    from helpers import run_releaser

    project = python_project(tmp_path / "p", built[0].url, "app\n")
    (project.root / "release.toml").write_bytes((built[1] / "release.toml").read_bytes())
    text = (built[1] / "release.lock").read_text()
    mac = "sys_platform == 'darwin' and python_version == '3.12'"
    assert text.count(f'marker = "{WIN_312}"') >= 1  # natlib's build pins, for Windows alone
    (project.root / "release.lock").write_text(text.replace(f'marker = "{WIN_312}"', f'marker = "{mac}"'))
    done = run_releaser(project.root, "check")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"releaser: {project.root / 'release.lock'}: [[python]] natlib build packaging: marker {mac!r} names no environment of the lock"
    ]
