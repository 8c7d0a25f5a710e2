"""The migration gate on real Django projects: migrations written by `makemigrations`, branches
and merges in real git, and Django's own tools (`makemigrations --check`, `migrate`) confirming
each verdict on the same tree, before and after the fix.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from migration_projects import PYTHON, DjangoProject, django_project, gate, refused, run
from releaser.core.errors import ConfigError
from releaser.ecosystems import load_config
from releaser.migrations.loader import read_graph
from releaser.migrations.report import Previous

GATE = 'framework = "django"\npaths = ["*/migrations"]\n'


def record_of(project: DjangoProject, rc: str = "1.0.0rc1") -> Previous:
    """The previous RC as cut would have recorded this tree."""
    report = gate(project)
    return Previous(rc, project.head(), report.record())


# -- two branches each add 0002: Django's conflict, and the merge migration that fixes it ----------


@pytest.fixture(scope="module")
def two_leaves(tmp_path_factory: pytest.TempPathFactory) -> DjangoProject:
    project = django_project(tmp_path_factory.mktemp("two") / "shop")
    project.release_toml(GATE)
    project.commit("gate")
    project.branch("price")
    project.add_field("shop", "Item", "price", "models.IntegerField(default=0)")
    project.makemigrations("shop", "add_price")
    project.commit("price")
    project.checkout("main")
    project.remove_field("shop", "Item", "price")
    project.branch("stock")
    project.add_field("shop", "Item", "stock", "models.IntegerField(default=0)")
    project.makemigrations("shop", "add_stock")
    project.commit("stock")
    project.checkout("main")
    project.merge("price")
    done = project.git("merge", "--no-edit", "stock", check=False)  # models.py conflicts, as it would
    assert done.returncode != 0
    project.add_field("shop", "Item", "price", "models.IntegerField(default=0)")
    project.git("add", "--all")
    project.git("commit", "-q", "--no-edit")
    return project


def test_two_0002s_merged_are_refused_as_django_refuses_them(two_leaves: DjangoProject) -> None:
    report = gate(two_leaves)
    assert refused(report) == {"shop.0002": "multiple-heads"}
    finding = report.refused[0]
    assert finding.migration == "shop.0002_add_price, shop.0002_add_stock"
    assert "shop/migrations/0002_add_price.py" in finding.file and "0002_add_stock.py" in finding.file
    assert finding.fix == "python manage.py makemigrations --merge shop"
    django = two_leaves.conflicts()
    assert django.returncode != 0 and "Conflicting migrations detected" in django.stderr + django.stdout


def test_allowing_the_conflict_by_name_accepts_only_it(two_leaves: DjangoProject) -> None:
    report = gate(two_leaves, allow=("shop.0002",))
    assert report.ok and [f.status for f in report.findings] == ["accepted"]
    assert not gate(two_leaves, allow=("shop.0002_add_price",)).ok  # a migration's name is not the conflict's


def test_the_merge_migration_fixes_it(two_leaves: DjangoProject, tmp_path: Path) -> None:
    fixed = DjangoProject(tmp_path / "fixed", models=two_leaves.models)
    two_leaves.git("clone", "-q", str(two_leaves.root), str(fixed.root))
    merge = fixed.makemigrations("shop", "merge", "--merge", "--noinput")
    report = gate(fixed)
    assert report.ok, report.render()
    assert report.graph.heads()["shop"] == (merge.stem,)
    assert fixed.conflicts().returncode == 0  # Django agrees: no conflict, nothing pending


# -- a backport re-parented on a release branch --------------------------------------------------


def reparent(text: str, old: str, new: str) -> str:
    """The migration's text with its dependency on shop.OLD made one on shop.NEW."""
    for quote in ('"', "'"):
        text = text.replace(f"({quote}shop{quote}, {quote}{old}{quote})", f"({quote}shop{quote}, {quote}{new}{quote})")
    assert new in text, text
    return text


@pytest.fixture(scope="module")
def backport(tmp_path_factory: pytest.TempPathFactory) -> DjangoProject:
    """main: 0001, 0002_add_price, 0003_add_stock, 0004_add_color. release-1.0 branched at 0002 and got
    0004_add_color backported, re-parented onto 0002 (trunk's 0003 is not there)."""
    project = django_project(tmp_path_factory.mktemp("backport") / "shop")
    project.release_toml(GATE)
    project.add_field("shop", "Item", "price", "models.IntegerField(default=0)")
    project.makemigrations("shop", "add_price")
    project.commit("price")
    project.git("branch", "release-1.0")
    project.add_field("shop", "Item", "stock", "models.IntegerField(default=0)")
    project.makemigrations("shop", "add_stock")
    project.add_field("shop", "Item", "color", "models.CharField(max_length=20, default='')")
    color = project.makemigrations("shop", "add_color")
    project.commit("stock, color")
    backported = reparent(color.read_text(), "0003_add_stock", "0002_add_price")
    project.checkout("release-1.0")
    color.write_text(backported)
    project.remove_field("shop", "Item", "stock")
    project.commit("backport color to 1.0")
    return project


def test_backport_breaks_the_trunk_rule_on_the_release_branch(backport: DjangoProject) -> None:
    backport.checkout("release-1.0")
    report = gate(backport, trunk="main")
    assert refused(report) == {"shop.0004_add_color": "trunk-parents"}
    assert "shop.0002_add_price" in report.refused[0].message and "shop.0003_add_stock" in report.refused[0].message
    assert report.refused[0].file == "shop/migrations/0004_add_color.py"
    # The backport is what moved: it gets trunk's parents back here; trunk's released migration stays as it is.
    assert report.refused[0].fix.startswith("give it here the dependencies it has on main (shop.0003_add_stock)")  # type: ignore[index]


def test_upgrading_from_the_release_branch_is_refused_as_django_refuses_it(backport: DjangoProject, tmp_path: Path) -> None:
    backport.checkout("main")
    report = gate(backport, upgrade_from=("release-1.0",))
    assert refused(report) == {"shop.0004_add_color": "upgrade"}
    assert "InconsistentMigrationHistory" in report.refused[0].message
    # Django agrees: a database migrated at release-1.0 cannot be migrated with main.
    database = {"SQLITE_PATH": str(tmp_path / "db.sqlite3")}
    backport.checkout("release-1.0")
    backport.manage("migrate", "shop", env=database)
    backport.checkout("main")
    done = backport.manage("migrate", "shop", env=database, check=False)
    assert done.returncode != 0 and "InconsistentMigrationHistory" in done.stderr


def test_the_fix_landed_on_trunk_passes_both_rules(backport: DjangoProject, tmp_path: Path) -> None:
    """On trunk the backport gets the release branch's parents, and a merge migration joins the leaves."""
    fixed = DjangoProject(tmp_path / "fixed", models=dict(backport.models))
    backport.git("clone", "-q", "--no-local", str(backport.root), str(fixed.root))
    fixed.git("branch", "release-1.0", "origin/release-1.0")
    color = fixed.migration("shop", "0004")
    color.write_text(reparent(color.read_text(), "0003_add_stock", "0002_add_price"))
    fixed.add_field("shop", "Item", "price", "models.IntegerField(default=0)")
    fixed.add_field("shop", "Item", "stock", "models.IntegerField(default=0)")
    fixed.add_field("shop", "Item", "color", "models.CharField(max_length=20, default='')")
    fixed.makemigrations("shop", "merge", "--merge", "--noinput")
    fixed.commit("color: the backport's parents on trunk too, merged")
    assert gate(fixed, upgrade_from=("release-1.0",)).ok
    fixed.checkout("release-1.0")
    assert gate(fixed, trunk="main").ok
    database = {"SQLITE_PATH": str(tmp_path / "db.sqlite3")}
    fixed.manage("migrate", "shop", env=database)
    fixed.checkout("main")
    fixed.manage("migrate", "shop", env=database)  # Django agrees: the upgrade runs


def test_a_migration_only_on_the_release_branch_is_not_on_trunk(backport: DjangoProject) -> None:
    backport.checkout("release-1.0")
    report = gate(backport, trunk="release-1.0~1")  # trunk as it was before the backport
    assert refused(report) == {"shop.0004_add_color": "not-on-trunk"}


# -- the previous RC: edits, renames, removals, reversibility ----------------------------------------


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> tuple[DjangoProject, Previous]:
    project = django_project(tmp_path_factory.mktemp("released") / "shop")
    project.release_toml(GATE)
    project.add_field("shop", "Item", "price", "models.IntegerField(default=0)")
    project.makemigrations("shop", "add_price")
    project.commit("price")
    return project, record_of(project)


def _edited(project: DjangoProject, name: str, edit) -> None:  # type: ignore[no-untyped-def]
    path = project.migration("shop", name)
    path.write_text(edit(path.read_text()))


def test_reformatting_a_released_migration_is_no_change(released: tuple[DjangoProject, Previous]) -> None:
    project, previous = released
    original = project.migration("shop", "0002").read_text()
    try:
        # What black, isort and ruff format do: quotes, line breaks, trailing commas, import order, comments.
        _edited(project, "0002", lambda text: (
            "# formatted\nfrom django.db import models\nfrom django.db import migrations\n\n\n"
            + text.replace("from django.db import migrations, models\n", "")
            .replace("'", '"')
            .replace("dependencies = [", "dependencies = [  # what came before\n")
            .replace("class Migration(migrations.Migration):\n", 'class Migration(migrations.Migration):\n    """Add a price."""\n')
            .replace("field=models.IntegerField(default=0),\n        ),", "field=models.IntegerField(default=0)),")
        ))
        report = gate(project, previous)
        assert report.ok, report.render()
        assert report.previous == "1.0.0rc1" and report.new == ()
    finally:
        project.migration("shop", "0002").write_text(original)


def test_black_isort_and_ruff_format_change_no_digest(released: tuple[DjangoProject, Previous]) -> None:
    """The real formatters, each set to write a layout of its own, over a released migration."""
    project, previous = released
    path = project.migration("shop", "0002")
    original = path.read_text()
    try:
        for command in (
            ("isort", "--force-single-line-imports", "--quiet", str(path)),
            ("black", "--quiet", "--line-length", "40", str(path)),
            ("ruff", "format", "--quiet", "--line-length", "200", str(path)),
        ):
            before = path.read_text()
            run(project.root, PYTHON, "-m", *command)
            assert path.read_text() != before, command  # the formatter did change the file
            report = gate(project, previous)
            assert report.ok, (command, report.render())
    finally:
        path.write_text(original)


def test_changing_renaming_or_removing_a_released_migration_is_refused(released: tuple[DjangoProject, Previous]) -> None:
    project, previous = released
    path = project.migration("shop", "0002")
    original = path.read_text()
    try:
        path.write_text(original.replace("default=0", "default=1"))
        report = gate(project, previous)
        assert refused(report) == {"shop.0002_add_price": "changed"}
        assert report.refused[0].fix.startswith(f"git checkout {previous.commit[:12]} -- shop/migrations/0002_add_price.py")  # type: ignore[index]
        path.write_text(original)
        path.rename(path.with_name("0002_price.py"))
        report = gate(project, previous)
        assert refused(report) == {"shop.0002_add_price": "removed"}
        assert "renamed to shop.0002_price" in report.refused[0].message
        # The way back is the old name, not a second copy of the file beside the new one.
        assert report.refused[0].fix.startswith("git mv shop/migrations/0002_price.py shop/migrations/0002_add_price.py")  # type: ignore[index]
    finally:
        for stray in path.parent.glob("0002_*.py"):
            stray.unlink()
        path.write_text(original)


def test_a_new_irreversible_migration_is_refused_and_django_calls_it_irreversible(
    released: tuple[DjangoProject, Previous], tmp_path: Path
) -> None:
    project, previous = released
    data = project.makemigrations("shop", "fill_prices", "--empty")
    forwards = "def fill(apps, schema_editor):\n    pass\n\n\nclass Migration"
    text = data.read_text().replace("class Migration", forwards).replace(
        "operations = [\n    ]", "operations = [\n        migrations.RunPython(fill),\n    ]"
    )
    data.write_text(text)
    try:
        report = gate(project, previous)
        assert refused(report) == {"shop.0003_fill_prices": "irreversible"}
        assert report.new == ("shop.0003_fill_prices",)
        assert "reverse_code" in report.refused[0].fix
        database = {"SQLITE_PATH": str(tmp_path / "db.sqlite3")}
        project.manage("migrate", env=database)
        back = project.manage("migrate", "shop", "0002", "--plan", env=database)  # Django's plan back to the RC
        assert "Raw Python operation -> IRREVERSIBLE" in back.stdout
        data.write_text(text.replace("RunPython(fill)", "RunPython(fill, migrations.RunPython.noop)"))
        assert gate(project, previous).ok
        assert "IRREVERSIBLE" not in project.manage("migrate", "shop", "0002", "--plan", env=database).stdout
        assert gate(project).ok  # no previous RC: nothing is new, nothing judged for reversibility
    finally:
        data.unlink()


# -- reading: squashes, swappable dependencies, run_before, bad input ---------------------------------


def test_squashed_migrations_stand_for_what_they_replace(released: tuple[DjangoProject, Previous], tmp_path: Path) -> None:
    project, previous = released
    squashed = DjangoProject(tmp_path / "squash", models=project.models)
    project.git("clone", "-q", str(project.root), str(squashed.root))
    squashed.manage("squashmigrations", "shop", "0002", "--noinput")
    graph = read_graph(load_config(squashed.root / "release.toml").migrations, squashed.root)  # type: ignore[arg-type]
    (name,) = graph.heads()["shop"]
    assert name.startswith("0001_squashed_0002")
    for old in ("0001_initial", "0002_add_price"):  # the squash is finalized: the replaced files go
        (squashed.root / f"shop/migrations/{old}.py").unlink()
    report = gate(squashed, previous)
    assert report.ok, report.render()


def test_dependencies_across_apps_swappable_and_run_before(tmp_path: Path) -> None:
    project = django_project(tmp_path / "multi", apps=("shop", "blog"), git=False)
    project.write("release.toml", '[release]\nname = "x"\nversion = "1"\n[migrations]\n' + GATE)
    project.add_field("blog", "Item", "owner", "models.ForeignKey('auth.User', on_delete=models.CASCADE, null=True)")
    owner = project.makemigrations("blog", "owner")
    owner.write_text(owner.read_text().replace(
        "    operations = [", "    run_before = [('shop', '0001_initial')]\n\n    operations = [", 1
    ))
    project.write("shop/migrations/0002_typed.py", """
        from django.db import migrations

        class Migration(migrations.Migration):
            dependencies: list[tuple[str, str]] = [("shop", "0001_initial"), ("blog", "__latest__")]
            operations: list = [migrations.RunSQL("select 1", reverse_sql=migrations.RunSQL.noop)]
    """)
    graph = read_graph(load_config(project.root / "release.toml").migrations, project.root)  # type: ignore[arg-type]
    typed = graph.migrations[("shop", "0002_typed")]
    assert set(typed.parents) == {("shop", "0001_initial"), ("blog", "0002_owner")} and typed.reversible
    blog = graph.migrations[("blog", "0002_owner")]
    assert ("auth", "__first__") in blog.parents  # swappable_dependency(settings.AUTH_USER_MODEL)
    assert graph.migrations[("auth", "__first__")].external
    assert ("blog", "0002_owner") in graph.migrations[("shop", "0001_initial")].parents  # run_before
    assert graph.heads() == {"auth": (), "blog": ("0002_owner",), "shop": ("0002_typed",)}


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    project = django_project(tmp_path / "bad", git=False)
    project.write("release.toml", '[release]\nname = "x"\nversion = "1"\n[migrations]\n' + GATE)
    settings = load_config(project.root / "release.toml").migrations
    assert settings is not None
    first = project.migration("shop", "0001")
    text = first.read_text()
    # Python 2 syntax: read by its name, with a warning.
    project.write("shop/migrations/0002_old.py", "print 'python 2'\n")
    graph = read_graph(settings, project.root)
    assert ("shop", "0002_old") in graph.migrations
    assert any("0002_old.py: does not parse as Python 3" in w for w in graph.warnings)
    (project.root / "shop/migrations/0002_old.py").unlink()
    # A dependency on a migration that is not there.
    first.write_text(text.replace("dependencies = [", "dependencies = [('shop', '0009_gone'), "))
    with pytest.raises(ConfigError, match=r"0001_initial.py: 0001_initial depends on shop.0009_gone, which does not exist"):
        read_graph(settings, project.root)
    # A cycle.
    project.write("shop/migrations/0002_next.py", textwrap.dedent("""
        from django.db import migrations
        class Migration(migrations.Migration):
            dependencies = [("shop", "0001_initial")]
    """))
    first.write_text(text.replace("dependencies = [", "dependencies = [('shop', '0002_next'), "))
    with pytest.raises(ConfigError, match="in a cycle: shop.000[12]_.* -> shop.000[12]_.* -> shop.000[12]_"):
        read_graph(settings, project.root)


FILL = "def fill(apps, schema_editor):\n    pass\n\n\n"
HIDDEN_RUNPYTHON = {
    "appended-in-class": ("", "operations = []\n    operations.append(migrations.RunPython(fill))\n", ""),
    "added-in-class": ("", "operations = []\n    operations += [migrations.RunPython(fill)]\n", ""),
    "extended-after-class": ("", "operations = []\n", "\nMigration.operations.extend([migrations.RunPython(fill)])\n"),
    "aliased-import": ("from django.db.migrations import RunPython as R\n", "operations = [R(fill)]\n", ""),
    "module-alias": ("import django.db.migrations as m\n", "operations = [m.RunPython(fill)]\n", ""),
    "assigned-alias": ("Run = migrations.RunPython\n", "operations = [Run(fill)]\n", ""),
}


@pytest.mark.parametrize("parts", HIDDEN_RUNPYTHON.values(), ids=HIDDEN_RUNPYTHON.keys())
def test_a_runpython_added_after_the_class_or_under_another_name_is_still_irreversible(
    released: tuple[DjangoProject, Previous], tmp_path: Path, parts: tuple[str, str, str]
) -> None:
    project, previous = released
    imports, body, after = parts
    path = project.root / "shop" / "migrations" / "0003_fill.py"
    path.write_text(
        f"from django.db import migrations\n{imports}\n\n{FILL}class Migration(migrations.Migration):\n"
        f"    dependencies = [('shop', '0002_add_price')]\n    {body}{after}"
    )
    try:
        assert refused(gate(project, previous)) == {"shop.0003_fill": "irreversible"}
        database = {"SQLITE_PATH": str(tmp_path / "db.sqlite3")}
        project.manage("migrate", env=database)
        assert "IRREVERSIBLE" in project.manage("migrate", "shop", "0002", "--plan", env=database).stdout  # Django agrees
    finally:
        path.unlink()


def test_operations_added_in_a_way_not_read_statically_are_a_warning_not_a_pass(released: tuple[DjangoProject, Previous]) -> None:
    project, previous = released
    path = project.root / "shop" / "migrations" / "0003_fill.py"
    path.write_text(
        f"from django.db import migrations\n\n{FILL}EXTRA = [migrations.RunPython(fill)]\n\n\n"
        "class Migration(migrations.Migration):\n    dependencies = [('shop', '0002_add_price')]\n    operations = []\n\n\n"
        "Migration.operations.extend(EXTRA)\n"
    )
    try:
        report = gate(project, previous)
        assert report.ok and any("0003_fill.py: could not tell whether shop.0003_fill can be reversed" in n for n in report.notes)
    finally:
        path.unlink()
