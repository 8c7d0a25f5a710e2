"""Wheels of distributions installed here, for the loopback index to serve offline.

The rehearsal runs a project's real framework (Django, Alembic) in the RC's pinned
environment, which pip fills from the index the lock names. Tests and the demo have
no network, so the loopback index serves the framework as installed in releaser's own
environment: its files (as its RECORD lists them, byte for byte), its metadata and its
wheel tags, packed again as a wheel with a fresh RECORD. Scripts outside
site-packages are left out; pip writes console scripts from the entry points.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path, PurePosixPath

from packaging.utils import canonicalize_name

from loopback.wheels import _record, _write_zip, dist_name

_DROPPED = {"INSTALLER", "REQUESTED", "RECORD", "direct_url.json"}  # written by the installer, not the wheel


def wheel_of_installed(name: str, dest: Path) -> Path:
    """`dest/<dist>-<version>-<tag>.whl` holding the installed distribution `name`."""
    dist = metadata.distribution(name)
    info = next(
        p for p in dist.files or () if p.parts[0].endswith(".dist-info") and len(p.parts) == 2 and p.name == "METADATA"
    ).parts[0]
    base = Path(str(dist.locate_file(info))).parent
    entries: dict[str, bytes] = {}
    for file in sorted(dist.files or (), key=str):
        pure = PurePosixPath(str(file).replace("\\", "/"))
        if ".." in pure.parts or "__pycache__" in pure.parts or pure.suffix == ".pyc":
            continue
        if pure.parts[0] == info and pure.name in _DROPPED:
            continue
        path = base / pure
        if path.is_file():
            entries[str(pure)] = path.read_bytes()
    entries[f"{info}/RECORD"] = _record(entries, f"{info}/RECORD").encode()
    wheel_text = entries[f"{info}/WHEEL"].decode()
    tags = re.findall(r"^Tag:\s*(\S+)\s*$", wheel_text, re.MULTILINE)
    tag = tags[0] if len(tags) == 1 else _compressed(tags)
    target = dest / f"{dist_name(canonicalize_name(dist.metadata['Name']))}-{dist.version}-{tag}.whl"
    _write_zip(target, entries)
    return target


def _compressed(tags: list[str]) -> str:
    """Several `py-abi-platform` tags as one compressed tag set (`cp311-cp311-a.b`)."""
    parts = [t.split("-") for t in tags]
    return "-".join(".".join(sorted({p[i] for p in parts})) for i in range(3))


def wheels_with_dependencies(names: list[str], dest: Path) -> list[Path]:
    """Wheels of `names` and of everything they require here (markers evaluated, no extras)."""
    from packaging.requirements import Requirement

    seen: dict[str, Path] = {}
    todo = list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen[name] = wheel_of_installed(name, dest)
        for text in metadata.requires(name) or ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return sorted(seen.values())
