"""The POM reader and the effective model: Maven's rules on small models, and hostile input.

The graph as a whole is checked against the real Maven in test_maven_transitive.py;
here each rule is pinned down on its own, with no repository, and arbitrary bytes are
thrown at the parser.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releaser.core.errors import ConfigError, ReleaserError, ResolutionError
from releaser.ecosystems.maven.coordinate import MavenCoordinate
from releaser.ecosystems.maven.graph import Node, derive_scope, settle
from releaser.ecosystems.maven.model import ModelBuilder
from releaser.ecosystems.maven.pom import Pom, PomError, parse_pom
from releaser.ecosystems.maven.version import VersionRange


def project(body: str, coords: str = "<groupId>g</groupId><artifactId>a</artifactId><version>1</version>") -> bytes:
    return f'<project xmlns="http://maven.apache.org/POM/4.0.0">{coords}{body}</project>'.encode()


def dep(artifact: str, version: str = "", extra: str = "", group: str = "g") -> str:
    v = f"<version>{version}</version>" if version else ""
    return f"<dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>{v}{extra}</dependency>"


class Repository:
    """POMs by (group, artifact, version), for the model builder's `fetch`."""

    def __init__(self, **poms: bytes) -> None:
        self.poms = {tuple(k.split("__")): parse_pom(v, k) for k, v in poms.items()}

    def fetch(self, group: str, artifact: str, version: str, why: str) -> Pom:
        try:
            return self.poms[(group, artifact, version)]
        except KeyError:
            raise PomError(f"{group}:{artifact}:{version} not found") from None


def test_inheritance_interpolation_management_and_imports() -> None:
    repo = Repository(
        g__parent__1=project(
            "<properties><v>2.0</v><lib.version>${v}</lib.version></properties>"
            f"<dependencyManagement><dependencies>{dep('managed', '${project.version}')}"
            f"{dep('bom', '1', '<type>pom</type><scope>import</scope>')}</dependencies></dependencyManagement>"
            f"<dependencies>{dep('inherited', '1')}</dependencies>",
            "<groupId>g</groupId><artifactId>parent</artifactId><version>1</version>",
        ),
        g__bom__1=project(
            f"<dependencyManagement><dependencies>{dep('from-bom', '7', '<scope>runtime</scope>')}{dep('managed', '99')}</dependencies></dependencyManagement>",
            "<groupId>g</groupId><artifactId>bom</artifactId><version>1</version>",
        ),
    )
    child = parse_pom(
        project(
            "<parent><groupId>g</groupId><artifactId>parent</artifactId><version>1</version></parent>"
            "<properties><v>3.0</v></properties>"
            f"<dependencies>{dep('lib', '${lib.version}')}{dep('managed')}{dep('from-bom')}"
            f"{dep('natives', '1', '<classifier>linux</classifier>')}{dep('tests', '1', '<type>test-jar</type>')}</dependencies>",
            "<artifactId>child</artifactId><version>5</version>",
        ),
        "child.pom",
    )
    model = ModelBuilder(repo.fetch).build(child)
    found = {d.coordinate.key: (d.coordinate.version, d.scope) for d in model.dependencies}
    assert (model.group, model.version) == ("g", "5")  # groupId inherited
    assert found == {
        "g:lib": ("3.0", "compile"),  # ${lib.version} -> ${v}, the child's v wins
        "g:managed": ("5", "compile"),  # the parent's management, ${project.version} of the child; before the BOM's 99
        "g:from-bom": ("7", "runtime"),  # imported management gives version and scope
        "g:natives:jar:linux": ("1", "compile"),
        "g:tests:jar:tests": ("1", "compile"),  # type test-jar: a jar with classifier tests
        "g:inherited": ("1", "compile"),  # the parent's dependencies come after the child's own
    }
    assert list(found)[-1] == "g:inherited"


@pytest.mark.parametrize(
    ("poms", "message"),
    [
        ({"g__p__1": project("<parent><groupId>g</groupId><artifactId>a</artifactId><version>1</version></parent>", "<artifactId>p</artifactId><version>1</version>")}, "parent cycle: g:a -> g:p -> g:a"),
        ({}, "parent g:p:1: g:p:1 not found"),
        ({"g__p__1": project(f"<dependencies>{dep('x', '${undefined}')}</dependencies>", "<groupId>g</groupId><artifactId>p</artifactId><version>1</version>")}, "unresolvable property ${undefined} in g:x version"),
        ({"g__p__1": project("<properties><a>${b}</a><b>${a}</b></properties>" + f"<dependencies>{dep('x', '${a}')}</dependencies>", "<groupId>g</groupId><artifactId>p</artifactId><version>1</version>")}, "refers to itself"),
        ({"g__p__1": project(f"<dependencies>{dep('x')}</dependencies>", "<groupId>g</groupId><artifactId>p</artifactId><version>1</version>")}, "dependency g:x has no version, and none is managed"),
        ({"g__p__1": project(f"<dependencies>{dep('x', '1', group='../../etc')}</dependencies>", "<groupId>g</groupId><artifactId>p</artifactId><version>1</version>")}, "malformed group"),
    ],
    ids=["parent-cycle", "missing-parent", "unresolvable-property", "property-cycle", "no-version", "path-trick"],
)
def test_a_bad_model_is_one_error_naming_the_pom(poms: dict[str, bytes], message: str) -> None:
    child = parse_pom(project("<parent><groupId>g</groupId><artifactId>p</artifactId><version>1</version></parent>", "<artifactId>a</artifactId>"), "https://repo/g/a/1/a-1.pom")
    with pytest.raises(PomError) as caught:
        ModelBuilder(Repository(**poms).fetch).build(child)
    assert message in str(caught.value)
    assert str(caught.value).startswith(("https://repo/g/a/1/a-1.pom", "g__p__1"))


def test_the_projects_own_pom_is_bad_input_and_local_parents_are_read(tmp_path: Path) -> None:
    (tmp_path / "pom.xml").write_bytes(project("<properties><x.version>4</x.version></properties>", "<groupId>g</groupId><artifactId>root</artifactId><version>1</version>"))
    (tmp_path / "m").mkdir()
    module = tmp_path / "m/pom.xml"
    module.write_bytes(project(f"<parent><groupId>g</groupId><artifactId>root</artifactId><version>1</version></parent><dependencies>{dep('x', '${x.version}')}</dependencies>", "<artifactId>m</artifactId>"))
    model = ModelBuilder(Repository().fetch, tmp_path).local(module)
    assert [d.coordinate.version for d in model.dependencies] == ["4"]  # from ../pom.xml, no repository asked
    module.write_bytes(module.read_bytes().replace(b"${x.version}", b"${y.version}"))
    with pytest.raises(ConfigError, match=r"^m/pom.xml: unresolvable property \$\{y.version\}"):
        ModelBuilder(Repository().fetch, tmp_path).local(module)


def graph(edges: dict[str, list[str]], direct: list[str]) -> dict[str, tuple[str, str]]:
    """settle() over a graph of `artifact:version[:scope][:optional]` strings; a range picks the newest of `edges`."""
    builder = ModelBuilder(Repository().fetch)
    available: dict[str, list[str]] = {}
    for known in edges:
        available.setdefault(known.split(":")[0], []).append(known.split(":")[1])

    def node(text: str, via: str, depth: int) -> Node:
        artifact, version, *rest = text.split(":")
        return Node(MavenCoordinate("g", artifact, version), rest[0] if rest else "compile", via, depth)

    def visit(n: Node) -> tuple[object, object]:
        artifact, version = n.coordinate.artifact, n.coordinate.version
        if VersionRange.is_range(version):
            version = VersionRange.parse(version).newest(available.get(artifact, []))[0]
        body = "".join(
            dep(t.split(":")[0], t.split(":")[1], "".join(f"<scope>{r}</scope>" if r != "optional" else "<optional>true</optional>" for r in t.split(":")[2:]))
            for t in edges.get(f"{artifact}:{version}", [])
        )
        pom = parse_pom(project(f"<dependencies>{body}</dependencies>", f"<groupId>g</groupId><artifactId>{artifact}</artifactId><version>{version}</version>"), "x")
        return version, builder.build(pom)

    direct_nodes = [node(d, "root", 1) for d in direct]
    chosen = settle(direct_nodes, lambda: visit, lambda fn, items: [fn(i) for i in items], {}, version_of=str)
    return {c.node.coordinate.artifact: (c.visited, c.scope) for c in chosen}  # type: ignore[misc]


def test_nearest_wins_first_declared_on_a_tie_and_scopes_narrow() -> None:
    edges = {
        "a:1": ["x:1", "t:1:test", "o:1:optional", "r:1:runtime"],
        "b:1": ["c:1", "y:2"],
        "c:1": ["x:2"],
        "d:1": ["y:1"],
        "r:1": ["q:1"],
        "p:1": ["x:3", "s:1"],
    }
    found = graph(edges, ["a:1", "d:1", "b:1", "p:1:provided"])
    assert found["x"] == ("1", "compile")  # depth 2 under a, beats depth 3 under b > c and provided p's depth 2 (a is first)
    assert found["y"] == ("1", "compile")  # a tie at depth 2: d is declared before b
    assert found["q"] == ("1", "runtime")  # compile under runtime is runtime
    assert found["s"] == ("1", "provided")  # under provided, provided
    assert "t" not in found and "o" not in found  # test-scoped and optional: not followed
    assert derive_scope("test", "compile") == "test" and derive_scope("compile", "test") == "test"


def test_a_range_is_a_hard_constraint_on_nearer_declarations() -> None:
    edges = {
        "a:1": ["r:[1,2]", "w:[1,2]"],
        "r:1": [], "r:2": ["only2:1"], "r:3": ["only3:1"],
        "w:1": [], "w:2": [], "w:3": [],
        "b:1": ["w:1"],
        "only2:1": [], "only3:1": [],
    }
    found = graph(edges, ["r:3", "w:[1,4)", "a:1", "b:1"])
    assert found["r"] == ("2", "compile")  # r:3 is nearer, but outside a's [1,2]: a's range wins
    assert "only2" in found and "only3" not in found  # and the winner's own dependencies, not the loser's
    assert found["w"] == ("2", "compile")  # [1,4) narrowed to [1,2]; b's soft 1 is farther
    assert graph(edges, ["r:1", "a:1"])["r"] == ("1", "compile")  # inside the range: the nearest stays


def test_ranges_with_nothing_in_common_are_a_resolution_error() -> None:
    edges = {"a:1": ["r:[1,2]"], "r:1": [], "r:2": [], "r:3": []}
    with pytest.raises(ResolutionError, match=r"^maven g:r: no version is inside every range asked for: \[3,\) via root, \[1,2\] via g:a$"):
        graph(edges, ["r:[3,)", "a:1"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_only_releaser_errors(data: bytes) -> None:
    try:
        pom = parse_pom(data, "fuzz.pom")
    except ReleaserError:
        return
    try:
        ModelBuilder(Repository().fetch).build(pom)
    except ReleaserError:
        pass


_TAGS = st.sampled_from(
    ["project", "parent", "groupId", "artifactId", "version", "dependencies", "dependency", "properties", "x.y", "scope",
     "type", "classifier", "optional", "exclusions", "exclusion", "dependencyManagement", "modules", "module", "relocation"]
)
_TEXT = st.one_of(st.sampled_from(["g", "1.0", "${x.y}", "${project.version}", "[1,2)", "import", "pom", "true", "*", "", "../x"]), st.text(max_size=8))


@st.composite
def _element(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(_TAGS)
    if depth > 3 or draw(st.booleans()):
        from xml.sax.saxutils import escape

        return f"<{tag}>{escape(draw(_TEXT))}</{tag}>"
    return f"<{tag}>{''.join(draw(st.lists(_element(depth + 1), max_size=4)))}</{tag}>"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_element(), max_size=6))
def test_arbitrary_pom_shaped_documents_give_only_releaser_errors(children: list[str]) -> None:
    data = f"<project>{''.join(children)}</project>".encode()
    try:
        ModelBuilder(Repository().fetch).build(parse_pom(data, "fuzz.pom"))
    except ReleaserError:
        pass


def doubling(levels: int) -> str:
    """Properties that each hold the one before twice: `${p<levels>}` is 2**levels characters."""
    return "<properties><p0>x</p0>" + "".join(f"<p{i}>${{p{i - 1}}}${{p{i - 1}}}</p{i}>" for i in range(1, levels + 1)) + "</properties>"


def parent_chain(levels: int) -> dict[str, bytes]:
    """g:p -> g:p1 -> ... -> g:p<levels>: deep, and no POM twice."""
    names = ["p"] + [f"p{i}" for i in range(1, levels + 1)]
    return {
        f"g__{name}__1": project(
            f"<parent><groupId>g</groupId><artifactId>{up}</artifactId><version>1</version></parent>" if up else "",
            f"<groupId>g</groupId><artifactId>{name}</artifactId><version>1</version>",
        )
        for name, up in zip(names, [*names[1:], None])
    }


@pytest.mark.parametrize(
    ("poms", "message"),
    [
        (parent_chain(40), "parent chain deeper than 32 POMs, at g:p31; refused"),
        ({"g__p__1": project(doubling(26) + f"<dependencies>{dep('x', '${p26}')}</dependencies>", "<groupId>g</groupId><artifactId>p</artifactId><version>1</version>")},
         "g:x version expands to more than 65536 characters (nested properties); refused"),
        ({"g__p__1": project("<properties><q0>1</q0>" + "".join(f"<q{i}>${{q{i - 1}}}</q{i}>" for i in range(1, 41)) + "</properties>"
                             f"<dependencies>{dep('x', '${q40}')}</dependencies>", "<groupId>g</groupId><artifactId>p</artifactId><version>1</version>")},
         "properties nested more than 32 deep"),
    ],
    ids=["deep-parent-chain", "doubling-properties", "deep-properties"],
)
def test_a_pom_built_to_cost_is_refused_naming_it(poms: dict[str, bytes], message: str) -> None:
    """A 40-deep chain is not a cycle, and 26 doublings are not 2**26 expansions: each is one bounded error."""
    child = parse_pom(project("<parent><groupId>g</groupId><artifactId>p</artifactId><version>1</version></parent>", "<artifactId>a</artifactId>"), "https://repo/g/a/1/a-1.pom")
    with pytest.raises(PomError) as caught:
        ModelBuilder(Repository(**poms).fetch).build(child)
    assert message in str(caught.value) and "cycle" not in str(caught.value)
    assert str(caught.value).startswith(("https://repo/g/a/1/a-1.pom", "g__p"))


def test_a_project_pom_of_doubling_properties_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "pom.xml").write_bytes(project(doubling(26) + f"<dependencies>{dep('x', '${p26}')}</dependencies>"))
    with pytest.raises(ConfigError, match=r"^pom.xml: g:x version expands to more than 65536 characters"):
        ModelBuilder(Repository().fetch, tmp_path).local(tmp_path / "pom.xml")


BOMB = b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><project>&b;</project>'


@pytest.mark.parametrize(
    ("poms", "message"),
    [
        ({"org/bad/lib/1.0/lib-1.0.pom": BOMB}, "lib-1.0.pom: refused hostile XML"),
        ({"org/bad/lib/1.0/lib-1.0.pom": b"\x00\xff not a pom"}, "lib-1.0.pom: not XML"),
        (
            {
                "org/bad/lib/1.0/lib-1.0.pom": project("<parent><groupId>org.bad</groupId><artifactId>p</artifactId><version>1</version></parent>", "<artifactId>lib</artifactId>"),
                "org/bad/p/1/p-1.pom": project("<parent><groupId>org.bad</groupId><artifactId>lib</artifactId><version>1.0</version></parent>", "<artifactId>p</artifactId>"),
            },
            "parent cycle",
        ),
        (
            {"org/bad/lib/1.0/lib-1.0.pom": project("<parent><groupId>org.bad</groupId><artifactId>gone</artifactId><version>1</version></parent>", "<artifactId>lib</artifactId>")},
            "parent org.bad:gone:1",
        ),
        (
            {"org/bad/lib/1.0/lib-1.0.pom": project(doubling(26) + f"<dependencies>{dep('x', '${p26}')}</dependencies>", "<artifactId>lib</artifactId><groupId>org.bad</groupId><version>1.0</version>")},
            "lib-1.0.pom: g:x version expands to more than 65536 characters",
        ),
    ],
    ids=["entity-bomb", "not-xml", "parent-cycle", "missing-parent", "doubling-properties"],
)
def test_a_bad_pom_in_the_repository_is_an_outside_failure(tmp_path: Path, poms: dict[str, bytes], message: str) -> None:
    from helpers import run_releaser
    from loopback.maven import MavenRepository

    with MavenRepository() as repo:
        app = project(f"<dependencies>{dep('lib', '1.0', group='org.bad')}</dependencies>", "<groupId>org.ok</groupId><artifactId>app</artifactId><version>1.0</version>")
        repo.deploy_release("org.ok", "app", "1.0", pom=app)
        for path, data in poms.items():  # as deployed: the repository's checksums match these bytes
            artifact, version = path.split("/")[2:4]
            repo.deploy_release("org.bad", artifact, version, pom=data)
        (tmp_path / "release.toml").write_text(
            f'[release]\nname = "x"\nversion = "1.0"\n\n[[maven]]\nrepository = "{repo.url}"\ndependencies = ["org.ok:app:1.0"]\n'
        )
        run = run_releaser(tmp_path, "lock", timeout=120)
    assert run.returncode == 3, run.stderr
    assert message in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and not (tmp_path / "release.lock").exists()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('pom = "missing/pom.xml"', "pom: missing/pom.xml does not exist"),
        ('pom = "../pom.xml"', "pom: '../pom.xml' must be a path inside the project"),
        ('pom = "pom.xml"\nscopes = ["compile", "system"]', "scopes: 'system' is not one of compile, runtime, provided, test"),
        ('scopes = ["test"]', "scopes: applies to a Maven project's dependencies"),
    ],
    ids=["missing", "outside", "system-scope", "scopes-without-pom"],
)
def test_maven_project_settings_are_validated(tmp_path: Path, table: str, message: str) -> None:
    from releaser.ecosystems import load_config

    (tmp_path / "pom.xml").write_bytes(project(""))
    (tmp_path / "release.toml").write_text(
        f'[release]\nname = "x"\nversion = "1.0"\n\n[[maven]]\nrepository = "https://repo.example/maven2"\n{table}\n'
    )
    with pytest.raises(ConfigError, match=r"release.toml:\d+: \[\[maven\]\] #1 " + message.replace("[", r"\[").replace("(", r"\(")):
        load_config(tmp_path / "release.toml")


def test_a_module_outside_the_project_or_missing_is_bad_input(tmp_path: Path) -> None:
    from releaser.ecosystems.maven.project import digests

    (tmp_path / "p").mkdir()
    (tmp_path / "p/pom.xml").write_bytes(project("<modules><module>../elsewhere</module></modules>"))
    with pytest.raises(ConfigError, match="pom.xml: module '../elsewhere' leads outside the project"):
        digests(tmp_path / "p/pom.xml", tmp_path / "p")
    (tmp_path / "p/pom.xml").write_bytes(project("<modules><module>core</module></modules>"))
    with pytest.raises(ConfigError, match="module 'core' has no core/pom.xml"):
        digests(tmp_path / "p/pom.xml", tmp_path / "p")
    (tmp_path / "p/core").mkdir()
    (tmp_path / "p/core/pom.xml").write_bytes(project("<parent><groupId>g</groupId><artifactId>a</artifactId><version>1</version></parent>", "<artifactId>core</artifactId>"))
    assert sorted(digests(tmp_path / "p/pom.xml", tmp_path / "p")) == ["core/pom.xml", "pom.xml"]


def test_a_relocated_artifact_with_a_file_of_its_own_is_followed(tmp_path: Path) -> None:
    from loopback.maven import MavenRepository
    from releaser.ecosystems import load_config
    from releaser.lock import locking

    with MavenRepository() as repo:
        relocation = "<distributionManagement><relocation><groupId>org.r</groupId><artifactId>new</artifactId></relocation></distributionManagement>"
        repo.deploy_release("org.old", "lib", "2.0", pom=project(relocation, "<groupId>org.old</groupId><artifactId>lib</artifactId><version>2.0</version>"))
        repo.deploy_release("org.r", "new", "2.0")
        (tmp_path / "release.toml").write_text(
            f'[release]\nname = "x"\nversion = "1.0"\n\n[[maven]]\nrepository = "{repo.url}"\ndependencies = ["org.old:lib:2.0"]\n'
        )
        pins = {p.name: p for p in locking.lock(load_config(tmp_path / "release.toml")).lock.pins}
    assert set(pins) == {"org.r:new", "org.old:lib:pom@2.0"}
    assert (pins["org.r:new"].version, pins["org.r:new"].requested) == ("2.0", "2.0 (relocated from org.old:lib)")
    assert [a.name for a in pins["org.old:lib:pom@2.0"].artifacts] == ["lib-2.0.pom"]
