"""The command line as a new user meets it: -C anywhere, release.toml found from a subfolder,
--json always JSON, --quiet, progress, short errors, yanked pins, and --help with examples."""

from __future__ import annotations

import io
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import days, run_releaser
from loopback.wheels import build_wheel
from releaser.core.progress import Event, Renderer, renderer
from releaser.ecosystems.python.resolve import SHOWN_VERSIONS, _newest_versions

COMMANDS = [
    "init", "lock", "check", "export", "migrations", "rehearse", "revert-plan", "cut", "list", "show", "reproduce",
    "bundle", "diff", "verify", "site",
]


def test_project_option_before_or_after_the_command_and_found_from_a_subfolder(populated, make_project, tmp_path):
    project = make_project(populated.url)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    before = run_releaser(elsewhere, "-C", str(project.root), "lock")
    assert before.returncode == 0, before.stderr
    after = run_releaser(elsewhere, "check", "-C", str(project.root))
    assert after.returncode == 0, after.stderr
    # No -C: the nearest release.toml from the current folder upwards.
    sub = project.root / "src" / "deep"
    sub.mkdir(parents=True)
    done = run_releaser(sub, "check")
    assert done.returncode == 0 and "release.lock is fresh" in done.stdout, done.stderr
    # Nothing above: the error says where it looked and what to do.
    done = run_releaser(elsewhere, "check")
    assert done.returncode == 2 and "releaser init" in done.stderr and len(done.stderr.splitlines()) == 1


def test_json_is_always_json_and_quiet_is_quiet(populated, make_project, tmp_path):
    project = make_project(populated.url)
    done = project.releaser("--json", "lock")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["ok"] is True and document["exit"] == 0 and document["pins"] == 2 and document["written"] is True
    assert done.stderr == ""  # no progress in JSON mode
    for args in (["--json", "no-such-command"], ["lock", "--json", "--as-of", "yesterday"], ["--json", "-C", str(tmp_path), "check"]):
        done = run_releaser(project.root, *args)
        document = json.loads(done.stdout)
        assert document["ok"] is False and document["exit"] == done.returncode == 2, args
        assert document["error"] and done.stderr == ""
    done = project.releaser("lock", "--quiet")
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
    done = project.releaser("-q", "check")
    assert done.returncode == 0 and done.stdout == ""


def test_progress_is_line_oriented_off_a_terminal(populated, make_project):
    project = make_project(populated.url)
    for env in ({}, {"CI": "true"}):
        done = project.releaser("lock", "--upgrade", env=env)
        assert done.returncode == 0, done.stderr
        # Quiet: a counted step is one line when done, never one per file, no announcements, no control codes.
        assert done.stderr.splitlines() == ["python: files of each pin read from the index 2/2"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_rewrites_one_line(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    screen = _Terminal()
    show = renderer(screen)
    assert isinstance(show, Renderer) and show.live
    show(Event("resolve", "resolving the python inputs"))
    show(Event("fetch", "files fetched", 0, 3))
    show(Event("fetch", "files fetched", 1, 3))
    show(Event("fetch", "files fetched", 3, 3))
    show(Event("resolve", "resolving the maven inputs"))
    show.close()
    # Announcements give way to what follows; a finished count stays; nothing is left half-drawn.
    assert screen.getvalue() == (
        "\r\x1b[2Kresolving the python inputs\r\x1b[2Kfiles fetched 0/3\r\x1b[2Kfiles fetched 1/3"
        "\r\x1b[2Kfiles fetched 3/3\n\r\x1b[2Kresolving the maven inputs\r\x1b[2K"
    )
    monkeypatch.setenv("CI", "1")
    assert not renderer(_Terminal()).live  # type: ignore[union-attr]
    assert renderer(_Terminal(), quiet=True) is None


def test_a_yanked_pin_is_a_warning_and_an_error_with_strict(index, make_project, tmp_path):
    index.add(build_wheel(tmp_path, "gamma", "1.0"), uploaded=days(0), yanked="broken build")
    index.publish("gamma", "1.1", uploaded=days(1))
    project = make_project(index.url, requirements="gamma==1.0\n")
    done = project.releaser("lock")
    assert done.returncode == 0, done.stderr
    assert re.search(r"warning: python gamma 1.0 is yanked on \S+ \(gamma-1.0-py3-none-any.whl\)", done.stderr)
    before = project.lockfile.read_bytes()
    done = project.releaser("lock", "--strict", "--upgrade")
    assert done.returncode == 1 and "gamma 1.0 is yanked" in done.stderr and "--strict" in done.stderr
    assert project.lockfile.read_bytes() == before  # refused: nothing written


def test_an_unsatisfiable_requirement_names_only_the_newest_versions(index, make_project):
    for minor in range(12):
        index.publish("django", f"4.{minor}", uploaded=days(minor))
    project = make_project(index.url, requirements="django>=99\n")
    done = project.releaser("lock")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "(from versions: …, 4.7, 4.8, 4.9, 4.10, 4.11; 12 in all)" in done.stderr
    assert "4.0," not in done.stderr and len(done.stderr.splitlines()) <= 3


def test_help_lists_every_command(tmp_path):
    done = run_releaser(tmp_path, "--help")
    listed = re.findall(r"^  ([a-z-]+)  ", done.stdout.split("Commands:")[1], re.M)
    assert sorted(listed) == sorted(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_manual_with_an_example(command, tmp_path):
    # Each in a process of its own: a command is loaded only when it is asked for.
    done = run_releaser(tmp_path, command, "--help")
    assert done.returncode == 0, done.stderr
    assert "Example" in done.stdout and f"releaser {command}" in done.stdout
    assert "-C, --project DIR" in done.stdout and "--json" in done.stdout and "--quiet" in done.stdout


@settings(max_examples=200, deadline=None)
@given(versions=st.lists(st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,2}", fullmatch=True), max_size=40), noise=st.text(max_size=40))
def test_the_version_list_is_cut_to_the_newest_few_whatever_pip_prints(versions, noise):
    line = f"ERROR: Could not find a version that satisfies the requirement x>=99 {noise}(from versions: {', '.join(versions)})"
    shown = _newest_versions(line)
    if len(versions) > SHOWN_VERSIONS:
        assert shown.endswith(f"(from versions: …, {', '.join(versions[-SHOWN_VERSIONS:])}; {len(versions)} in all)")
    else:
        assert shown == line
    assert _newest_versions(noise) == noise or "(from versions:" in noise


def test_an_unresolvable_requirement_is_told_cause_first_in_a_short_line():
    from releaser.ecosystems.python.resolve import summarize

    versions = ", ".join(f"4.{i}.{j}" for i in range(3) for j in range(30))
    pip = (
        "Looking in indexes: http://127.0.0.1:1/simple\n"
        f"ERROR: Could not find a version that satisfies the requirement asgiref<3 (from django) (from versions: {versions})\n"
        "INFO: pip is looking at multiple versions of django to determine which version is compatible with other requirements.\n"
        "ERROR: Cannot install django==4.2 and asgiref==2.0 because these package versions have conflicting dependencies.\n\n"
        "The conflict is caused by:\n    The user requested asgiref==2.0\n    django 4.2 depends on asgiref<4 and >=3.6.0\n\n"
        "To fix this you could try to:\n1. loosen the range of package versions you've specified\n"
    )
    line = summarize(pip)
    assert line.startswith("The user requested asgiref==2.0; django 4.2 depends on asgiref<4 and >=3.6.0; "), line
    assert len(line) < 600 and "\n" not in line
    uv = (
        "  × No solution found when resolving dependencies:\n"
        "  ╰─▶ Because django==4.2 depends on asgiref>=3.6.0,<4 and you require asgiref==2.0, we can conclude that your requirements are unsatisfiable.\n"
    )
    assert summarize(uv).startswith("Because django==4.2 depends on asgiref>=3.6.0,<4 and you require asgiref==2.0")
