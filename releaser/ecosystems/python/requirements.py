"""Python inputs: requirement files and `[project.dependencies]`, read without pip.

releaser reads them itself, rather than handing the files to pip-compile, so that
indexes come only from release.toml (a `--index-url` line in a requirements file
is refused), each input gets a digest for `releaser check`, and a malformed line
is reported with its file and line number.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from releaser.core import documents
from releaser.core.errors import ConfigError
from releaser.core.paths import inside
from releaser.core.redact import strip_credentials
from releaser.ecosystems.python.settings import PythonInputs

if TYPE_CHECKING:
    from packaging.requirements import InvalidRequirement, Requirement

_INCLUDE = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)$")


@dataclass(frozen=True)
class RequirementInput:
    """One input file and the requirements it contributes."""

    name: str  # path relative to the project root
    requirements: tuple[Requirement, ...]
    constraints: tuple[Requirement, ...]

    @property
    def digest(self) -> str:
        """Changes when a requirement changes; not for comments, blank lines or order."""
        lines = sorted(str(r) for r in self.requirements)
        lines += sorted(f"-c {r}" for r in self.constraints)
        return "sha256:" + hashlib.sha256("\n".join(lines).encode()).hexdigest()

    @property
    def entries(self) -> dict[str, dict[str, str]]:
        """Requirements and constraints by canonical name, as the lock header records them.

        `releaser check` compares them with the file's current ones to name what was
        added, removed or changed. A URL in a direct reference loses its credentials.
        """
        from packaging.utils import canonicalize_name

        groups: dict[str, dict[str, str]] = {}
        for group, reqs in (("requirements", self.requirements), ("constraints", self.constraints)):
            by_name: dict[str, list[str]] = {}
            for req in reqs:
                by_name.setdefault(canonicalize_name(req.name), []).append(shown(req))
            if by_name:
                groups[group] = {name: " and ".join(sorted(set(texts))) for name, texts in sorted(by_name.items())}
        return groups


def shown(req: Requirement) -> str:
    """The requirement as written, its URL without credentials: for the lock and messages."""
    text = str(req)
    return text.replace(req.url, strip_credentials(req.url)) if req.url else text


def input_files(root: Path, inputs: PythonInputs) -> dict[str, str]:
    """Input name -> sha256 of its text as read (a requirements file with every file it
    includes), without parsing a requirement: `releaser check`'s shortcut when none changed.
    Each file is read as `read_input` reads it, refused where the parse would refuse it."""
    found = {}
    for path in inputs.requirements:
        digest = hashlib.sha256()
        for _included_path, included in _included(root, path, set()):
            digest.update(f"{len(included)}\n".encode() + included)
        found[_relative(root, path)] = "sha256:" + digest.hexdigest()
    if _reads_pyproject(inputs):
        pyproject = root / "pyproject.toml"
        found[_relative(root, pyproject)] = "sha256:" + hashlib.sha256(read_input(root, pyproject).encode()).hexdigest()
    return found


def input_paths(root: Path, inputs: PythonInputs) -> list[Path]:
    """Every file the inputs are read from: each requirements file, what it includes, pyproject.toml."""
    found = [p for path in inputs.requirements for p, _text in _included(root, path, set())]
    return found + ([root / "pyproject.toml"] if _reads_pyproject(inputs) else [])


def _reads_pyproject(inputs: PythonInputs) -> bool:
    return bool(inputs.pyproject or inputs.extras or inputs.groups)


def _included(root: Path, path: Path, seen: set[Path]) -> list[tuple[Path, bytes]]:
    """`path` and every file it includes (-r, -c), with their text, in the order `_parse` reads them."""
    resolved = path.resolve()
    if resolved in seen:
        return []
    seen.add(resolved)
    text = read_input(root, path)
    found = [(path, text.encode())]
    for _number, line in _logical_lines(text):
        include = _INCLUDE.match(line)
        if include and (path.parent / include.group(2)).is_file():
            found += _included(root, path.parent / include.group(2), seen)
    return found


def read_inputs(root: Path, inputs: PythonInputs) -> list[RequirementInput]:
    """Every input release.toml's [python] names, parsed and validated."""
    found = [_read_file(root, path) for path in inputs.requirements]
    if _reads_pyproject(inputs):
        found.append(_read_pyproject(root, root / "pyproject.toml", inputs))
    return found


def _read_file(root: Path, path: Path) -> RequirementInput:
    requirements: list[Requirement] = []
    constraints: list[Requirement] = []
    _parse(root, path, requirements, constraints, seen=set(), as_constraint=False)
    return RequirementInput(_relative(root, path), tuple(requirements), tuple(constraints))


def _parse(
    root: Path, path: Path, reqs: list[Requirement], cons: list[Requirement], seen: set[Path], as_constraint: bool
) -> None:
    from packaging.requirements import InvalidRequirement, Requirement  # not on check's unchanged path

    resolved = path.resolve()
    if resolved in seen:
        return
    seen.add(resolved)
    text = read_input(root, path)
    for number, line in _logical_lines(text):
        where = f"{path}:{number}"
        include = _INCLUDE.match(line)
        if include:
            flag, target = include.groups()
            nested = path.parent / target
            if not inside(root, nested):
                raise ConfigError(f"{where}: {flag} {_token(target)}: leads outside the project; refused")
            if not nested.is_file():
                raise ConfigError(f"{where}: {flag} {_token(target)}: no such file")
            _parse(root, nested, reqs, cons, seen, as_constraint or flag in ("-c", "--constraint"))
            continue
        if line.startswith("-"):
            option = line.split()[0].partition("=")[0][:40]
            raise ConfigError(
                f"{where}: {option} is not allowed here: indexes and pip options come from "
                "release.toml ([python] index-url, extra-index-urls), and editable installs float"
            )
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            raise ConfigError(f"{where}: invalid requirement{_offence(line, exc)}") from None
        (cons if as_constraint else reqs).append(requirement)


def read_input(root: Path, path: Path) -> str:
    """The text of an input file, which must lie inside the project (symlinks resolved) and be UTF-8."""
    if not inside(root, path):
        raise ConfigError(f"{path}: leads outside the project {root}; inputs must live inside it")
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: is not UTF-8 text (byte {exc.start})") from None


def _token(text: str) -> str:
    """At most 40 characters of one token of input, for a message: never a whole line."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _offence(line: str, exc: InvalidRequirement) -> str:
    """Where packaging stopped (its caret's column) and why, quoting only what parsed before it.

    packaging's own message repeats the whole line, which may be anything (a file
    full of secrets): only its first line, the reason, is kept.
    """
    message = str(exc).splitlines()
    column = message[-1].find("^") - 4 if len(message) >= 3 else -1
    reason = message[0].strip() if message else "not a requirement"
    if column < 0:
        return f": {reason}"
    before = line[:column].strip()
    return f" at column {column + 1}" + (f", after {_token(before)}" if before else "") + f": {reason}"


def _without_comment(line: str) -> str:
    """`line` without its comment: from the first `#` that starts the line or follows whitespace.

    What pip's `(^|\\s+)#.*$` removes, found in one pass: that regex retries every
    whitespace run to its end, quadratic on a long run with no `#` after it.
    """
    at = line.find("#")
    while at > 0 and not line[at - 1].isspace():
        at = line.find("#", at + 1)
    return line if at < 0 else line[:at].rstrip()


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, line) with comments removed and `\\` continuations joined."""
    out: list[tuple[int, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        line = _without_comment(raw)
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        line = (buffer + line).strip()
        buffer = ""
        if line:
            out.append((start, line))
    if buffer.strip():
        out.append((start, buffer.strip()))
    return out


def _read_pyproject(root: Path, path: Path, inputs: PythonInputs) -> RequirementInput:
    """`[project.dependencies]` (with `pyproject = true`), the `extras` and the PEP 735 `groups` asked for."""
    doc = documents.toml(read_input(root, path), path)
    project = doc.get("project")
    requirements: list[Requirement] = []
    if inputs.pyproject or inputs.extras:
        if not isinstance(project, dict):
            raise ConfigError(f"{path}: has no [project] table, but release.toml's [python] reads it (pyproject, extras)")
        if inputs.pyproject:
            _not_dynamic(path, project, "dependencies")
            requirements += _requirements(path, project.get("dependencies", []), "[project] dependencies")
        requirements += _extras(path, project, inputs.extras)
    if inputs.groups:
        requirements += _groups(path, doc.get("dependency-groups"), inputs.groups)
    return RequirementInput(_relative(root, path), tuple(requirements), ())


def _not_dynamic(path: Path, project: dict[str, Any], key: str) -> None:
    dynamic = project.get("dynamic", [])
    if not isinstance(dynamic, list) or not all(isinstance(d, str) for d in dynamic):
        raise ConfigError(f"{path}: [project] dynamic must be a list of strings")
    if key in dynamic:
        raise ConfigError(f"{path}: [project] {key} are dynamic; releaser needs them written out")


def _requirements(path: Path, items: object, where: str) -> list[Requirement]:
    from packaging.requirements import InvalidRequirement, Requirement  # not on check's unchanged path

    if not isinstance(items, list) or not all(isinstance(d, str) for d in items):
        raise ConfigError(f"{path}: {where} must be a list of strings")
    requirements = []
    for dep in items:
        try:
            requirements.append(Requirement(dep))
        except InvalidRequirement as exc:
            raise ConfigError(f"{path}: {where}: invalid requirement{_offence(dep, exc)}") from None
    return requirements


def _extras(path: Path, project: dict[str, Any], extras: tuple[str, ...]) -> list[Requirement]:
    """The requirements of each extra; `name[other]` of the project itself brings `other`'s too."""
    from packaging.utils import canonicalize_name

    if not extras:
        return []
    _not_dynamic(path, project, "optional-dependencies")
    table = project.get("optional-dependencies", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [project.optional-dependencies] must be a table")
    by_name = {canonicalize_name(k): k for k in table}
    own = canonicalize_name(str(project.get("name", "")))
    found: list[Requirement] = []
    wanted, seen = [canonicalize_name(e) for e in extras], set()
    while wanted:
        extra = wanted.pop(0)
        if extra in seen:
            continue
        seen.add(extra)
        if extra not in by_name:
            known = ", ".join(sorted(by_name)) or "none"
            raise ConfigError(f"{path}: release.toml's [python] extras names {extra!r}, which [project.optional-dependencies] does not have (it has: {known})")
        for req in _requirements(path, table[by_name[extra]], f"[project.optional-dependencies] {by_name[extra]}"):
            if own and canonicalize_name(req.name) == own:
                wanted += [canonicalize_name(e) for e in sorted(req.extras)]
            else:
                found.append(req)
    return found


def _groups(path: Path, table: object, groups: tuple[str, ...]) -> list[Requirement]:
    """The requirements of PEP 735 dependency groups, `include-group` followed (by `dependency_groups`)."""
    from dependency_groups import resolve
    from packaging.requirements import InvalidRequirement

    if not isinstance(table, dict):
        raise ConfigError(f"{path}: has no [dependency-groups] table, but release.toml's [python] groups names some")
    try:
        resolved = resolve(table, *groups)
    except LookupError as exc:
        known = ", ".join(sorted(str(k) for k in table)) or "none"
        raise ConfigError(f"{path}: [dependency-groups]: {exc} (it has: {known})") from None
    except (TypeError, ValueError, InvalidRequirement) as exc:
        raise ConfigError(f"{path}: [dependency-groups]: {exc}") from None
    return _requirements(path, list(resolved), "[dependency-groups]")


def _relative(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def applies(text: str, environments: tuple[str, ...] = ()) -> bool:
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
