"""A planted secret reaches the servers that ask for it, and nothing else.

Not an output, not a written file, and not the command line of any child process
(`/proc/PID/cmdline` is readable by every local user): pip-compile gets credentials
from a private netrc, git from a credential helper. `reproduce` and `bundle` use
release.toml's `${VAR}` credentials exactly as `lock` and `cut` do.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import days
from loopback.files import FileServer
from loopback.githttp import GitHttpServer
from loopback.gitrepo import GitRepo
from loopback.pypi import PackageIndex
from releaser.core import lockfile
from releaser.core.lockfile import Artifact, Lock, Pin
from releaser.ecosystems import load_config
from releaser.record import records

SECRET = "pl4nted-s3cret-9d1c"
ENV = {"IDX_TOKEN": SECRET, "GIT_TOKEN": SECRET, "FILE_TOKEN": SECRET}


@dataclass
class Upstream:
    index: PackageIndex
    git: GitHttpServer
    files: FileServer
    repo: GitRepo

    def release_toml(self, *, python: bool = True) -> str:
        def private(url: str, var: str) -> str:
            return url.replace("http://", f"http://ci:${{{var}}}@")

        index = private(self.index.url, "IDX_TOKEN")
        return (
            '[release]\nname = "cosmo"\nversion = "0.9.0"\n\n'
            + (f'[python]\nrequirements = ["requirements.in"]\nindex-url = "{index}"\n\n' if python else "")
            + f'[[git]]\nname = "windmill"\nurl = "{private(self.git.url("windmill.git"), "GIT_TOKEN")}"\nref = "main"\n\n'
            + f'[[artifact]]\nname = "tzdata"\nurl = "{private(self.files.url("tz/tzdata.tar.gz"), "FILE_TOKEN")}"\n'
        )


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[Upstream]:
    repo = GitRepo(tmp_path / "work" / "windmill")
    repo.commit({"README": "windmill\n"}, when=days(1))
    served = tmp_path / "served"
    served.mkdir()
    subprocess.run(["git", "clone", "--quiet", "--bare", str(repo.path), str(served / "windmill.git")], check=True)
    with (
        PackageIndex(auth=("ci", SECRET)) as index,
        GitHttpServer(served, auth=("ci", SECRET)) as git,
        FileServer(auth=("ci", SECRET)) as files,
    ):
        index.publish("alpha", "1.0", uploaded=days(0), sdist=True)
        files.put("tz/tzdata.tar.gz", b"tzdata 2024a\n", last_modified=days(2))
        yield Upstream(index, git, files, repo)


class CommandLines:
    """Every process command line seen while a command runs (polling /proc)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> CommandLines:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.is_set():
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    try:
                        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
                    except OSError:
                        continue
                    self.seen.add(raw.replace(b"\0", b" ").decode("utf-8", "replace"))


def git_shim(folder: Path) -> dict[str, str]:
    """A `git` first on PATH that logs its arguments: no call can be missed by polling."""
    folder.mkdir()
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True, check=True).stdout.strip()
    shim = folder / "git"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{folder}/log"\nexec {real} "$@"\n')
    shim.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def files_under(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        if path.is_file() and ".git" not in path.relative_to(root).parts:
            yield path


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_a_secret_never_reaches_a_child_command_line_an_output_or_a_file(upstream: Upstream, tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "requirements.in").write_text("alpha\n")
    (root / "release.toml").write_text(upstream.release_toml())
    env = {**os.environ, **ENV, **git_shim(tmp_path / "shim")}

    with CommandLines() as lines:
        done = subprocess.run(
            [sys.executable, "-m", "releaser", "lock"], cwd=root, env=env, capture_output=True, text=True, timeout=300
        )
        exported = subprocess.run(
            [sys.executable, "-m", "releaser", "export", "--format", "requirements", "-o", "-"],
            cwd=root, env=env, capture_output=True, text=True, timeout=60,
        )
    assert done.returncode == 0, done.stderr
    assert exported.returncode == 0, exported.stderr
    resolver = [line for line in lines.seen if "piptools" in line and " compile " in line]
    assert resolver, "the resolver was never seen running"  # the scan saw what it is there to see
    assert not [line for line in lines.seen if SECRET in line]
    git_calls = (tmp_path / "shim" / "log").read_text()
    assert "ls-remote" in git_calls and SECRET not in git_calls
    for text in (done.stdout, done.stderr, exported.stdout, exported.stderr):
        assert SECRET not in text
    for path in files_under(root):
        assert SECRET.encode() not in path.read_bytes(), path
    assert upstream.files.requests_seen and upstream.git.requests_seen  # the private servers were asked


def test_reproduce_and_bundle_use_the_credentials_release_toml_gives(upstream: Upstream, tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "release.toml").write_text(upstream.release_toml(python=False))
    data = b"tzdata 2024a\n"
    sha = hashlib.sha256(data).hexdigest()
    tz = Artifact("tzdata.tar.gz", upstream.files.url("tz/tzdata.tar.gz"), sha, len(data), days(2))
    commit = upstream.repo.rev("main")
    lock = Lock(
        as_of=days(10), releaser="test", resolver="none",
        pins=(
            Pin("artifact", "tzdata", sha, tz.url, tz.url, days(2), (tz,)),
            Pin("git", "windmill", commit, upstream.git.url("windmill.git"), "main", days(1)),
        ),
    )
    text = lockfile.dumps(lock).encode()
    manifest = {"schema": records.SCHEMA, "rc": "0.9.0rc1", "lock_digest": records.lock_digest(text)}
    records.write(root / "releases", "0.9.0rc1", {"manifest.json": json.dumps(manifest).encode(), "release.lock": text})
    env = {**os.environ, **ENV}

    done = subprocess.run([sys.executable, "-m", "releaser", "reproduce", "0.9.0rc1"], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (root / "reproduce/0.9.0rc1/artifacts/tzdata.tar.gz").read_bytes() == data
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root / "reproduce/0.9.0rc1/git/windmill", capture_output=True, text=True)
    assert head.stdout.strip() == commit
    bundled = subprocess.run([sys.executable, "-m", "releaser", "bundle", "0.9.0rc1"], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert bundled.returncode == 0, bundled.stderr
    assert (root / "dist/0.9.0rc1/bundle/git/windmill.bundle").is_file()
    for path in files_under(root):
        assert SECRET.encode() not in path.read_bytes(), path


def test_the_private_netrc_is_0600_and_keeps_the_users_own_hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import netrc

    from releaser.plumbing.credentials import private_netrc

    (tmp_path / "users.netrc").write_text("machine other.example.org login u password p\n")
    monkeypatch.setenv("NETRC", str(tmp_path / "users.netrc"))
    urls, env = private_netrc(["https://ci:a%20b%22c@pypi.example.org/simple", "https://other.example.org/simple"])
    assert urls == ("https://pypi.example.org/simple", "https://other.example.org/simple")
    assert os.stat(env["NETRC"]).st_mode & 0o777 == 0o600
    assert os.stat(Path(env["NETRC"]).parent).st_mode & 0o777 == 0o700
    found = netrc.netrc(env["NETRC"])
    assert found.authenticators("pypi.example.org") == ("ci", "", 'a b"c')
    assert found.authenticators("other.example.org") == ("u", "", "p")


DB_SECRET = "db-pl4nted-s3cret-77e0"


def test_no_json_output_shows_the_database_password(tmp_path: Path) -> None:
    """`[migrations] database` takes its password from `${VAR}`: every --json document, of
    every command, in its one envelope, is scrubbed of it, even where a hand-written
    command in release.toml repeats the password in full (revert-plan prints it)."""
    from migration_projects import alembic_project
    from releaser.migrations.loader import read_graph

    root = tmp_path / "shop"
    project = alembic_project(root)
    project.revision("a1", "items", upgrade='op.execute("SELECT 1")', downgrade='op.execute("SELECT 1")')
    project.write("release.toml", (
        '[release]\nname = "shop"\nversion = "0.9.0"\n\n[migrations]\nframework = "alembic"\npaths = ["alembic/versions"]\n'
        'database = "postgresql://rehearse:${DB_PASSWORD}@127.0.0.1:1/postgres"\n'
        f'revert = ["env", "PGPASSWORD={DB_SECRET}", "alembic", "downgrade", "{{target}}"]\n'
    ))
    env = {"DB_PASSWORD": DB_SECRET}
    assert run_json(root, env, "lock")["ok"]
    project.commit("rc1")

    def record(rc: str) -> None:
        """A record of the tree as it is (its migration graph in the manifest), as `cut` writes one."""
        cfg = load_config(root / "release.toml")
        data = (root / "release.lock").read_bytes()
        manifest = {
            "schema": records.SCHEMA, "rc": rc, "lock_digest": records.lock_digest(data),
            "migrations": read_graph(cfg.migrations, root).to_record(),
        }
        records.write(root / "releases", rc, {"manifest.json": json.dumps(manifest).encode(), "release.lock": data})

    record("0.9.0rc1")
    project.revision("b2", "price", upgrade='op.execute("SELECT 2")', downgrade='op.execute("SELECT 2")')
    record("0.9.0rc2")

    plan = run_json(root, env, "revert-plan", "0.9.0rc2")
    assert plan["ok"] and [s["target"] for s in plan["steps"]] == ["a1"]
    assert plan["steps"][0]["argv"][:2] == ["env", "PGPASSWORD=***"]
    for args in (
        ["check"], ["migrations"], ["list"], ["show", "0.9.0rc2"], ["diff", "0.9.0rc1", "0.9.0rc2"],
        ["rehearse"],  # refused at the database (nothing listens on port 1): an error document
    ):
        run_json(root, env, *args)


def run_json(root: Path, env: dict[str, str], *args: str) -> dict:
    """`releaser --json ARGS`: one document in the envelope (ok, exit: the process's exit code),
    on stdout alone, and the password nowhere."""
    done = subprocess.run(
        [sys.executable, "-m", "releaser", "--json", *args], cwd=root, env={**os.environ, **env},
        capture_output=True, text=True, timeout=300,
    )
    assert DB_SECRET not in done.stdout + done.stderr, args
    document = json.loads(done.stdout)
    assert document["exit"] == done.returncode and document["ok"] is (done.returncode == 0), (args, document)
    return document
