"""Actions through the release: the SBOM and MANIFEST.md list them, diff shows a moved tag, and a
bundle keeps each action's repository so reproduce restores it after the server forgot it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from actionworld import MAR, cli, project
from loopback.actionserver import ActionServer, node
from recorded import write_record
from releaser.core import lockfile
from releaser.ecosystems import load_config
from releaser.lock.locking import lock
from releaser.record.manifest import Subject, make_manifest, render_markdown

RC1, RC2 = "0.9.0rc1", "0.9.0rc2"


def locked(root: Path) -> lockfile.Lock:
    lock(load_config(root / "release.toml"))
    found = lockfile.read(root / "release.lock")
    assert found is not None
    return found


def test_sbom_and_manifest_name_each_action_by_its_commit(tmp_path: Path, action_server: ActionServer) -> None:
    root = project(tmp_path / "p", action_server)
    current = locked(root)
    checkout, flows = action_server.repos["acme/checkout"].rev("v4"), action_server.repos["acme/flows"].rev("v1")

    done = cli(root, "export", "--format", "cyclonedx", "-o", "-")
    assert done.returncode == 0, done.stderr
    purls = {c["purl"] for c in json.loads(done.stdout)["components"]}
    assert f"pkg:github/acme/checkout@{checkout}" in purls
    assert f"pkg:github/acme/flows@{flows}#.github/workflows/build.yml" in purls

    config = load_config(root / "release.toml")
    subject = Subject(config, RC1, "0" * 40, None, current, (root / "release.lock").read_bytes())
    page = render_markdown(config, make_manifest(subject, [], sbom=b"{}").to_json())
    assert "GitHub Actions" in page and "acme/checkout@v4" in page and checkout[:12] in page


def test_diff_shows_a_moved_tag(tmp_path: Path, action_server: ActionServer) -> None:
    root = project(tmp_path / "p", action_server)
    first = locked(root)
    write_record(root, RC1, first)
    old = action_server.repos["acme/checkout"].rev("v4")
    new = action_server.release("acme/checkout", {"action.yml": node("checkout 4.1")}, tag="v4", when=MAR)
    second = lock(load_config(root / "release.toml"), upgrade=("acme/checkout@v4",)).lock
    write_record(root, RC2, second)

    done = cli(root, "diff", RC1, RC2)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"{RC1} -> {RC2}: 1 changed, 0 added, 0 removed, 4 unchanged"
    assert re.search(rf"^actions\s+acme/checkout@v4\s+{old[:12]} \(2024-01-01\) -> {new[:12]} \(2024-03-01\)$", done.stdout, re.M)


def test_bundle_then_reproduce_after_the_server_forgot_the_actions(tmp_path: Path, action_server: ActionServer) -> None:
    root = project(tmp_path / "p", action_server)
    current = locked(root)
    write_record(root, RC1, current)

    done = cli(root, "bundle", RC1)
    assert done.returncode == 0, done.stdout + done.stderr
    bundle = root / "dist" / RC1 / "bundle"
    index = json.loads((bundle / "bundle.json").read_text())
    assert "actions/acme+checkout@v4.bundle" in index["files"]
    assert "actions/acme+flows+.github+workflows+build.yml@v1.bundle" in index["files"]

    shutil.rmtree(action_server.root)  # upstream is gone: every repository, every tag
    into = tmp_path / "reproduced"
    done = cli(root, "reproduce", RC1, "--into", str(into), "--from-bundle", str(bundle))
    assert done.returncode == 0, done.stdout + done.stderr
    for pin in current.of_kind("actions"):
        clone = into / "actions" / pin.name.replace("/", "+")
        head = subprocess.run(["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        assert head == pin.version
    assert (into / "actions" / "acme+setup@v1" / "action.yml").read_text().startswith("name: setup")

    (bundle / "actions" / "acme+checkout@v4.bundle").write_bytes(b"altered\n")
    done = cli(root, "reproduce", RC1, "--into", str(tmp_path / "again"), "--from-bundle", str(bundle))
    assert done.returncode == 1 and "acme+checkout@v4.bundle" in done.stderr
