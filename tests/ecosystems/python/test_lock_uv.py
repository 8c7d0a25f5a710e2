"""The uv resolver: the same pins as pip-tools, isolated from the machine, and locks for named targets."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.pylock import Pylock

from helpers import (
    assert_locks_alike,
    clean_lock,
    days,
    home_env,
    hostile_setup,
    python_project,
)
from loopback.pypi import PackageIndex
from releaser.core import lockfile, targets
from releaser.core.errors import ConfigError, Refused
from releaser.lock.locking import lock
from releaser.plumbing.piprun import isolated_env

UV = 'resolver = "uv"'
LINUX_311 = "sys_platform == 'linux' and python_version == '3.11'"
WIN_312 = "sys_platform == 'win32' and python_version == '3.12'"
TARGETS = f'{UV}\nenvironments = ["{LINUX_311}", "{WIN_312}"]'


def pins(project) -> dict[str, str]:
    return {p.name: p.version for p in lockfile.read(project.lockfile).pins}


@pytest.mark.parametrize("as_of", [days(10), days(40)])
def test_uv_and_pip_tools_pin_the_same_versions_and_files(populated, make_project, as_of):
    populated.publish("gamma", "1.0", requires=["beta<2", "delta; python_version < '3'"], uploaded=days(2))
    requirements = "alpha\ngamma\n"
    by_resolver = {}
    for resolver in ("pip-tools", "uv"):
        project = make_project(populated.url, requirements=requirements, python=f'resolver = "{resolver}"')
        result = lock(project.config(), as_of=as_of)
        by_resolver[resolver] = result.lock
        assert result.lock.resolver.startswith(resolver.replace("pip-tools", "pip-tools 7"))
        project.lockfile.unlink()
    piptools, uv = by_resolver["pip-tools"], by_resolver["uv"]
    assert {p.name: p.version for p in uv.pins} == {p.name: p.version for p in piptools.pins}
    assert set(uv.pins) == set(piptools.pins)  # every file, hash, size and date: the same code
    assert uv.target == piptools.target == targets.here().marker


def test_the_pages_of_what_uv_adds_are_read_while_uv_still_resolves(populated, make_project, monkeypatch):
    """alpha's dependency beta is not in the inputs: its page is read as soon as uv adds it, not after."""
    import time

    from releaser.ecosystems.python import index as pyindex
    from releaser.ecosystems.python.resolve import uv as pyresolve_uv

    read_at: dict[str, float] = {}
    uv_done: list[float] = []
    fetch, run = pyindex.PackageIndexReader.fetch, pyresolve_uv._run

    def reading(self, index_url, name):
        read_at.setdefault(name, time.monotonic())
        return fetch(self, index_url, name)

    def timed(*args, **kwargs):
        try:
            return run(*args, **kwargs)
        finally:
            uv_done.append(time.monotonic())

    monkeypatch.setattr(pyindex.PackageIndexReader, "fetch", reading)
    monkeypatch.setattr(pyresolve_uv, "_run", timed)
    project = make_project(populated.url, python=UV)
    lock(project.config(), as_of=days(10))
    assert pins(project) == {"alpha": "1.0", "beta": "1.0"}
    assert read_at["beta"] < uv_done[0]


def test_with_several_indexes_both_resolvers_take_the_best_version_wherever_it_is(populated, make_project):
    with PackageIndex() as extra:
        extra.publish("gamma", "1.0", uploaded=days(0))
        extra.publish("beta", "3.0", uploaded=days(2))  # newer than the first index's: pip takes it
        found = {}
        for resolver in ("pip-tools", "uv"):
            project = make_project(
                populated.url, requirements="alpha\ngamma\n",
                python=f'extra-index-urls = ["{extra.url}"]\nresolver = "{resolver}"',
            )
            found[resolver] = {(p.name, p.version, p.source) for p in lock(project.config(), as_of=days(10)).lock.pins}
            project.lockfile.unlink()
        assert found["uv"] == found["pip-tools"] == {
            ("alpha", "1.0", populated.url), ("beta", "3.0", extra.url), ("gamma", "1.0", extra.url)
        }


def test_uv_keeps_earlier_pins_and_upgrades_on_request(populated, make_project):
    project = make_project(populated.url, python=UV)
    lock(project.config(), as_of=days(10))
    assert pins(project) == {"alpha": "1.0", "beta": "1.0"}
    lock(project.config())  # beta 2.0 is out now: the pin stays
    assert pins(project)["beta"] == "1.0"
    lock(project.config(), upgrade=("beta",))
    assert pins(project)["beta"] == "2.0"


def test_hostile_uv_and_pip_configuration_change_nothing(populated, make_project, tmp_path):
    project = make_project(populated.url, python=UV)
    expected = clean_lock(project)

    with PackageIndex() as hostile:
        links, constraints = hostile_setup(hostile, tmp_path)  # all would change the pins if uv saw them
        uv_toml = (
            f'index-url = "{hostile.url}"\nextra-index-url = ["{hostile.url}"]\nfind-links = ["{links}"]\n'
            f'prerelease = "allow"\nexclude-newer = "2024-01-03T00:00:00Z"\n[pip]\nindex-url = "{hostile.url}"\n'
        )
        home = tmp_path / "home"
        for where in (home / ".config/uv/uv.toml", tmp_path / "xdg/uv/uv.toml", project.root / "uv.toml"):
            where.parent.mkdir(parents=True, exist_ok=True)
            where.write_text(uv_toml)
        project.write("pyproject.toml", f'[tool.uv]\nindex-url = "{hostile.url}"\n[tool.uv.pip]\nindex-url = "{hostile.url}"\n')
        pip_conf = home / ".config/pip/pip.conf"
        pip_conf.parent.mkdir(parents=True)
        pip_conf.write_text(f"[global]\nindex-url = {hostile.url}\nfind-links = {links}\n")
        env = {
            **home_env(tmp_path),
            "UV_CONFIG_FILE": str(home / ".config/uv/uv.toml"),
            "UV_INDEX_URL": hostile.url,
            "UV_EXTRA_INDEX_URL": hostile.url,
            "UV_DEFAULT_INDEX": hostile.url,
            "UV_INDEX": hostile.url,
            "UV_FIND_LINKS": str(links),
            "UV_CONSTRAINT": str(constraints),
            "UV_OVERRIDE": str(constraints),
            "UV_PRERELEASE": "allow",
            "UV_RESOLUTION": "lowest",
            "UV_EXCLUDE_NEWER": "2024-01-03T00:00:00Z",
            "UV_INDEX_STRATEGY": "first-index",
            "UV_OFFLINE": "1",
            "UV_NO_INDEX": "1",
            "PIP_INDEX_URL": hostile.url,
            "PIP_CONFIG_FILE": str(pip_conf),
            "PIP_FIND_LINKS": str(links),
            "PIP_CONSTRAINT": str(constraints),
        }
        assert_locks_alike(project, expected, env, hostile)


@pytest.fixture
def platforms(index):
    """app needs common always, winonly on Windows, newpy on 3.12+, oldpy before 3.12."""
    index.publish(
        "app", "1.0", uploaded=days(0),
        requires=["common", "winonly; sys_platform == 'win32'", "newpy; python_version >= '3.12'", "oldpy; python_version < '3.12'"],
    )
    for name in ("common", "winonly", "newpy", "oldpy"):
        index.publish(name, "1.0", uploaded=days(1))
    index.publish("common", "2.0", uploaded=days(30))
    return index


def test_a_lock_for_linux_311_and_win32_312_pins_each_targets_packages_with_markers(platforms, make_project, tmp_path):
    project = make_project(platforms.url, requirements="app\n", python=TARGETS)
    done = project.releaser("lock", "--as-of", "2024-01-10T00:00:00Z")
    assert done.returncode == 0, done.stderr
    locked = lockfile.read(project.lockfile)
    assert locked.environments == (LINUX_311, WIN_312) and locked.target is None
    markers = {p.name: (p.version, p.marker) for p in locked.pins}
    assert markers == {
        "app": ("1.0", None),
        "common": ("1.0", None),
        "winonly": ("1.0", WIN_312),
        "newpy": ("1.0", WIN_312),
        "oldpy": ("1.0", LINUX_311),
    }
    assert project.releaser("check").returncode == 0

    assert project.releaser("export", "--format", "pylock").returncode == 0
    pylock = Pylock.from_dict(tomllib.loads((project.root / "pylock.toml").read_text()))
    assert [str(m) for m in pylock.environments] == [
        'sys_platform == "linux" and python_version == "3.11"',
        'sys_platform == "win32" and python_version == "3.12"',
    ]
    assert str(pylock.requires_python) == ">=3.11"
    assert {p.name: str(p.marker) if p.marker else None for p in pylock.packages}["winonly"] == (
        'sys_platform == "win32" and python_version == "3.12"'
    )
    assert project.releaser("export", "--format", "requirements").returncode == 0
    assert f"winonly==1.0 ; {WIN_312} \\" in (project.root / "requirements.txt").read_text()

    if not targets.any_covers((LINUX_311,)):
        pytest.skip("pip installs the pylock only on a linux/3.11 interpreter")
    site = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-cache-dir", "--target", str(site), "-r", str(project.root / "pylock.toml")],
        capture_output=True, text=True, env=isolated_env(), timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    assert sorted(p.name for p in site.iterdir() if not p.name.endswith(".dist-info")) == ["app", "common", "oldpy"]
    hashed = tmp_path / "hashed"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-cache-dir", "--require-hashes", "--no-deps", "--target", str(hashed),
         "-r", str(project.root / "requirements.txt")],
        capture_output=True, text=True, env=isolated_env(), timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    assert sorted(p.name for p in hashed.iterdir() if not p.name.endswith(".dist-info")) == ["app", "common", "oldpy"]


def test_environments_with_pip_tools_are_refused_naming_uv(make_project):
    project = make_project("https://pypi.org/simple", python=f'environments = ["{LINUX_311}"]')
    done = project.releaser("check")
    assert done.returncode == 2 and 'resolver = "uv"' in done.stderr and "environments" in done.stderr


def test_cut_and_reproduce_refuse_an_environment_the_lock_does_not_cover(platforms, make_project, tmp_path):
    from releaser.ecosystems.python.install import install_python
    from releaser.install.layout import files_for_here

    project = make_project(platforms.url, requirements="app\n", python=TARGETS)
    locked = lock(project.config(), as_of=days(10)).lock
    if targets.any_covers((LINUX_311,)):
        here = {item.pin.name for item in files_for_here(locked)}
        assert here == {"app", "common", "oldpy"}  # nothing only Windows or 3.12 needs
    elsewhere = replace(locked, environments=("sys_platform == 'darwin' and python_version == '3.9'",))
    with pytest.raises(Refused, match="not one of the environments"):
        files_for_here(elsewhere)
    with pytest.raises(Refused, match="not one of the environments"):
        install_python(project.config(), elsewhere, tmp_path / "venv", tmp_path)
    assert not (tmp_path / "venv").exists()


def test_check_says_when_the_lock_was_made_for_another_target(populated, make_project):
    project = make_project(populated.url)
    made = lock(project.config()).lock
    project.lockfile.write_text(lockfile.dumps(replace(made, target="sys_platform == 'win32' and python_version == '3.9'")))
    done = project.releaser("check")
    assert done.returncode == 0, done.stdout
    assert "other-target: release.lock: was made for sys_platform == 'win32'" in done.stdout


def test_an_older_lock_without_targets_is_still_read_and_checked(populated, make_project):
    project = make_project(populated.url)
    made = lock(project.config()).lock
    project.lockfile.write_text(lockfile.dumps(replace(made, target=None)))
    done = project.releaser("check")
    assert done.returncode == 0 and "other-target" not in done.stdout


@given(st.text(max_size=80) | st.lists(st.sampled_from(["sys_platform", "python_version", "platform_machine", "==", "'3.11'", "'linux'", " and ", "or", '"', "win32"])).map("".join))
def test_environments_accept_their_one_form_and_refuse_anything_else_with_a_config_error(tmp_path_factory, text):
    root = tmp_path_factory.mktemp("env")
    (root / "requirements.in").write_text("alpha\n")
    (root / "release.toml").write_text(
        f'[release]\nname = "x"\nversion = "1"\n[python]\nrequirements = ["requirements.in"]\n{UV}\n'
        f"environments = [{tomllib_string(text)}]\n"
    )
    from releaser.ecosystems import load_config

    try:
        loaded = load_config(root / "release.toml")
    except ConfigError:
        return
    (target,) = loaded.inputs_of("python").environments
    assert targets.parse(target).marker == target


def tomllib_string(text: str) -> str:
    import json

    return json.dumps(text)


def test_check_asks_for_a_pin_that_one_of_the_targets_needs_even_when_this_interpreter_does_not(platforms, make_project):
    from releaser.ecosystems import sources_for
    from releaser.lock.locking import input_records
    from releaser.lock.soundness import uncovered

    project = make_project(
        platforms.url, requirements="app\nwinonly; sys_platform == 'win32'\n", python=f'{UV}\nenvironments = ["{LINUX_311}"]'
    )
    made = lock(project.config(), as_of=days(10)).lock
    assert "winonly" not in {p.name for p in made.pins}
    config = project.config()
    sources = sources_for(config)
    assert uncovered(config, made, input_records(config, sources)) == []
    for_windows_too = replace(made, environments=(LINUX_311, WIN_312))
    (finding,) = uncovered(config, for_windows_too, input_records(config, sources))
    assert finding.subject == "requirements.in" and "winonly" in finding.message


def test_a_relock_for_the_same_targets_changes_no_byte_and_keeps_each_targets_pins(platforms, make_project):
    project = make_project(platforms.url, requirements="app\n", python=TARGETS)
    lock(project.config(), as_of=days(10))
    first = project.lockfile.read_bytes()
    again = lock(project.config())  # common 2.0 is out now: every target keeps common 1.0
    assert not again.written and project.lockfile.read_bytes() == first


def test_the_uv_resolver_without_uv_installed_says_how_to_get_it(populated, make_project, monkeypatch):
    from releaser.ecosystems.python.resolve import uv as pyresolve_uv

    monkeypatch.setitem(sys.modules, "uv", None)  # `import uv` fails as it would without the extra
    monkeypatch.setattr(pyresolve_uv, "_found", [])  # nor was it found before
    project = make_project(populated.url, python=UV)
    with pytest.raises(ConfigError, match=r'pip install "releaser\[uv\]"'):
        lock(project.config())
    assert not project.lockfile.exists()


@pytest.fixture(scope="module")
def targeted_lock(tmp_path_factory):
    """The text of a lock for two targets, one pin needed on one of them."""
    with PackageIndex() as index:
        index.publish("app", "1.0", uploaded=days(0), requires=["winonly; sys_platform == 'win32'"])
        index.publish("winonly", "1.0", uploaded=days(1))
        project = python_project(tmp_path_factory.mktemp("targeted"), index.url, "app\n", python=TARGETS)
        lock(project.config(), as_of=days(10))
        return project.lockfile.read_text()


@given(
    key=st.sampled_from(["environments = ", "target = ", "marker = ", "files = "]),
    value=st.one_of(st.text(max_size=60), st.integers(), st.lists(st.text(max_size=30), max_size=3), st.booleans()),
)
def test_a_hand_edited_target_marker_or_files_digest_is_a_config_error(tmp_path_factory, targeted_lock, key, value):
    import json

    literal = json.dumps(value) if not isinstance(value, bool) else str(value).lower()
    anchor = {"environments = ": "environments = [", "target = ": "lock-version = 1\n",
              "marker = ": "marker = ", "files = ": "files = "}[key]
    text = targeted_lock
    if key == "environments = ":
        start = text.index("environments = [")
        text = text[:start] + f"environments = {literal}" + text[text.index("]", start) + 1 :]
    elif key == "target = ":
        text = text.replace(anchor, f"{anchor}target = {literal}\n", 1)
    else:
        line = next(line for line in text.splitlines() if line.startswith(anchor))
        text = text.replace(line, f"{anchor}{literal}", 1)
    path = tmp_path_factory.mktemp("edited") / "release.lock"
    path.write_text(text)
    try:
        lockfile.read(path)
    except ConfigError:
        pass
