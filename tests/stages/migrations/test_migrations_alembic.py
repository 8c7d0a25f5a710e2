"""The migration gate on real Alembic projects: revisions written by `alembic revision`, branches
merged in real git, `alembic heads` and `alembic upgrade` confirming the verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_projects import AlembicProject, alembic_project, gate, refused
from releaser.ecosystems import load_config
from releaser.migrations.loader import read_graph, read_graph_at
from releaser.migrations.report import Previous

GATE = 'framework = "alembic"\npaths = ["alembic/versions"]\n'
CREATE = "op.create_table('item', sa.Column('id', sa.Integer, primary_key=True))"


@pytest.fixture(scope="module")
def branches(tmp_path_factory: pytest.TempPathFactory) -> AlembicProject:
    """main: a1; branch price: b2 (after a1); branch stock: c3 (after a1); both merged into main."""
    project = alembic_project(tmp_path_factory.mktemp("alembic") / "app")
    project.release_toml(GATE)
    project.revision("a1", "items", CREATE, "op.drop_table('item')")
    project.commit("a1")
    project.git("tag", "v1.0")
    for rev, column in (("b2", "price"), ("c3", "stock")):
        project.branch(column, "v1.0")
        project.revision(
            rev, column, f"op.add_column('item', sa.Column('{column}', sa.Integer))", f"op.drop_column('item', '{column}')"
        )
        project.commit(rev)
    project.checkout("main")
    project.merge("price")
    project.merge("stock")
    return project


def test_branches_merged_in_git_leave_two_heads_as_alembic_says(branches: AlembicProject) -> None:
    report = gate(branches)
    assert branches.heads() == ["b2", "c3"]
    assert refused(report) == {"b2+c3": "multiple-heads"}
    assert report.refused[0].fix == "alembic merge heads -m 'merge heads'"
    assert report.graph.heads() == {"alembic": ("b2", "c3")}


def test_alembic_merge_heads_fixes_it(branches: AlembicProject, tmp_path: Path) -> None:
    fixed = AlembicProject(tmp_path / "fixed")
    branches.git("clone", "-q", str(branches.root), str(fixed.root))
    fixed.alembic("merge", "heads", "-m", "merge", "--rev-id", "d4")
    assert fixed.heads() == ["d4"]
    report = gate(fixed, upgrade_from=("v1.0",))
    assert report.ok, report.render()
    assert report.graph.migrations[("alembic", "d4")].reversible  # a merge point is empty both ways, legitimately
    fixed.alembic("upgrade", "head")


def test_a_reparented_released_revision_is_refused_for_upgrades(branches: AlembicProject, tmp_path: Path) -> None:
    """Release price shipped b2 after a1; trunk then hangs b2 after c3: a database stamped b2 would skip c3."""
    moved = AlembicProject(tmp_path / "moved")
    branches.git("clone", "-q", str(branches.root), str(moved.root))
    moved.git("branch", "price", "origin/price")
    b2 = next((moved.root / "alembic/versions").glob("b2_*.py"))
    b2.write_text(b2.read_text().replace("down_revision: Union[str, Sequence[str], None] = 'a1'", "down_revision: Union[str, Sequence[str], None] = 'c3'"))
    moved.commit("b2 after c3")
    assert moved.heads() == ["b2"]  # Alembic sees one head: the gate's heads verdict agrees
    report = gate(moved, upgrade_from=("price",))
    assert refused(report) == {"b2": "upgrade"}
    assert "would count c3 as applied without running them" in report.refused[0].message
    # Alembic agrees: a database at release `price` (stamped b2) "upgrades" to head without adding stock.
    moved.checkout("price")
    moved.alembic("upgrade", "head")
    moved.checkout("main")
    assert moved.alembic("current").stdout.split()[0] == "b2"
    assert "stock" not in _columns(moved.root / "app.sqlite3")
    moved.alembic("upgrade", "head")
    assert "stock" not in _columns(moved.root / "app.sqlite3")


def _columns(database: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(database) as db:
        return [row[1] for row in db.execute("PRAGMA table_info(item)")]


def test_empty_or_raising_downgrades_are_irreversible_when_new(branches: AlembicProject, tmp_path: Path) -> None:
    project = AlembicProject(tmp_path / "irreversible")
    branches.git("clone", "-q", str(branches.root), str(project.root))
    project.alembic("merge", "heads", "-m", "merge", "--rev-id", "d4")
    previous = Previous("1.0.0rc1", project.head(), gate(project).record())
    project.revision("e5", "drop price", "op.drop_column('item', 'price')")  # downgrade left as `pass`
    project.revision("f6", "fill", "op.execute('update item set stock = 0')", "raise NotImplementedError('no way back')")
    project.revision("g7", "nothing")  # empty both ways: a no-op, reversible
    report = gate(project, previous)
    assert refused(report) == {"e5": "irreversible", "f6": "irreversible"}
    assert report.new == ("alembic.e5", "alembic.f6", "alembic.g7")
    assert report.refused[0].fix.startswith("write downgrade() in alembic/versions/e5_drop_price.py")
    assert gate(project, previous, allow=("e5", "f6")).ok
    # A new migration's name accepts the rehearsal's findings (compat, locks, lint) too: no warning for it.
    notes = gate(project, previous, allow=("e5", "f6", "g7", "zz9")).notes
    assert [n for n in notes if n.startswith("allow names")] == ["allow names 'zz9', which no finding and no new migration has"]


def test_a_ref_is_read_from_git_objects_without_a_checkout(branches: AlembicProject) -> None:
    settings = load_config(branches.root / "release.toml").migrations
    assert settings is not None
    head = branches.head()
    at_release = read_graph_at(settings, branches.root, "v1.0")
    assert at_release.heads() == {"alembic": ("a1",)}
    assert read_graph_at(settings, branches.root, "price").to_record()["heads"] == {"alembic": ["b2"]}
    assert read_graph(settings, branches.root).heads() == {"alembic": ("b2", "c3")}
    assert branches.head() == head and branches.git("status", "--porcelain").stdout == ""
