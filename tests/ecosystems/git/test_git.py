"""[[git]] inputs pinned against real repositories: file:// remotes and a smart-HTTP server."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loopback.githttp import GitHttpServer
from loopback.gitrepo import GitRepo
from releaser.core import lockfile
from releaser.core.errors import ReleaserError, UpstreamError
from releaser.ecosystems import load_config
from releaser.lock.locking import lock

JAN = datetime(2024, 1, 1, 12, tzinfo=UTC)
FEB = datetime(2024, 2, 1, 12, tzinfo=UTC)
MAR = datetime(2024, 3, 1, 12, tzinfo=UTC)


def write_project(root: Path, *deps: tuple[str, str, str]) -> Path:
    """A release.toml with one [[git]] table per (name, url, ref)."""
    root.mkdir(parents=True, exist_ok=True)
    text = '[release]\nname = "cosmo"\nversion = "0.9.0"\n'
    for name, url, ref in deps:
        text += f'\n[[git]]\nname = "{name}"\nurl = "{url}"\nref = "{ref}"\n'
        text += "allow-local = true\n" if url.startswith("file:") else ""
    (root / "release.toml").write_text(text, encoding="utf-8")
    return root


def run_lock(root: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    return lock(load_config(root / "release.toml"), **kwargs)  # type: ignore[arg-type]


def git_pins(root: Path) -> dict[str, lockfile.Pin]:
    current = lockfile.read(root / "release.lock")
    assert current is not None
    return {p.name: p for p in current.of_kind("git")}


def cli(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "releaser", *args], cwd=root, capture_output=True, text=True,
        env={**os.environ, **(env or {})}, timeout=120,
    )


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """main: A (Jan) then B (Feb); tag v1 (lightweight) on A, v2 (annotated, tagged in Mar) on B."""
    r = GitRepo(tmp_path / "upstream")
    r.commit({"f.txt": "a\n"}, when=JAN, message="A")
    r.tag("v1")
    r.commit({"f.txt": "b\n"}, when=FEB, message="B")
    r.tag("v2", message="release 2", when=MAR)
    return r


def test_branch_is_pinned_to_full_commit_and_committer_time(tmp_path: Path, repo: GitRepo) -> None:
    root = write_project(tmp_path / "p", ("windmill", repo.url, "main"))
    run_lock(root)
    pin = git_pins(root)["windmill"]
    assert (pin.version, pin.date, pin.requested, pin.source, pin.artifacts) == (repo.rev("main"), FEB, "main", repo.url, ())
    assert len(pin.version) == 40
    doc = tomllib.loads((root / "release.lock").read_text())
    assert doc["git"] == [
        {"name": "windmill", "version": repo.rev("main"), "requested": "main", "source": repo.url, "date": FEB}
    ]
    assert doc["sources"]["git"] == [repo.url]
    assert doc["resolver"].startswith("git ")


def test_relock_keeps_a_moved_branch_until_upgrade(tmp_path: Path, repo: GitRepo) -> None:
    root = write_project(tmp_path / "p", ("windmill", repo.url, "main"))
    run_lock(root)
    before = (root / "release.lock").read_bytes()
    old = repo.rev("main")
    new = repo.commit({"f.txt": "c\n"}, when=MAR, message="C")

    result = run_lock(root)
    assert not result.written and (root / "release.lock").read_bytes() == before
    assert git_pins(root)["windmill"].version == old

    result = run_lock(root, upgrade=("windmill",))
    assert result.changes == [f"git windmill: {old} -> {new}"]
    assert (git_pins(root)["windmill"].version, git_pins(root)["windmill"].date) == (new, MAR)


def test_changed_ref_or_vanished_commit_is_resolved_again(tmp_path: Path, repo: GitRepo) -> None:
    root = write_project(tmp_path / "p", ("windmill", repo.url, "main"))
    run_lock(root)
    b = repo.rev("main")
    write_project(root, ("windmill", repo.url, "v1"))  # the ref changed in release.toml
    run_lock(root)
    assert git_pins(root)["windmill"].version == repo.rev("v1")

    write_project(root, ("windmill", repo.url, "main"))
    run_lock(root)
    assert git_pins(root)["windmill"].version == b
    # Force-push main back to A and drop B (and the tag that kept it) for good.
    repo.git("tag", "-d", "v2")
    repo.git("reset", "--hard", "--quiet", repo.rev("v1"))
    repo.git("reflog", "expire", "--expire=now", "--all")
    repo.git("gc", "--quiet", "--prune=now")
    run_lock(root)  # nothing changed here: answered from the lock, upstream not asked
    assert git_pins(root)["windmill"].version == b
    run_lock(root, refresh=True)  # asked: the vanished commit is resolved again
    assert git_pins(root)["windmill"].version == repo.rev("v1")


def test_tags_resolve_to_their_commit(tmp_path: Path, repo: GitRepo) -> None:
    root = write_project(
        tmp_path / "p", ("light", repo.url, "v1"), ("annotated", repo.url, "v2"), ("full", repo.url, "refs/tags/v2")
    )
    run_lock(root)
    pins = git_pins(root)
    tag_object = repo.git("rev-parse", "v2")
    assert (pins["light"].version, pins["light"].date) == (repo.rev("v1"), JAN)
    assert (pins["annotated"].version, pins["annotated"].date) == (repo.rev("v2"), FEB)  # the commit, not the tag
    assert pins["full"].version == repo.rev("v2") != tag_object


def test_commit_id_ref_is_kept_as_is_and_checked(tmp_path: Path, repo: GitRepo) -> None:
    a = repo.rev("v1")
    root = write_project(tmp_path / "p", ("windmill", repo.url, a))
    run_lock(root)
    assert (git_pins(root)["windmill"].version, git_pins(root)["windmill"].date) == (a, JAN)

    write_project(root, ("windmill", repo.url, "f" * 40))
    with pytest.raises(UpstreamError, match=f"git windmill: {repo.url} has no commit f{{40}}"):
        run_lock(root)
    write_project(root, ("windmill", repo.url, a[:10]))
    with pytest.raises(UpstreamError, match="abbreviated commit id floats"):
        run_lock(root)


def test_as_of_reads_a_branch_back_in_time(tmp_path: Path, repo: GitRepo) -> None:
    root = write_project(tmp_path / "p", ("windmill", repo.url, "main"), ("old", repo.url, "v1"))
    run_lock(root, as_of=FEB - timedelta(days=1))
    pins = git_pins(root)
    assert (pins["windmill"].version, pins["windmill"].date) == (repo.rev("v1"), JAN)
    assert pins["old"].version == repo.rev("v1")
    # The cut-off is exclusive: a commit made exactly at T is not "before T".
    run_lock(root, as_of=FEB, upgrade_all=True)
    assert git_pins(root)["windmill"].version == repo.rev("v1")
    run_lock(root, as_of=FEB + timedelta(seconds=1), upgrade_all=True)
    assert git_pins(root)["windmill"].version == repo.rev("main")

    with pytest.raises(ReleaserError, match="has no commit before the cut-off 2023-12-01T00:00:00Z"):
        run_lock(root, as_of=datetime(2023, 12, 1, tzinfo=UTC), upgrade_all=True)
    write_project(root, ("late", repo.url, "v2"))
    with pytest.raises(ReleaserError, match=r"git late: v2 is commit [0-9a-f]{12} of 2024-02-01T12:00:00Z, not before the cut-off"):
        run_lock(root, as_of=JAN + timedelta(days=1))


def test_unknown_ref_and_unreachable_remote_exit_3_and_keep_the_lock(tmp_path: Path, repo: GitRepo) -> None:
    root = write_project(tmp_path / "p", ("windmill", repo.url, "main"))
    assert cli(root, "lock").returncode == 0
    before = (root / "release.lock").read_bytes()

    write_project(root, ("windmill", repo.url, "no-such-branch"))
    done = cli(root, "lock")
    assert done.returncode == 3, done.stderr
    assert done.stderr.strip() == f"releaser: git windmill: {repo.url} has no branch or tag 'no-such-branch'"
    assert (root / "release.lock").read_bytes() == before

    missing = (tmp_path / "nowhere").as_uri()
    write_project(root, ("windmill", missing, "main"))
    done = cli(root, "lock")
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith(f"releaser: git windmill: cannot list the refs of {missing}: ")
    assert len(done.stderr.strip().splitlines()) == 1
    assert (root / "release.lock").read_bytes() == before


def test_credentials_in_the_url_are_used_but_never_written(tmp_path: Path, repo: GitRepo) -> None:
    served = tmp_path / "served"
    served.mkdir()
    subprocess.run(["git", "clone", "--quiet", "--bare", str(repo.path), str(served / "repo.git")], check=True)
    with GitHttpServer(served, auth=("ci-bot", "s3cr3t-t0ken")) as server:
        plain = server.url("repo.git")
        url = plain.replace("http://", "http://ci-bot:${GIT_TOKEN}@")
        root = write_project(tmp_path / "p", ("windmill", url, "main"))
        env = {"GIT_TOKEN": "s3cr3t-t0ken"}

        done = cli(root, "lock", env=env)
        assert done.returncode == 0, done.stderr
        text = (root / "release.lock").read_text()
        assert "s3cr3t" not in text and "ci-bot" not in text and "s3cr3t" not in done.stdout + done.stderr
        assert git_pins(root)["windmill"].source == plain
        assert git_pins(root)["windmill"].version == repo.rev("main")

        write_project(root, ("windmill", url, "nope"))
        done = cli(root, "lock", env=env)
        assert done.returncode == 3 and "has no branch or tag 'nope'" in done.stderr
        assert "s3cr3t" not in done.stdout + done.stderr

        write_project(root, ("windmill", url, "main"))
        done = cli(root, "lock", "--refresh", env={"GIT_TOKEN": "wrong-t0ken-here"})
        assert done.returncode == 3 and f"cannot list the refs of {plain}" in done.stderr
        assert "wrong-t0ken" not in done.stdout + done.stderr


def test_credentials_go_to_the_urls_own_host_only_not_where_it_redirects(tmp_path: Path, repo: GitRepo) -> None:
    served = tmp_path / "served"
    served.mkdir()
    subprocess.run(["git", "clone", "--quiet", "--bare", str(repo.path), str(served / "repo.git")], check=True)
    # A, the configured host, sends git on to B (another host name and port), which asks for credentials.
    with GitHttpServer(served, auth=("ci-bot", "s3cr3t-t0ken")) as elsewhere:
        moved_to = elsewhere.url("").rstrip("/").replace("127.0.0.1", "localhost")
        with GitHttpServer(served, redirect_to=moved_to) as configured:
            url = configured.url("repo.git").replace("http://", "http://ci-bot:${GIT_TOKEN}@")
            root = write_project(tmp_path / "p", ("windmill", url, "main"))
            done = cli(root, "lock", env={"GIT_TOKEN": "s3cr3t-t0ken"})
            assert elsewhere.requests_seen  # git followed the redirect...
            assert elsewhere.authorizations_seen == []  # ...and B got no credential
            assert done.returncode == 3 and "s3cr3t" not in done.stdout + done.stderr
