"""The Dockerfile, compose, reference and manifest readers: what they find, and only releaser's
own errors from any input (hypothesis)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releaser.core.errors import ConfigError, ReleaserError
from releaser.ecosystems.containers import compose, dockerfile
from releaser.ecosystems.containers.reference import parse
from releaser.ecosystems.containers.resolve import _created, _index_entries
from releaser.plumbing.oci import OCI_INDEX, Manifest, sha256_digest

F = Path("Dockerfile")
fuzz = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_every_from_with_args_platforms_stages_continuations_and_heredocs() -> None:
    text = (
        "# escape=\\\n"
        "ARG BASE=python\nARG TAG\nARG VER=${TAG:-3.12}\n"
        "FROM --platform=linux/arm64 ${BASE}:${VER} AS build\n"
        "RUN <<-EOF cat > /x\n\tFROM not-an-instruction\n\tEOF\n"
        "FROM --platform=$BUILDPLATFORM \\\n  # a comment inside\n  ghcr.io/org/tool:1 as tool\n"
        "FROM build\nFROM scratch\nFROM TOOL\n"
        "FROM registry.example.com:5000/a/b@sha256:" + "a" * 64 + "\n"
    )
    uses = dockerfile.images(F, text)
    assert [(u.ref.written, u.line, u.platform) for u in uses] == [
        ("python:3.12", 5, "linux/arm64"),
        ("ghcr.io/org/tool:1", 9, None),
        ("registry.example.com:5000/a/b@sha256:" + "a" * 64, 15, None),
    ]
    assert uses[0].ref.repository == "library/python" and uses[0].ref.api_host == "registry-1.docker.io"
    assert uses[2].ref.registry == "registry.example.com:5000" and uses[2].ref.tag is None


def test_copy_from_an_image_is_an_image_and_from_a_stage_is_not() -> None:
    text = "FROM alpine:3 AS base\nCOPY --from=base /a /a\nCOPY --from=0 /b /b\nCOPY --chown=1 --from=nginx:1.27 /etc/nginx /n\nCOPY . /src\n"
    uses = dockerfile.images(F, text)
    assert [(u.ref.written, u.line) for u in uses] == [("alpine:3", 1), ("nginx:1.27", 4)]
    out = dockerfile.pinned_text(F, text, {"nginx:1.27": "sha256:" + "a" * 64})
    assert f"COPY --chown=1 --from=nginx:1.27@sha256:{'a' * 64} /etc/nginx /n" in out and "COPY --from=base /a" in out


def test_pinned_text_rewrites_only_the_image_token() -> None:
    text = "ARG V=1\n# base image\nFROM  python:${V} AS build # not a comment in Docker\nFROM build\nFROM \\\n  redis:7\n"
    digests = {"python:1": "sha256:" + "b" * 64, "redis:7": "sha256:" + "c" * 64}
    out = dockerfile.pinned_text(F, text.replace(" # not a comment in Docker", ""), digests)
    assert out == "ARG V=1\n# base image\nFROM  python:1@sha256:" + "b" * 64 + " AS build\nFROM build\nFROM \\\n  redis:7@sha256:" + "c" * 64 + "\n"


@pytest.mark.parametrize(
    "text, message",
    [
        ("FROM\n", "Dockerfile:1: FROM must be"),
        ("FROM a b c d\n", "Dockerfile:1: FROM must be"),
        ("ARG X\nFROM ${X}\n", "Dockerfile:2: FROM ${X} is empty"),
        ("FROM --pull=always a\n", "Dockerfile:1: FROM --pull"),
        ("FROM Upper/Case\n", "Dockerfile:1: FROM 'Upper/Case' is not a repository name"),
        ("RUN <<EOF\nnever closed\n", "Dockerfile:1: heredoc <<EOF is never closed"),
        ("FROM a@sha256:12\n", "is not a sha256 digest"),
    ],
)
def test_a_dockerfile_that_does_not_parse_names_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("$", r"\$").replace("{", r"\{").replace("}", r"\}").replace("(", r"\(")):
        dockerfile.images(F, text)


def test_compose_images_with_lines_and_a_rewrite_that_keeps_comments() -> None:
    text = "# the stack\nservices:\n  db:\n    image: postgres:16   # pinned by releaser\n  web:\n    build: .\n  cache:\n    image: 'redis:7'\n"
    uses = compose.images(Path("compose.yaml"), text)
    assert [(u.ref.written, u.line) for u in uses] == [("postgres:16", 4), ("redis:7", 8)]
    out = compose.pinned_text(Path("compose.yaml"), text, {"postgres:16": "sha256:" + "d" * 64})
    assert "# the stack" in out and "# pinned by releaser" in out and "image: 'redis:7'" in out
    assert f"image: postgres:16@sha256:{'d' * 64}" in out


@pytest.mark.parametrize(
    "text, message",
    [
        ("services: [a, b]\n", "compose.yaml:1: services must be a mapping"),
        ("services:\n  a:\n    image: [x]\n", "compose.yaml:3: service a: image must be a string"),
        ("services:\n  a:\n    image: ${IMAGE}\n", "compose.yaml:3: service a: image '\\$\\{IMAGE\\}' uses a variable"),
        ("services:\n  a: {image: x\n", "compose.yaml:\\d+: not valid YAML"),
    ],
)
def test_a_compose_file_that_does_not_parse_names_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        compose.images(Path("compose.yaml"), text)


lines = st.sampled_from(["FROM ", "ARG ", "RUN <<EOF", "EOF", "AS ", "--platform=", "${X:-a}", "\\", "#", "\n", " ", "a:1", "@sha256:", "scratch"])


@fuzz
@given(st.lists(lines | st.text(max_size=12), max_size=30).map("".join))
def test_dockerfile_reader_raises_only_its_own_errors(text: str) -> None:
    try:
        uses = dockerfile.images(F, text)
        dockerfile.pinned_text(F, text, {u.ref.written: "sha256:" + "e" * 64 for u in uses})
    except ConfigError:
        pass


yaml_bits = st.sampled_from(["services:\n", "  a:\n", "    image: ", "x:1", "{", "[", "&a ", "*a", "!!binary ", "'", "\n", "- ", "? "])


@fuzz
@given(st.lists(yaml_bits | st.text(max_size=8), max_size=20).map("".join))
def test_compose_reader_raises_only_its_own_errors(text: str) -> None:
    try:
        uses = compose.images(Path("compose.yaml"), text)
        compose.pinned_text(Path("compose.yaml"), text, {u.ref.written: "sha256:" + "e" * 64 for u in uses})
    except ConfigError:
        pass


@fuzz
@given(st.text(max_size=60) | st.from_regex(r"([a-z0-9.:]{1,12}/)?[a-z0-9._-]{1,10}(:[\w.-]{1,8})?(@sha256:[0-9a-f]{0,64})?", fullmatch=True))
def test_reference_parser_raises_only_value_errors(text: str) -> None:
    try:
        ref = parse(text)
    except ValueError:
        return
    assert parse(ref.written) == ref and ref.pinned("sha256:" + "f" * 64).startswith(ref.name)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["manifests", "platform", "digest", "os", "architecture", "variant", "created", "config"]), inner, max_size=5),
    max_leaves=20,
)


@fuzz
@given(json_values)
def test_manifest_readers_raise_only_releaser_errors(doc: object) -> None:
    body = json.dumps(doc).encode()
    try:
        _index_entries(Manifest(body, OCI_INDEX, sha256_digest(body)), "image x")
    except ReleaserError:
        pass
    try:
        _created(doc if isinstance(doc, dict) else {"created": doc}, "image x")
    except ReleaserError:
        pass


@fuzz
@given(st.lists(st.text(max_size=40) | st.sampled_from([
    '{"image": "a/b:1", "digest": "sha256:x", "created": "2026-01-01T00:00:00Z", "seen": "2026-01-02T00:00:00Z"}',
    '{"image": 1}', "[]", "{}", '{"created": "2026-01-01"}',
]), max_size=5).map("\n".join))
def test_witness_log_reader_raises_only_config_errors(text: str) -> None:
    import tempfile

    from releaser.ecosystems.containers import witness

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / witness.WITNESS).parent.mkdir(parents=True)
        (Path(tmp) / witness.WITNESS).write_text(text, encoding="utf-8")
        try:
            for sighting in witness.read(Path(tmp)):
                assert sighting.created.tzinfo is not None
        except ConfigError as exc:
            assert "images-seen.jsonl:" in str(exc)


@pytest.mark.parametrize(
    "table, message",
    [
        ('compose = ["compose.yaml"]\nimages = []', "unknown key"),
        ('dockerfiles = ["../Dockerfile"]', "leads outside the project"),
        ('dockerfiles = ["Nope"]', "Nope does not exist"),
        ("", "names no Dockerfile, no compose file and no registry"),
        ('compose = ["compose.yaml"]\nplatforms = ["amd64"]', "'amd64' is not os/arch"),
        ('compose = ["compose.yaml"]\ninsecure = ["http://h:5000"]', "is not a registry host"),
        ('compose = ["compose.yaml"]\nregistries = ["ftp://h"]', "is not an http\\(s\\) URL"),
    ],
)
def test_containers_table_errors_name_the_key(tmp_path: Path, table: str, message: str) -> None:
    from releaser.ecosystems import parse_config

    (tmp_path / "compose.yaml").write_text("services: {}\n")
    text = f'[release]\nname = "x"\nversion = "1.0"\n\n[containers]\n{table}\n'
    with pytest.raises(ConfigError, match=r"\[containers\].*" + message):
        parse_config(text, tmp_path / "release.toml")


def test_a_containers_table_of_platforms_alone_is_how_other_files_images_are_pinned(tmp_path: Path) -> None:
    from releaser.ecosystems import parse_config

    text = '[release]\nname = "x"\nversion = "1.0"\n\n[containers]\nplatforms = ["linux/arm64"]\n'
    config = parse_config(text, tmp_path / "release.toml")
    assert getattr(config.inputs_of("image"), "platforms", None) == ("linux/arm64",)


def test_a_manifest_nested_past_any_real_one_is_an_upstream_error() -> None:
    body = b"[" * 5000 + b"]" * 5000
    with pytest.raises(ReleaserError, match="too deep|nest"):
        Manifest(body, OCI_INDEX, sha256_digest(body)).json()


@pytest.mark.parametrize(
    "reader, text",
    [
        (dockerfile.images, "FROM " + "${A:-" * 20000 + "\n"),  # was one scan to the line's end per `$`
        (dockerfile.images, "FROM a\\\n" * 20000),
        (compose.images, "[" * 5000 + "]" * 5000),  # ruamel.yaml recursed thousands deep, for seconds
        (compose.images, "services: " + "{a: " * 3000 + "}" * 3000),
    ],
)
def test_long_and_deep_inputs_end_in_one_line_not_a_crash(reader, text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        reader(Path("input"), text)
    assert "\n" not in str(caught.value)
