"""A line of three RCs made by real cuts, for the site's tests: a Django project on SQLite whose
every cut is rehearsed, Python pins from the loopback index, a Maven SNAPSHOT from the loopback
Maven repository.

    0.9.0rc1  alpha 1.0, django (as installed here), ledger SNAPSHOT build 1; shop 0001, 0002
    0.9.0rc2  alpha 2.0 (changed), beta 1.0 (new), ledger build 2 (changed); shop 0003_price
    0.9.0rc3  beta gone; two branches' migrations (0004_a, 0004_b) and their merge 0005_merge
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from helpers import days
from loopback.maven import MavenRepository
from loopback.pypi import PackageIndex
from migration_projects import DjangoProject, django_project
from releaser.core import config as config_mod
from releaser.cut.cutting import cut
from releaser.ecosystems import load_config
from releaser.lock.locking import lock

RCS = ("0.9.0rc1", "0.9.0rc2", "0.9.0rc3")
SEED = "from shop.models import Item; Item.objects.bulk_create([Item(name=f'item {i}') for i in range(5)])"
EMPTY = '''
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = {dependencies}
    operations = []
'''


@dataclass
class Line:
    root: Path
    index: PackageIndex
    maven: MavenRepository

    def config(self) -> config_mod.ReleaseConfig:
        return load_config(self.root / "release.toml")


def release_toml(index_url: str, maven_url: str) -> str:
    return (
        '[release]\nname = "shop"\nversion = "0.9.0"\n'
        f'gates = [{json.dumps([sys.executable, "-c", "print(1)"])}]\n\n'
        f'[python]\nrequirements = ["requirements.in"]\nindex-url = "{index_url}"\n\n'
        f'[[maven]]\nrepository = "{maven_url}"\ndependencies = ["org.acme:ledger:1.0-SNAPSHOT"]\n\n'
        '[migrations]\nframework = "django"\npaths = ["shop/migrations"]\n'
        f'seed = [{json.dumps(["python", "manage.py", "shell", "-c", SEED])}]\n'
        # Loose: a shared machine's load swings timings; the chart shows the ceiling all the same.
        'database = "sqlite"\nmax-slowdown = 50.0\n'
    )


def make_line(root: Path, index: PackageIndex, maven: MavenRepository) -> Line:
    index.publish("alpha", "1.0", uploaded=days(0))
    maven.deploy_snapshot("org.acme", "ledger", "1.0-SNAPSHOT", datetime(2024, 3, 1, 12, tzinfo=UTC), 1)
    project = django_project(root)
    project.add_field("shop", "Item", "note", 'models.CharField(max_length=100, default="")')
    project.makemigrations("shop", "note")
    project.write("release.toml", release_toml(index.url, maven.url))
    project.write("requirements.in", "django\nalpha\n")
    line = Line(root, index, maven)
    lock(line.config())
    project.commit("shop 0.9.0")
    cut(line.config())

    index.publish("alpha", "2.0", uploaded=days(40))
    index.publish("beta", "1.0", uploaded=days(41))
    maven.deploy_snapshot("org.acme", "ledger", "1.0-SNAPSHOT", datetime(2024, 4, 2, 9, tzinfo=UTC), 2)
    project.write("requirements.in", "django\nalpha\nbeta\n")
    project.add_field("shop", "Item", "price", "models.IntegerField(default=0)")
    project.makemigrations("shop", "price")
    lock(line.config(), upgrade=("alpha", "org.acme:ledger"))
    project.commit("prices; alpha 2.0, beta, a new ledger build")
    cut(line.config())

    project.write("requirements.in", "django\nalpha\n")
    _branches_and_merge(project)
    lock(line.config())
    project.commit("two branches' migrations, merged; beta no longer needed")
    cut(line.config())
    return line


def _branches_and_merge(project: DjangoProject) -> None:
    """What two branches each adding a migration, then `makemigrations --merge`, leave in the tree."""
    folder = "shop/migrations"
    project.write(f"{folder}/0004_a.py", EMPTY.format(dependencies=[("shop", "0003_price")]))
    project.write(f"{folder}/0004_b.py", EMPTY.format(dependencies=[("shop", "0003_price")]))
    project.write(f"{folder}/0005_merge.py", EMPTY.format(dependencies=[("shop", "0004_a"), ("shop", "0004_b")]))
