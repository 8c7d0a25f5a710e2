"""A Maven project as an input: `[[maven]] pom = "path/pom.xml"`, its modules and local parents.

The POM files are inputs of the lock: their digests go into the lock's `[inputs]`
so that `releaser check` says when one changed. Finding them is offline and reads
only the project's own files: the POM, the `<modules>` it lists (recursively), and
each parent that `relativePath` (default `../pom.xml`) finds in the project.
Anything wrong with one of them is bad input (ConfigError, exit 2) naming the file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from releaser.core.errors import ConfigError
from releaser.ecosystems.maven.model import inside, local_parent, read_local
from releaser.ecosystems.maven.pom import Pom

MAX_FILES = 1000


def project_files(pom: Path, root: Path) -> list[tuple[Path, Pom]]:
    """The project's POM, then its modules' (depth first, in order); each once."""
    root = root.resolve()
    found: dict[Path, Pom] = {}
    pending = [pom.resolve()]
    while pending:
        path = pending.pop(0)
        if path in found:
            continue
        if len(found) >= MAX_FILES:
            raise ConfigError(f"{_shown(pom, root)}: more than {MAX_FILES} module POMs")
        parsed = read_local(path, root)
        found[path] = parsed
        modules = []
        for module in parsed.modules:
            target = path.parent / module
            if target.is_dir() or not module.endswith(".xml"):
                target = target / "pom.xml"
            if not inside(target, root):
                raise ConfigError(f"{_shown(path, root)}: module {module!r} leads outside the project")
            if not target.is_file():
                raise ConfigError(f"{_shown(path, root)}: module {module!r} has no {_shown(target, root)}")
            modules.append(target.resolve())
        pending[:0] = modules
    return list(found.items())


def input_files(pom: Path, root: Path) -> list[Path]:
    """Every POM file the project's resolution reads from disk: itself, its modules, local parents."""
    files = [path for path, _ in project_files(pom, root)]
    seen = set(files)
    for path in list(files):
        current: Path | None = path
        while current is not None:
            parsed = read_local(current, root)
            found = local_parent(parsed.parent, current, root.resolve()) if parsed.parent else None
            current = found[1].resolve() if found else None
            if current is None or current in seen:
                break
            seen.add(current)
            files.append(current)
    return files


def digests(pom: Path, root: Path) -> dict[str, str]:
    """`{path relative to the root: sha256 of its bytes}` for every POM file of the project."""
    found = {}
    for path in input_files(pom, root):
        found[_shown(path, root)] = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
