"""`releaser export` only from a fresh, honest lock; git-pinned Python requirements exported by commit."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.pylock import Pylock

from releaser.lock.locking import lock
from releaser.plumbing.piprun import isolated_env


def test_export_from_a_stale_or_edited_lock_is_refused(populated, make_project):  # type: ignore[no-untyped-def]
    project = make_project(populated.url)
    lock(project.config())
    assert project.releaser("export", "--format", "requirements", "-o", "-").returncode == 0

    project.write("requirements.in", "alpha\nbeta<2\n")
    done = project.releaser("export", "--format", "requirements")
    assert done.returncode == 1 and "not fit to export from" in done.stderr and "beta<2" in done.stderr
    assert not (project.root / "requirements.txt").exists()

    project.write("requirements.in", "alpha\n")
    project.lockfile.write_text(project.lockfile.read_text().replace('version = "2.0"', 'version = "1.0"'))
    done = project.releaser("export", "--format", "pylock")
    assert done.returncode == 1 and "edited by hand" in done.stderr
    assert not (project.root / "pylock.toml").exists()


def test_a_git_pinned_requirement_is_exported_by_its_commit(tmp_path: Path, git_requirement):  # type: ignore[no-untyped-def]
    project, repo = git_requirement
    commit = repo.rev("main")
    lock(project.config())

    done = project.releaser("export", "--format", "requirements", "-o", "-")
    assert done.returncode == 0, done.stderr
    assert f"gitpkg @ git+{repo.url}@{commit}" in done.stdout.splitlines()
    assert "beta==1.0 \\" in done.stdout
    vcs = [line for line in done.stdout.splitlines() if "@ git+" in line]

    done = project.releaser("export", "--format", "pylock")
    assert done.returncode == 0, done.stderr
    pylock = Pylock.from_dict(tomllib.loads((project.root / "pylock.toml").read_text()))  # PEP 751, validated
    gitpkg = next(p for p in pylock.packages if p.name == "gitpkg")
    assert gitpkg.vcs is not None and (gitpkg.vcs.type, gitpkg.vcs.url, gitpkg.vcs.commit_id) == ("git", repo.url, commit)
    assert gitpkg.vcs.requested_revision == "main" and str(gitpkg.version) == "1.0"

    # pip installs the exported commit (the in-tree backend builds without an index).
    target = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(target), *vcs],
        capture_output=True, text=True, env=isolated_env(), timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    assert (target / "gitpkg" / "__init__.py").read_text() == '__version__ = "1.0"\n'
