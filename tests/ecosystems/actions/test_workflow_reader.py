"""The workflow reader under arbitrary input: only releaser's own errors escape, and what it reads is right."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releaser.core.errors import ConfigError, UpstreamError
from releaser.ecosystems.actions.workflows import action_uses, workflow_uses

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# YAML-shaped text: the pieces a workflow is made of, in any order, with junk between.
pieces = st.sampled_from([
    "jobs:", "  a:", "    uses: ", "    steps:", "      - uses: ", "runs:", "  using: composite", "  steps:",
    "acme/x@v1", "acme/x", "./local", "docker://alpine:3", "@", "[", "{", "- ", ": ", "&a ", "*a", "!!python/object ",
    "'", '"', "#", "\t", "\n", "---\n", "... ", "null", "123", "~",
])
yamlish = st.lists(st.one_of(pieces, st.text(max_size=8)), max_size=40).map("".join)


@FUZZ
@given(st.one_of(yamlish, st.text(max_size=200)))
def test_workflow_reader_raises_only_its_own_errors(text: str) -> None:
    try:
        uses = workflow_uses(text, "ci.yml")
    except ConfigError as exc:
        assert str(exc).startswith("ci.yml") and "\n" not in str(exc)
    else:
        assert all(u.line >= 1 and "@" in u.name for u in uses.actions)


@FUZZ
@given(st.one_of(yamlish, st.text(max_size=200)))
def test_action_reader_raises_upstream_errors_only(text: str) -> None:
    try:
        action_uses(text, "acme/x@v1: action.yml", UpstreamError)
    except UpstreamError as exc:
        assert str(exc).startswith("acme/x@v1: action.yml")


@FUZZ
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                    max_leaves=20))
def test_any_yaml_document_shape_is_read_or_refused(doc: object) -> None:
    from io import StringIO

    from ruamel.yaml import YAML

    out = StringIO()
    YAML(typ="safe").dump({"jobs": doc}, out)
    try:
        workflow_uses(out.getvalue(), "ci.yml")
    except ConfigError:
        pass


def test_lines_refs_and_kinds_of_uses() -> None:
    text = (
        "on: push\njobs:\n  a:\n    uses: o/r/.github/workflows/w.yml@main\n  b:\n    steps:\n"
        "      - run: echo\n      - uses: 'o/r/sub/dir@v1'  # quoted\n      - uses: ./here\n      - uses: docker://alpine:3.19\n"
    )
    found = workflow_uses(text, "ci.yml")
    assert [(u.action, u.ref, u.line, u.is_workflow) for u in found.actions] == [
        ("o/r/.github/workflows/w.yml", "main", 4, True), ("o/r/sub/dir", "v1", 8, False),
    ]
    assert [(i.image, i.line) for i in found.images] == [("alpine:3.19", 10)]


@pytest.mark.parametrize("value", ["o/r/../../x@v1", "o@v1", "o/r@-x", "/r@v1"])
def test_uses_that_is_no_action_is_refused_with_its_line(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^ci.yml:4: uses: "):
        workflow_uses(f"jobs:\n  a:\n    steps:\n      - uses: {value}\n", "ci.yml")


def test_pinning_rewrites_only_the_value_keeping_quotes_and_flow_mappings_whole(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from releaser.core.lockfile import Pin
    from releaser.ecosystems.actions.pinning import pinned_workflows
    from releaser.ecosystems.actions.settings import ActionsInputs

    sha = "a" * 40
    (tmp_path / "w").mkdir()
    (tmp_path / "w/ci.yml").write_text(
        "jobs:\n  a:\n    steps:\n      - uses: \"o/r@v1\"\n      - {uses: o/r@v1, with: {x: 1}}\n\n      - uses:   o/r@v1\r\n"
    )
    inputs = ActionsInputs(tmp_path, ("w/*.yml",), "https://github.com")
    texts = pinned_workflows(inputs, (Pin("actions", "o/r@v1", sha, "https://github.com/o/r", "v1"),))
    assert texts[tmp_path / "w/ci.yml"] == (
        f"jobs:\n  a:\n    steps:\n      - uses: \"o/r@{sha}\" # v1\n      - {{uses: o/r@{sha}, with: {{x: 1}}}}\n\n"
        f"      - uses:   o/r@{sha} # v1\r\n"
    )


def test_docker_steps_and_a_docker_actions_image_are_read_as_image_references() -> None:
    found = workflow_uses("jobs:\n  a:\n    steps:\n      - uses: docker://ghcr.io/o/lint:1@sha256:" + "a" * 64 + "\n", "ci.yml")
    assert [(i.ref.registry, i.ref.repository, i.ref.tag, i.where) for i in found.images] == [("ghcr.io", "o/lint", "1", "ci.yml:4")]
    docker = action_uses("runs:\n  using: docker\n  image: 'docker://alpine:3.19'\n", "o/r@v1: action.yml", UpstreamError)
    assert [(i.ref.repository, i.line) for i in docker.images] == [("library/alpine", 3)]
    built = action_uses("runs:\n  using: docker\n  image: Dockerfile\n", "o/r@v1: action.yml", UpstreamError)
    assert built.images == ()  # built from the action's own files: no image to pin here
    with pytest.raises(UpstreamError, match=r"^o/r@v1: action.yml:3: image: docker://Alpine"):
        action_uses("runs:\n  using: docker\n  image: docker://Alpine\n", "o/r@v1: action.yml", UpstreamError)
