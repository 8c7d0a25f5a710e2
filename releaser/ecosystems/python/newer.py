"""What `releaser lock --upgrade NAME` could move a Python pin to, as `check --online` tells it.

A resolver takes a release for a target only if one of its files installs there: pip
and uv skip each file whose Requires-Python (PEP 503 `data-requires-python`, PEP 691
`requires-python`) excludes the target's Python, and each wheel whose tags it cannot
install (an sdist always qualifies: it can be built). So a newer release is news for a
pin only where it installs: on each target the pin is for (the lock's `environments`, as
the pin's marker narrows them, or the interpreter the lock was made on). Targets are
resolved one by one, so when they would move to different releases, each is said.

What the inputs ask for (`requested`) is honoured as the resolver honours it: a release
it rules out is told with the requirement to change, not `lock --upgrade`, which would
keep the pin. (Limits another package puts on this one are the resolver's to find.)
"""

from __future__ import annotations

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from releaser.core.lockfile import Pin
from releaser.core.targets import Target, marker_targets, parse
from releaser.core.verdict import Finding, upgrade
from releaser.ecosystems.python.index import IndexFile, filename_version
from releaser.ecosystems.python.tags import wheel_fits


def newer(pin: Pin, files: list[IndexFile], where: str, targets: tuple[str, ...]) -> Finding | None:
    """The `newer` finding for `pin`, given its index page (`files`, from `where`) and the
    lock's targets (none: the running interpreter); None when nothing newer installs."""
    releases = _newer_releases(files, pin)
    if not releases:
        return None
    aims = _aims(pin, targets)
    subject = f"python {pin.name} {pin.version}"
    admitted = _requested(pin)
    allowed = {v: fs for v, fs in releases.items() if admitted is None or admitted.contains(v, prereleases=True)}
    moves = {aim: _newest(allowed, aim) for aim in aims}
    if any(moves.values()):
        return Finding("newer", subject, _said(moves, where), upgrade(pin.name))
    held = max((v for aim in aims if (v := _newest(releases, aim)) is not None), default=None)
    if held is None:  # newer releases, but none installs on the pin's targets: no news for it
        return None
    # `lock --upgrade` honours the inputs: it would move nothing. The input is what to change.
    why = f"{held} is on {where}; the inputs ask for {pin.requested}, which `releaser lock --upgrade` keeps"
    return Finding("newer", subject, why, f"change {pin.requested} in your requirements, then releaser lock")


def installs(f: IndexFile, aim: Target | None) -> bool:
    """Whether a resolver would take file `f` for `aim` (None: the running interpreter)."""
    if f.requires_python is not None and not _admits(f.requires_python, aim):
        return False
    return not f.filename.endswith(".whl") or wheel_fits(f.filename, aim)


def _said(moves: dict[Target | None, Version | None], where: str) -> str:
    found = set(moves.values())
    if len(found) == 1:
        return f"{found.pop()} is on {where}"
    per = [f"{v or 'nothing newer'} for {_shown(aim)}" for aim, v in moves.items()]
    return f"on {where}, the newest that installs: {'; '.join(per)}"


def _shown(aim: Target | None) -> str:
    return aim.marker if aim is not None else "this interpreter"


def _newer_releases(files: list[IndexFile], pin: Pin) -> dict[Version, list[IndexFile]]:
    """The files of each release above the pinned one, yanked files left out; prereleases
    only when the pin is one."""
    try:
        pinned = Version(pin.version)
    except InvalidVersion:
        return {}
    found: dict[Version, list[IndexFile]] = {}
    for f in files:
        v = filename_version(f.filename, pin.name)
        if v is not None and not f.yanked and v > pinned and (pinned.is_prerelease or not v.is_prerelease):
            found.setdefault(v, []).append(f)
    return found


def _newest(releases: dict[Version, list[IndexFile]], aim: Target | None) -> Version | None:
    return max((v for v, fs in releases.items() if any(installs(f, aim) for f in fs)), default=None)


def _aims(pin: Pin, targets: tuple[str, ...]) -> list[Target | None]:
    """The targets `pin` is for: those its marker names (all when none), or the running interpreter."""
    if not targets:
        return [None]
    named = marker_targets(pin.marker, targets) if pin.marker else list(targets)
    return [parse(t) for t in named or targets]


def _admits(requires_python: str, aim: Target | None) -> bool:
    """Whether the specifier admits the target's Python (an unreadable one is ignored, as pip does)."""
    import platform

    python = aim.environment()["python_full_version"] if aim is not None else platform.python_version()
    try:
        return SpecifierSet(requires_python).contains(python, prereleases=True)
    except InvalidSpecifier:
        return True


def _requested(pin: Pin) -> SpecifierSet | None:
    """What the inputs ask of this project's version (their specifiers, together); None for a transitive pin.

    `requested` joins a project's direct requirements with " and "; a part that does not read
    as one (a marker's own `and`) adds nothing."""
    if not pin.requested:
        return None
    found = SpecifierSet()
    for part in pin.requested.split(" and "):
        try:
            req = Requirement(part)
        except InvalidRequirement:
            continue
        if canonicalize_name(req.name) == canonicalize_name(pin.name):
            found &= req.specifier
    return found
