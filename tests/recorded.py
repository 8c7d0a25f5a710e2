"""A recorded RC with Python, Maven, git and URL pins on real loopback servers: the
`world` fixture (conftest.py) that reproduce, bundle, diff and the interruption tests share."""


from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from helpers import Project, days
from loopback.files import FileServer
from loopback.gitrepo import GitRepo
from loopback.pypi import PackageIndex
from releaser.core import lockfile
from releaser.core.lockfile import Artifact, Lock, Pin
from releaser.ecosystems.python import buildenv
from releaser.lock import locking
from releaser.record import records
from releaser.reproduce import reproducing

RC1, RC2 = "0.9.0rc1", "0.9.0rc2"
SNAP = "maven2/org/acme/lib/1.0-SNAPSHOT"
TOOLS = "maven2/org/acme/tools/2.1"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha(path: Path) -> str:
    return sha(path.read_bytes())


def serve(files: FileServer, path: str, data: bytes, when: float) -> Artifact:
    url = files.put(path, data)
    return Artifact(path.rsplit("/", 1)[1], url, sha(data), len(data), date=days(when))


def write_record(root: Path, rc: str, lock: Lock) -> bytes:
    data = lockfile.dumps(lock).encode()
    manifest = {"schema": records.SCHEMA, "rc": rc, "lock_digest": records.lock_digest(data)}
    records.write(root / "releases", rc, {"manifest.json": json.dumps(manifest).encode(), "release.lock": data})
    return data


@dataclass
class World:
    project: Project
    index: PackageIndex
    files: FileServer
    repo: GitRepo
    lock: Lock  # rc1's
    commit: str  # rc1's git commit

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.project.releaser(*args)

    def expected(self, into: Path) -> dict[str, str]:
        """Every file rc1's reproduction holds outside venv/ and git/: relative path -> sha256."""
        want = {}
        for pin in self.lock.pins:
            if pin.kind == "python":
                chosen = [a for a in pin.artifacts if a.name.endswith("py3-none-any.whl")]
                want[f"cache/python/{chosen[0].name}"] = chosen[0].sha256
            for a in pin.artifacts if pin.kind == "maven" else ():
                group, artifact = pin.name.split(":")[:2]
                base = "1.0-SNAPSHOT" if "SNAPSHOT" in (pin.requested or "") else pin.version
                folder = f"maven/{group.replace('.', '/')}/{artifact}/{base}"
                want[f"{folder}/{a.name}"] = a.sha256
                if base != pin.version:  # the -SNAPSHOT alias of a timestamped build
                    want[f"{folder}/{a.name.replace(pin.version, base)}"] = a.sha256
            for a in pin.artifacts if pin.kind == "artifact" else ():
                want[f"artifacts/{a.name}"] = a.sha256
        return want


def tree(into: Path) -> dict[str, str]:
    """relative path -> sha256 of every file in `into`, except venv/, git/ and the releaser files."""
    found = {}
    for path in into.rglob("*"):
        rel = path.relative_to(into).as_posix()
        if path.is_file() and not rel.startswith(("venv/", "git/")) and rel not in (reproducing.MARKER, "maven/classpath.txt"):
            found[rel] = file_sha(path)
    return found


def installed(into: Path) -> dict[str, str]:
    """What the reproduction's venv really holds, asked of its own interpreter."""
    code = "import importlib.metadata as m, json; print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    done = subprocess.run([str(buildenv.venv_python(into / "venv")), "-I", "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def head(path: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, check=True).stdout.strip()


def make_world(populated: PackageIndex, make_project: Callable[..., Project], tmp_path: Path) -> Iterator[World]:
    """(The `world` fixture.) rc1, recorded: alpha 1.0 + beta 1.0 (locked as of day 10), a SNAPSHOT build and a
    classified zip, a git commit on main, a URL artifact."""
    project = make_project(populated.url)
    python_lock = locking.lock(project.config(), as_of=days(10)).lock
    repo = GitRepo(tmp_path / "upstream" / "windmill")
    commit = repo.commit({"README": "windmill 1\n"}, when=days(3))
    with FileServer() as files:
        build = "1.0-20240105.120000-3"
        snapshot = (
            serve(files, f"{SNAP}/lib-{build}.jar", b"lib build 3\n", 4.5),
            serve(files, f"{SNAP}/lib-{build}.pom", b"<project>lib build 3</project>\n", 4.5),
        )
        tools = (
            serve(files, f"{TOOLS}/tools-2.1-dist.zip", b"tools 2.1 dist\n", 2),
            serve(files, f"{TOOLS}/tools-2.1.pom", b"<project>tools 2.1</project>\n", 2),
        )
        tz = serve(files, "tz/tzdata-latest.tar.gz", b"tzdata 2024a\n", 2)
        extra = (
            Pin("maven", "org.acme:lib", build, files.url("maven2"), "1.0-SNAPSHOT", days(4.5), snapshot),
            Pin("maven", "org.acme:tools:zip:dist", "2.1", files.url("maven2"), "[2.0,3.0)", days(2), tools),
            Pin("git", "windmill", commit, repo.url, "main", days(3)),
            Pin("artifact", "tzdata", tz.sha256, tz.url, tz.url, days(2), (tz,)),
        )
        lock = replace(python_lock, pins=python_lock.pins + extra)
        write_record(project.root, RC1, lock)
        yield World(project, populated, files, repo, lock, commit)


def drift(world: World) -> None:
    """Upstream moves on: new releases, a new SNAPSHOT build, its metadata replaced, main moves."""
    world.index.publish("beta", "3.0", uploaded=days(60))
    world.index.publish("alpha", "2.0", requires=["beta>=3"], uploaded=days(60))
    world.files.put(f"{SNAP}/lib-1.0-20240301.090000-4.jar", b"lib build 4\n")
    world.files.put(f"{SNAP}/maven-metadata.xml", b"<metadata>build 4</metadata>\n")
    world.files.put(f"{SNAP}/maven-metadata.xml", b"<metadata>build 4, again</metadata>\n")
    world.repo.commit({"README": "windmill 2\n"}, when=days(61))
