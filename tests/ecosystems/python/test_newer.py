"""`check --online` offers only what `lock --upgrade` would take: releases that install on the lock's targets.

The index serves gamma 1.0 (locked), 1.5, 1.8 (a Windows wheel only) and 2.0, whose
Requires-Python (read from the wheel's metadata onto the index page, PEP 691 JSON or
PEP 503 HTML) excludes an older Python. Each verdict is checked against the real resolver:
`releaser lock --upgrade gamma` moves the pin exactly where the finding said it would.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import pytest

from helpers import Project, days, python_project
from loopback.pypi import PackageIndex
from releaser.core import lockfile

HERE = f"{sys.version_info[0]}.{sys.version_info[1]}"
NEXT = f"{sys.version_info[0]}.{sys.version_info[1] + 1}"
LINUX_HERE = f"sys_platform == 'linux' and python_version == '{HERE}'"
LINUX_NEXT = f"sys_platform == 'linux' and python_version == '{NEXT}'"


@pytest.fixture(params=["json", "html"])
def gammas(request: pytest.FixtureRequest) -> Iterator[PackageIndex]:
    with PackageIndex(html_only=request.param == "html") as index:
        index.publish("gamma", "1.0", uploaded=days(1))
        index.publish("gamma", "1.5", uploaded=days(2), requires_python=f">={HERE}")
        index.publish("gamma", "1.8", uploaded=days(3), tags=("cp311-cp311-win_amd64",))  # installs on Windows only
        index.publish("gamma", "2.0", uploaded=days(4), requires_python=f">={NEXT}")  # not on this Python
        yield index


def online(project: Project) -> list[dict[str, str]]:
    done = project.releaser("check", "--online", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return [f for f in json.loads(done.stdout)["findings"] if f["code"] == "newer"]


def locked_to(project: Project, *args: str) -> dict[str, str | None]:
    """Relock (`args`: e.g. --upgrade gamma); version -> marker of each gamma pin."""
    done = project.releaser("lock", *args)
    assert done.returncode == 0, done.stderr
    return {p.version: p.marker for p in lockfile.read(project.lockfile).pins if p.name == "gamma"}


def pin_gamma_10(project: Project) -> None:
    """Lock gamma at 1.0, as it was before the newer releases (the inputs float)."""
    requirements = project.root / "requirements.in"
    floating = requirements.read_text()
    requirements.write_text("gamma==1.0\n")
    assert project.releaser("lock").returncode == 0
    requirements.write_text(floating)
    assert set(locked_to(project)) == {"1.0"}  # a plain relock keeps it


def test_a_newer_release_whose_requires_python_excludes_the_lock_target_is_not_offered(gammas, tmp_path):  # type: ignore[no-untyped-def]
    project = python_project(tmp_path / "project", gammas.url, "gamma\n")
    pin_gamma_10(project)
    assert online(project) == [
        {
            "code": "newer", "severity": "info", "subject": "python gamma 1.0",
            "message": f"1.5 is on {gammas.url}", "fix": "releaser lock --upgrade gamma",
        }
    ]
    assert locked_to(project, "--upgrade", "gamma") == {"1.5": None}  # what pip-compile takes, as said
    assert online(project) == []  # 2.0 is newer, but not for this lock's Python


def test_each_target_is_told_the_release_it_would_move_to(gammas, tmp_path):  # type: ignore[no-untyped-def]
    environments = f'resolver = "uv"\nenvironments = ["{LINUX_HERE}", "{LINUX_NEXT}"]'
    project = python_project(tmp_path / "project", gammas.url, "gamma\n", python=environments)
    pin_gamma_10(project)
    [news] = online(project)
    assert news["message"] == f"on {gammas.url}, the newest that installs: 1.5 for {LINUX_HERE}; 2.0 for {LINUX_NEXT}"
    assert news["fix"] == "releaser lock --upgrade gamma"
    assert locked_to(project, "--upgrade", "gamma") == {"1.5": LINUX_HERE, "2.0": LINUX_NEXT}  # what uv takes, as said

    # A lock that pins a package once per target is read back, and fresh (it used to be "pinned twice").
    done = project.releaser("check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert online(project) == []
    exported = project.releaser("export", "--format", "requirements")
    assert exported.returncode == 0, exported.stderr
    exported_lines = (project.root / "requirements.txt").read_text().splitlines()
    assert [line.removesuffix(" \\") for line in exported_lines if line.startswith("gamma==")] == [
        f"gamma==1.5 ; {LINUX_HERE}", f"gamma==2.0 ; {LINUX_NEXT}",
    ]


def test_a_release_the_inputs_rule_out_names_the_requirement_to_change(gammas, tmp_path):  # type: ignore[no-untyped-def]
    project = python_project(tmp_path / "project", gammas.url, "gamma<1.5\n")
    assert set(locked_to(project)) == {"1.0"}
    [news] = online(project)
    assert news["message"] == f"1.5 is on {gammas.url}; the inputs ask for gamma<1.5, which `releaser lock --upgrade` keeps"
    assert news["fix"] == "change gamma<1.5 in your requirements, then releaser lock"
    assert set(locked_to(project, "--upgrade", "gamma")) == {"1.0"}  # as said: the upgrade keeps it
