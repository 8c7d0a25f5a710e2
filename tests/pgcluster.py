"""A private PostgreSQL cluster for the tests, started from the initdb/pg_ctl binaries.

These machines run everything as root, which initdb refuses: as root, the
cluster belongs to an unprivileged user (`nobody`) and every server binary runs
through `runuser`. The cluster lives in its own temporary folder (owned by that
user), listens on 127.0.0.1 on a free port only (no Unix socket), requires a
password (scram-sha-256), and is stopped and deleted at the end.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER = "nobody"  # the unprivileged owner of the cluster when the tests run as root
SUPERUSER = "releaser"
PASSWORD = "s3cret-Pg-pw"  # tests assert it reaches no output or file


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<v>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    folder: Path
    bin: Path
    port: int

    def url(self, database: str = "postgres", *, password: str | None = PASSWORD) -> str:
        auth = f"{SUPERUSER}:{password}" if password is not None else SUPERUSER
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", USER, "--"] if os.geteuid() == 0 else []
        return subprocess.run(
            [*prefix, *argv], capture_output=True, text=True, timeout=120, cwd=self.folder, stdin=subprocess.DEVNULL
        )

    def start(self) -> None:
        pwfile = self.folder / "pw"
        pwfile.write_text(PASSWORD + "\n")
        _own(pwfile)
        done = self._run(
            str(self.bin / "initdb"), "-D", str(self.folder / "data"), "-U", SUPERUSER, f"--pwfile={pwfile}",
            "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync",
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stdout}{done.stderr}")
        pwfile.unlink()
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        done = self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-l", str(self.folder / "log"),
            "-o", options, "-w", "-t", "60", "start",
        )
        if done.returncode != 0:
            log = (self.folder / "log").read_text() if (self.folder / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {done.stdout}{done.stderr}{log}")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def start_cluster() -> Cluster:
    """A running cluster; the caller stops it. Raises RuntimeError when PostgreSQL is not installed."""
    folder = binaries()
    if folder is None:
        raise RuntimeError("PostgreSQL's initdb/pg_ctl are not installed (.ci/run installs Debian's postgresql)")
    # Not under pytest's basetemp: that is private to root, and the server runs as USER.
    home = Path(tempfile.mkdtemp(prefix="releaser-pg-"))
    _own(home)
    cluster = Cluster(home, folder, free_port())
    try:
        cluster.start()
    except BaseException:
        shutil.rmtree(home, ignore_errors=True)
        raise
    return cluster
