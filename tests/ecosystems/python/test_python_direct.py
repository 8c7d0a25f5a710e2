"""Python direct references (`pkg @ git+...`, `pkg @ https://...whl`), pinned through real pip-compile."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from loopback.files import FileServer
from loopback.gitrepo import GitRepo, python_package
from loopback.pypi import PackageIndex
from loopback.wheels import build_wheel
from releaser.core import lockfile
from releaser.core.errors import UpstreamError
from releaser.ecosystems.python.direct import shown, split_vcs_url
from releaser.lock.locking import lock

JAN = datetime(2024, 1, 1, 12, tzinfo=UTC)
FEB = datetime(2024, 2, 1, 12, tzinfo=UTC)
MAR = datetime(2024, 3, 1, 12, tzinfo=UTC)


def python_pins(project) -> dict[str, lockfile.Pin]:  # type: ignore[no-untyped-def]
    current = lockfile.read(project.lockfile)
    assert current is not None
    return {p.name: p for p in current.of_kind("python")}


@pytest.fixture
def gitpkg(tmp_path: Path) -> GitRepo:
    """A buildable project on main: 1.0 in January, 1.1 in February; it needs beta."""
    repo = GitRepo(tmp_path / "gitpkg")
    repo.commit(python_package("gitpkg", "1.0", requires=("beta",)), when=JAN, message="1.0")
    repo.commit(python_package("gitpkg", "1.1", requires=("beta",)), when=FEB, message="1.1")
    return repo


def test_split_vcs_url() -> None:
    assert split_vcs_url("git+https://u:p@host/r.git@v1.0#subdirectory=py") == ("https://u:p@host/r.git", "v1.0", "subdirectory=py")
    assert split_vcs_url("git+ssh://git@host/r.git") == ("ssh://git@host/r.git", None, "")


def test_git_branch_is_pinned_to_a_commit(
    index: PackageIndex, gitpkg: GitRepo, make_project: Callable[..., object]
) -> None:
    index.publish("beta", "1.0", uploaded=JAN)
    requirement = f"gitpkg @ git+{gitpkg.url}@main"
    project = make_project(index.url, requirements=requirement + "\n", python="allow-local = true")
    done = project.releaser("lock")  # type: ignore[attr-defined]
    assert done.returncode == 0, done.stderr

    pins = python_pins(project)
    tip = gitpkg.rev("main")
    pin = pins["gitpkg"]
    assert (pin.version, pin.commit, pin.source, pin.date, pin.artifacts) == ("1.1", tip, gitpkg.url, FEB, ())
    assert pin.requested == shown(Requirement(requirement))
    assert pins["beta"].version == "1.0" and pins["beta"].artifacts  # its dependency, from the index
    entry = next(e for e in tomllib.loads(project.lockfile.read_text())["python"] if e["name"] == "gitpkg")  # type: ignore[attr-defined]
    assert entry["commit"] == tip and "artifacts" not in entry

    # The branch moves: the lock does not, until asked.
    before = project.lockfile.read_bytes()  # type: ignore[attr-defined]
    gitpkg.commit(python_package("gitpkg", "1.2", requires=("beta",)), when=MAR, message="1.2")
    assert not lock(project.config()).written  # type: ignore[attr-defined]
    assert project.lockfile.read_bytes() == before  # type: ignore[attr-defined]
    result = lock(project.config(), upgrade=("gitpkg",))  # type: ignore[attr-defined]
    assert result.changes == [f"python gitpkg: 1.1 ({tip[:12]}) -> 1.2 ({gitpkg.rev('main')[:12]})"]
    assert python_pins(project)["gitpkg"].commit == gitpkg.rev("main")


def test_git_branch_as_of_takes_the_older_commit(
    index: PackageIndex, gitpkg: GitRepo, make_project: Callable[..., object]
) -> None:
    index.publish("beta", "1.0", uploaded=JAN)
    project = make_project(index.url, requirements=f"gitpkg @ git+{gitpkg.url}@main\n", python="allow-local = true")
    lock(project.config(), as_of=datetime(2024, 1, 15, tzinfo=UTC))  # type: ignore[attr-defined]
    pin = python_pins(project)["gitpkg"]
    assert (pin.version, pin.commit, pin.date) == ("1.0", gitpkg.rev("main~1"), JAN)


def test_wheel_url_is_pinned_with_its_sha256(
    tmp_path: Path, index: PackageIndex, files: FileServer, make_project: Callable[..., object]
) -> None:
    index.publish("beta", "1.0", uploaded=JAN)
    wheel = build_wheel(tmp_path, "urlpkg", "2.0", requires=["beta"])
    data = wheel.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    url = files.put(f"dl/{wheel.name}", data, last_modified=FEB)
    project = make_project(index.url, requirements=f"urlpkg @ {url}\n")
    lock(project.config())  # type: ignore[attr-defined]

    pins = python_pins(project)
    pin = pins["urlpkg"]
    assert (pin.version, pin.source, pin.date, pin.commit) == ("2.0", url, FEB, None)
    assert [(a.name, a.url, a.sha256, a.size) for a in pin.artifacts] == [(wheel.name, url, digest, len(data))]
    assert pins["beta"].version == "1.0"

    # A hash in the requirement is checked against the bytes; nothing is written on a mismatch.
    before = project.lockfile.read_bytes()  # type: ignore[attr-defined]
    project.write("requirements.in", f"urlpkg @ {url}#sha256={'0' * 64}\n")  # type: ignore[attr-defined]
    with pytest.raises(UpstreamError, match=f"python urlpkg: {url} has sha256 {digest}, but the requirement says 0{{64}}"):
        lock(project.config())  # type: ignore[attr-defined]
    assert project.lockfile.read_bytes() == before  # type: ignore[attr-defined]
