"""The Maven source against a real HTTP repository on 127.0.0.1, through the real lock path."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import run_releaser
from loopback.maven import MavenRepository
from releaser.core import lockfile
from releaser.core.errors import ConfigError, UpstreamError
from releaser.core.lockfile import Pin
from releaser.ecosystems import load_config
from releaser.ecosystems.maven.files import parse_checksum
from releaser.ecosystems.maven.metadata import listed_builds, listing_names
from releaser.ecosystems.maven.version import MavenVersion, VersionRange, newest_first
from releaser.lock import locking

G, A = "net.fortuna", "ical4j"
JAN = datetime(2007, 11, 15, 23, 5, 3, tzinfo=UTC)


def at(days: float) -> datetime:
    return JAN + timedelta(days=days)


class MavenProject:
    """A project whose release.toml has only [[maven]] tables (no [python])."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def write(self, *tables: tuple[str, list[str]]) -> MavenProject:
        text = '[release]\nname = "cosmo"\nversion = "0.9.0"\n'
        for repository, dependencies in tables:
            deps = ", ".join(f'"{d}"' for d in dependencies)
            text += f'\n[[maven]]\nrepository = "{repository}"\ndependencies = [{deps}]\n'
        (self.root / "release.toml").write_text(text, encoding="utf-8")
        return self

    @property
    def lockfile(self) -> Path:
        return self.root / "release.lock"

    def lock(self, **kwargs: object) -> dict[str, Pin]:
        result = locking.lock(load_config(self.root / "release.toml"), **kwargs)  # type: ignore[arg-type]
        return {p.name: p for p in result.lock.pins}

    def cli(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run_releaser(self.root, "lock", *args, env=env, timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> MavenProject:
    return MavenProject(tmp_path / "project")


@pytest.fixture
def second_repo() -> Iterator[MavenRepository]:
    with MavenRepository() as repo:
        yield repo


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- Maven's version order and ranges -------------------------------------------

# The orderings of Maven's own ComparableVersionTest.
QUALIFIERS = (
    "1-alpha2snapshot 1-alpha2 1-alpha-123 1-beta-2 1-beta123 1-m2 1-m11 1-rc 1-cr2 1-rc123 1-SNAPSHOT 1 "
    "1-sp 1-sp2 1-sp123 1-abc 1-def 1-pom-1 1-1-snapshot 1-1 1-2 1-123"
).split()
NUMBERS = (
    "2.0 2-1 2.0.a 2.0.0.a 2.0.2 2.0.123 2.1.0 2.1-a 2.1b 2.1-c 2.1-1 2.1.0.1 2.2 2.123 "
    "11.a2 11.a11 11.b2 11.b11 11.m2 11.m11 11 11.a 11b 11c 11m"
).split()


@pytest.mark.parametrize("ordered", [QUALIFIERS, NUMBERS], ids=["qualifiers", "numbers"])
def test_versions_order_as_maven_orders_them(ordered: list[str]) -> None:
    for i, low in enumerate(ordered):
        for high in ordered[i + 1 :]:
            assert MavenVersion(low) < MavenVersion(high), (low, high)
    assert newest_first(list(reversed(ordered)), releases_only=False) == list(reversed(ordered))


@pytest.mark.parametrize(
    "same",
    [
        ["1", "1.0", "1.0.0", "1-0", "1.0-0", "1-ga", "1.0-final", "1-release", "1-GA"],
        ["1a1", "1-a1", "1.0-alpha-1", "1-alpha1"],
        ["1cr", "1rc", "1-cr", "1-RC"],
        ["1m3", "1-milestone-3", "1-m3"],
    ],
)
def test_equal_versions(same: list[str]) -> None:
    assert len({MavenVersion(v) for v in same}) == 1
    assert all(MavenVersion(v) == MavenVersion(same[0]) for v in same)


def test_numbers_compare_numerically_and_qualifiers_before_release() -> None:
    assert MavenVersion("1.10") > MavenVersion("1.9")
    assert MavenVersion("5.6.15.Final") > MavenVersion("5.6.9.Final")
    assert MavenVersion("1.0-alpha") < MavenVersion("1.0-beta") < MavenVersion("1.0-milestone")
    assert MavenVersion("1.0-milestone") < MavenVersion("1.0-rc") < MavenVersion("1.0-SNAPSHOT") < MavenVersion("1.0")
    assert MavenVersion("1.0") < MavenVersion("1.0-sp") < MavenVersion("1.0.1")


def test_ranges() -> None:
    versions = ["0.9", "1.0", "1.2", "1.5", "2.0", "3.0", "3.9", "4.0", "5.0", "5.6.15.Final", "5.7-SNAPSHOT", "6.0"]
    assert VersionRange.parse("[5.0,6.0)").newest(versions)[0] == "5.6.15.Final"
    assert VersionRange.parse("(,1.0]").newest(versions) == ["1.0", "0.9"]
    assert VersionRange.parse("[1.2]").newest(versions) == ["1.2"]
    assert VersionRange.parse("[1,2),[3,4)").newest(versions) == ["3.9", "3.0", "1.5", "1.2", "1.0"]
    assert VersionRange.parse("(5.0,)").newest(versions) == ["6.0", "5.6.15.Final"]  # never the SNAPSHOT
    for bad in ("[1.0", "(1.0)", "[2.0,1.0]", "[1,3),[2,4)", "[1,2],", "[1,2,3]", "(1.0,1.0)"):
        with pytest.raises(ValueError):
            VersionRange.parse(bad)


VERSIONS = ["0.9", "1", "1.0.1", "1.2", "1.5-rc1", "1.5", "2", "2.0.1", "3"]


@st.composite
def ranges(draw: st.DrawFn) -> str:
    """A valid range over VERSIONS: one to three disjoint, ascending restrictions."""
    bounds = sorted(draw(st.sets(st.integers(0, len(VERSIONS) - 1), min_size=1, max_size=6)))
    parts = []
    for low, high in zip(bounds[::2], bounds[1::2] + [None]):
        if high is None:  # the last, open or single
            parts.append(f"[{VERSIONS[low]}]" if draw(st.booleans()) else f"[{VERSIONS[low]},)")
        else:
            parts.append(f"{draw(st.sampled_from('[('))}{VERSIONS[low]},{VERSIONS[high]}{draw(st.sampled_from('])'))}")
    return ",".join(parts)


@settings(max_examples=300, deadline=None)
@given(ranges(), ranges())
def test_two_ranges_meet_in_exactly_the_versions_both_allow(a: str, b: str) -> None:
    first, second = VersionRange.parse(a), VersionRange.parse(b)
    both = first.intersect(second)
    allowed = [v for v in VERSIONS + ["0.1", "1.1", "2.5", "4"] if first.contains(MavenVersion(v)) and second.contains(MavenVersion(v))]
    if both is None:
        assert not allowed
        return
    assert [v for v in VERSIONS + ["0.1", "1.1", "2.5", "4"] if both.contains(MavenVersion(v))] == allowed
    assert VersionRange.parse(both.spec).spec == both.spec  # written out as Maven reads it


def test_ranges_meet_as_written_in_a_lock() -> None:
    assert str(VersionRange.parse("[1.0,2.0)").intersect(VersionRange.parse("[1.0,1.5]"))) == "[1.0,1.5]"
    assert str(VersionRange.parse("(,1.0],[1.2,)").intersect(VersionRange.parse("[0.5,1.5]"))) == "[0.5,1.0],[1.2,1.5]"
    assert str(VersionRange.parse("[1.0,2.0]").intersect(VersionRange.parse("[2.0,3.0]"))) == "[2.0]"
    assert VersionRange.parse("[2.0,)").intersect(VersionRange.parse("[1.0,1.5]")) is None
    assert VersionRange.parse("[1.0,2.0)").intersect(VersionRange.parse("[2.0,3.0]")) is None


def test_listing_and_checksum_parsing() -> None:
    page = (
        '<a href="../">../</a><a href="https://nexus.example/r/net/fortuna/ical4j/1.0-SNAPSHOT/'
        'ical4j-1.0-20071115.230503-12.jar">x</a><a href="ical4j-1.0-20071116.010101-13-sources.jar">y</a>'
        '<a href="ical4j-1.0-20071116.010101-13.jar.sha1">z</a><a href="sub/">sub/</a>'
    )
    names = listing_names(page)
    assert names is not None and "sub" not in names
    assert listed_builds(names, "ical4j", "1.0-SNAPSHOT", "", "jar") == ["1.0-20071115.230503-12"]
    assert listed_builds(names, "ical4j", "1.0-SNAPSHOT", "sources", "jar") == ["1.0-20071116.010101-13"]
    assert listing_names("<html><body>Directory listing disabled</body></html>") is None
    digest = "a" * 40
    assert parse_checksum(f"{digest}  ical4j-1.0.jar\n", "sha1", "u") == digest
    assert parse_checksum(f"SHA1(ical4j-1.0.jar)= {digest.upper()}\n", "sha1", "u") == digest
    with pytest.raises(UpstreamError):
        parse_checksum("<html>not found</html>", "sha1", "u")


# -- snapshots --------------------------------------------------------------------


@pytest.mark.parametrize("legacy", [False, True], ids=["model-1.1.0", "legacy-snapshot-element"])
def test_snapshot_pinned_to_newest_build(maven_repo: MavenRepository, project: MavenProject, legacy: bool) -> None:
    for build in (11, 12):
        maven_repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(build - 12), build, legacy_metadata=legacy)
    pins = project.write((maven_repo.url, [f"{G}:{A}:1.0-SNAPSHOT"])).lock()

    pin = pins[f"{G}:{A}"]
    assert (pin.version, pin.requested, pin.date) == ("1.0-20071115.230503-12", "1.0-SNAPSHOT", JAN)
    assert pin.source == maven_repo.url
    jar, pom = sorted(pin.artifacts, key=lambda a: a.name.endswith(".pom"))
    directory = f"{maven_repo.url}/net/fortuna/ical4j/1.0-SNAPSHOT"
    assert jar.name == "ical4j-1.0-20071115.230503-12.jar" and jar.url == f"{directory}/{jar.name}"
    assert pom.name == "ical4j-1.0-20071115.230503-12.pom"
    data = f"net/fortuna/ical4j/1.0-SNAPSHOT/{jar.name}\n".encode()
    assert (jar.sha256, jar.size) == (sha256(data), len(data))
    assert dict(jar.upstream) == {"sha1": hashlib.sha1(data).hexdigest()}
    text = project.lockfile.read_text()
    assert "[[maven]]" in text and 'requested = "1.0-SNAPSHOT"' in text and "SNAPSHOT.jar" not in text


def test_snapshot_versions_keyed_by_classifier_and_extension(maven_repo: MavenRepository, project: MavenProject) -> None:
    maven_repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(0), 1)
    maven_repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(1), 2, classifier="sources")
    maven_repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(2), 3, extension="zip", classifier="dist")
    pins = project.write(
        (maven_repo.url, [f"{G}:{A}:1.0-SNAPSHOT", f"{G}:{A}:jar:sources:1.0-SNAPSHOT", f"{G}:{A}:zip:dist:1.0-SNAPSHOT"])
    ).lock()

    assert pins[f"{G}:{A}"].version == "1.0-20071115.230503-1"
    assert pins[f"{G}:{A}:jar:sources"].version == "1.0-20071116.230503-2"
    dist = pins[f"{G}:{A}:zip:dist"]
    assert dist.version == "1.0-20071117.230503-3" and dist.date == at(2)
    assert {a.name for a in dist.artifacts} == {"ical4j-1.0-20071117.230503-3-dist.zip", "ical4j-1.0-20071117.230503-3.pom"}


def test_newest_build_across_repositories_wins(
    maven_repo: MavenRepository, second_repo: MavenRepository, project: MavenProject
) -> None:
    maven_repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(0), 7)
    second_repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(3), 2)  # fewer builds, but newer
    second_repo.deploy_snapshot("org.other", "lib", "2.0-SNAPSHOT", at(1), 1)
    pins = project.write((maven_repo.url, [f"{G}:{A}:1.0-SNAPSHOT"]), (second_repo.url, ["org.other:lib:2.0-SNAPSHOT"])).lock()

    # One source for both tables: every dependency is looked up in every repository.
    assert (pins[f"{G}:{A}"].version, pins[f"{G}:{A}"].source) == ("1.0-20071118.230503-2", second_repo.url)
    assert pins["org.other:lib"].source == second_repo.url
    lock = lockfile.read(project.lockfile)
    assert lock is not None and lock.sources["maven"] == (maven_repo.url, second_repo.url)


# -- releases -------------------------------------------------------------------


@pytest.fixture
def hibernate(maven_repo: MavenRepository) -> MavenRepository:
    for i, version in enumerate(["4.3.11.Final", "5.0.0.Final", "5.6.15.Final", "6.0.0.Final"]):
        maven_repo.deploy_release("org.hibernate", "hibernate-core", version, last_modified=at(10 * i))
    maven_repo.deploy_snapshot("org.hibernate", "hibernate-core", "5.7-SNAPSHOT", at(35), 1)
    return maven_repo


def test_ranges_pick_the_newest_release_in_range(hibernate: MavenRepository, project: MavenProject) -> None:
    h = "org.hibernate:hibernate-core"
    for version in ("1.0", "1.5", "2.0", "3.0", "3.9", "4.0"):
        hibernate.deploy_release("org.example", "multi", version, last_modified=at(1))
    pins = project.write(
        (hibernate.url, [f"{h}:[5.0,6.0)", f"{h}:pom:(,5.0.0.Final]", "org.example:multi:[1,2),[3,4)"]),
    ).lock()
    assert pins[h].version == "5.6.15.Final"  # the SNAPSHOT 5.7 is newer, but a range never picks one
    assert (pins[h].date, pins[h].requested) == (at(20), "[5.0,6.0)")
    assert pins[f"{h}:pom"].version == "5.0.0.Final"
    assert [a.name for a in pins[f"{h}:pom"].artifacts] == ["hibernate-core-5.0.0.Final.pom"]
    assert pins["org.example:multi"].version == "3.9"


def test_latest_may_be_a_snapshot_pinned_to_its_build(hibernate: MavenRepository, project: MavenProject) -> None:
    h = "org.hibernate:hibernate-core"
    pins = project.write((hibernate.url, [f"{h}:pom:LATEST", f"{h}:RELEASE"])).lock()
    # LATEST is the last deployed version, here 5.7-SNAPSHOT: pinned to its timestamped build.
    assert (pins[f"{h}:pom"].version, pins[f"{h}:pom"].date) == ("5.7-20071220.230503-1", at(35))
    assert (pins[h].version, pins[h].requested) == ("6.0.0.Final", "RELEASE")


def test_exact_release_is_locked_with_hashes(maven_repo: MavenRepository, project: MavenProject) -> None:
    maven_repo.deploy_release("com.example", "tool", "2.1.0", last_modified=at(5), content=b"the jar")
    pin = project.write((maven_repo.url, ["com.example:tool:2.1.0"])).lock()["com.example:tool"]
    assert (pin.version, pin.requested, pin.date) == ("2.1.0", "2.1.0", at(5))
    jar = next(a for a in pin.artifacts if a.name == "tool-2.1.0.jar")
    assert (jar.sha256, jar.size, dict(jar.upstream)) == (sha256(b"the jar"), 7, {"sha1": hashlib.sha1(b"the jar").hexdigest()})


# -- dated resolution -----------------------------------------------------------


def test_as_of_picks_an_older_build_from_the_listing(maven_repo: MavenRepository, project: MavenProject) -> None:
    for build in (1, 2, 3):
        maven_repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(build), build)
    project.write((maven_repo.url, [f"{G}:{A}:1.0-SNAPSHOT"]))
    pins = project.lock(as_of=at(2) + timedelta(hours=1))
    assert (pins[f"{G}:{A}"].version, pins[f"{G}:{A}"].date) == ("1.0-20071117.230503-2", at(2))
    assert "GET /maven2/net/fortuna/ical4j/1.0-SNAPSHOT/" in maven_repo.requests_seen
    # The cut-off is exclusive, as for every kind: a build made exactly at T is not pinned.
    assert project.lock(as_of=at(2))[f"{G}:{A}"].version == "1.0-20071116.230503-1"
    with pytest.raises(UpstreamError, match="no build of 1.0-SNAPSHOT .* before 2007-11-16T23:05:03Z"):
        project.lock(as_of=at(1))


def test_as_of_without_a_listing_is_a_clear_error(project: MavenProject) -> None:
    with MavenRepository(listing=False) as repo:
        for build in (1, 2):
            repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(build), build)
        project.write((repo.url, [f"{G}:{A}:1.0-SNAPSHOT"]))
        assert project.lock(as_of=at(5))[f"{G}:{A}"].version == "1.0-20071117.230503-2"  # newest is old enough
        with pytest.raises(UpstreamError, match="gives no directory listing") as caught:
            project.lock(as_of=at(1) + timedelta(hours=1))
    assert f"{G}:{A}:1.0-SNAPSHOT" in str(caught.value) and "1.0-20071117.230503-2" in str(caught.value)


def test_as_of_for_ranges_uses_last_modified(hibernate: MavenRepository, project: MavenProject) -> None:
    h = "org.hibernate:hibernate-core"
    project.write((hibernate.url, [f"{h}:[4.0,)", f"{h}:pom:RELEASE"]))
    pins = project.lock(as_of=at(15))
    assert pins[h].version == "5.0.0.Final" and pins[h].date == at(10)
    assert pins[f"{h}:pom"].version == "5.0.0.Final"


# -- integrity and hostile input --------------------------------------------------


@pytest.mark.parametrize("headers", [True, False], ids=["checksum-headers", "sidecars-only"])
def test_tampered_jar_is_refused_and_the_lock_is_untouched(project: MavenProject, headers: bool) -> None:
    with MavenRepository(checksum_headers=headers) as repo:
        repo.deploy_release("com.example", "tool", "1.0", last_modified=at(0))
        repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(1), 1)
        project.write((repo.url, [f"{G}:{A}:1.0-SNAPSHOT"])).lock()
        before = project.lockfile.read_bytes()

        repo.tamper("tool-1.0.jar", b"evil bytes")
        project.write((repo.url, [f"{G}:{A}:1.0-SNAPSHOT", "com.example:tool:1.0"]))
        with pytest.raises(UpstreamError, match="checksum mismatch for tool-1.0.jar") as caught:
            project.lock()
    assert project.lockfile.read_bytes() == before
    assert "sha512" in str(caught.value) and "com.example:tool:1.0" in str(caught.value)


def test_sidecars_with_file_names_and_md5_only(project: MavenProject) -> None:
    with MavenRepository(checksum_headers=False, checksums=("md5",), checksum_file_names=True) as repo:
        repo.deploy_release("com.example", "tool", "1.0", last_modified=at(0), content=b"jar")
        pin = project.write((repo.url, ["com.example:tool:1.0"])).lock()["com.example:tool"]
        assert dict(pin.artifacts[0].upstream) == {"md5": hashlib.md5(b"jar").hexdigest()}
        seen = repo.requests_seen
        assert sum(p.endswith(".jar.md5") for p in seen) == 1 and sum(p.endswith(".jar.sha512") for p in seen) == 1
        repo.tamper("tool-1.0.jar", b"JAR")
        with pytest.raises(UpstreamError, match="publishes md5"):
            project.lock(upgrade_all=True)


ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<metadata><versioning><snapshot><timestamp>&lol3;</timestamp></snapshot></versioning></metadata>
"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><metadata><version>&x;</version></metadata>
"""


@pytest.mark.parametrize("document", [ENTITY_BOMB, EXTERNAL], ids=["billion-laughs", "external-entity"])
def test_hostile_metadata_is_refused(maven_repo: MavenRepository, project: MavenProject, document: bytes) -> None:
    maven_repo.set_raw("net/fortuna/ical4j/1.0-SNAPSHOT/maven-metadata.xml", document)
    project.write((maven_repo.url, [f"{G}:{A}:1.0-SNAPSHOT"]))
    with pytest.raises(UpstreamError, match="refused hostile XML in http://127.0.0.1:.*/1.0-SNAPSHOT/maven-metadata.xml"):
        project.lock()
    assert not project.lockfile.exists()


def test_path_tricks_in_metadata_are_refused(maven_repo: MavenRepository, project: MavenProject) -> None:
    maven_repo.set_raw(
        "org/x/lib/maven-metadata.xml",
        b"<metadata><versioning><versions><version>../../../etc</version></versions></versioning></metadata>",
    )
    project.write((maven_repo.url, ["org.x:lib:[1.0,)"]))
    with pytest.raises(UpstreamError, match="refused path trick '../../../etc'"):
        project.lock()


def test_repository_answering_503_twice_then_succeeds(maven_repo: MavenRepository, project: MavenProject) -> None:
    maven_repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(0), 1)
    metadata = "net/fortuna/ical4j/1.0-SNAPSHOT/maven-metadata.xml"
    maven_repo.fail_next(metadata, 2, status=503)
    pins = project.write((maven_repo.url, [f"{G}:{A}:1.0-SNAPSHOT"])).lock()
    assert pins[f"{G}:{A}"].version == "1.0-20071115.230503-1"
    assert maven_repo.requests_seen.count(f"GET /maven2/{metadata}") == 3


def test_same_coordinate_twice_with_two_versions_is_a_config_error(maven_repo: MavenRepository, project: MavenProject) -> None:
    project.write((maven_repo.url, [f"{G}:{A}:1.0-SNAPSHOT"]), (maven_repo.url, [f"{G}:{A}:1.1"]))
    with pytest.raises(ConfigError, match="asked for twice"):
        project.lock()
    assert maven_repo.requests_seen == []


# -- the command line, credentials, relocking ------------------------------------------


def test_cli_missing_artifact_and_credentials_never_leak(project: MavenProject) -> None:
    secret = "s3cr3t-t0ken"
    with MavenRepository(auth=("deployer", secret)) as repo:
        repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(0), 1)
        url = repo.url.replace("http://", "http://${MVN_USER}:${MVN_TOKEN}@")
        env = {"MVN_USER": "deployer", "MVN_TOKEN": secret}
        project.write((url, [f"{G}:{A}:1.0-SNAPSHOT"]))
        ok = project.cli(env=env)
        assert ok.returncode == 0, ok.stderr
        text = project.lockfile.read_text()
        assert "1.0-20071115.230503-1" in text and secret not in text and "deployer" not in text
        before = project.lockfile.read_bytes()

        project.write((url, [f"{G}:{A}:1.0-SNAPSHOT", "org.absent:nothing:1.0"]))
        failed = project.cli(env=env)
    assert failed.returncode == 3, failed.stderr
    assert "org.absent:nothing:1.0" in failed.stderr and "not found" in failed.stderr
    assert secret not in failed.stderr + failed.stdout and "deployer" not in failed.stderr
    assert "Traceback" not in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    assert project.lockfile.read_bytes() == before


def test_relock_keeps_the_pin_until_upgraded(maven_repo: MavenRepository, project: MavenProject) -> None:
    maven_repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(0), 1)
    maven_repo.deploy_snapshot("org.other", "lib", "2.0-SNAPSHOT", at(0), 1)
    project.write((maven_repo.url, [f"{G}:{A}:1.0-SNAPSHOT", "org.other:lib:2.0-SNAPSHOT"])).lock()
    first = project.lockfile.read_bytes()

    maven_repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(1), 2)
    maven_repo.deploy_snapshot("org.other", "lib", "2.0-SNAPSHOT", at(1), 2)
    assert project.lock()[f"{G}:{A}"].version == "1.0-20071115.230503-1"
    assert project.lockfile.read_bytes() == first  # nothing moved: byte-identical

    pins = project.lock(upgrade=(f"{G}:{A}",))
    assert pins[f"{G}:{A}"].version == "1.0-20071116.230503-2"
    assert pins["org.other:lib"].version == "2.0-20071115.230503-1"

    maven_repo.remove("lib-2.0-20071115.230503-1.jar")  # the pinned build is gone upstream
    assert project.lock()["org.other:lib"].version == "2.0-20071115.230503-1"  # nothing changed here: not asked
    assert project.lock(refresh=True)["org.other:lib"].version == "2.0-20071116.230503-2"

    maven_repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(2), 3)
    assert project.lock(upgrade_all=True)[f"{G}:{A}"].version == "1.0-20071117.230503-3"


def test_cli_upgrade_of_one_maven_pin(maven_repo: MavenRepository, project: MavenProject) -> None:
    maven_repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(0), 1)
    project.write((maven_repo.url, [f"{G}:{A}:1.0-SNAPSHOT"])).lock()
    maven_repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(1), 2)
    run = project.cli("--upgrade", f"{G}:{A}")
    assert run.returncode == 0, run.stderr
    assert "1.0-20071115.230503-1 -> 1.0-20071116.230503-2" in run.stdout


def test_unreachable_repository_names_coordinate_and_url(project: MavenProject) -> None:
    with MavenRepository() as gone:
        url = gone.url  # a port nothing listens on once it stops
    project.write((url, [f"{G}:{A}:1.0-SNAPSHOT"]))
    with pytest.raises(UpstreamError, match=rf"{G}:{A}:1.0-SNAPSHOT: cannot reach {url}/net/fortuna/ical4j/1.0-SNAPSHOT/"):
        project.lock()


def test_dated_range_needs_a_date(maven_repo: MavenRepository, project: MavenProject) -> None:
    maven_repo.set_raw(
        "org/x/lib/maven-metadata.xml",
        b"<metadata><versioning><versions><version>1.0</version></versions></versioning></metadata>",
    )
    maven_repo.set_raw("org/x/lib/1.0/lib-1.0.jar", b"served without Last-Modified")
    maven_repo.set_raw("org/x/lib/1.0/lib-1.0.pom", b"<project/>")
    maven_repo.deploy_release("org.y", "tool", "3.0", last_modified=at(10))
    project.write((maven_repo.url, ["org.x:lib:[1.0,)"]))
    assert project.lock()["org.x:lib"].date is None  # undated is fine without --as-of
    with pytest.raises(UpstreamError, match="gives no Last-Modified date"):
        project.lock(as_of=at(1), upgrade_all=True)
    project.write((maven_repo.url, ["org.y:tool:3.0"]))
    with pytest.raises(UpstreamError, match="org.y:tool:3.0: 3.0 was published at 2007-11-25T23:05:03Z, not before"):
        project.lock(as_of=at(1))


def test_loopback_repository_speaks_maven_http() -> None:
    import requests

    with MavenRepository(listing=False, fail_first=1, auth=("u", "p")) as repo:
        value = repo.deploy_snapshot(G, A, "1.0", at(0), 5, legacy_metadata=True)
        base = f"{repo.url}/net/fortuna/ical4j/1.0-SNAPSHOT"
        assert requests.get(f"{base}/maven-metadata.xml", auth=("u", "p"), timeout=10).status_code == 503
        assert requests.get(f"{base}/maven-metadata.xml", timeout=10).status_code == 401
        jar = requests.get(f"{base}/ical4j-{value}.jar", auth=("u", "p"), timeout=10)
        assert jar.headers["Last-Modified"] == "Thu, 15 Nov 2007 23:05:03 GMT"
        assert jar.headers["X-Checksum-Sha1"] == hashlib.sha1(jar.content).hexdigest()
        assert jar.headers["Cache-Control"] == "no-store"
        sidecar = requests.get(f"{base}/ical4j-{value}.jar.sha512", auth=("u", "p"), timeout=10).text
        assert sidecar.strip() == hashlib.sha512(jar.content).hexdigest()
        head = requests.head(f"{base}/ical4j-{value}.jar", auth=("u", "p"), timeout=10)
        assert head.status_code == 200 and head.content == b""
        metadata = requests.get(f"{base}/maven-metadata.xml", auth=("u", "p"), timeout=10).text
        assert "<timestamp>20071115.230503</timestamp>" in metadata and "snapshotVersions" not in metadata
        assert requests.get(f"{base}/", auth=("u", "p"), timeout=10).status_code == 404  # no listings


def test_check_online_reports_a_newer_build_as_news_and_a_changed_jar_as_failure(
    maven_repo: MavenRepository, project: MavenProject
) -> None:
    maven_repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(0), 1)
    maven_repo.deploy_release("org.hibernate", "hibernate-core", "5.4.0")
    project.write((maven_repo.url, [f"{G}:{A}:1.0-SNAPSHOT", "org.hibernate:hibernate-core:[5.0,6.0)"])).lock()

    def check(*args: str) -> subprocess.CompletedProcess[str]:
        return run_releaser(project.root, "check", *args, timeout=120)

    assert check("--online").returncode == 0
    maven_repo.deploy_snapshot(G, A, "1.0-SNAPSHOT", at(1), 2)
    maven_repo.deploy_release("org.hibernate", "hibernate-core", "5.6.1")
    drifted = check("--online")
    assert drifted.returncode == 0, drifted.stdout + drifted.stderr  # news, not a failure
    assert f"newer: maven {G}:{A} 1.0-20071115.230503-1: 1.0-SNAPSHOT is now 1.0-20071116.230503-2" in drifted.stdout
    assert "newer: maven org.hibernate:hibernate-core 5.4.0: [5.0,6.0) is now 5.6.1" in drifted.stdout

    maven_repo.tamper("ical4j-1.0-20071115.230503-1.jar", b"not the locked bytes")
    tampered = check("--online")
    assert tampered.returncode == 1
    assert f"maven {G}:{A} 1.0-20071115.230503-1" in tampered.stdout and "now serves other bytes" in tampered.stdout
    assert check().returncode == 0  # offline, nothing in the repository changed
