"""`uses: docker://image:tag` steps pinned as images: a real registry (images pushed by skopeo) and a fake
GitHub of real git repositories; the pins land in the lock's image table with [containers]' own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from actionworld import FEB, JAN, MAR, cli, project
from loopback.actionserver import ActionServer, composite
from loopback.registry import Image, OciRegistry
from recorded import write_record
from releaser.core import lockfile

WORKFLOW = """name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/checkout@v4
      - uses: docker://{host}/tools/lint:1   # the linter, as an image
      - uses: acme/scan@v1
"""


@pytest.fixture
def ci(tmp_path: Path, registry: OciRegistry, action_server: ActionServer) -> tuple[Path, dict[str, Image]]:
    """A project whose workflow runs an image step and a composite action (acme/scan) whose own step is an image."""
    host = registry.host
    images = {
        "lint": registry.publish("tools/lint:1", created=JAN),
        "scan": registry.publish("tools/scanner:2", created=JAN, platforms=("linux/amd64",)),
    }
    action_server.release("acme/scan", {"action.yml": composite("scan", f"docker://{host}/tools/scanner:2")}, tag="v1", when=JAN)
    root = project(tmp_path / "p", action_server, WORKFLOW.format(host=host))
    with (root / "release.toml").open("a", encoding="utf-8") as toml:
        toml.write(f'\n[containers]\ninsecure = ["{host}"]\nplatforms = ["linux/amd64"]\n')
    return root, images


def images(root: Path) -> dict[str, lockfile.Pin]:
    current = lockfile.read(root / "release.lock")
    assert current is not None
    return {p.name: p for p in current.of_kind("image")}


def test_docker_steps_of_workflows_and_composite_actions_are_image_pins(ci, registry: OciRegistry) -> None:  # type: ignore[no-untyped-def]
    root, published = ci
    done = cli(root, "lock")
    assert done.returncode == 0, done.stderr
    found = images(root)
    lint, scanner = f"{registry.host}/tools/lint:1", f"{registry.host}/tools/scanner:2"
    assert set(found) == {lint, scanner}  # the composite action's step too, found once the action was pinned
    assert (found[lint].version, found[lint].source, found[lint].date) == (published["lint"].index_digest, f"http://{registry.host}", JAN)
    # [containers] platforms apply: only linux/amd64 of the two-platform index is pinned
    assert {a.name: "sha256:" + a.sha256 for a in found[lint].artifacts} == {"linux/amd64": published["lint"].manifests["linux/amd64"]}
    assert "acme/scan@v1" in {p.name for p in lockfile.read(root / "release.lock").of_kind("actions")}  # type: ignore[union-attr]
    check = cli(root, "check")
    assert check.returncode == 0, check.stdout + check.stderr

    done = cli(root, "export", "--format", "cyclonedx", "-o", "-")
    purls = {c["purl"] for c in json.loads(done.stdout)["components"]}
    digest = published["lint"].index_digest.removeprefix("sha256:")
    assert any(p.startswith("pkg:oci/lint@sha256") and digest in p for p in purls), purls


def test_a_moved_tag_is_kept_until_upgrade_and_check_online_tells(ci, registry: OciRegistry) -> None:  # type: ignore[no-untyped-def]
    root, published = ci
    assert cli(root, "lock").returncode == 0
    name = f"{registry.host}/tools/lint:1"
    moved = registry.publish("tools/lint:1", created=MAR, seed="rebuilt")

    assert cli(root, "lock", "--refresh").returncode == 0
    assert images(root)[name].version == published["lint"].index_digest

    online = cli(root, "check", "--online")
    assert online.returncode == 0, online.stdout + online.stderr
    assert f"tag 1 has moved to {moved.index_digest} (locked {published['lint'].index_digest})" in online.stdout

    assert cli(root, "lock", "--upgrade", name).returncode == 0
    assert (images(root)[name].version, images(root)[name].date) == (moved.index_digest, MAR)
    assert "has moved" not in cli(root, "check", "--online").stdout


def test_as_of_pins_the_image_seen_before_the_cut_off(ci, registry: OciRegistry) -> None:  # type: ignore[no-untyped-def]
    root, published = ci
    assert cli(root, "lock").returncode == 0  # the witness log sees the January image
    registry.publish("tools/lint:1", created=MAR, seed="rebuilt")
    done = cli(root, "lock", "--as-of", FEB.isoformat())
    assert done.returncode == 0, done.stderr
    assert images(root)[f"{registry.host}/tools/lint:1"].version == published["lint"].index_digest


def test_export_writes_the_digests_and_the_pinned_workflow_is_verified(ci, registry: OciRegistry) -> None:  # type: ignore[no-untyped-def]
    root, published = ci
    assert cli(root, "lock").returncode == 0
    workflow = root / ".github/workflows/ci.yml"
    before = workflow.read_text()
    printed = cli(root, "export", "--format", "workflows")
    assert printed.returncode == 0, printed.stderr
    pinned = f"      - uses: docker://{registry.host}/tools/lint:1@{published['lint'].index_digest}   # the linter, as an image\n"
    assert pinned in printed.stdout and workflow.read_text() == before

    assert cli(root, "export", "--format", "workflows", "--write").returncode == 0
    assert pinned in workflow.read_text()
    assert cli(root, "check").returncode == 1  # the workflow names other uses now: stale until relocked
    assert cli(root, "lock").returncode == 0
    name = f"{registry.host}/tools/lint:1@{published['lint'].index_digest}"
    assert images(root)[name].version == published["lint"].index_digest  # by digest: verified, not re-resolved
    assert cli(root, "check").returncode == 0


def test_check_flags_a_new_docker_step_by_file_and_line(ci, registry: OciRegistry) -> None:  # type: ignore[no-untyped-def]
    root, _ = ci
    assert cli(root, "lock").returncode == 0
    workflow = root / ".github/workflows/ci.yml"
    workflow.write_text(workflow.read_text() + f"      - uses: docker://{registry.host}/tools/lint:2\n")
    done = cli(root, "check")
    assert done.returncode == 1
    assert f"uncovered: .github/workflows/ci.yml:10: uses: docker://{registry.host}/tools/lint:2 floats" in done.stdout
    assert "stale: .github/workflows/ci.yml" in done.stdout


def test_a_docker_step_that_does_not_exist_or_does_not_parse_names_its_line(ci, registry: OciRegistry) -> None:  # type: ignore[no-untyped-def]
    root, _ = ci
    workflow = root / ".github/workflows/ci.yml"
    text = workflow.read_text()
    workflow.write_text(text.replace("tools/lint:1", "tools/nothing:1"))
    done = cli(root, "lock")
    assert done.returncode == 3, done.stderr
    assert f".github/workflows/ci.yml:8: image {registry.host}/tools/nothing:1" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (root / "release.lock").exists()

    workflow.write_text(text.replace("tools/lint:1", "Tools/Lint:1"))
    done = cli(root, "lock")
    assert done.returncode == 2, done.stderr
    assert ".github/workflows/ci.yml:8: uses: docker://" in done.stderr and "repository name" in done.stderr
    assert not (root / "release.lock").exists()


def test_bundle_keeps_the_images_and_reproduce_restores_them_after_the_registry_was_wiped(  # type: ignore[no-untyped-def]
    ci, registry: OciRegistry, tmp_path: Path,
) -> None:
    root, published = ci
    assert cli(root, "lock").returncode == 0
    write_record(root, "0.9.0rc1", lockfile.read(root / "release.lock"))
    bundled = cli(root, "bundle", "0.9.0rc1")
    assert bundled.returncode == 0, bundled.stdout + bundled.stderr
    registry.wipe()
    into = tmp_path / "again"
    done = cli(root, "reproduce", "0.9.0rc1", "--into", str(into), "--from-bundle", str(root / "dist/0.9.0rc1/bundle"))
    assert done.returncode == 0, done.stdout + done.stderr
    index = json.loads((into / "images" / "index.json").read_text())
    assert {m["digest"] for m in index["manifests"]} == {published["lint"].index_digest, published["scan"].index_digest}
    shutil.rmtree(into)


def test_an_image_a_dockerfile_and_a_workflow_both_name_is_one_pin(ci, registry: OciRegistry) -> None:  # type: ignore[no-untyped-def]
    root, _ = ci
    (root / "Dockerfile").write_text(f"FROM --platform=linux/arm64 {registry.host}/tools/lint:1\n")
    with (root / "release.toml").open("a", encoding="utf-8") as toml:
        toml.write('dockerfiles = ["Dockerfile"]\n')  # into [containers], the last table
    done = cli(root, "lock")
    assert done.returncode == 0, done.stderr
    current = lockfile.read(root / "release.lock")
    assert current is not None
    lint = [p for p in current.of_kind("image") if p.name == f"{registry.host}/tools/lint:1"]
    assert len(lint) == 1 and {a.name for a in lint[0].artifacts} == {"linux/amd64", "linux/arm64"}  # [containers]' pin, first
    assert cli(root, "check").returncode == 0
