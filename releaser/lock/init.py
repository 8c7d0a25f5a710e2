"""`releaser init`: a commented release.toml from what the project already has.

`releaser.lock.initfind` reads the project; this module writes what it found as
release.toml, each section with a comment saying where it came from, and proves
the result is one `releaser lock` accepts (it is parsed by `releaser.core.config`
before it is written). An existing release.toml is never replaced.

init sits in the `lock` stage: what it writes is `lock`'s input, and it only needs
what comes before (`core` to validate, `sources` to read requirement files as
lock will). `ACCEPTED` says which keys are written as found and which as commented
suggestions, one switch each.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from releaser.core.config import CONFIG_NAME
from releaser.core.errors import ConfigError, Refused
from releaser.core.redact import strip_credentials
from releaser.ecosystems import parse_config as parse
from releaser.ecosystems.python.settings import DEFAULT_INDEX
from releaser.lock.initfind import Findings, find

# release.toml keys written as found (True) or as commented-out suggestions (False).
# `pom` stays a suggestion: init lists a pom.xml's dependencies itself, with its
# properties filled, so the lock does not depend on a parent or BOM init cannot see.
ACCEPTED = {"extras": True, "groups": True, "migrations": True, "pom": False}


@dataclass(frozen=True)
class InitResult:
    path: Path
    found: tuple[str, ...]  # what was found, one line each, for the user
    text: str


def initialize(root: Path, *, index_url: str | None = None) -> InitResult:
    """Write `root/release.toml`; refused (exit 1) when there is one already."""
    from releaser.plumbing.fsutil import write_atomic

    path = root / CONFIG_NAME
    if not root.is_dir():
        raise ConfigError(f"{root}: no such folder")
    if path.exists():
        raise Refused(f"{path} exists already; releaser init never overwrites it (edit it, or remove it first)")
    index_url = index_url or DEFAULT_INDEX
    userinfo = urlsplit(index_url).netloc.rpartition("@")[0]
    if userinfo and "${" not in userinfo:
        raise ConfigError(
            f"--index-url {strip_credentials(index_url)}: credentials never go into release.toml; "
            "write them as ${VARS} (https://ci:${INDEX_TOKEN}@host/simple) or put them in ~/.netrc"
        )
    found = find(root)
    text = render(found, index_url)
    # What init writes, `releaser lock` accepts. ${VARS} need not be set yet (CI sets them).
    parse(render(found, re.sub(r"\$\{\w+\}", "placeholder", index_url)), path)
    write_atomic(path, text)
    return InitResult(path, tuple(summary(found)), text)


def summary(found: Findings) -> list[str]:
    lines = [f"project {found.name} {found.version}"]
    for req in found.requirements:
        lines.append(f"python: {req}")
    if found.pyproject:
        lines.append("python: pyproject.toml [project] dependencies")
    if found.extras:
        lines.append(f"python: optional dependencies {', '.join(found.extras)}")
    if found.groups:
        lines.append(f"python: dependency groups {', '.join(found.groups)}")
    if found.poms:
        lines.append(f"maven: {', '.join(found.poms)} ({len(found.maven)} dependencies with a version)")
    if found.migrations:
        lines.append(f"migrations: {found.migrations[0]} in {', '.join(found.migrations[1])}")
    if found.build:
        lines.append(f"build: {shlex.join(found.build)}{_unless_locked(found, found.build)}")
    for gate in found.gates:
        lines.append(f"gate: {shlex.join(gate)}{_unless_locked(found, gate)}")
    return lines + found.notes


def _unless_locked(found: Findings, argv: list[str]) -> str:
    tool = _tool_of(argv)
    return "" if tool is None or tool in _locked(found) else f" (commented out: add {tool} to your inputs first)"


def render(found: Findings, index_url: str) -> str:
    out = [
        "# release.toml, written by `releaser init` from what the project has. Check it, then:",
        "#   releaser lock && releaser check",
        "# Every table and key: docs/config.md in releaser's documentation.",
        "",
        "[release]",
        f"name = {_q(found.name)}",
        f"version = {_q(found.version)}  # release candidates are {found.version}rc1, {found.version}rc2, ...",
    ]
    out += _commands(found)
    if found.requirements or found.pyproject:
        out += ["", "[python]"]
        if found.requirements:
            out.append(f"requirements = {_list(found.requirements)}  # the requirement files that are inputs")
        if found.pyproject:
            out.append("pyproject = true  # [project] dependencies of pyproject.toml")
        out += _optional("extras", found.extras, "[project.optional-dependencies] to lock too")
        out += _optional("groups", found.groups, "[dependency-groups] (PEP 735) to lock too")
        out.append(f"index-url = {_q(index_url)}  # your index; credentials as ${{VARS}}, never in this file")
    if found.poms:
        out += _maven(found)
    if found.migrations:
        framework, paths = found.migrations
        section = ["[migrations]", f"framework = {_q(framework)}", f"paths = {_list(paths)}"]
        prefix = "" if ACCEPTED["migrations"] else "# "
        out += ["", "# The database half of an RC (docs/migrations.md)."]
        out += [prefix + line for line in section]
    return "\n".join(out) + "\n"


def _commands(found: Findings) -> list[str]:
    """build and gates run in an environment holding exactly the locked packages: only
    a command whose tool is locked is written as is; the others are suggestions."""
    lines = []
    if found.build:
        lines += _command("build", json.dumps(found.build), _tool_of(found.build), found, "{dist} is dist/<rc>/")
    if found.gates:
        lines += _command("gates", json.dumps(found.gates), _tool_of(found.gates[0]), found, "must pass before an RC is recorded")
    return lines


def _tool_of(argv: list[str]) -> str | None:
    """The Python package a `python -m TOOL` command needs in the build environment."""
    return argv[2] if argv[:2] == ["python", "-m"] and len(argv) > 2 else None


def _locked(found: Findings) -> set[str]:
    """The names `releaser lock` will lock, from what init writes."""
    locked = set(found.tools["inputs"])
    for where in ("extras", "groups"):
        if ACCEPTED[where]:
            locked |= found.tools[where]
    return locked


def _command(key: str, value: str, needs: str | None, found: Findings, why: str) -> list[str]:
    if needs is None or needs in _locked(found):
        return [f"{key} = {value}  # {why}"]
    return [
        f"# {key} = {value}  # {why};",
        f"#   it runs with the locked packages only: add {needs} to your inputs first",
    ]


def _maven(found: Findings) -> list[str]:
    out = []
    for i, repository in enumerate(found.maven_repositories):
        out += ["", f"[[maven]]  # from {', '.join(found.poms)}" if i == 0 else "[[maven]]"]
        out.append(f"repository = {_q(repository)}")
        # Every repository is tried for every dependency: they are listed once.
        out.append(f"dependencies = {_list(found.maven if i == 0 else [])}")
        if i == 0:
            out += _optional("pom", found.poms[0], "and the POM's own dependencies, transitively")
    return out


def _optional(key: str, value: list[str] | str, comment: str) -> list[str]:
    if not value:
        return []
    shown = _list(value) if isinstance(value, list) else _q(value)
    return [f"{'' if ACCEPTED[key] else '# '}{key} = {shown}  # {comment}"]


def _q(text: str) -> str:
    return json.dumps(text)  # a TOML basic string is a JSON string


def _list(items: list[str]) -> str:
    return "[" + ", ".join(_q(i) for i in items) + "]"
