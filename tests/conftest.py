"""Shared fixtures: a real package index on 127.0.0.1 and projects that lock against it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from actionworld import released
from helpers import (
    Project,
    days,
    python_project,
)
from loopback.actionserver import ActionServer
from loopback.files import FileServer
from loopback.gitrepo import GitRepo, python_package
from loopback.installed import wheels_with_dependencies
from loopback.maven import MavenRepository
from loopback.pypi import PackageIndex
from loopback.registry import OciRegistry

# The files that take a minute or more, longest first: workers take whole files (--dist loadfile),
# and a long file handed out last would run alone while the other workers sit idle.
LONGEST_FIRST = (
    "tests/stages/rehearse/test_rehearse.py", "tests/stages/rehearse/test_history.py", "tests/stories/test_bench.py",
    "tests/stages/site/", "tests/stages/rehearse/", "tests/ecosystems/python/test_sdist_output.py", "tests/stories/test_demo.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: every other file, and each file's tests, keep their order


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # One cache for the whole run (pip's is keyed by URL, so safe to share), never the user's:
    # set for the session, so that module fixtures (a line of RCs cut in-process) use it too.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
        yield


@pytest.fixture(autouse=True)
def _secrets_of_this_test_only() -> Iterator[None]:
    # releaser remembers every secret it meets for the life of its process, and scrubs it from
    # all it writes. A worker runs many tests in one process: a value one test made a secret
    # (a fuzzed URL's "heads") must not be scrubbed from what the next one records.
    from releaser.core import redact

    before = set(redact._known)
    yield
    with redact._lock:
        redact._known.clear()
        redact._known.update(before)


@pytest.fixture
def index() -> Iterator[PackageIndex]:
    """A PEP 691/700 index on 127.0.0.1, serving wheels the tests publish."""
    with PackageIndex() as idx:
        yield idx


@pytest.fixture
def populated(index: PackageIndex) -> PackageIndex:
    """alpha 1.0 needs beta>=1; beta 1.0 (with a Windows wheel and an sdist) then 2.0 a month later."""
    index.publish("alpha", "1.0", requires=["beta>=1"], uploaded=days(0))
    index.publish("beta", "1.0", uploaded=days(1), sdist=True, tags=("py3-none-any", "cp311-cp311-win_amd64"))
    index.publish("beta", "2.0", uploaded=days(30))
    return index


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Project]:
    """A project whose release.toml names `index_url` and requirements.in holds `requirements`."""

    def make(index_url: str, requirements: str = "alpha\n", extra: str = "", python: str = "") -> Project:
        return python_project(tmp_path / "project", index_url, requirements, extra, python)

    return make


@pytest.fixture
def git_requirement(tmp_path: Path, index: PackageIndex, make_project: Callable[..., Project]) -> tuple[Project, GitRepo]:
    """(a project whose one requirement is `gitpkg @ git+<local repository>@main`, that repository).

    gitpkg 1.0 needs beta, which the index serves; the repository's first commit is of 2024-01-01.
    """
    index.publish("beta", "1.0", uploaded=days(0))
    repo = GitRepo(tmp_path / "gitpkg")
    repo.commit(python_package("gitpkg", "1.0", requires=("beta",)), when=datetime(2024, 1, 1, 12, tzinfo=UTC), message="1.0")
    project = make_project(index.url, requirements=f"gitpkg @ git+{repo.url}@main\n", python="allow-local = true")
    return project, repo


@pytest.fixture
def maven_repo() -> Iterator[MavenRepository]:
    """A Maven 2 repository on 127.0.0.1: listings, Last-Modified, checksum headers and sidecars."""
    with MavenRepository() as repo:
        yield repo


@pytest.fixture
def files() -> Iterator[FileServer]:
    """A plain file server on 127.0.0.1 (Last-Modified, HEAD, injected failures) for URL artifacts."""
    with FileServer() as server:
        yield server


@pytest.fixture
def registry() -> Iterator[OciRegistry]:
    """A real OCI registry (Debian's docker-registry) on 127.0.0.1, plain HTTP, its own storage;
    `registry.publish("repo:tag", created=...)` pushes a two-platform image with skopeo."""
    with OciRegistry() as reg:
        yield reg


@pytest.fixture
def private_registry() -> Iterator[OciRegistry]:
    """The same registry behind HTTP Basic auth (htpasswd): login ("alice", "s3cret-pw")."""
    with OciRegistry(login=("alice", "s3cret-pw")) as reg:
        yield reg


@pytest.fixture
def token_registry() -> Iterator[OciRegistry]:
    """The registry with Bearer-token auth: its 401 names a token service here, which issues
    signed tokens to the login ("alice", "s3cret-pw") only."""
    with OciRegistry(login=("alice", "s3cret-pw"), bearer=True) as reg:
        yield reg


@pytest.fixture(scope="module")
def line_of_rcs(framework_index: PackageIndex, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Three RCs cut for real, each rehearsed on SQLite (tests/lineofrcs.py): Python pins that change,
    appear and go, a Maven SNAPSHOT rebuilt, Django migrations with a merge."""
    from lineofrcs import make_line

    with MavenRepository() as maven:
        yield make_line(tmp_path_factory.mktemp("line") / "shop", framework_index, maven)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A private PostgreSQL cluster on 127.0.0.1 (tests/pgcluster.py), one for the whole run."""
    import pgcluster

    cluster = pgcluster.start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def framework_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackageIndex]:
    """The loopback index serving Django, Alembic, psycopg and what they need, as installed here."""
    folder = tmp_path_factory.mktemp("wheels")
    with PackageIndex() as index:
        for wheel in wheels_with_dependencies(["django", "alembic", "psycopg", "psycopg-binary"], folder):
            index.add(wheel)
        yield index


@pytest.fixture
def world(populated: PackageIndex, make_project: Callable[..., Project], tmp_path: Path) -> Iterator[Any]:
    """rc1, recorded (tests/recorded.py): alpha 1.0 + beta 1.0 locked as of day 10, a SNAPSHOT
    build and a classified zip, a git commit on main, a URL artifact."""
    from recorded import make_world

    yield from make_world(populated, make_project, tmp_path)


@pytest.fixture
def git_identity(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A git identity for releaser's record commit and tag; no user or system git config."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path_factory.getbasetemp() / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Release Engineer")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "re@example.org")


@pytest.fixture
def action_server(tmp_path: Path) -> ActionServer:
    """A fake GitHub serving acme/checkout v4, acme/tool v2, acme/setup v1 (composite) and acme/flows v1
    (a reusable workflow): see `actionworld.released`."""
    return released(ActionServer(tmp_path))
