"""What a project already has, for `releaser init`: its dependency inputs, migrations, build and tests.

Read-only and offline: file names and contents only, nothing imported or run.
Each finding says where it came from, so `init` can show it and comment on it.

- Python inputs: `requirements*.in` (also under `requirements/`), and
  `requirements*.txt` that are inputs, not a compiled output (no `.in` beside it,
  no resolver's header, not a hash on every line: a hand-pinned file, every line
  `==`, is an input, its `==` lines kept as constraints and the rest of its
  closure locked; `releaser.core.depfiles`); pyproject.toml's
  `[project] dependencies`, `optional-dependencies` and `[dependency-groups]`.
- Maven: pom.xml (and its `<modules>`): name, version, repositories, and every
  dependency with an explicit version (properties expanded); the reactor's own
  modules are not dependencies.
- Migrations: Django `*/migrations/0001_*.py`, Alembic's `alembic.ini`
  (`script_location`), Flyway `db/migration/V*__*.sql`.
- Build and tests: a `[build-system]` (`python -m build`), pytest configuration or a
  `tests/` folder, `manage.py` (Django's test runner), `mvn`.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from releaser.core.depfiles import is_compiled

_SKIP_DIRS = {".git", ".venv", "venv", "env", "node_modules", "site-packages", "build", "dist", "target", ".tox", ".nox"}


@dataclass
class Findings:
    """Everything `init` found; `notes` are lines for the user (what was found, what was left out)."""

    name: str
    version: str
    requirements: list[str] = field(default_factory=list)
    pyproject: bool = False
    extras: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    # Canonical names of the requirements seen, by where: "inputs" (requirement files,
    # [project] dependencies), "extras", "groups"; so init knows whether pytest is locked.
    tools: dict[str, set[str]] = field(default_factory=lambda: {"inputs": set(), "extras": set(), "groups": set()})
    maven_repositories: list[str] = field(default_factory=list)
    maven: list[str] = field(default_factory=list)  # group:artifact[:ext[:classifier]]:version
    poms: list[str] = field(default_factory=list)
    migrations: tuple[str, list[str]] | None = None  # (framework, path globs)
    build: list[str] | None = None
    gates: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def find(root: Path) -> Findings:
    found = Findings(name=_safe_name(root.resolve().name), version="0.1.0")
    pyproject = _toml(root / "pyproject.toml", found)
    _project_identity(pyproject, found)
    _requirement_files(root, found)
    _pyproject_inputs(pyproject, found)
    _maven(root, found)
    _migrations(root, found)
    _build_and_tests(root, pyproject, found)
    return found


# -- Python ---------------------------------------------------------------------


def _toml(path: Path, found: Findings) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        found.notes.append(f"{path.name}: not read ({exc})")
        return {}
    except RecursionError:
        found.notes.append(f"{path.name}: not read (nested too deeply)")
    return {}  # unreadable: read as empty, the note says why


def _project_identity(pyproject: dict[str, Any], found: Findings) -> None:
    project = _project_table(pyproject)
    if isinstance(project.get("name"), str):
        found.name = _safe_name(project["name"])
    if isinstance(project.get("version"), str):
        set_version(found, project["version"], "pyproject.toml")


def set_version(found: Findings, text: str, where: str) -> None:
    """The release version: the final release of `text` (RCs are {version}rcN)."""
    from packaging.version import InvalidVersion, Version

    try:
        found.version = Version(text.removesuffix("-SNAPSHOT")).base_version
    except InvalidVersion:
        found.notes.append(f"{where}: version {text!r} is not a PEP 440 version; using {found.version}")


def _requirement_files(root: Path, found: Findings) -> None:
    candidates = sorted(root.glob("requirements*.in")) + sorted(root.glob("requirements/*.in"))
    compiled = {p.with_suffix(".txt") for p in candidates}
    for txt in sorted(root.glob("requirements*.txt")) + sorted(root.glob("requirements/*.txt")):
        if txt in compiled:
            found.notes.append(f"{_rel(root, txt)}: left out, compiled from {txt.with_suffix('.in').name}")
        elif is_compiled(txt.read_text(encoding="utf-8", errors="replace")):
            found.notes.append(f"{_rel(root, txt)}: left out, a resolver's output (its header, or a hash on every line)")
        else:
            candidates.append(txt)
    for path in candidates:
        problem = _input_problem(root, path)
        if problem:
            found.notes.append(f"{_rel(root, path)}: left out: {problem}")
            continue
        found.requirements.append(_rel(root, path))
        found.tools["inputs"] |= _names(path.read_text(encoding="utf-8").splitlines())


def _input_problem(root: Path, path: Path) -> str | None:
    """Why `releaser lock` would refuse this file as an input (None: it takes it)."""
    from releaser.core.errors import ConfigError
    from releaser.ecosystems.python.requirements import read_inputs
    from releaser.ecosystems.python.settings import DEFAULT_INDEX, PythonInputs

    try:
        read_inputs(root, PythonInputs((path,), False, DEFAULT_INDEX))
    except ConfigError as exc:
        return str(exc).replace(str(path), "").lstrip(":, ") or "not a requirements file releaser reads"
    return None


def _pyproject_inputs(pyproject: dict[str, Any], found: Findings) -> None:
    project = _project_table(pyproject)
    deps = project.get("dependencies")
    if "dependencies" in project.get("dynamic", []):
        found.notes.append("pyproject.toml: dependencies are dynamic; list them in a requirements file")
    elif isinstance(deps, list) and deps:
        found.pyproject = True
        found.tools["inputs"] |= _names(deps)
    optional = project.get("optional-dependencies")
    if isinstance(optional, dict):
        found.extras = sorted(optional)
        for reqs in optional.values():
            found.tools["extras"] |= _names(reqs if isinstance(reqs, list) else [])
    groups = pyproject.get("dependency-groups")
    if isinstance(groups, dict):
        found.groups = sorted(groups)
        for reqs in groups.values():
            found.tools["groups"] |= _names([r for r in reqs if isinstance(r, str)] if isinstance(reqs, list) else [])


def _project_table(pyproject: dict[str, Any]) -> dict[str, Any]:
    """pyproject.toml's [project], or nothing where it is not a table."""
    project = pyproject.get("project")
    return project if isinstance(project, dict) else {}


def _names(lines: list[str]) -> set[str]:
    names: set[str] = set()
    for line in lines:
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            names.add(canonicalize_name(Requirement(line).name))
        except InvalidRequirement:
            continue
    return names


def _maven(root: Path, found: Findings) -> None:
    from releaser.ecosystems.maven.init import read_poms

    poms = read_poms(root)
    if poms.name:
        found.name = _safe_name(poms.name)
    if poms.version:
        set_version(found, poms.version, "pom.xml")
    found.poms, found.maven, found.maven_repositories = poms.paths, poms.dependencies, poms.repositories
    found.notes += poms.notes


# -- migrations, build, tests -------------------------------------------------------


def _migrations(root: Path, found: Findings) -> None:
    ini = root / "alembic.ini"
    if ini.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(ini, encoding="utf-8")
            location = parser.get("alembic", "script_location", fallback="alembic")
        except configparser.Error:
            location = "alembic"
        location = location.replace("%(here)s/", "").replace("%(here)s", ".").strip()
        found.migrations = ("alembic", [f"{location}/versions"])
        return
    django = sorted({p.parent for p in _walk(root, "0001_*.py") if p.parent.name == "migrations"})
    if django:
        found.migrations = ("django", sorted({_rel(root, d) for d in django}))
        return
    flyway = sorted({p.parent for p in _walk(root, "V*__*.sql")})
    if flyway:
        found.migrations = ("flyway", [_rel(root, d) for d in flyway])


def _build_and_tests(root: Path, pyproject: dict[str, Any], found: Findings) -> None:
    if pyproject.get("build-system") or (root / "setup.py").is_file():
        found.build = ["python", "-m", "build", "--outdir", "{dist}"]
    elif found.poms:
        found.build = ["mvn", "-B", "-q", "package", "-DskipTests"]
    pytest_configured = (
        (root / "pytest.ini").is_file()
        or (root / "conftest.py").is_file()
        or "pytest" in pyproject.get("tool", {})
        or (root / "tests").is_dir()
    )
    if pytest_configured or any("pytest" in names for names in found.tools.values()):
        found.gates.append(["python", "-m", "pytest", "-q"])
    elif (root / "manage.py").is_file():
        found.gates.append(["python", "manage.py", "test"])
    elif found.poms:
        found.gates.append(["mvn", "-B", "-q", "test"])


def _walk(root: Path, pattern: str) -> list[Path]:
    return [p for p in root.rglob(pattern) if not _SKIP_DIRS & set(p.relative_to(root).parts[:-1])]


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "project"
