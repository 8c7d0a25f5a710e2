"""[actions] pinned against real git repositories: a fake GitHub of bare `owner/repo.git` repositories."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from actionworld import FEB, JAN, MAR, cli, pins, project
from loopback.actionserver import ActionServer, node
from releaser.core.errors import Refused
from releaser.ecosystems import load_config
from releaser.lock.locking import lock


def test_every_uses_is_pinned_transitively_to_its_commit_and_date(tmp_path: Path, action_server: ActionServer) -> None:
    root = project(tmp_path / "p", action_server)
    lock(load_config(root / "release.toml"))
    found = pins(root)
    tool = action_server.repos["acme/tool"].rev("v2")
    assert sorted(found) == [
        "acme/checkout@v4", "acme/flows/.github/workflows/build.yml@v1", "acme/setup@v1", f"acme/tool@{tool}", "acme/tool@v2",
    ]  # ./.github/actions/local is this repository's: nothing to pin
    checkout = found["acme/checkout@v4"]
    assert (checkout.version, checkout.date, checkout.requested) == (action_server.repos["acme/checkout"].rev("v4"), JAN, "v4")
    assert checkout.source == f"{action_server.url}/acme/checkout"
    assert found["acme/tool@v2"].version == tool == found[f"acme/tool@{tool}"].version  # a full SHA: verified, kept
    assert found["acme/setup@v1"].date == FEB


def test_a_moved_tag_keeps_its_pin_until_upgrade_and_check_online_tells(tmp_path: Path, action_server: ActionServer) -> None:
    root = project(tmp_path / "p", action_server)
    assert cli(root, "lock").returncode == 0
    old = action_server.repos["acme/checkout"].rev("v4")
    new = action_server.release("acme/checkout", {"action.yml": node("checkout 4.1")}, tag="v4", when=MAR)

    lock(load_config(root / "release.toml"), refresh=True)
    assert pins(root)["acme/checkout@v4"].version == old

    done = cli(root, "check", "--online")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"v4 moved: it names {new[:12]} now, pinned {old[:12]}" in done.stdout

    lock(load_config(root / "release.toml"), upgrade=("acme/checkout@v4",))
    assert (pins(root)["acme/checkout@v4"].version, pins(root)["acme/checkout@v4"].date) == (new, MAR)
    assert "moved" not in cli(root, "check", "--online").stdout


def test_check_flags_a_uses_neither_locked_nor_a_full_commit(tmp_path: Path, action_server: ActionServer) -> None:
    root = project(tmp_path / "p", action_server)
    assert cli(root, "lock").returncode == 0
    assert cli(root, "check").returncode == 0
    workflow = root / ".github/workflows/ci.yml"
    sha = action_server.repos["acme/checkout"].rev("v4")
    workflow.write_text(workflow.read_text() + f"  more:\n    steps:\n      - uses: acme/checkout@main\n      - uses: acme/checkout@{sha}\n")
    done = cli(root, "check")
    assert done.returncode == 1
    assert ".github/workflows/ci.yml:16" in done.stdout and "acme/checkout@main floats" in done.stdout
    assert f"acme/checkout@{sha} floats" not in done.stdout  # a full commit id pins itself


def test_as_of_refuses_a_ref_newer_than_the_cut_off(tmp_path: Path, action_server: ActionServer) -> None:
    root = project(tmp_path / "p", action_server)
    with pytest.raises(Refused, match=r"ci.yml:9: action acme/setup@v1: v1 is commit [0-9a-f]{12} of 2024-02-01T12:00:00Z, after the cut-off"):
        lock(load_config(root / "release.toml"), as_of=JAN + timedelta(days=1))
    assert not (root / "release.lock").exists()
    lock(load_config(root / "release.toml"), as_of=MAR)
    assert len(pins(root)) == 5


@pytest.mark.parametrize(
    ("uses", "code", "message"),
    [
        ("acme/checkout", 2, ".github/workflows/ci.yml:6: uses: 'acme/checkout' has no @ref"),
        ("acme/checkout@nope", 3, ".github/workflows/ci.yml:6: action acme/checkout@nope: {url}/acme/checkout has no branch or tag 'nope'"),
        ("acme/gone@v1", 3, ".github/workflows/ci.yml:6: action acme/gone@v1: cannot list the refs of {url}/acme/gone"),
        ("acme/checkout@" + "f" * 40, 3, ".github/workflows/ci.yml:6: action acme/checkout@ffff"),
    ],
)
def test_bad_uses_is_one_line_naming_file_and_line_and_the_lock_is_kept(
    tmp_path: Path, action_server: ActionServer, uses: str, code: int, message: str
) -> None:
    root = project(tmp_path / "p", action_server)
    assert cli(root, "lock").returncode == 0
    before = (root / "release.lock").read_bytes()
    (root / ".github/workflows/ci.yml").write_text(f"on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: {uses}\n")
    done = cli(root, "lock")
    assert done.returncode == code, done.stderr
    assert done.stderr.startswith("releaser: " + message.format(url=action_server.url)), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert (root / "release.lock").read_bytes() == before


def test_a_workflow_that_does_not_parse_and_a_local_server_without_allow_local_exit_2(tmp_path: Path, action_server: ActionServer) -> None:
    root = project(tmp_path / "p", action_server, "jobs:\n  a: [unclosed\n")
    done = cli(root, "lock")
    assert done.returncode == 2 and done.stderr.startswith("releaser: .github/workflows/ci.yml:3: not valid YAML"), done.stderr
    root = project(tmp_path / "q", action_server, local=False)
    done = cli(root, "lock")
    assert done.returncode == 2 and "refused unless allow-local = true" in done.stderr, done.stderr
    assert not (root / "release.lock").exists()


def test_export_workflows_prints_then_writes_every_uses_pinned_keeping_comments(tmp_path: Path, action_server: ActionServer) -> None:
    root = project(tmp_path / "p", action_server)
    assert cli(root, "lock").returncode == 0
    workflow = root / ".github/workflows/ci.yml"
    before = workflow.read_text()
    checkout, setup = action_server.repos["acme/checkout"].rev("v4"), action_server.repos["acme/setup"].rev("v1")
    flows, tool = action_server.repos["acme/flows"].rev("v1"), action_server.repos["acme/tool"].rev("v2")

    done = cli(root, "export", "--format", "workflows")
    assert done.returncode == 0, done.stderr
    expected = (
        before.replace("acme/checkout@v4", f"acme/checkout@{checkout} # v4")
        .replace("acme/setup@v1   # composite", f"acme/setup@{setup} # v1   # composite")
        .replace("build.yml@v1", f"build.yml@{flows} # v1")
    )
    assert done.stdout == expected and f"acme/tool@{tool}\n" in expected  # a full commit id is left as it is
    assert workflow.read_text() == before  # printed only

    done = cli(root, "export", "--format", "workflows", "--write")
    assert done.returncode == 0 and done.stdout == "pinned .github/workflows/ci.yml\n", done.stdout + done.stderr
    assert workflow.read_text() == expected
    assert "stale: .github/workflows/ci.yml" in cli(root, "check").stdout  # its uses: name commits now
    assert cli(root, "lock").returncode == 0 and cli(root, "check").returncode == 0
    assert cli(root, "export", "--format", "workflows", "--write").stdout == ""  # nothing left to pin
    workflow.write_text(expected.replace("# check the code out first", "# a comment edited"))
    assert cli(root, "check").returncode == 0  # a comment is no input

    done = cli(root, "export", "--format", "cyclonedx", "--write")
    assert done.returncode == 2 and "--write rewrites input files (--format dockerfile, compose or workflows), not --format cyclonedx" in done.stderr


def test_a_server_over_http_with_credentials_uses_them_and_never_writes_them(tmp_path: Path, action_server: ActionServer) -> None:
    from loopback.githttp import GitHttpServer

    with GitHttpServer(action_server.root, auth=("ci-bot", "s3cr3t-t0ken")) as http:
        plain = http.url("")
        root = project(tmp_path / "p", action_server, local=False)
        toml = (root / "release.toml").read_text().replace(action_server.url, plain.replace("http://", "http://ci-bot:${GIT_TOKEN}@").rstrip("/"))
        (root / "release.toml").write_text(toml)
        env = {**os.environ, "GIT_TOKEN": "s3cr3t-t0ken"}
        done = subprocess.run([sys.executable, "-m", "releaser", "lock"], cwd=root, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        text = (root / "release.lock").read_text()
        assert "s3cr3t" not in text + done.stdout + done.stderr and "ci-bot" not in text
        assert pins(root)["acme/setup@v1"].source == plain + "acme/setup"
        assert pins(root)["acme/setup@v1"].version == action_server.repos["acme/setup"].rev("v1")

        env["GIT_TOKEN"] = "wrong"
        done = subprocess.run([sys.executable, "-m", "releaser", "lock", "--refresh"], cwd=root, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 3 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "wrong" not in done.stderr and "ci.yml" in done.stderr
        assert (root / "release.lock").read_text() == text


def test_check_online_fails_when_a_pinned_commit_is_gone_upstream(tmp_path: Path, action_server: ActionServer) -> None:
    first = action_server.repos["acme/checkout"].rev("v4")
    action_server.release("acme/checkout", {"action.yml": node("checkout 4.1")}, tag="v4", when=FEB)
    root = project(tmp_path / "p", action_server)
    assert cli(root, "lock").returncode == 0
    # The maintainer force-pushes v4 and main back to the first commit; the pinned one is garbage-collected.
    repo = action_server.repos["acme/checkout"]
    repo.git("reset", "--hard", "--quiet", first)
    repo.git("tag", "--force", "v4", first)
    action_server.publish("acme/checkout")
    bare = action_server.root / "acme/checkout.git"
    for args in (("reflog", "expire", "--expire=now", "--all"), ("gc", "--quiet", "--prune=now")):
        subprocess.run(["git", "-C", str(bare), *args], check=True, capture_output=True)

    done = cli(root, "check", "--online")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "gone" in done.stdout and "acme/checkout@v4" in done.stdout
