"""The migration gate from the command line: `releaser migrations`, `check`, `cut`, `diff`, on a
real Django project in a real git repository, each command in its own process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import run_releaser
from migration_projects import DjangoProject, django_project

GATE = 'framework = "django"\npaths = ["*/migrations"]\n'
IRREVERSIBLE = "migrations.RunPython(fill)"


def releaser(project: DjangoProject, *args: str) -> tuple[int, str, str]:
    done = run_releaser(project.root, *args)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def cut_twice(tmp_path_factory: pytest.TempPathFactory) -> DjangoProject:
    """rc1 records 0001 and 0002; then 0003 with an irreversible RunPython is refused, fixed, and cut as rc2."""
    project = django_project(tmp_path_factory.mktemp("cli") / "shop")
    project.release_toml(GATE)
    project.add_field("shop", "Item", "price", "models.IntegerField(default=0)")
    project.makemigrations("shop", "add_price")
    assert releaser(project, "lock")[0] == 0
    project.commit("locked, with migrations")
    code, out, err = releaser(project, "cut")
    assert code == 0, out + err
    return project


def test_the_first_rc_records_the_graph_and_judges_no_history(cut_twice: DjangoProject) -> None:
    record = json.loads((cut_twice.root / "releases/1.0.0rc1/manifest.json").read_text())
    migrations = record["migrations"]
    assert migrations["framework"] == "django" and migrations["new"] == [] and migrations["previous"] is None
    assert migrations["accepted"] == []
    assert migrations["heads"] == {"shop": ["0002_add_price"]}
    assert [(m["name"], m["parents"], m["reversible"]) for m in migrations["migrations"]] == [
        ("0001_initial", [], True), ("0002_add_price", ["shop.0001_initial"], True),
    ]
    assert all(m["digest"].startswith("sha256:") for m in migrations["migrations"])
    page = (cut_twice.root / "releases/1.0.0rc1/MANIFEST.md").read_text()
    assert "## Migrations (django)" in page and "none judged as new" in page


def test_an_irreversible_migration_is_refused_by_check_migrations_and_cut(cut_twice: DjangoProject) -> None:
    project = cut_twice
    data = project.makemigrations("shop", "fill_prices", "--empty")
    data.write_text(data.read_text().replace("class Migration", "def fill(apps, schema_editor):\n    pass\n\n\nclass Migration").replace(
        "operations = [\n    ]", f"operations = [\n        {IRREVERSIBLE},\n    ]"
    ))
    project.commit("fill prices")
    head = project.head()

    code, out, err = releaser(project, "migrations", "--json")
    assert code == 1, err
    document = json.loads(out)
    assert document["previous"] == "1.0.0rc1" and document["new"] == ["shop.0003_fill_prices"]
    assert document["heads"] == {"shop": ["0003_fill_prices"]}
    (finding,) = document["findings"]
    assert {k: finding[k] for k in ("name", "kind", "migration", "file", "status")} == {
        "name": "shop.0003_fill_prices", "kind": "irreversible", "migration": "shop.0003_fill_prices",
        "file": "shop/migrations/0003_fill_prices.py", "status": "refused",
    }

    code, out, _ = releaser(project, "check", "--json")
    assert code == 1
    checked = json.loads(out)
    assert checked["ok"] is False and checked["findings"] == []  # the lock is fine: the migrations are not
    assert checked["migrations"]["findings"] == document["findings"]

    code, out, err = releaser(project, "check")
    assert code == 1 and "refused: irreversible shop.0003_fill_prices" in out and "reverse_code" in out

    code, out, err = releaser(project, "cut")
    assert code == 1 and "irreversible shop.0003_fill_prices" in err
    assert not (project.root / "releases/1.0.0rc2").exists() and project.head() == head

    data.write_text(data.read_text().replace(IRREVERSIBLE, "migrations.RunPython(fill, migrations.RunPython.noop)"))
    project.commit("fill prices: reversible")
    code, out, err = releaser(project, "migrations")
    assert code == 0 and "1 new since 1.0.0rc1" in out and "nothing refused" in out
    code, out, err = releaser(project, "cut")
    assert code == 0, out + err
    record = json.loads((project.root / "releases/1.0.0rc2/manifest.json").read_text())
    assert record["migrations"]["new"] == ["shop.0003_fill_prices"] and record["migrations"]["previous"] == "1.0.0rc1"
    page = (project.root / "releases/1.0.0rc2/MANIFEST.md").read_text()
    assert "| `shop.0003_fill_prices` | `shop/migrations/0003_fill_prices.py` | yes |" in page

    code, out, err = releaser(project, "diff", "1.0.0rc1", "1.0.0rc2")
    assert code == 0 and "migration added    shop.0003_fill_prices (shop/migrations/0003_fill_prices.py)" in out
    code, out, err = releaser(project, "diff", "--json", "1.0.0rc1", "1.0.0rc2")
    assert json.loads(out)["migrations"] == {
        "added": [{"migration": "shop.0003_fill_prices", "file": "shop/migrations/0003_fill_prices.py"}], "removed": [],
    }


def test_an_allowed_finding_is_cut_and_recorded_as_accepted(cut_twice: DjangoProject) -> None:
    project = cut_twice
    if not (project.root / "releases/1.0.0rc2").exists():
        pytest.skip("needs the previous test's rc2")
    data = project.makemigrations("shop", "purge", "--empty")
    data.write_text(data.read_text().replace(
        "operations = [\n    ]", "operations = [\n        migrations.RunSQL('delete from shop_item'),\n    ]"
    ))
    project.release_toml(GATE + 'allow = ["shop.0004_purge"]\n')
    project.commit("purge, accepted as irreversible")
    code, out, err = releaser(project, "cut")
    assert code == 0, out + err
    record = json.loads((project.root / "releases/1.0.0rc3/manifest.json").read_text())
    assert [(f["name"], f["kind"]) for f in record["migrations"]["accepted"]] == [("shop.0004_purge", "irreversible")]
    page = (project.root / "releases/1.0.0rc3/MANIFEST.md").read_text()
    assert "- `shop.0004_purge` (irreversible): is new in this RC and cannot be reversed" in page
    assert "| `shop.0004_purge` | `shop/migrations/0004_purge.py` | **no** |" in page
    code, out, err = releaser(project, "show", "1.0.0rc3")
    assert code == 0 and "migrations (django, 4; heads: shop 0004_purge):" in out
    assert "  new: shop.0004_purge" in out and "  accepted: shop.0004_purge (irreversible)" in out


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    project = django_project(tmp_path / "bad", git=False)
    for table, expected in (
        ('framework = "django"\npaths = ["nowhere/migrations"]\n', "'nowhere/migrations' matches no directory"),
        (GATE + 'trunk = "no-such-branch"\n', "trunk: 'no-such-branch' is not a commit, branch or tag"),
    ):
        project.release_toml(table)
        code, out, err = releaser(project, "check")
        assert (code, out) == (2, ""), (code, out, err)
        assert err.count("\n") == 1 and expected in err and "Traceback" not in err
        code, out, err = releaser(project, "migrations", "--json")  # --json: the error is the document
        document = json.loads(out)
        assert (code, document["ok"], document["exit"]) == (2, False, 2) and expected in document["error"], (out, err)
        assert "Traceback" not in out + err
    project.release_toml(GATE)
    (project.root / "shop/migrations/0002_cycle.py").write_text(
        "from django.db import migrations\nclass Migration(migrations.Migration):\n"
        "    dependencies = [('shop', '0001_initial')]\n    run_before = [('shop', '0001_initial')]\n"
    )
    code, out, err = releaser(project, "migrations")
    assert code == 2 and "in a cycle" in err and err.count("\n") == 1
