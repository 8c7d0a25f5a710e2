"""Version ranges that meet in one artifact: a range is a hard constraint, as in Maven.

maven-resolver's NearestVersionSelector lets the nearest declaration win only while it
is inside every range declared for the same artifact in the graph; otherwise the
nearest declaration that is inside them all wins (a range: its newest version inside
them all), and when none is, Maven fails the build. The real Maven resolves each
project here too, and releaser must pin what it resolves.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_maven_transitive import G, deps, pom

from helpers import run_releaser
from loopback import maven_deploy
from loopback.maven import MavenRepository
from releaser.ecosystems import load_config
from releaser.ecosystems.maven.metadata import BUILD
from releaser.lock import locking

pytestmark = pytest.mark.skipif(not maven_deploy.available(), reason="needs mvn and its deploy plugin in ~/.m2")

def parent(artifact: str) -> str:
    return f"<parent><groupId>{G}</groupId><artifactId>{artifact}</artifactId><version>1.0</version><relativePath/></parent>"


ARTIFACTS = [
    pom("base", "1.0", packaging="pom"),  # the project's parent
    pom("gone", "1.0", packaging="pom"),  # soft 1.9's: out of the lock with it
    pom("hard", "1.0", deps("soft:[1.0,1.5]", "wide:[1.0,1.5]", "snap:[1.0,2.0)")),
    *(pom("snap", v) for v in ("1.5", "2.0-SNAPSHOT")),  # 2.0-SNAPSHOT is inside [1.0,2.0), as Maven orders it
    pom("narrow", "1.0", deps("snap:[1.0,2.0)")),
    pom("strict", "1.0", deps("apart:[1.0,1.5]")),
    pom("soft", "1.0"),
    pom("soft", "1.5", deps("only15:1.0")),  # the version that wins brings its own dependencies ...
    pom("soft", "1.9", deps("only19:1.0"), parent=parent("gone")),  # ... and the one that loses does not
    *(pom(a, v) for a in ("wide", "apart") for v in ("1.0", "1.5", "1.9", "2.0")),
    *(pom(a, "1.0") for a in ("only15", "only19")),
    pom("askew", "1.0", deps("wide:[2.0,1.0]")),  # a range no Maven can read
]


def project_pom(*dependencies: str) -> str:
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        f"{parent('base')}<groupId>org.consumer</groupId><artifactId>ranges</artifactId><version>1</version>"
        f"{deps(*dependencies)}</project>\n"
    )


# soft:1.9 is nearest but outside hard's [1.0,1.5]; wide:[1.0,2.0) is nearest, and narrowed by it.
SOLVABLE = project_pom("soft:1.9", "wide:[1.0,2.0)", "snap:2.0-SNAPSHOT", "hard:1.0")
# apart:[2.0,) and strict's apart:[1.0,1.5] have no version in common.
UNSOLVABLE = project_pom("apart:[2.0,)", "strict:1.0")


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MavenRepository, Path]]:
    tree = tmp_path_factory.mktemp("m2") / "repository"
    with MavenRepository() as server:
        maven_deploy.deploy(tree, ARTIFACTS)
        server.publish_tree(tree)
        yield server, tree


def write(root: Path, repository: str, document: str) -> Path:
    root.mkdir(parents=True)
    (root / "pom.xml").write_text(document, encoding="utf-8")
    (root / "release.toml").write_text(
        f'[release]\nname = "ranges"\nversion = "1.0"\n\n[[maven]]\nrepository = "{repository}"\npom = "pom.xml"\n',
        encoding="utf-8",
    )
    return root


def test_a_range_further_down_narrows_the_nearest_declaration_as_in_maven(repository, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server, _ = repository
    root = write(tmp_path / "p", server.url, SOLVABLE)
    result = locking.lock(load_config(root / "release.toml"))
    pins = {p.name: p for p in result.lock.pins}
    versions = {name.removeprefix(f"{G}:"): p.version for name, p in pins.items() if p.scope != "parent"}
    snapshot = versions.pop("snap")
    assert versions == {"hard": "1.0", "soft": "1.5", "only15": "1.0", "wide": "1.5"}
    assert BUILD.match(snapshot)["base"] == "2.0"  # type: ignore[index]  # the SNAPSHOT's build, inside [1.0,2.0)
    # The first collection pinned soft 1.9 and its parent; the lock holds only the project's.
    assert {name for name, p in pins.items() if p.scope == "parent"} == {f"{G}:base:pom@1.0"}
    assert pins[f"{G}:soft"].requested == f"[1.0,1.5] via {G}:hard"  # 1.9, nearer, is outside it
    assert pins[f"{G}:wide"].requested == f"[1.0,1.5] via org.consumer:ranges and {G}:hard"  # [1.0,2.0) within [1.0,1.5]

    graph = maven_deploy.resolved_by_maven(root, server.url, tmp_path / "maven")["org.consumer:ranges"]
    assert {key.removeprefix(f"{G}:"): version for key, (version, _) in graph.items()} == {**versions, "snap": "2.0-SNAPSHOT"}

    # The lock says what it asked for, so a check online looks for newer versions inside the narrowed range only.
    done = run_releaser(root, "check", "--online", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [f for f in json.loads(done.stdout)["findings"] if f["code"] == "newer"] == []  # 1.9 is outside them


def test_a_snapshot_inside_a_range_is_kept_in_one_collection(repository, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server, _ = repository
    root = write(tmp_path / "p", server.url, project_pom("snap:2.0-SNAPSHOT", "narrow:1.0"))
    seen = len(server.requests_seen)
    pins = {p.name: p for p in locking.lock(load_config(root / "release.toml")).lock.pins}
    assert BUILD.match(pins[f"{G}:snap"].version)["base"] == "2.0"  # type: ignore[index]
    # Its timestamped build is compared as 2.0-SNAPSHOT, as Maven compares it: nothing is collected twice.
    assert [r for r in server.requests_seen[seen:] if r.endswith("/narrow-1.0.pom")] == [
        "GET /maven2/org/example/narrow/1.0/narrow-1.0.pom"
    ]


def test_ranges_with_no_version_in_common_are_refused_as_maven_refuses_them(repository, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server, _ = repository
    root = write(tmp_path / "p", server.url, UNSOLVABLE)
    done = run_releaser(root, "lock")
    assert done.returncode == 2, done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line == (
        f"releaser: maven {G}:apart: no version is inside every range asked for: "
        f"[2.0,) via org.consumer:ranges, [1.0,1.5] via {G}:strict"
    ), line
    assert not (root / "release.lock").exists()

    with pytest.raises(RuntimeError):  # the real Maven: "Could not resolve version conflict among ..."
        maven_deploy.resolved_by_maven(root, server.url, tmp_path / "maven")


@pytest.mark.parametrize(
    ("document", "code", "where"),
    [
        (project_pom("wide:[2.0,1.0]"), 2, "pom.xml"),  # the project's own: bad input
        (project_pom("askew:1.0"), 3, "/org/example/askew/1.0/askew-1.0.pom"),  # a published POM: upstream's
    ],
    ids=["project", "published"],
)
def test_a_range_no_one_can_read_is_one_line_naming_the_pom(repository, tmp_path: Path, document: str, code: int, where: str) -> None:  # type: ignore[no-untyped-def]
    server, _ = repository
    root = write(tmp_path / "p", server.url, document)
    done = run_releaser(root, "lock")
    assert done.returncode == code, done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert where in line and line.endswith(f"{G}:wide:[2.0,1.0]: upper bound is below lower bound in '[2.0,1.0]'"), line
    assert not (root / "release.lock").exists()
