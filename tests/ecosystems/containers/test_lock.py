"""[containers] images locked against a real registry (docker-registry on 127.0.0.1, images pushed by skopeo)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from helpers import container_project

from loopback.registry import OciRegistry
from releaser.core import lockfile

JAN = datetime(2026, 1, 10, 12, tzinfo=timezone.utc)
FEB = datetime(2026, 2, 10, 12, tzinfo=timezone.utc)
MAR = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)


def dockerfile(host: str) -> str:
    return f"""\
        # syntax=docker/dockerfile:1
        ARG REGISTRY={host}
        ARG PY=3.12
        FROM ${{REGISTRY}}/library/python:${{PY}}-slim AS build
        RUN <<EOF
        FROM this-is-a-script-line
        EOF
        COPY . /src
        FROM scratch AS empty
        FROM --platform=linux/amd64 \\
            {host}/tools/node:20 AS assets
        FROM build
        FROM ${{REGISTRY}}/library/python:${{PY}}-slim
        COPY --from=build /src /app
        """


def compose(host: str) -> str:
    return f"""\
        services:
          db:
            image: {host}/library/postgres:16  # the database
          web:
            build: .
        """


@pytest.fixture
def shop(tmp_path: Path, registry: OciRegistry) -> tuple:
    images = {
        "python": registry.publish("library/python:3.12-slim", created=JAN),
        "node": registry.publish("tools/node:20", created=JAN),
        "postgres": registry.publish("library/postgres:16", created=JAN),
    }
    project = container_project(
        tmp_path / "shop", registry.host, {"Dockerfile": dockerfile(registry.host), "compose.yaml": compose(registry.host)}
    )
    return project, images


def pins(project) -> dict[str, lockfile.Pin]:
    return {p.name: p for p in lockfile.read(project.lockfile).of_kind("image")}


def test_lock_pins_every_from_and_service_image_to_its_index_digest(shop, registry: OciRegistry) -> None:
    project, images = shop
    done = project.releaser("lock")
    assert done.returncode == 0, done.stderr
    found = pins(project)
    host = registry.host
    assert set(found) == {f"{host}/library/python:3.12-slim", f"{host}/tools/node:20", f"{host}/library/postgres:16"}
    python = found[f"{host}/library/python:3.12-slim"]
    assert python.version == images["python"].index_digest
    assert python.source == f"http://{host}"
    assert python.date == JAN
    assert {a.name: "sha256:" + a.sha256 for a in python.artifacts} == images["python"].manifests
    assert all(a.date == JAN for a in python.artifacts)
    check = project.releaser("check")
    assert check.returncode == 0, check.stdout + check.stderr


def test_relock_keeps_a_moved_tag_and_upgrade_moves_it(shop, registry: OciRegistry) -> None:
    project, images = shop
    assert project.releaser("lock").returncode == 0
    moved = registry.publish("library/postgres:16", created=FEB)
    name = f"{registry.host}/library/postgres:16"
    assert project.releaser("lock").returncode == 0
    assert pins(project)[name].version == images["postgres"].index_digest
    online = project.releaser("check", "--online")
    assert online.returncode == 0, online.stdout + online.stderr
    assert f"has moved to {moved.index_digest}" in online.stdout
    assert project.releaser("lock", "--upgrade", name).returncode == 0
    assert pins(project)[name].version == moved.index_digest


def test_as_of_picks_the_newest_digest_seen_before_the_cut_off(shop, registry: OciRegistry) -> None:
    project, images = shop
    assert project.releaser("lock").returncode == 0  # sees the January postgres
    registry.publish("library/postgres:16", created=MAR)
    done = project.releaser("lock", "--as-of", "2026-02-01T00:00:00Z")
    assert done.returncode == 0, done.stderr
    assert pins(project)[f"{registry.host}/library/postgres:16"].version == images["postgres"].index_digest


def test_as_of_with_no_earlier_digest_is_refused_naming_the_image(tmp_path: Path, registry: OciRegistry) -> None:
    registry.publish("library/redis:7", created=MAR)
    project = container_project(tmp_path / "p", registry.host, {"compose.yaml": f"services:\n  c:\n    image: {registry.host}/library/redis:7\n"})
    done = project.releaser("lock", "--as-of", "2026-02-01T00:00:00Z")
    assert done.returncode == 1, done.stderr
    assert f"{registry.host}/library/redis:7" in done.stderr and "2026-03-10T12:00:00Z" in done.stderr
    assert "Traceback" not in done.stderr and not project.lockfile.exists()


def test_a_reference_by_digest_is_verified_not_resolved(tmp_path: Path, registry: OciRegistry) -> None:
    image = registry.publish("library/redis:7", created=JAN)
    registry.publish("library/redis:7", created=FEB)  # the tag moves: the digest still names January's
    written = f"{registry.host}/library/redis:7@{image.index_digest}"
    project = container_project(tmp_path / "p", registry.host, {"compose.yaml": f"services:\n  c:\n    image: {written}\n"})
    assert project.releaser("lock").returncode == 0
    assert pins(project)[written].version == image.index_digest
    wrong = written[:-4] + "0000"
    project.write("compose.yaml", f"services:\n  c:\n    image: {wrong}\n")
    done = project.releaser("lock")
    assert done.returncode == 3 and "HTTP 404" in done.stderr and wrong in done.stderr, done.stderr


def test_platforms_narrow_the_pin_and_a_missing_one_is_bad_input(tmp_path: Path, registry: OciRegistry) -> None:
    image = registry.publish("library/redis:7", created=JAN)
    compose_file = {"compose.yaml": f"services:\n  c:\n    image: {registry.host}/library/redis:7\n"}
    project = container_project(tmp_path / "p", registry.host, compose_file, 'platforms = ["linux/arm64"]')
    assert project.releaser("lock").returncode == 0
    assert [a.name for a in pins(project)[f"{registry.host}/library/redis:7"].artifacts] == ["linux/arm64"]
    assert image.manifests["linux/arm64"].endswith(pins(project)[f"{registry.host}/library/redis:7"].artifacts[0].sha256)
    other = container_project(tmp_path / "q", registry.host, compose_file, 'platforms = ["linux/s390x"]')
    done = other.releaser("lock")
    assert done.returncode == 2, done.stderr
    assert "linux/s390x" in done.stderr and "offers linux/amd64, linux/arm64" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not other.lockfile.exists()


def test_check_flags_a_from_the_lock_does_not_pin(shop, registry: OciRegistry) -> None:
    project, _ = shop
    assert project.releaser("lock").returncode == 0
    with (project.root / "Dockerfile").open("a") as f:
        f.write(f"FROM {registry.host}/library/busybox:1\n")
    done = project.releaser("check")
    assert done.returncode == 1
    assert f"uncovered: Dockerfile:15: image {registry.host}/library/busybox:1 is neither pinned" in done.stdout, done.stdout
    assert f"image {registry.host}/library/busybox:1 added" in done.stdout


def test_a_missing_tag_is_one_line_naming_the_image(tmp_path: Path, registry: OciRegistry) -> None:
    project = container_project(tmp_path / "p", registry.host, {"compose.yaml": f"services:\n  c:\n    image: {registry.host}/nobody/here:1\n"})
    done = project.releaser("lock")
    assert done.returncode == 3
    assert done.stderr.strip().count("\n") == 0 and f"image {registry.host}/nobody/here:1" in done.stderr, done.stderr


def test_credentials_from_the_environment_reach_a_private_registry_and_nothing_else(
    tmp_path: Path, private_registry: OciRegistry
) -> None:
    image = private_registry.publish("team/api:1", created=JAN)
    files = {"compose.yaml": f"services:\n  c:\n    image: {private_registry.host}/team/api:1\n"}
    login = f'registries = ["https://${{REG_USER}}:${{REG_PASSWORD}}@{private_registry.host}"]'
    project = container_project(tmp_path / "p", private_registry.host, files, login)
    denied = project.releaser("lock", env={"REG_USER": "alice", "REG_PASSWORD": "wrong-password"})
    assert denied.returncode == 3 and "401" in denied.stderr and "wrong-password" not in denied.stderr, denied.stderr
    done = project.releaser("lock", env={"REG_USER": "alice", "REG_PASSWORD": "s3cret-pw"})
    assert done.returncode == 0, done.stderr
    assert pins(project)[f"{private_registry.host}/team/api:1"].version == image.index_digest
    assert "s3cret-pw" not in project.lockfile.read_text() + done.stdout + done.stderr


def test_a_bearer_token_registry_gives_a_token_to_the_configured_login_only(tmp_path: Path, token_registry: OciRegistry) -> None:
    image = token_registry.publish("team/api:1", created=JAN)
    files = {"compose.yaml": f"services:\n  c:\n    image: {token_registry.host}/team/api:1\n"}
    anonymous = container_project(tmp_path / "a", token_registry.host, files)
    refused = anonymous.releaser("lock")
    assert refused.returncode == 3 and "refused a token for repository:team/api:pull with no credentials" in refused.stderr, refused.stderr
    login = f'registries = ["https://${{REG_USER}}:${{REG_PASSWORD}}@{token_registry.host}"]'
    project = container_project(tmp_path / "p", token_registry.host, files, login)
    done = project.releaser("lock", env={"REG_USER": "alice", "REG_PASSWORD": "s3cret-pw"})
    assert done.returncode == 0, done.stderr
    assert pins(project)[f"{token_registry.host}/team/api:1"].version == image.index_digest
    online = project.releaser("check", "--online", env={"REG_USER": "alice", "REG_PASSWORD": "s3cret-pw"})
    assert online.returncode == 0 and "s3cret-pw" not in online.stdout + online.stderr + project.lockfile.read_text()


def test_an_edit_that_names_no_other_image_leaves_the_lock_fresh(shop, registry: OciRegistry) -> None:
    project, _ = shop
    assert project.releaser("lock").returncode == 0
    with (project.root / "Dockerfile").open("a") as f:
        f.write("# a comment\nRUN echo more\n")
    done = project.releaser("check")
    assert done.returncode == 0, done.stdout


def test_the_witness_log_grows_only_by_digests_not_seen_before(shop, registry: OciRegistry) -> None:
    project, _ = shop
    log = project.root / ".releaser" / "images-seen.jsonl"
    assert project.releaser("lock").returncode == 0
    first = log.read_text()
    assert len(first.splitlines()) == 3
    assert project.releaser("lock", "--upgrade", f"{registry.host}/library/postgres:16").returncode == 0
    assert log.read_text() == first  # the same digests again: nothing appended
    moved = registry.publish("library/postgres:16", created=FEB)
    assert project.releaser("lock", "--upgrade", f"{registry.host}/library/postgres:16").returncode == 0
    added = log.read_text()[len(first):].splitlines()
    assert len(added) == 1 and moved.index_digest in added[0] and "2026-02-10T12:00:00Z" in added[0]


def test_as_of_trusts_the_registrys_created_over_an_edited_witness_log(shop, registry: OciRegistry) -> None:
    project, images = shop
    assert project.releaser("lock").returncode == 0  # sees the January postgres
    march = registry.publish("library/postgres:16", created=MAR)
    log = project.root / ".releaser" / "images-seen.jsonl"
    forged = f'{{"created": "2026-01-20T00:00:00Z", "digest": "{march.index_digest}", "image": "{registry.host}/library/postgres:16", "seen": "2026-01-21T00:00:00Z"}}\n'
    log.write_text(log.read_text() + forged)
    done = project.releaser("lock", "--as-of", "2026-02-01T00:00:00Z")
    assert done.returncode == 0, done.stderr
    assert pins(project)[f"{registry.host}/library/postgres:16"].version == images["postgres"].index_digest
