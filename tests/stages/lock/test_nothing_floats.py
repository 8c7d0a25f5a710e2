"""Issue 3's promise end to end: a SNAPSHOT, a range, a git branch and a URL in one project,
one lock in which none of them floats, every artifact hashed and dated."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import requests

from helpers import Project, days
from loopback.files import FileServer
from loopback.gitrepo import GitRepo
from releaser.check.checking import check
from releaser.core import lockfile
from releaser.lock.locking import lock

G, A = "net.fortuna", "ical4j"


def test_every_kind_of_floating_dependency_is_pinned_in_one_lock(maven_repo, populated, make_project, tmp_path):
    maven_repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", days(1), 1)
    maven_repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", days(2), 2)
    for version, day in (("5.0.1", 1), ("5.6.2", 3), ("6.0.0", 4)):
        maven_repo.deploy_release("org.hibernate", "hibernate-core", version, last_modified=days(day))
    upstream = GitRepo(tmp_path / "windmill")
    upstream.commit({"README": "one"}, when=days(1))
    head = upstream.commit({"README": "two"}, when=days(2))

    with FileServer() as files:
        tzdata = files.put("tzdata-latest.tar.gz", b"zone data", last_modified=days(3))
        project: Project = make_project(
            populated.url,
            extra=f"""
            [[maven]]
            repository = "{maven_repo.url}"
            dependencies = ["{G}:{A}:1.0-SNAPSHOT", "org.hibernate:hibernate-core:[5.0,6.0)"]

            [[git]]
            name = "windmill"
            url = "{upstream.url}"
            ref = "main"
            allow-local = true

            [[artifact]]
            name = "tzdata"
            url = "{tzdata}"
            """,
        )
        lock(project.config())
        body = requests.get(tzdata, timeout=10).content

    pins = {(p.kind, p.name): p for p in lockfile.read(project.lockfile).pins}
    assert pins[("maven", f"{G}:{A}")].version == "1.0-20240103.000000-2"
    assert pins[("maven", "org.hibernate:hibernate-core")].version == "5.6.2"  # in range, never 6.0.0
    assert pins[("git", "windmill")].version == head and pins[("git", "windmill")].date == days(2)
    tz = pins[("artifact", "tzdata")]
    assert tz.version == hashlib.sha256(body).hexdigest() and tz.date == days(3)
    for pin in pins.values():
        assert pin.date is not None and pin.date < datetime.now(UTC), pin
        for artifact in pin.artifacts:
            assert len(artifact.sha256) == 64 and artifact.size > 0, artifact
    assert {a.name.rsplit(".", 1)[-1] for a in pins[("maven", f"{G}:{A}")].artifacts} == {"jar", "pom"}

    verdict = check(project.config())  # the CI gate agrees: nothing floats, nothing is uncovered
    assert verdict.ok, verdict.render()
