"""A service's images through the release: export, cut (pinned copies, refused on a moved tag),
MANIFEST.md, the SBOM and diff; against a real registry."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from helpers import container_project

from loopback.registry import OciRegistry
from releaser.core import lockfile

JAN = datetime(2026, 1, 10, 12, tzinfo=timezone.utc)
FEB = datetime(2026, 2, 10, 12, tzinfo=timezone.utc)
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Release Engineer", "GIT_AUTHOR_EMAIL": "re@example.org",
    "GIT_COMMITTER_NAME": "Release Engineer", "GIT_COMMITTER_EMAIL": "re@example.org",
}
BUILD = '["python", "-c", "import shutil, sys; shutil.copy(sys.argv[1], sys.argv[2])", "{dockerfile}", "{dist}Dockerfile.built"]'


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=root, capture_output=True, text=True,
                          check=True, env={"PATH": "/usr/bin:/bin", "HOME": str(root), **GIT_ENV})
    return done.stdout.strip()


@pytest.fixture
def service(tmp_path: Path, registry: OciRegistry):
    """A service: a multi-stage Dockerfile and a compose file, its images on the registry, locked, committed."""
    host = registry.host
    images = {
        "python": registry.publish("library/python:3.12", created=JAN),
        "redis": registry.publish("library/redis:7", created=JAN),
    }
    files = {
        "Dockerfile": f"# the app\nFROM {host}/library/python:3.12 AS build\nRUN true\nFROM build\n",
        "compose.yaml": f"services:\n  cache:\n    image: {host}/library/redis:7  # the cache\n  app:\n    build: .\n",
    }
    project = container_project(tmp_path / "svc", host, files)
    text = (project.root / "release.toml").read_text().replace('version = "1.0.0"', f'version = "1.0.0"\nbuild = {BUILD}')
    (project.root / "release.toml").write_text(text)
    project.write(".gitignore", "/dist/\n.releaser/\n")
    done = project.releaser("lock")
    assert done.returncode == 0, done.stderr
    git(project.root, "init", "-q")
    git(project.root, "add", "-A")
    git(project.root, "commit", "-qm", "the service")
    return project, images


def test_export_prints_and_writes_the_files_pinned_keeping_comments(service, registry: OciRegistry) -> None:
    project, images = service
    host = registry.host
    printed = project.releaser("export", "--format", "compose")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == (
        f"services:\n  cache:\n    image: {host}/library/redis:7@{images['redis'].index_digest}  # the cache\n"
        "  app:\n    build: .\n"
    )
    assert (project.root / "compose.yaml").read_text().count("@sha256:") == 0  # printed, not written
    written = project.releaser("export", "--format", "dockerfile", "--write")
    assert written.returncode == 0, written.stderr
    assert (project.root / "Dockerfile").read_text() == (
        f"# the app\nFROM {host}/library/python:3.12@{images['python'].index_digest} AS build\nRUN true\nFROM build\n"
    )
    relocked = project.releaser("lock")  # the Dockerfile now pins by digest itself: verified, kept
    assert relocked.returncode == 0 and project.releaser("check").returncode == 0


def test_cut_builds_from_the_pinned_copies_and_records_the_images(service, registry: OciRegistry) -> None:
    project, images = service
    host = registry.host
    done = project.releaser("cut", env=GIT_ENV)
    assert done.returncode == 0, done.stdout + done.stderr
    built = (project.root / "dist" / "1.0.0rc1" / "Dockerfile.built").read_text()
    assert f"FROM {host}/library/python:3.12@{images['python'].index_digest} AS build" in built
    assert "@sha256:" not in (project.root / "Dockerfile").read_text()  # the source tree is untouched
    record = project.root / "releases" / "1.0.0rc1"
    manifest_md = (record / "MANIFEST.md").read_text()
    assert "### Container images (2)" in manifest_md and images["redis"].index_digest in manifest_md
    sbom = json.loads((record / "sbom.cdx.json").read_text())
    purls = {c["purl"] for c in sbom["components"]}
    assert f"pkg:oci/python@{images['python'].index_digest}?repository_url={host}/library/python&tag=3.12" in purls, purls


def test_cut_refuses_when_a_tag_moved_since_the_lock(service, registry: OciRegistry) -> None:
    project, _ = service
    moved = registry.publish("library/redis:7", created=FEB)
    done = project.releaser("cut", env=GIT_ENV)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"has moved to {moved.index_digest}" in done.stderr and "Traceback" not in done.stderr
    assert not (project.root / "releases" / "1.0.0rc1").exists() and not (project.root / "dist" / "1.0.0rc1").exists()


def test_diff_shows_an_image_that_moved_between_rcs(service, registry: OciRegistry) -> None:
    project, images = service
    assert project.releaser("cut", env=GIT_ENV).returncode == 0
    moved = registry.publish("library/redis:7", created=FEB)
    name = f"{registry.host}/library/redis:7"
    assert project.releaser("lock", "--upgrade", name).returncode == 0
    git(project.root, "commit", "-qam", "redis moved")
    assert project.releaser("cut", env=GIT_ENV).returncode == 0
    done = project.releaser("diff", "1.0.0rc1", "1.0.0rc2")
    assert done.returncode == 0, done.stderr
    assert name in done.stdout and moved.index_digest[:19] in done.stdout and images["redis"].index_digest[:19] in done.stdout
    assert lockfile.read(project.lockfile) is not None


def test_bundle_then_reproduce_after_the_registry_was_wiped(service, registry: OciRegistry, tmp_path: Path) -> None:
    project, images = service
    assert project.releaser("cut", env=GIT_ENV).returncode == 0
    bundled = project.releaser("bundle", "1.0.0rc1")
    assert bundled.returncode == 0, bundled.stdout + bundled.stderr
    registry.wipe()  # upstream forgot every image, tags and all
    done = project.releaser("reproduce", "1.0.0rc1", "--from-bundle", "dist/1.0.0rc1/bundle", "--push", registry.host)
    assert done.returncode == 0, done.stdout + done.stderr
    layout = project.root / "reproduce" / "1.0.0rc1" / "images"
    index = json.loads((layout / "index.json").read_text())
    assert {m["digest"] for m in index["manifests"]} == {images["python"].index_digest, images["redis"].index_digest}
    copy = tmp_path / "copied"  # skopeo reads the layout and the registry it was pushed back to, every platform
    name = f"{registry.host}/library/redis:7"
    subprocess.run(["skopeo", "copy", "--all", "--quiet", f"oci:{layout}:{name}", f"oci:{copy}:x"], check=True, timeout=120)
    inspected = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{name}"],
                               check=True, capture_output=True, timeout=120).stdout
    assert "sha256:" + __import__("hashlib").sha256(inspected).hexdigest() == images["redis"].index_digest
    assert project.releaser("check", "--online").returncode == 0  # the tags are back, at the pinned digests


def test_a_bundle_whose_layer_was_altered_is_refused(service, registry: OciRegistry) -> None:
    project, _ = service
    assert project.releaser("cut", env=GIT_ENV).returncode == 0
    assert project.releaser("bundle", "1.0.0rc1").returncode == 0
    blobs = project.root / "dist" / "1.0.0rc1" / "bundle" / "images" / "blobs" / "sha256"
    layer = max(blobs.iterdir(), key=lambda p: p.stat().st_size)
    layer.write_bytes(layer.read_bytes() + b"!")
    done = project.releaser("reproduce", "1.0.0rc1", "--from-bundle", "dist/1.0.0rc1/bundle")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "does not hash" in done.stderr and "Traceback" not in done.stderr


def test_reproduce_without_a_bundle_fetches_the_pinned_digests_not_the_moved_tags(service, registry: OciRegistry) -> None:
    project, images = service
    assert project.releaser("cut", env=GIT_ENV).returncode == 0
    registry.publish("library/redis:7", created=FEB)  # the tag moves on; rc1 pinned January's
    done = project.releaser("reproduce", "1.0.0rc1")
    assert done.returncode == 0, done.stdout + done.stderr
    index = json.loads((project.root / "reproduce" / "1.0.0rc1" / "images" / "index.json").read_text())
    named = {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"] for m in index["manifests"]}
    assert named[f"{registry.host}/library/redis:7"] == images["redis"].index_digest
    blobs = project.root / "reproduce" / "1.0.0rc1" / "images" / "blobs" / "sha256"
    assert {"sha256:" + p.name for p in blobs.iterdir()} >= set(images["redis"].manifests.values())
