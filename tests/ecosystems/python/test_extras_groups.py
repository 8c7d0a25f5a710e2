"""`[python] extras` and PEP 735 `groups`: pyproject.toml's optional and grouped requirements, locked."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import days
from releaser.core import lockfile
from releaser.core.errors import ConfigError
from releaser.lock.locking import lock

PYPROJECT = """
[project]
name = "cosmo"
version = "0.9.0"
dependencies = ["alpha"]

[project.optional-dependencies]
postgres = ["beta<2"]
all = ["cosmo[postgres]"]

[dependency-groups]
test = ["gamma", {include-group = "lint"}]
lint = ["delta"]
"""


@pytest.fixture
def project(index, make_project):  # type: ignore[no-untyped-def]
    index.publish("alpha", "1.0", uploaded=days(0))
    index.publish("beta", "1.0", uploaded=days(1))
    index.publish("beta", "2.0", uploaded=days(2))
    index.publish("gamma", "1.0", uploaded=days(3))
    index.publish("delta", "1.0", uploaded=days(4))
    project = make_project(index.url, python='pyproject = true\nextras = ["all"]\ngroups = ["test"]')
    project.write("requirements.in", "")
    project.write("pyproject.toml", PYPROJECT)
    return project


def test_extras_and_groups_are_locked_and_checked(project):  # type: ignore[no-untyped-def]
    result = lock(project.config())
    pins = {p.name: (p.version, p.requested) for p in lockfile.read(project.lockfile).pins}
    assert pins == {
        "alpha": ("1.0", "alpha"),
        "beta": ("1.0", "beta<2"),  # the extra `all` brings `postgres` of the project itself
        "gamma": ("1.0", "gamma"),
        "delta": ("1.0", "delta"),  # the group `test` includes `lint`
    }
    python = result.lock.inputs["release.toml"].entries["python"]
    assert (python["extras"], python["groups"]) == ("all", "test")
    assert project.releaser("check").returncode == 0

    # A requirement added to a group makes the lock stale, naming it.
    project.write("pyproject.toml", PYPROJECT.replace('lint = ["delta"]', 'lint = ["delta", "epsilon"]'))
    done = project.releaser("check", "--json")
    assert done.returncode == 1
    assert {(f["subject"], f["message"]) for f in json.loads(done.stdout)["findings"]} >= {
        ("pyproject.toml", "requirement added: epsilon")
    }


def test_an_extra_or_group_pyproject_does_not_have_is_bad_input(project):  # type: ignore[no-untyped-def]
    text = (project.root / "release.toml").read_text()
    (project.root / "release.toml").write_text(text.replace('extras = ["all"]', 'extras = ["mysql"]'))
    with pytest.raises(ConfigError, match=r"pyproject.toml: release.toml's \[python\] extras names 'mysql'.*has: all, postgres"):
        lock(project.config())
    (project.root / "release.toml").write_text(text.replace('groups = ["test"]', 'groups = ["docs"]'))
    done = project.releaser("lock")
    assert done.returncode == 2 and "'docs' not found" in done.stderr and "Traceback" not in done.stderr
    assert not project.lockfile.exists()


# -- any pyproject.toml: only releaser's own errors escape ----------------------------

_scalars = st.one_of(st.text(max_size=12), st.integers(), st.booleans())
_items = st.one_of(
    st.sampled_from(["alpha", "beta<2", "cosmo[postgres]", "cosmo[all]", "x y z", "gamma; python_version<'3'"]),
    st.fixed_dictionaries({"include-group": st.sampled_from(["test", "lint", "nope"])}),
    _scalars,
)
_tables = st.dictionaries(st.sampled_from(["test", "lint", "all", "postgres", "Test"]), st.one_of(st.lists(_items, max_size=4), _scalars), max_size=4)


@settings(max_examples=150, deadline=None)
@given(
    optional=st.one_of(st.none(), _tables, _scalars),  # None: no such table
    groups_table=st.one_of(st.none(), _tables, _scalars),
    dynamic=st.lists(st.sampled_from(["dependencies", "optional-dependencies", "version"]), max_size=2),
    extras=st.lists(st.sampled_from(["all", "postgres", "test", "mysql"]), max_size=2),
    groups=st.lists(st.sampled_from(["test", "lint", "docs"]), max_size=2),
)
def test_any_pyproject_gives_requirements_or_a_config_error(tmp_path_factory, optional, groups_table, dynamic, extras, groups):  # type: ignore[no-untyped-def]
    import tomli_w

    from releaser.ecosystems.python.requirements import read_inputs
    from releaser.ecosystems.python.settings import PythonInputs

    root = tmp_path_factory.mktemp("pyproject")
    doc: dict = {"project": {"name": "cosmo", "version": "1", "dynamic": dynamic, "dependencies": ["alpha"]}}
    if optional is not None:
        doc["project"]["optional-dependencies"] = optional
    if groups_table is not None:
        doc["dependency-groups"] = groups_table
    (root / "pyproject.toml").write_text(tomli_w.dumps(doc))
    inputs = PythonInputs((), True, "https://pypi.example/simple", (), tuple(extras), tuple(groups))
    try:
        (found,) = read_inputs(root, inputs)
    except ConfigError:
        return
    assert all(r.name for r in found.requirements)
