"""Maven, transitively: a project's POM and every POM under it, deployed by the real Maven.

The repository is written by real `mvn deploy:deploy-file -DpomFile=...` (two runs: the
second deploys a newer SNAPSHOT build and a newer release in range) and served by the
loopback Maven server. The project is a real multi-module Maven project on disk.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpers import run_releaser
from loopback import maven_deploy
from loopback.maven import MavenRepository
from loopback.maven_deploy import Deployable
from releaser.core import lockfile
from releaser.core.lockfile import Pin
from releaser.ecosystems import load_config
from releaser.ecosystems.maven.coordinate import MavenCoordinate
from releaser.ecosystems.maven.metadata import BUILD
from releaser.ecosystems.maven.pom import parse_pom
from releaser.lock import locking

pytestmark = pytest.mark.skipif(not maven_deploy.available(), reason="needs mvn and its deploy plugin in ~/.m2")

G = "org.example"


def pom(artifact: str, version: str, body: str = "", *, packaging: str = "jar", parent: str = "") -> Deployable:
    text = (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        f"{parent}<groupId>{G}</groupId><artifactId>{artifact}</artifactId><version>{version}</version>"
        f"<packaging>{packaging}</packaging>{body}</project>\n"
    )
    return Deployable(text, None if packaging == "pom" else f"{artifact}-{version}\n".encode())


def deps(*items: str) -> str:
    """`artifact:version[:scope][:optional]`, or a raw <dependency> element."""
    out = []
    for item in items:
        if item.startswith("<"):
            out.append(item)
            continue
        artifact, version, *rest = item.split(":")
        extra = "".join(f"<scope>{r}</scope>" if r != "optional" else "<optional>true</optional>" for r in rest)
        pinned = f"<version>{version}</version>" if version else ""
        out.append(f"<dependency><groupId>{G}</groupId><artifactId>{artifact}</artifactId>{pinned}{extra}</dependency>")
    return f"<dependencies>{''.join(out)}</dependencies>"


PARENT = f"<parent><groupId>{G}</groupId><artifactId>parent</artifactId><version>1.0</version><relativePath/></parent>"
FIRST = [
    pom("parent", "1.0", "<properties><lib.version>2.0-SNAPSHOT</lib.version><prop.version>3.0</prop.version></properties>", packaging="pom"),
    pom("bom", "1.0", f"<dependencyManagement>{deps('bommed:2.0')}</dependencyManagement>", packaging="pom"),
    pom(
        "app",
        "1.0-SNAPSHOT",
        deps(
            "lib:${lib.version}",
            "a:1.0",
            f"<dependency><groupId>{G}</groupId><artifactId>b</artifactId><version>1.0</version>"
            f"<exclusions><exclusion><groupId>*</groupId><artifactId>excluded</artifactId></exclusion></exclusions></dependency>",
        ),
        parent=PARENT,
    ),
    pom("lib", "2.0-SNAPSHOT", deps("deep:[1.0,2.0)", "opt:1.0:optional", "testonly:1.0:test", "managed:1.0", "bommed:1.0")),
    pom("deep", "1.0"),
    pom("deep", "2.0"),
    pom("a", "1.0", deps("x:1.0")),
    pom("b", "1.0", deps("c:1.0", "excluded:1.0")),
    pom("c", "1.0", deps("x:2.0")),
    pom("d", "1.0", deps("y:1.0")),
    pom("e", "1.0", deps("y:2.0")),
    *(pom(a, v) for a, v in [("x", "1.0"), ("x", "2.0"), ("y", "1.0"), ("y", "2.0"), ("managed", "1.0"), ("managed", "1.5")]),
    *(pom(a, v) for a, v in [("bommed", "1.0"), ("bommed", "2.0"), ("opt", "1.0"), ("testonly", "1.0"), ("excluded", "1.0")]),
    *(pom(a, v) for a, v in [("junit-like", "1.0"), ("prop", "3.0"), ("new", "1.0")]),
    pom("old", "1.0", "<distributionManagement><relocation><artifactId>new</artifactId></relocation></distributionManagement>", packaging="pom"),
    Deployable(pom("natives", "1.0").pom, b"native code\n", classifier="linux"),
]
SECOND = [pom("lib", "2.0-SNAPSHOT", deps("deep:[1.0,2.0)", "opt:1.0:optional", "testonly:1.0:test", "managed:1.0", "bommed:1.0")), pom("deep", "1.5")]

PROJECT_POM = f"""\
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  {PARENT}
  <artifactId>project</artifactId>
  <version>1.0-SNAPSHOT</version>
  <packaging>pom</packaging>
  <modules><module>core</module></modules>
  <dependencyManagement>
    <dependencies>
      <dependency><groupId>{G}</groupId><artifactId>managed</artifactId><version>1.5</version></dependency>
      <dependency><groupId>{G}</groupId><artifactId>bom</artifactId><version>1.0</version><type>pom</type><scope>import</scope></dependency>
    </dependencies>
  </dependencyManagement>
  {deps("app:1.0-SNAPSHOT", "d:1.0", "e:1.0", "junit-like:1.0:test")}
</project>
"""
CORE_POM = f"""\
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent><groupId>{G}</groupId><artifactId>project</artifactId><version>1.0-SNAPSHOT</version></parent>
  <artifactId>core</artifactId>
  {deps("prop:${prop.version}", "old:1.0", f"<dependency><groupId>{G}</groupId><artifactId>natives</artifactId><version>1.0</version><classifier>linux</classifier></dependency>")}
</project>
"""


class Repo:
    """The deployed repository: its server, and the times that separate the two deploys."""

    def __init__(self, server: MavenRepository, tree: Path, between: datetime, builds: tuple[str, str]) -> None:
        self.server, self.tree, self.between, self.builds = server, tree, between, builds


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Repo]:
    tree = tmp_path_factory.mktemp("m2") / "repository"
    with MavenRepository() as server:
        maven_deploy.deploy(tree, FIRST)
        server.publish_tree(tree)
        between = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
        time.sleep(2.1)  # whole seconds: the second build is stamped after `between`
        maven_deploy.deploy(tree, SECOND)
        server.publish_tree(tree)
        lib = sorted(p.name for p in (tree / "org/example/lib/2.0-SNAPSHOT").glob("lib-*.jar"))
        builds = tuple(name.removeprefix("lib-").removesuffix(".jar") for name in lib)
        assert len(builds) == 2
        yield Repo(server, tree, between, builds)  # type: ignore[arg-type]


def write_project(root: Path, repository: str, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pom.xml").write_text(PROJECT_POM, encoding="utf-8")
    (root / "core").mkdir(exist_ok=True)
    (root / "core/pom.xml").write_text(CORE_POM, encoding="utf-8")
    (root / "release.toml").write_text(
        f'[release]\nname = "cosmo"\nversion = "0.9.0"\n\n[[maven]]\nrepository = "{repository}"\npom = "pom.xml"\n{extra}',
        encoding="utf-8",
    )
    return root


def lock(root: Path, **kwargs: object) -> dict[str, Pin]:
    result = locking.lock(load_config(root / "release.toml"), **kwargs)  # type: ignore[arg-type]
    return {p.name: p for p in result.lock.pins}


@pytest.fixture(scope="module")
def locked(repo: Repo, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Pin]]:
    root = write_project(tmp_path_factory.mktemp("project") / "p", repo.server.url)
    return root, lock(root)


def test_the_graph_is_what_maven_resolves(locked: tuple[Path, dict[str, Pin]], repo: Repo) -> None:
    _, pins = locked
    versions = {name: (p.version, p.scope) for name, p in pins.items()}
    newest = repo.builds[1]
    assert versions == {
        f"{G}:app": (versions[f"{G}:app"][0], "compile"),
        f"{G}:lib": (newest, "compile"),  # ${lib.version} from app's parent: a SNAPSHOT, its newest build
        f"{G}:deep": ("1.5", "compile"),  # [1.0,2.0): the newest release in range
        f"{G}:managed": ("1.5", "compile"),  # the project's dependencyManagement beats lib's 1.0
        f"{G}:bommed": ("2.0", "compile"),  # ... and so does the BOM it imports
        f"{G}:a": ("1.0", "compile"),
        f"{G}:b": ("1.0", "compile"),
        f"{G}:c": ("1.0", "compile"),
        f"{G}:x": ("1.0", "compile"),  # nearest: app > a > x beats app > b > c > x
        f"{G}:d": ("1.0", "compile"),
        f"{G}:e": ("1.0", "compile"),
        f"{G}:y": ("1.0", "compile"),  # a tie at depth 2: d is declared first
        f"{G}:prop": ("3.0", "compile"),  # ${prop.version}: core > project (local) > parent (repository)
        f"{G}:new": ("1.0", "compile"),  # old:1.0 is relocated to new
        f"{G}:natives:jar:linux": ("1.0", "compile"),
        f"{G}:parent:pom@1.0": ("1.0", "parent"),
        f"{G}:bom:pom@1.0": ("1.0", "import"),
        f"{G}:old:pom@1.0": ("1.0", "relocation"),
    }
    assert versions[f"{G}:app"][0].startswith("1.0-") and "SNAPSHOT" not in versions[f"{G}:app"][0]
    # optional, test-scoped, excluded and test-only: not pinned (see the dict above), and why each pin is there:
    assert pins[f"{G}:app"].requested == "1.0-SNAPSHOT via org.example:project"
    assert pins[f"{G}:lib"].requested == "2.0-SNAPSHOT via org.example:app"
    assert pins[f"{G}:deep"].requested == "[1.0,2.0) via org.example:lib"
    assert pins[f"{G}:prop"].requested == "3.0 via org.example:core"
    for pin in pins.values():
        assert pin.artifacts and all(len(a.sha256) == 64 for a in pin.artifacts), pin.name
    jar = next(a for a in pins[f"{G}:natives:jar:linux"].artifacts if a.name.endswith(".jar"))
    assert jar.name == "natives-1.0-linux.jar"


def test_test_scope_is_pinned_when_asked(repo: Repo, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", repo.server.url, 'scopes = ["compile", "runtime", "test"]\n')
    pins = lock(root)
    assert (pins[f"{G}:junit-like"].version, pins[f"{G}:junit-like"].scope) == ("1.0", "test")
    assert f"{G}:testonly" not in pins  # lib's own test dependency is still lib's business


def test_as_of_between_two_builds_pins_the_older_transitively(repo: Repo, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", repo.server.url)
    pins = lock(root, as_of=repo.between)
    assert pins[f"{G}:lib"].version == repo.builds[0]  # the SNAPSHOT reached through a property
    assert pins[f"{G}:deep"].version == "1.0"  # the range: 1.5 was deployed after the cut-off
    assert pins[f"{G}:lib"].date is not None and pins[f"{G}:lib"].date < repo.between
    assert lock(root)[f"{G}:lib"].version == repo.builds[0]  # a relock keeps it
    assert lock(root, upgrade=(f"{G}:lib",))[f"{G}:lib"].version == repo.builds[1]


def test_check_refuses_a_transitive_entry_edited_back_to_floating(locked: tuple[Path, dict[str, Pin]], tmp_path: Path) -> None:
    source, pins = locked
    root = tmp_path / "p"
    shutil.copytree(source, root)
    assert run_releaser(root, "check").returncode == 0
    text = (root / "release.lock").read_text()
    for name, floating in ((f"{G}:lib", "2.0-SNAPSHOT"), (f"{G}:deep", "[1.0,2.0)")):
        text = text.replace(f'version = "{pins[name].version}"\nrequested', f'version = "{floating}"\nrequested', 1)
    (root / "release.lock").write_text(text)
    run = run_releaser(root, "check")
    assert run.returncode == 1
    assert f"maven {G}:lib 2.0-SNAPSHOT" in run.stdout and "-SNAPSHOT, not a timestamped build" in run.stdout
    assert f"maven {G}:deep [1.0,2.0)" in run.stdout and "version range" in run.stdout


def test_a_changed_module_pom_makes_the_lock_stale(locked: tuple[Path, dict[str, Pin]], tmp_path: Path) -> None:
    source, _ = locked
    root = tmp_path / "p"
    shutil.copytree(source, root)
    lock_file = lockfile.read(root / "release.lock")
    assert lock_file is not None and {"pom.xml", "core/pom.xml"} <= set(lock_file.inputs)
    (root / "core/pom.xml").write_text(CORE_POM.replace("old", "new"), encoding="utf-8")
    run = run_releaser(root, "check")
    assert run.returncode == 1 and "core/pom.xml" in run.stdout


def test_export_maven_round_trips_the_pins(locked: tuple[Path, dict[str, Pin]], tmp_path: Path) -> None:
    source, pins = locked
    root = tmp_path / "p"
    shutil.copytree(source, root)
    run = run_releaser(root, "export", "--format", "maven", "-o", "pins.pom")
    assert run.returncode == 0, run.stderr
    exported = parse_pom((root / "pins.pom").read_bytes(), "pins.pom")
    assert exported.packaging == "pom"
    managed = {MavenCoordinate(d.group, d.artifact, d.version, d.type or "jar", d.classifier).key: d.version for d in exported.managed}
    expected = {name: p.version for name, p in pins.items() if p.scope not in ("parent", "import", "relocation")}
    assert managed == expected
    assert all("SNAPSHOT" not in v for v in managed.values())


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"not xml at all", "not XML"),
        (b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><project>&b;</project>', "hostile XML"),
        (PROJECT_POM.replace("d:1.0", "").encode().replace(b"<version>1.0</version><type>pom", b"<version>${nowhere}</version><type>pom"), "unresolvable property ${nowhere}"),
        (PROJECT_POM.replace("<artifactId>parent</artifactId>", "<artifactId>no-such-parent</artifactId>").encode(), "parent org.example:no-such-parent:1.0"),
    ],
    ids=["not-xml", "entity-bomb", "unresolvable-property", "missing-parent"],
)
def test_a_bad_project_pom_is_bad_input(repo: Repo, tmp_path: Path, document: bytes, message: str) -> None:
    root = write_project(tmp_path / "p", repo.server.url)
    (root / "pom.xml").write_bytes(document)
    run = run_releaser(root, "lock")
    assert run.returncode == 2, run.stderr
    assert message in run.stderr and "pom.xml" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and not (root / "release.lock").exists()


def _as_maven_names(pins: dict[str, Pin]) -> dict[str, str]:
    """Pins as Maven's log shows them: a SNAPSHOT build by its base version; graph-only POMs left out."""
    return {
        name: (m["base"] + "-SNAPSHOT" if (m := BUILD.match(p.version)) else p.version)
        for name, p in pins.items()
        if p.scope not in ("parent", "import", "relocation")
    }


def test_maven_itself_resolves_the_same_graph(locked: tuple[Path, dict[str, Pin]], repo: Repo, tmp_path: Path) -> None:
    root, pins = locked
    project = tmp_path / "p"
    shutil.copytree(root, project)
    graph = maven_deploy.resolved_by_maven(project, repo.server.url, tmp_path)[f"{G}:core"]
    maven = {key: version for key, (version, scope) in graph.items() if scope in ("compile", "runtime")}
    assert maven == _as_maven_names(pins)
    assert graph[f"{G}:junit-like"] == ("1.0", "test")  # test scope: Maven has it, releaser does not pin it


def test_maven_builds_on_the_exported_pins(locked: tuple[Path, dict[str, Pin]], repo: Repo, tmp_path: Path) -> None:
    root, pins = locked
    project = tmp_path / "p"
    shutil.copytree(root, project)
    assert run_releaser(project, "export", "--format", "maven").returncode == 0
    bom = parse_pom((project / "maven-pins.pom").read_bytes(), "maven-pins.pom")
    maven_deploy.deploy(repo.tree, [Deployable((project / "maven-pins.pom").read_text(), None)])
    repo.server.publish_tree(repo.tree)
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    (consumer / "pom.xml").write_text(
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        "<groupId>org.consumer</groupId><artifactId>consumer</artifactId><version>1</version>"
        f"<dependencyManagement><dependencies><dependency><groupId>{bom.group}</groupId><artifactId>{bom.artifact}</artifactId>"
        f"<version>{bom.version}</version><type>pom</type><scope>import</scope></dependency></dependencies></dependencyManagement>"
        f"{deps('app:', 'd:')}</project>\n",  # no versions: the BOM gives them, as for any BOM
        encoding="utf-8",
    )
    graph = maven_deploy.resolved_by_maven(consumer, repo.server.url, tmp_path)["org.consumer:consumer"]
    # Every version Maven uses is the pinned one: SNAPSHOTs as their timestamped builds.
    assert graph[f"{G}:app"][0] == pins[f"{G}:app"].version
    assert graph[f"{G}:lib"][0] == pins[f"{G}:lib"].version == repo.builds[1]
    for key, (version, _) in graph.items():
        assert version == pins[key].version, key


def test_diff_says_why_a_transitive_artifact_came_or_went(locked: tuple[Path, dict[str, Pin]], repo: Repo, tmp_path: Path) -> None:
    source, _ = locked
    root = tmp_path / "p"
    shutil.copytree(source, root)
    shutil.copy(root / "release.lock", tmp_path / "before.lock")
    (root / "pom.xml").write_text(PROJECT_POM.replace(deps("app:1.0-SNAPSHOT", "d:1.0", "e:1.0", "junit-like:1.0:test"), deps("app:1.0-SNAPSHOT", "e:1.0")))
    assert run_releaser(root, "lock").returncode == 0
    run = run_releaser(root, "diff", str(tmp_path / "before.lock"), "release.lock")
    assert run.returncode == 0, run.stderr
    lines = {line.split()[1]: line for line in run.stdout.splitlines()[1:]}
    assert "removed 1.0 (" in lines[f"{G}:d"] and lines[f"{G}:d"].endswith("1.0 via org.example:project")
    # y is still there, now from e (2.0, the only declaration left): the version and why both changed
    assert "1.0 (" in lines[f"{G}:y"] and "-> 2.0 (" in lines[f"{G}:y"]
    assert "requested 1.0 via org.example:d -> 2.0 via org.example:e" in lines[f"{G}:y"]
