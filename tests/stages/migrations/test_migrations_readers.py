"""The readers without a framework installed: South and Flyway trees, Alembic's depends_on and
branch labels, the `[migrations]` settings, and property tests: any file text, any glob, gives
a graph or a releaser error, never a traceback."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migration_projects import GitProject
from releaser.core import config
from releaser.core.errors import ConfigError, ReleaserError
from releaser.core.migration_config import MigrationSettings, matching_dirs
from releaser.ecosystems import load_config
from releaser.migrations import alembic, django, flyway, pysource, south
from releaser.migrations.gate import evaluate
from releaser.migrations.graph import Graph
from releaser.migrations.loader import glob_matches, read_graph
from releaser.migrations.pysource import Source
from releaser.migrations.report import Previous

READERS = {"django": django.read, "alembic": alembic.read, "south": south.read, "flyway": flyway.read}


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


def gate_on(root: Path, framework: str, paths: list[str], previous: Previous | None = None, **extra: object):  # type: ignore[no-untyped-def]
    return evaluate(MigrationSettings(framework, tuple(paths), **extra), root, previous)  # type: ignore[arg-type]


def previous_of(graph: Graph) -> Previous:
    return Previous("1.0rc1", None, {**graph.to_record(), "new": []})


# -- South -----------------------------------------------------------------------------------


SOUTH = """
from south.db import db
from south.v2 import SchemaMigration

class Migration(SchemaMigration):
    def forwards(self, orm):
        db.add_column('shop_item', 'x', self.gf('django.db.models.fields.IntegerField')(default=0))

    def backwards(self, orm):
        {backwards}
"""


def test_south_orders_by_name_refuses_shared_numbers_and_out_of_order(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "shop/migrations/__init__.py": "",
        "shop/migrations/0001_initial.py": SOUTH.format(backwards="db.delete_column('shop_item', 'x')"),
        "shop/migrations/0002_price.py": "print 'python 2 migration'\n",
        "shop/migrations/0003_stock.py": SOUTH.format(backwards="db.delete_column('shop_item', 'x')"),
    })
    report = gate_on(root, "south", ["shop/migrations"])
    assert report.ok
    graph = report.graph
    assert graph.migrations[("shop", "0003_stock")].parents == (("shop", "0002_price"),)
    assert graph.migrations[("shop", "0002_price")].parents == (("shop", "0001_initial"),)
    assert any("0002_price.py: does not parse as Python 3" in w for w in graph.warnings)
    previous = previous_of(graph)
    tree(root, {
        "shop/migrations/0002_discount.py": SOUTH.format(backwards="raise RuntimeError('Cannot reverse this migration.')"),
        "shop/migrations/0004_color.py": SOUTH.format(backwards="pass"),
    })
    report = gate_on(root, "south", ["shop/migrations"], previous)
    assert {(f.name, f.kind) for f in report.refused} == {
        ("shop.0002", "duplicate"),  # 0002_discount and 0002_price
        ("shop.0002_discount", "upgrade"),  # sorts before 0003_stock, applied at 1.0rc1: South wants --merge
        ("shop.0002_discount", "irreversible"),  # backwards() raises
        ("shop.0004_color", "irreversible"),  # backwards() is empty
    }
    allowed = gate_on(root, "south", ["shop/migrations"], previous, allow=("shop.0002",))
    assert [(f.name, f.status) for f in allowed.findings if f.kind == "duplicate"] == [("shop.0002", "accepted")]
    assert len(allowed.refused) == 3  # accepting the shared number hides no other finding


# -- Flyway ----------------------------------------------------------------------------------


def test_flyway_versions_compare_as_flyway_compares_them() -> None:
    ordered = sorted(["1.10", "1.2", "1_1", "2", "1.2.1", "1"], key=flyway.version_key)
    assert ordered == ["1", "1_1", "1.2", "1.2.1", "1.10", "2"]
    assert flyway.version_key("1.0") == flyway.version_key("1") == (1,)
    assert flyway.version_name(flyway.version_key("1_02")) == "1.2"


def test_flyway_duplicates_missing_undo_out_of_order_and_sql_digests(tmp_path: Path) -> None:
    project = GitProject(tmp_path)
    tree(tmp_path, {
        "db/migration/V1__init.sql": "create table item (id int);\n",
        "db/migration/U1__init.sql": "drop table item;\n",
        "db/migration/sub/V1_1__price.sql": "-- the price\nalter table item add price int;\n",
        "db/migration/U1.1__price.sql": "alter table item drop price;\n",
        "db/migration/R__views.sql": "create or replace view v as select 1;\n",
        "db/migration/notes.txt": "not a migration",
    })
    project.init_git()
    project.git("tag", "r1")
    paths = ["db/migration"]
    graph = gate_on(tmp_path, "flyway", paths).graph
    assert [m.name for m in graph.internal()] == ["1", "1.1"]
    assert graph.migrations[("flyway", "1.1")].file == "db/migration/sub/V1_1__price.sql"
    previous = previous_of(graph)
    # Reformatting SQL (whitespace, comments) is no change; a changed statement is.
    tree(tmp_path, {"db/migration/sub/V1_1__price.sql": "/* price */ ALTER TABLE item\n   ADD price int ;"})
    assert not gate_on(tmp_path, "flyway", paths, previous).ok  # case can be meaning (quoted names, strings)
    tree(tmp_path, {"db/migration/sub/V1_1__price.sql": "alter table item\n  add price int; -- reformatted\n"})
    assert gate_on(tmp_path, "flyway", paths, previous).ok
    tree(tmp_path, {
        "db/migration/V1_0_5__late.sql": "alter table item add late int;\n",
        "db/migration/U1_0_5__late.sql": "alter table item drop late;\n",
        "db/migration/V2__color.sql": "alter table item add color int;\n",
        "db/migration/V2_0__color_again.sql": "select 1;\n",
    })
    report = gate_on(tmp_path, "flyway", paths, previous, upgrade_from=("r1",))
    assert {(f.name, f.kind) for f in report.refused} == {("2", "duplicate"), ("2", "irreversible"), ("1.0.5", "upgrade")}
    late = next(f for f in report.refused if f.kind == "upgrade")
    assert late.file == "db/migration/V1_0_5__late.sql" and "renumber it above 1.1" in late.fix


# -- Alembic details -------------------------------------------------------------------------


ALEMBIC = '''
"""{rev}"""
from alembic import op
revision{annotation} = {rev!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = {depends!r}

def upgrade():
    op.execute("select 1")

def downgrade():
    op.execute("select 2")
'''


def test_alembic_depends_on_branch_labels_two_locations_and_duplicates(tmp_path: Path) -> None:
    def revision(rev: str, down: object = None, labels: object = None, depends: object = None, annotation: str = "") -> str:
        return ALEMBIC.format(rev=rev, down=down, labels=labels, depends=depends, annotation=annotation)

    root = tree(tmp_path, {
        "migrations/versions/a1_base.py": revision("a1", labels=("core",)),
        "migrations/versions/b2_next.py": revision("b2", "a1", annotation=": str"),
        "plugins/versions/p1_plugin.py": revision("p1", None, ("plugin",), depends="core"),
        "plugins/versions/p2_more.py": revision("p2", ("p1",), None, ("b2",)),
        "migrations/versions/__init__.py": "",
        "migrations/versions/.#b2_next.py": "garbage (",
    })
    settings = MigrationSettings("alembic", ("migrations/versions", "plugins/versions"), labels={"plugins/versions": "migrations"})
    graph = read_graph(settings, root)
    assert graph.heads() == {"migrations": ("b2", "p2")}  # depends_on ends no head: two heads, as Alembic says
    assert graph.migrations[("migrations", "p1")].requires == (("migrations", "a1"),)  # "core" is a1's label
    tree(root, {"plugins/versions/b2_copy.py": revision("b2", "a1")})
    report = evaluate(settings, root)
    assert {(f.name, f.kind) for f in report.refused} == {("b2+p2", "multiple-heads"), ("b2", "duplicate")}


# -- bad input -------------------------------------------------------------------------------


def test_bad_settings_are_one_line_naming_file_key_and_line(tmp_path: Path) -> None:
    (tmp_path / "shop/migrations").mkdir(parents=True)
    cases = {
        'framework = "rails"\npaths = ["shop/migrations"]': r"release.toml:6: \[migrations\] framework: 'rails' is not one of",
        'framework = "django"\npaths = ["nowhere/*/migrations"]': r":7: \[migrations\] paths: 'nowhere/\*/migrations' matches no directory",
        'framework = "django"\npaths = ["shop/migrations"]\nsurprise = 1': r":8: \[migrations\] surprise: unknown key",
        'framework = "django"\npaths = ["shop/migrations"]\nmax-slowdown = 0.5': r"max-slowdown: 0.5 must be a number >= 1",
        'framework = "django"\npaths = ["shop/migrations"]\nseed = [[]]': r"seed\[0\]: is an empty command",
        'framework = "django"\npaths = ["shop/migrations"]\nlock-budget = 0': r":8: \[migrations\] lock-budget: 0 must be a positive number of seconds",
        'framework = "django"\npaths = ["shop/migrations"]\nlock-budget = "1s"': r"lock-budget: '1s' must be a positive number",
        'framework = "django"\npaths = ["shop/migrations"]\nlock-budget = nan': r"lock-budget: nan must be a positive number",
        'framework = "django"\npaths = ["shop/migrations"]\nscale = 2.5': r"scale: 2.5 must be a whole number from 1 to 10000",
        'framework = "django"\npaths = ["shop/migrations"]\nlock-lint = "loud"': r"lock-lint: 'loud' is not one of: warn, refuse, off",
        'framework = "django"\npaths = ["../x"]': r"'../x' must be a glob inside the project",
        'framework = "django"\npaths = "shop/migrations"': r"paths: must be an array",
    }
    for table, message in cases.items():
        (tmp_path / "release.toml").write_text(f'[release]\nname = "x"\nversion = "1.0"\n\n[migrations]\n{table}\n')
        with pytest.raises(ConfigError, match=message):
            load_config(tmp_path / "release.toml")
    (tmp_path / "release.toml").write_text(
        '[release]\nname = "x"\nversion = "1.0"\n[migrations]\nframework = "django"\npaths = ["shop/*"]\n'
        'database = "${DATABASE_URL}"\nseed = [["python", "manage.py", "loaddata", "x.json"]]\nmax-slowdown = 3\n'
        'upgrade = ["python", "manage.py", "migrate"]\nrevert = ["python", "manage.py", "migrate", "{app}", "{target}"]\n'
        'lock-budget = 2\nscale = 10\nlock-lint = "refuse"\n'
    )
    loaded = load_config(tmp_path / "release.toml").migrations
    assert loaded == MigrationSettings(
        "django", ("shop/*",), database="${DATABASE_URL}", seed=(("python", "manage.py", "loaddata", "x.json"),),
        max_slowdown=3.0, upgrade=("python", "manage.py", "migrate"), revert=("python", "manage.py", "migrate", "{app}", "{target}"),
        lock_budget=2.0, scale=10, lock_lint="refuse",
    )


def test_an_unknown_ref_is_bad_input(tmp_path: Path) -> None:
    project = GitProject(tmp_path)
    tree(tmp_path, {"db/V1__a.sql": "select 1;"})
    project.init_git()
    with pytest.raises(ConfigError, match=r"\[migrations\] trunk: 'origin/nope' is not a commit, branch or tag"):
        gate_on(tmp_path, "flyway", ["db"], trunk="origin/nope")


# -- properties ------------------------------------------------------------------------------


_PY_BITS = st.sampled_from([
    "class Migration(migrations.Migration):\n", "    dependencies = [('shop', '0001_initial')]\n",
    "    dependencies = [('shop', '__first__'), ('other', '__latest__')]\n", "    replaces = [('shop', '0001_initial')]\n",
    "    run_before = [('shop', '0001_x')]\n", "    operations = [migrations.RunPython(f)]\n", "revision = 'a1'\n",
    "down_revision = ('a1', 'b2')\n", "down_revision = 5\n", "depends_on = 'core'\n", "branch_labels = ['core']\n",
    "def downgrade():\n    pass\n", "def upgrade():\n    raise X\n", "print 'py2'\n", "\x00", "(((", "dependencies: list = [1]\n",
    "    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]\n", "revision: str = ''\n",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    framework=st.sampled_from(sorted(READERS)),
    files=st.lists(
        st.tuples(
            st.sampled_from(["0001_initial.py", "0002_x.py", "a1_x.py", "V1__a.sql", "U1__a.sql", "V1_0__b.sql", "R__v.sql", "x.py"]),
            st.one_of(st.text(max_size=200), st.lists(_PY_BITS, max_size=8).map("".join), st.binary(max_size=64)),
        ),
        max_size=5,
    ),
)
def test_any_file_text_gives_a_graph_or_a_releaser_error(framework: str, files: list[tuple[str, object]]) -> None:
    sources = []
    for name, text in files:
        data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        sources.append(Source(f"shop/migrations/{name}", data))  # type: ignore[arg-type]
    try:
        graph = READERS[framework](MigrationSettings(framework, ("shop/migrations",)), {"shop/migrations": sources})
    except ReleaserError as exc:
        assert "\n" not in str(exc)
        return
    graph.heads()
    graph.to_record()
    Graph.from_record(graph.to_record())


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("globs")
    for d in ["a/b/a", "a/a", "b/a/b", "ab", "a-b", "b/ab/a", ".a/b", "b/.a"]:
        (root / d).mkdir(parents=True, exist_ok=True)
    return root, sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet="ab*?[]!/-.", min_size=1, max_size=9))
def test_a_glob_at_a_ref_matches_what_glob_matches_on_disk(folders: tuple[Path, list[str]], pattern: str) -> None:
    root, dirs = folders
    if pattern.startswith("/") or any(part in ("", ".", "..") for part in pattern.rstrip("/").split("/")):
        return  # refused by the settings: not a glob inside the project
    assert matching_dirs(root, pattern) == sorted(d for d in dirs if glob_matches(pattern, d))


def test_digests_ignore_formatting_not_meaning() -> None:
    def digest(text: str) -> str:
        source = Source("m.py", textwrap.dedent(text).encode())
        tree, _ = pysource.parse(source)
        return pysource.digest(tree, source)

    base = digest("""
        from django.db import migrations, models
        class Migration(migrations.Migration):
            dependencies = [('shop', '0001')]
            operations = [migrations.AddField('item', 'price', models.IntegerField(default=0))]
    """)
    assert base == digest('''
        """Docstring."""
        from django.db import models  # isort split and sorted these
        from django.db import migrations


        class Migration(migrations.Migration):
            """Add the price."""

            dependencies = [
                ("shop", "0001"),
            ]
            operations = [
                migrations.AddField(
                    "item", "price", models.IntegerField(default=0)
                ),
            ]
    ''')
    assert base != digest("""
        from django.db import migrations, models
        class Migration(migrations.Migration):
            dependencies = [('shop', '0001')]
            operations = [migrations.AddField('item', 'price', models.IntegerField(default=1))]
    """)


_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=st.dictionaries(
    st.sampled_from(["framework", "paths", "trunk", "upgrade-from", "allow", "labels", "database", "seed",
                     "max-slowdown", "upgrade", "revert", "lock-budget", "scale", "lock-lint", "other"]),
    _VALUES, max_size=6,
))
def test_any_migrations_table_gives_settings_or_a_config_error(folders: tuple[Path, list[str]], table: dict[str, object]) -> None:
    from releaser.core.migration_config import parse

    root, _ = folders
    parser = config.ConfigReader(root / "release.toml", "[migrations]\n")
    try:
        parsed = parse(parser, {"framework": "django", "paths": ["a"], **table}, root)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    assert parsed.framework in ("django", "alembic", "south", "flyway") and parsed.paths


def test_the_file_cache_is_never_stale_and_never_in_the_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tree(tmp_path / "p", {"shop/migrations/0001_initial.py": SOUTH.format(backwards="pass")})
    settings_ = MigrationSettings("south", ("shop/migrations",))
    assert read_graph(settings_, root).migrations[("shop", "0001_initial")].reversible is False
    cached = tmp_path / "cache" / "releaser" / "migrations" / "south.json"
    assert cached.is_file()
    tree(root, {"shop/migrations/0001_initial.py": SOUTH.format(backwards="db.delete_column('shop_item', 'x')")})
    assert read_graph(settings_, root).migrations[("shop", "0001_initial")].reversible is True  # new bytes: read again
    cached.write_text("{not json")
    assert read_graph(settings_, root).migrations[("shop", "0001_initial")].reversible is True
    cached.unlink()
    cached.parent.chmod(0o500)  # unwritable (root ignores this; then it is simply written)
    try:
        assert read_graph(settings_, root).migrations[("shop", "0001_initial")].reversible is True
    finally:
        cached.parent.chmod(0o700)


_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(alphabet="ab.0_", max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(
        st.sampled_from(["app", "name", "file", "parents", "digest", "reversible", "replaces", "requires", "x"]), inner, max_size=8
    )),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(record=st.one_of(_JSON, st.fixed_dictionaries({"framework": st.sampled_from(["django", 1]), "migrations": _JSON})))
def test_any_recorded_graph_gives_a_graph_or_a_config_error(record: object) -> None:
    """A previous RC's manifest.json is outside input too: an edited one is one clear error."""
    try:
        graph = Graph.from_record(record)  # type: ignore[arg-type]
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    graph.heads()
