"""Property-based: every parser of outside input lets only releaser's own errors escape.

release.toml, requirement files, pyproject.toml, release.lock, manifest.json, Maven
metadata, PEP 691 JSON and PEP 503 HTML pages are fed generated documents, some
near-valid (a valid one with a value replaced), some arbitrary. Whatever they hold,
the parser returns or raises a `ReleaserError` (releaser.core.errors): never a
KeyError, TypeError, ValueError, UnicodeError or a traceback of any other kind.
"""

from __future__ import annotations

import json
import tempfile
from html import escape as html_escape
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releaser.core import lockfile, seal
from releaser.core.errors import ReleaserError
from releaser.ecosystems import load_config
from releaser.ecosystems.maven import metadata as maven_metadata
from releaser.ecosystems.python import index as pyindex
from releaser.ecosystems.python import requirements
from releaser.ecosystems.python.newer import installs
from releaser.ecosystems.python.settings import PythonInputs
from releaser.record import records

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PAGE = "https://pypi.example.org/simple/alpha/"

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
    st.text(max_size=30), st.sampled_from(["", "..", "../x", "/etc/passwd", "${HOME}", "-f{rc}", "v{rc}", "1.0", "x" * 300]),
)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=20)
toml_scalars = st.one_of(st.booleans(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=30), st.sampled_from(["..", "/abs", "${NOPE}", "-f{rc}", "ext::sh", "file:///x"]))
toml_values = st.recursive(toml_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3), max_leaves=12)


def only_releaser_errors(parse: Any, *args: Any) -> None:
    try:
        parse(*args)
    except ReleaserError as exc:
        assert str(exc).strip()  # a message for the person at the terminal


def replaced(document: Any, path: list[Any], value: Any) -> Any:
    """`document` with the value at `path` (keys and indexes; clipped to what exists) replaced by `value`."""
    if not path or not isinstance(document, (dict, list)) or not document:
        return value
    key = path[0]
    if isinstance(document, dict):
        key = list(document)[key % len(document)]
        return {**document, key: replaced(document[key], path[1:], value)}
    index = key % len(document)
    return [*document[:index], replaced(document[index], path[1:], value), *document[index + 1 :]]


paths = st.lists(st.integers(0, 50), min_size=1, max_size=5)

VALID_TOML = {
    "release": {"name": "cosmo", "version": "0.9.0", "tag": "v{rc}", "build": ["python", "-m", "build"], "gates": [["pytest"]]},
    "python": {"requirements": ["requirements.in"], "index-url": "https://pypi.example.org/simple", "extra-index-urls": []},
    "maven": [{"repository": "https://repo.example.org/maven2", "dependencies": ["org.x:y:1.0-SNAPSHOT", "org.x:z:[1,2)"]}],
    "git": [{"name": "w", "url": "https://git.example.org/w.git", "ref": "main"}],
    "artifact": [{"name": "tz", "url": "https://example.org/tz.tar.gz", "sha256": "a" * 64}],
    "containers": {"dockerfiles": ["requirements.in"], "platforms": ["linux/amd64"], "insecure": ["h:5000"],
                   "registries": ["https://u:p@registry.example.org"]},
}


def in_project(files: dict[str, bytes], parse: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "p"
        root.mkdir()
        for name, data in files.items():
            (root / name).write_bytes(data)
        parse(root)


@FUZZ
@given(path=paths, value=toml_values)
def test_release_toml_near_valid(path: list[int], value: Any) -> None:
    document = replaced(VALID_TOML, path, value)
    text = tomli_w.dumps(document) if isinstance(document, dict) else "x"
    in_project({"release.toml": text.encode(), "requirements.in": b"alpha\n"}, lambda root: only_releaser_errors(load_config, root / "release.toml"))


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_release_toml_arbitrary(data: bytes) -> None:
    in_project({"release.toml": data}, lambda root: only_releaser_errors(load_config, root / "release.toml"))


requirement_lines = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["alpha", "alpha>=1", "-r ../x", "-r /proc/self/environ", "-c other.txt", "-r self.in", "--index-url x",
                     "a @ git+https://h/r@main", "a @ file:///x", "a; python_version<'3'", "a[", "a==", "\\", "# c"]),
)


@FUZZ
@given(st.lists(requirement_lines, max_size=8), st.binary(max_size=20))
def test_requirement_files(lines: list[str], tail: bytes) -> None:
    data = "\n".join(lines).encode("utf-8", "surrogatepass") + tail

    def parse(root: Path) -> None:
        inputs = PythonInputs((root / "self.in",), False, "https://pypi.example.org/simple")
        only_releaser_errors(lambda: [r.entries for r in requirements.read_inputs(root, inputs)])

    in_project({"self.in": data, "other.txt": b"beta<3\n"}, parse)


@FUZZ
@given(project=st.dictionaries(st.sampled_from(["dependencies", "dynamic", "name", "optional-dependencies"]), toml_values, max_size=3))
def test_pyproject(project: dict[str, Any]) -> None:
    data = tomli_w.dumps({"project": project}).encode()

    def parse(root: Path) -> None:
        inputs = PythonInputs((), True, "https://pypi.example.org/simple")
        only_releaser_errors(lambda: [r.entries for r in requirements.read_inputs(root, inputs)])

    in_project({"pyproject.toml": data}, parse)


def valid_lock_document() -> dict[str, Any]:
    from helpers import days
    from releaser.core.lockfile import Artifact, InputRecord, Lock, Pin

    lock = Lock(
        days(10), "0.1.0", "pip-tools 7.6",
        {"requirements.in": InputRecord("sha256:" + "b" * 64, {"requirements": {"alpha": "alpha>=1"}})},
        {"python": ("https://pypi.example.org/simple",)},
        (
            Pin("python", "alpha", "1.0", "https://pypi.example.org/simple", "alpha>=1", days(1),
                (Artifact("alpha-1.0-py3-none-any.whl", "https://f/a.whl", "a" * 64, 10, days(1), (("sha1", "c" * 40),)),)),
            Pin("git", "w", "d" * 40, "https://git.example.org/w.git", "main", days(2)),
        ),
    )
    import tomli

    return tomli.loads(lockfile.dumps(lock))


LOCK_DOCUMENT = valid_lock_document()


@FUZZ
@given(st.text(max_size=400))
def test_release_lock_arbitrary(text: str) -> None:
    only_releaser_errors(lockfile.loads, text, Path("release.lock"))


@FUZZ
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_a_lock_header_gives_a_cut_off_or_none(data: bytes) -> None:
    # A relock answered from the seal reads only the header; whatever bytes are there, nothing raises.
    found = seal.header_as_of(data)
    assert found is None or found.tzinfo is not None


def targets_lock_document() -> dict[str, Any]:
    """A lock for two targets: a pin built from its sdist on one, with a build pin marked for it."""
    from dataclasses import replace

    from helpers import days
    from releaser.core.lockfile import Artifact, Pin

    linux, win = "sys_platform == 'linux' and python_version == '3.11'", "sys_platform == 'win32' and python_version == '3.12'"
    setuptools = Pin("python", "setuptools", "75.0", "https://pypi.example.org/simple", "setuptools>=61", days(0),
                     (Artifact("setuptools-75.0-py3-none-any.whl", "https://f/s.whl", "e" * 64, 10, days(0)),), marker=win)
    natlib = Pin("python", "natlib", "1.0", "https://pypi.example.org/simple", "natlib", days(1),
                 (Artifact("natlib-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "https://f/n.whl", "a" * 64, 10, days(1)),
                  Artifact("natlib-1.0.tar.gz", "https://f/n.tar.gz", "f" * 64, 10, days(1))), build=(setuptools,))
    import tomli

    lock = replace(lockfile.loads(tomli_w.dumps(LOCK_DOCUMENT), Path("release.lock")), pins=(natlib,), environments=(linux, win))
    return tomli.loads(lockfile.dumps(lock))


TARGETS_LOCK_DOCUMENT = targets_lock_document()


@FUZZ
@given(base=st.sampled_from([LOCK_DOCUMENT, TARGETS_LOCK_DOCUMENT]), path=paths, value=toml_values)
def test_release_lock_near_valid(base: dict[str, Any], path: list[int], value: Any) -> None:
    document = replaced(base, path, value)
    text = tomli_w.dumps(document) if isinstance(document, dict) else "x = 1"
    only_releaser_errors(lockfile.loads, text, Path("release.lock"))


@FUZZ
@given(st.text(max_size=80) | st.from_regex(r"[a-z_]{1,8}-[0-9.]{1,5}(-[0-9a-z_.]{0,12}){3}\.whl", fullmatch=True))
def test_wheel_file_names_fit_or_not_for_every_target(name: str) -> None:
    from releaser.core import targets
    from releaser.ecosystems.python.tags import wheel_fits

    for target in (None, *map(targets.parse, TARGETS_LOCK_DOCUMENT["environments"])):
        assert wheel_fits(name, target) in (True, False)


@FUZZ
@given(manifest=json_values, raw=st.booleans())
def test_manifest_json(manifest: Any, raw: bool) -> None:
    lock_bytes = lockfile.dumps(lockfile.loads(tomli_w.dumps(LOCK_DOCUMENT), Path("x"))).encode()
    if isinstance(manifest, dict) and not raw:
        manifest = {**manifest, "schema": records.SCHEMA, "lock_digest": records.lock_digest(lock_bytes)}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "rc1"
        folder.mkdir()
        (folder / records.MANIFEST).write_text(json.dumps(manifest))
        (folder / records.LOCK_COPY).write_bytes(lock_bytes)
        only_releaser_errors(records.read, Path(tmp), "rc1")


xml_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="<&\x00"), max_size=20)
xml_leaf_names = st.sampled_from(["version", "latest", "release", "lastUpdated", "timestamp", "buildNumber", "value",
                                  "classifier", "extension", "updated", "x"])


@st.composite
def metadata_documents(draw: Any) -> bytes:
    leaves = draw(st.lists(st.tuples(xml_leaf_names, xml_text), max_size=6))
    body = "".join(f"<{name}>{text}</{name}>" for name, text in leaves)
    shape = draw(st.sampled_from([
        "<metadata><versioning>{b}<versions>{b}</versions><snapshot>{b}</snapshot>"
        "<snapshotVersions><snapshotVersion>{b}</snapshotVersion></snapshotVersions></versioning></metadata>",
        "<metadata>{b}</metadata>", "<project>{b}</project>", "{b}",
    ]))
    prolog = draw(st.sampled_from(["", '<?xml version="1.0"?>', '<?xml version="1.0" encoding="x-evil"?>',
                                   '<!DOCTYPE m [<!ENTITY a "b">]>', '<?xml version="1.0" encoding="utf-16"?>']))
    return (prolog + shape.format(b=body)).encode("utf-8", "surrogatepass")


@FUZZ
@given(metadata_documents() | st.binary(max_size=200))
def test_maven_metadata(data: bytes) -> None:
    url = "https://repo.example.org/maven2/org/x/y/maven-metadata.xml"
    only_releaser_errors(maven_metadata.artifact_metadata, data, url)
    only_releaser_errors(maven_metadata.snapshot_metadata, data, url)
    only_releaser_errors(lambda: maven_metadata.listing_names(data.decode("utf-8", "replace")))


file_entries = st.fixed_dictionaries(
    {},
    optional={
        "filename": st.one_of(st.sampled_from(["alpha-1.0.tar.gz", "alpha-1.0-py3-none-any.whl", "../x", "a/b", ""]), json_values),
        "url": st.one_of(st.sampled_from(["alpha-1.0.tar.gz", "https://f/a.whl#sha256=zz", "file:///etc/passwd", "//h/x"]), json_values),
        "hashes": st.one_of(st.fixed_dictionaries({"sha256": st.one_of(st.just("a" * 64), json_values)}), json_values),
        "size": json_values,
        "upload-time": st.one_of(st.sampled_from(["2024-01-01T00:00:00Z", "2024-01-01T00:00:00", "yesterday"]), json_values),
        "yanked": json_values,
        "requires-python": st.one_of(st.sampled_from([">=3.8", ">=3.99", "~=3", ">=3.8,<4", "3.8", ">=x"]), st.text(max_size=12), json_values),
    },
)


@FUZZ
@given(st.one_of(st.fixed_dictionaries({"files": st.lists(file_entries, max_size=4)}), json_values))
def test_pep691_pages(document: Any) -> None:
    def parse() -> None:
        for f in pyindex._parse_json(PAGE, document):
            pyindex.filename_version(f.filename, "alpha")
            installs(f, None)  # its Requires-Python read, as `check --online` reads it

    only_releaser_errors(parse)


@FUZZ
@given(st.lists(st.tuples(st.text(max_size=40), st.text(max_size=30), st.booleans(), st.text(max_size=12)), max_size=5), st.text(max_size=40))
def test_pep503_pages(anchors: list[tuple[str, str, bool, str]], noise: str) -> None:
    html = noise + "".join(
        f'<a href="{h}" data-requires-python="{html_escape(p)}"{" data-yanked" if y else ""}>{t}</a>' for h, t, y, p in anchors
    )

    def parse() -> None:
        for f in pyindex._parse_html(PAGE, html):
            installs(f, None)

    only_releaser_errors(parse)


resolver_lines = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["alpha==1.0", "beta @ https://h/b-1.0.tar.gz#sha256=" + "a" * 64, "-e .", "gamma>=1", "x==1 ; os_name=='nt'", "#c"]),
)


@FUZZ
@given(st.lists(resolver_lines, max_size=6), st.booleans(), st.binary(max_size=8))
def test_resolver_output(lines: list[str], continued: bool, tail: bytes) -> None:
    """What pip-compile or uv wrote (releaser.ecosystems.python.resolve.read_pins): pins, or one releaser error."""
    from releaser.ecosystems.python.resolve import read_pins

    def parse(root: Path) -> None:
        pins, direct = read_pins(root / "pinned.txt", "uv")
        assert all(isinstance(v, str) for v in (*pins.values(), *direct.values()))

    text = (" \\\n    " if continued else "\n").join(lines)
    in_project({"pinned.txt": text.encode() + tail}, lambda root: only_releaser_errors(parse, root))


@FUZZ
@given(st.text(max_size=80), st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,20}[A-Za-z0-9])?", fullmatch=True))
def test_uv_log_lines(line: str, name: str) -> None:
    """uv's debug log, read for the projects it adds (releaser.ecosystems.python.resolve.uv.added): a name or None."""
    from packaging.utils import canonicalize_name

    from releaser.ecosystems.python.resolve.uv import added

    found = added(line)
    assert found is None or found == canonicalize_name(found)
    assert added(f"DEBUG Adding transitive dependency for app==1.0: {name}>=1.0\n") == canonicalize_name(name)
    assert added(f"DEBUG Adding direct dependency: {name}[extra]; python_version < '4'\n") == canonicalize_name(name)


pin_entries = st.fixed_dictionaries(
    {"kind": st.sampled_from(["python", "maven", "x<y>"]), "name": st.text(max_size=8), "version": st.text(max_size=8)},
    optional={"date": json_values, "artifacts": json_values, "requested": json_values, "source": json_values},
)
migration_entries = st.fixed_dictionaries(
    {"app": st.sampled_from(["shop", "a"]), "name": st.sampled_from(["0001_a", "0002_b", "x"]), "file": st.text(max_size=5),
     "parents": st.lists(st.sampled_from(["shop.0001_a", "shop.0002_b", "a.x", "nodot", ""]), max_size=2),
     "digest": st.just("sha256:0"), "reversible": json_values},
)


@FUZZ
@given(
    pins=st.lists(pin_entries, max_size=3),
    migrations=json_values | st.fixed_dictionaries({"framework": st.sampled_from(["django", "alembic"]), "migrations": st.lists(migration_entries, max_size=4), "new": json_values}),
    rehearsal=json_values | st.fixed_dictionaries({"ran": st.just(True), "steps": json_values | st.lists(st.dictionaries(st.sampled_from(["name", "seconds", "previous_seconds", "did"]), json_values), max_size=3), "max_slowdown": json_values}),
    cut_at=json_values,
)
def test_site_over_any_record(pins: list[Any], migrations: Any, rehearsal: Any, cut_at: Any) -> None:
    """A record (outside input: from the tree or a tag) whose digest matches, whatever its fields hold: the
    site renders (naming what it cannot read on the RC's page) or raises a releaser error."""
    from releaser.site.building import build

    lock_bytes = lockfile.dumps(lockfile.loads(tomli_w.dumps(LOCK_DOCUMENT), Path("x"))).encode()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "release.toml").write_text('[release]\nname = "x"\nversion = "1.0.0"\n')
        for rc in ("1.0.0rc1", "1.0.0rc2"):
            manifest = {"schema": records.SCHEMA, "rc": rc, "lock_digest": records.lock_digest(lock_bytes), "pins": pins,
                        "migrations": migrations, "rehearsal": rehearsal, "cut_at": cut_at}
            records.write(root / "releases", rc, {"manifest.json": json.dumps(manifest).encode(), "release.lock": lock_bytes})
        only_releaser_errors(build, load_config(root / "release.toml"), root / "site")
