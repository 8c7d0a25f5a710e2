"""`releaser check` through the lean entry point: the same answers as the full command line, less loaded."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from releaser.lock.locking import lock

# What the fresh path of `releaser check` on an unchanged project must not load.
HEAVY = ("click", "packaging.requirements", "packaging.tags", "packaging.markers", "subprocess", "requests")


def both(root, *args: str) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """(the console entry point `releaser ARGS`, releaser.cli:main with the same ARGS), in `root`."""
    entry = subprocess.run([sys.executable, "-m", "releaser", *args], cwd=root, capture_output=True, text=True, timeout=60)
    full = subprocess.run(
        [sys.executable, "-c", "import sys; from releaser.cli import main; sys.argv[0] = 'releaser'; main()", *args],
        cwd=root, capture_output=True, text=True, timeout=60,
    )
    return entry, full


@pytest.fixture
def locked(populated, make_project):
    project = make_project(populated.url, requirements="alpha\nbeta; python_version < '3'\n")
    lock(project.config())
    return project


@pytest.mark.parametrize(
    "args",
    [
        ("check",), ("check", "--json"), ("check", "-C", "."), ("check", "--project=."), ("check", "-C", "nowhere"),
        ("-C", ".", "check", "--quiet"), ("--json", "check", "-C", "nowhere"), ("check", "-q"),
    ],
)
def test_the_entry_point_answers_check_exactly_as_the_command_line_does(locked, args):
    entry, full = both(locked.root, *args)
    assert (entry.returncode, entry.stdout, entry.stderr) == (full.returncode, full.stdout, full.stderr)


def test_stale_and_bad_inputs_get_the_same_verdict_and_exit_code(locked):
    (locked.root / "requirements.in").write_text("alpha>=1\ngamma\n")
    entry, full = both(locked.root, "check")
    assert entry.returncode == full.returncode == 1
    assert entry.stdout == full.stdout and "requirement added: gamma" in entry.stdout
    assert "requirements.in: requires gamma, which release.lock does not pin" in entry.stdout
    (locked.root / "release.toml").write_text("[release\n")
    entry, full = both(locked.root, "check", "--json")
    assert entry.returncode == full.returncode == 2
    assert (entry.stdout, entry.stderr) == (full.stdout, full.stderr) and json.loads(entry.stdout)["exit"] == 2
    entry, full = both(locked.root, "check")
    assert (entry.returncode, entry.stdout, entry.stderr) == (full.returncode, full.stdout, full.stderr)
    assert entry.stderr.startswith("releaser: ") and "invalid TOML" in entry.stderr


def test_other_forms_go_to_the_full_command_line(locked):
    for args in (("check", "--help"), ("check", "--bogus"), ("--version",)):
        entry, full = both(locked.root, *args)
        shown = entry.stdout.replace("python -m releaser", "releaser")  # click names how it was started
        assert (entry.returncode, shown) == (full.returncode, full.stdout)


def loaded_by_check(root, modules: tuple[str, ...]) -> dict:
    """`releaser check` in `root` through the entry point: its exit code, and which of `modules` it loaded."""
    script = textwrap.dedent(
        """
        import json, sys
        sys.argv = ["releaser", "check"]
        from releaser.entry import main
        try:
            main()
        except SystemExit as exit:
            code = exit.code
        heavy = sorted(m for m in sys.modules if m in MODULES)
        print(json.dumps({"code": code, "heavy": heavy}))
        """
    ).replace("MODULES", repr(modules))
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=60)
    assert done.stdout, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_an_unchanged_project_is_checked_without_loading_click_or_parsing_requirements(locked):
    assert loaded_by_check(locked.root, HEAVY) == {"code": 0, "heavy": []}


def test_the_full_check_never_loads_the_http_layer(locked):
    # A touched release.toml breaks the seal: the full check runs, and it is offline; without
    # [migrations] it loads no migration code either.
    with (locked.root / "release.toml").open("a") as toml:
        toml.write("\n")
    http = ("releaser.plumbing.http", "releaser.plumbing.httpsession", "requests", "urllib3", "concurrent.futures")
    migrations = ("releaser.migrations", "releaser.migrations.report", "releaser.migrations.graph")
    full = "releaser.check.checking"  # loaded only when the seal does not answer
    assert loaded_by_check(locked.root, (*http, *migrations, full)) == {"code": 0, "heavy": [full]}


def test_from_a_subfolder_both_find_the_project_upwards(locked):
    sub = locked.root / "docs" / "deep"
    sub.mkdir(parents=True)
    entry, full = both(sub, "check")
    assert (entry.returncode, entry.stdout, entry.stderr) == (full.returncode, full.stdout, full.stderr)
    assert entry.returncode == 0 and "release.lock is fresh" in entry.stdout
