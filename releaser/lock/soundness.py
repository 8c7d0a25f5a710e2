"""What makes a lock sound: every entry exact and hashed, every direct input pinned.

`releaser check` reports a lock that is not (`floating`, `uncovered`); `releaser lock`
asks the same of the lock it is about to write before it seals it
(`releaser.lock.sealing`), so the seal can only ever stand for a verdict `check`
would give.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from releaser.core.config import CONFIG_NAME, ReleaseConfig
from releaser.core.lockfile import InputRecord, Lock, Pin
from releaser.core.verdict import Finding, upgrade

_SHA256 = re.compile(r"[0-9a-f]{64}")


def floating(lock: Lock) -> list[Finding]:
    """Every entry whose meaning could change without a commit here."""
    found = []
    for pin in lock.pins:
        reason = floats(pin)
        if reason:
            found.append(Finding("floating", f"{pin.kind} {pin.name} {pin.version}", reason, upgrade(pin.name)))
    return found


def floats(pin: Pin) -> str | None:
    """Why `pin` is not exact, or None when it is.

    python: an exact PEP 440 version with files, each with a sha256 (a direct
    reference to git: a full commit id instead of files; to an archive whose name
    has no version: that archive's sha256 as its version). maven: no -SNAPSHOT (a
    timestamped build is fine), no range, LATEST or RELEASE, and a sha256. git: a
    full commit id. artifact: a sha256.
    """
    unhashed = sorted(a.name for a in pin.artifacts if not _SHA256.fullmatch(a.sha256))
    if unhashed:
        return f"file {unhashed[0]} has no valid sha256"
    version = pin.version
    if pin.kind == "python":
        from packaging.version import InvalidVersion, Version

        commit = pin.commit
        if commit is not None:
            from releaser.ecosystems.git.source import FULL_COMMIT_ID

            if not FULL_COMMIT_ID.fullmatch(commit):
                return f"commit {commit!r} is not a full commit id"
        if commit is None and not pin.artifacts:
            return "has no hashed files"
        try:
            Version(version)
        except InvalidVersion:
            if version not in {commit, *(a.sha256 for a in pin.artifacts)}:
                return f"version {version!r} is not an exact version"
        for b in pin.build:
            reason = floats(b)
            if reason:
                return f"build requirement {b.name} {b.version} {reason}"
    elif pin.kind == "maven":
        if version.endswith("-SNAPSHOT"):
            return "is a -SNAPSHOT, not a timestamped build"
        if version in ("LATEST", "RELEASE"):
            return f"{version} is whatever the repository says today"
        if version[:1] in "[(" or "," in version:
            return "is a version range"
        if not pin.artifacts:
            return "has no sha256"
    elif pin.kind == "git":
        from releaser.ecosystems.git.source import FULL_COMMIT_ID

        if not FULL_COMMIT_ID.fullmatch(version):
            return f"{version!r} is not a full commit id (a branch or tag can move)"
    elif pin.kind == "artifact" and not pin.artifacts:
        return "has no recorded sha256"
    else:
        from releaser.ecosystems import source_class

        own = source_class(pin.kind)
        return own.floats(pin) if own is not None else None
    return None


def other_target(lock: Lock, name: str = "release.lock") -> list[Finding]:
    """Information when the lock, made without `environments`, was made for another interpreter.

    Its Python pins are what that interpreter needed: a dependency only this one needs
    (by environment marker) may be missing. Not a failure: CI may well run elsewhere.
    """
    from releaser.core.targets import any_covers, here

    if lock.target is None or lock.environments or any_covers((lock.target,)):
        return []
    why = (
        f"was made for {lock.target}, not this interpreter ({here().marker}); pins only other targets need "
        "may be missing: set [python] environments (resolver = \"uv\") to lock for every target"
    )
    return [Finding("other-target", name, why)]


def uncovered(
    config: ReleaseConfig,
    lock: Lock,
    current: Mapping[str, InputRecord],
    name: str = "release.lock",
) -> list[Finding]:
    """Every direct input the lock does not pin.

    Python requirements are read from the inputs' records (`current`: canonical name
    -> requirement), so an unchanged input needs no parsing; one with an environment
    marker is parsed, to evaluate the marker here.
    """
    pinned = {(p.kind, p.name) for p in lock.pins}
    found = []
    for input_name, record in sorted(current.items()):
        for key, text in sorted(record.entries.get("requirements", {}).items()):
            if ("python", key) in pinned or not isinstance(text, str):
                continue
            if ";" not in text or _applies(text, lock.environments):
                found.append(Finding("uncovered", input_name, f"requires {text}, which {name} does not pin"))
    for block in config.maven:
        for coordinate in block.dependencies:
            if ("maven", coordinate.key) not in pinned and ("maven", str(coordinate)) not in pinned:
                found.append(Finding("uncovered", CONFIG_NAME, f"Maven dependency {coordinate} is not pinned in {name}"))
    for kind, items in (("git", config.git), ("artifact", config.artifacts)):
        for item in items:
            if (kind, item.name) not in pinned:
                found.append(Finding("uncovered", CONFIG_NAME, f"{kind} {item.name} is not pinned in {name}"))
    return found


def _applies(text: str, environments: tuple[str, ...] = ()) -> bool:
    """False when the requirement's environment marker excludes this interpreter, or, for a
    lock made for `environments`, every one of those targets."""
    from packaging.requirements import InvalidRequirement, Requirement

    from releaser.core.targets import parse

    try:
        req = Requirement(text)
    except InvalidRequirement:  # several requirements of one name: better to ask for a pin than to miss one
        return True
    if req.marker is None:
        return True
    try:
        if environments:
            return any(req.marker.evaluate(parse(t).environment()) for t in environments)
        return bool(req.marker.evaluate({"extra": ""}))
    except Exception:  # an undecidable marker: better to ask for a pin than to miss one
        return True




def unlisted(config: ReleaseConfig, lock: Lock, name: str = "release.lock") -> list[Finding]:
    """Every dependency file of the project that release.toml does not list and that names
    packages the lock does not pin: they would float, however sound the lock itself is.

    A resolver's output (`releaser.core.depfiles.is_compiled`) and a `.txt` compiled from
    the `.in` beside it are outputs, not dependency files; so is pyproject.toml when
    `[python] pyproject` reads it.
    """
    from releaser.core.depfiles import PYPROJECT, candidates

    root = config.root
    listed = _listed(config)
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


def _listed(config: ReleaseConfig) -> set[str]:
    """The files the inputs are read from, as posix paths relative to the root."""
    inputs = config.python
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
    from pathlib import Path

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
    from pathlib import Path

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
        if req.marker is None or _applies(line):
            names.add(str(canonicalize_name(req.name)))
    return names
