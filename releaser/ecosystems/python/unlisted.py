"""The project's dependency files release.toml does not list (`unlisted`): a hand-pinned
requirements file, or pyproject.toml's dependencies when `[python] pyproject` is off, naming
packages the lock does not pin. They would float, however sound the lock itself is.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from releaser.core.config import ReleaseConfig
from releaser.core.lockfile import Lock
from releaser.core.verdict import Finding
from releaser.ecosystems.python.requirements import applies
from releaser.ecosystems.python.settings import PythonInputs


def unlisted(config: ReleaseConfig, inputs: PythonInputs | None, lock: Lock, name: str) -> list[Finding]:
    """Every dependency file of the project that release.toml does not list and that names
    packages the lock does not pin: they would float, however sound the lock itself is.

    A resolver's output (`releaser.core.depfiles.is_compiled`) and a `.txt` compiled from
    the `.in` beside it are outputs, not dependency files; so is pyproject.toml when
    `[python] pyproject` reads it.
    """
    from releaser.core.depfiles import PYPROJECT, candidates

    root = config.root
    listed = _listed(config, inputs)
    pinned = {p.name for p in lock.of_kind("python")}
    found = []
    for path in candidates(str(root)):
        if path in listed or (path.endswith(".txt") and (root / path).with_suffix(".in").is_file()):
            continue
        names = _pyproject_names(root / path) if path == PYPROJECT else _requirement_names(root / path)
        missing = sorted(n for n in names if n not in pinned)
        if not missing:
            continue
        shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        where = "[python] pyproject = true" if path == PYPROJECT else f'[python] requirements (add "{path}")'
        found.append(Finding(
            "unlisted", path,
            f"names {len(missing)} package{'s' if len(missing) != 1 else ''} {name} does not pin ({shown}): "
            "release.toml does not list it as an input, so they float",
            f"list it in release.toml's {where}, then releaser lock",
        ))
    return found


def _listed(config: ReleaseConfig, inputs: PythonInputs | None) -> set[str]:
    """The files the inputs are read from, as posix paths relative to the root."""
    if inputs is None:
        return set()
    from releaser.core.errors import ReleaserError
    from releaser.ecosystems.python.requirements import input_paths

    listed = set()
    try:
        paths = input_paths(config.root, inputs)
    except (ReleaserError, OSError):  # an unreadable input is the input records' error to report, in their words
        paths = list(inputs.requirements)
    for path in paths:
        try:
            listed.add(path.resolve().relative_to(config.root.resolve()).as_posix())
        except (ValueError, OSError):
            continue
    if not inputs.pyproject:
        listed.discard("pyproject.toml")  # extras or groups only: its [project] dependencies are not locked
    return listed


def _requirement_names(path: object) -> set[str]:

    from releaser.core.depfiles import is_compiled

    try:
        text = Path(str(path)).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    if is_compiled(text):
        return set()
    return _canonical(line.split(" #")[0] for line in text.splitlines())


def _pyproject_names(path: object) -> set[str]:
    import tomllib

    try:
        project = tomllib.loads(Path(str(path)).read_text(encoding="utf-8")).get("project")
    except (OSError, ValueError):
        return set()
    deps = project.get("dependencies") if isinstance(project, dict) else None
    return _canonical(d for d in deps if isinstance(d, str)) if isinstance(deps, list) else set()


def _canonical(lines: Iterable[str]) -> set[str]:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    names = set()
    for line in lines:
        line = line.strip().rstrip("\\").strip()
        if not line or line.startswith(("#", "-")):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is None or applies(line):
            names.add(str(canonicalize_name(req.name)))
    return names
