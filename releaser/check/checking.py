"""`releaser check`: is release.lock still the exact, honest pinning of its inputs?

The CI gate. Offline by default and fast: it reads release.toml, the requirement
files and the lock, and imports nothing heavier than `packaging` (no pip, no
requests). It finds

- `missing-lock`: there is no lock;
- `tampered`: the entries do not match the header's content-digest (a hand edit);
- `stale`: an input changed since the lock was written, naming what changed in it
  (a requirement added, removed or changed; an index; a Maven dependency; a git ref;
  an artifact URL), from the entries the lock header records for each input;
- `floating`: an entry that is not exact and hashed (see `floats`);
- `uncovered`: a direct input the lock does not pin;
- `unlisted`: a dependency file release.toml does not list (a hand-pinned
  requirements.txt, pyproject.toml's dependencies) names packages the lock does not pin.

With `online=True` it also asks upstream whether every pin is still what it was:
each source's `Source.verify`, or, for a source without one,
`releaser.ecosystems.upstream.verify_generic` (every artifact URL still serves the recorded
sha256; every git commit still exists).

`releaser cut` refuses on the same `Verdict`, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from typing import TYPE_CHECKING

from releaser.core import lockfile
from releaser.core.config import ReleaseConfig
from releaser.core.kinds import KINDS
from releaser.core.lockfile import EntryValue, InputRecord, Lock
from releaser.core.verdict import LOCK, Finding, Verdict
from releaser.ecosystems import Source, ecosystem, sources_for
from releaser.lock.locking import input_records
from releaser.lock.soundness import floating, floats, other_target, uncovered, unlisted
from releaser.plumbing.credentials import configured_userinfo

if TYPE_CHECKING:
    from releaser.migrations.report import Previous, Report
    from releaser.plumbing.http import Http

__all__ = ["Finding", "Verdict", "check", "floats", "insist_fit"]

_LABELS = {"requirements": "requirement", "constraints": "constraint"}  # an input file's entries; a kind's: its label


def check(
    config: ReleaseConfig, *, online: bool = False, http: Http | None = None, previous: Previous | None = None
) -> Verdict:
    """The verdict on `config`'s lockfile and, with `[migrations]`, its migrations. Reads, never writes.

    `previous` is the previous RC as its record keeps it (`releaser.record.baseline`),
    the migration gate's baseline. Raises ConfigError (exit 2) for a malformed
    release.toml, requirement file, lock or migration; with `online`, UpstreamError
    (exit 3) when upstream cannot be reached at all.
    """
    sources = sources_for(config)
    migrations = migration_gate(config, previous)
    name = config.release.lockfile
    found = lockfile.read_recorded(config.lockfile)
    if found is None:
        current = input_records(config, sources)  # parses and validates every input
        missing = Finding("missing-lock", name, f"there is no {name}: nothing is pinned yet", LOCK)
        return Verdict(name, (missing,), inputs=len(current), online=online, migrations=migrations)
    lock, recorded = found
    # An input whose bytes are the ones the lock recorded is taken as recorded, unparsed.
    current = input_records(config, sources, known=lock.inputs)
    findings = [
        *tampered(lock, recorded, name),
        *stale(current, lock),
        *floating(lock),
        *uncovered(config, lock, current, name),
        *unlisted(config, lock, name),
        *other_target(lock, name),
    ]
    if online:
        config.require_environment()  # offline, an unset ${VAR} is fine: no URL is used
        findings += verify_online(config, sources, lock, http)
    return Verdict(name, tuple(findings), pins=len(lock.pins), inputs=len(current), online=online, migrations=migrations)


def migration_gate(config: ReleaseConfig, previous: Previous | None = None) -> Report | None:
    """The migration gate's report, or None without `[migrations]` (imported only then: check stays fast)."""
    if config.migrations is None:
        return None
    from releaser.migrations.gate import evaluate

    return evaluate(config.migrations, config.root, previous)


def insist_fit(config: ReleaseConfig, doing: str, *, previous: Previous | None = None, migrations: bool = False) -> Verdict:
    """The verdict, or Refused (exit 1) when `releaser check` would say no: `cut` and `export` use only a fresh, honest lock.

    With `migrations` (cut), the migration gate must pass too, judged against `previous`;
    `export` judges only the lock, which is all it writes out.
    """
    from releaser.core.errors import Refused

    verdict = check(config, previous=previous)
    if verdict.lock_ok and (not migrations or verdict.ok):
        return verdict
    what = config.release.lockfile if not verdict.lock_ok else "this tree"
    raise Refused(f"{what} is not fit to {doing}:\n{verdict.render()}")


# -- offline ------------------------------------------------------------------


def tampered(lock: Lock, recorded: object, name: str = "release.lock") -> list[Finding]:
    """The header's content-digest must be the digest of the entries that follow it."""
    if not isinstance(recorded, str):
        why = "has no content-digest in its header: it was not written by `releaser lock`, or was edited by hand"
        return [Finding("tampered", name, why)]
    if recorded != lock.content_digest:
        return [Finding("tampered", name, "was edited by hand: its entries do not match the header's content-digest")]
    return []


def stale(current: Mapping[str, InputRecord], lock: Lock) -> list[Finding]:
    """Every input whose digest moved, with what changed in it, entry by entry."""
    found = []
    for name in sorted(current.keys() | lock.inputs.keys()):
        now, then = current.get(name), lock.inputs.get(name)
        if then is None:
            found.append(Finding("stale", name, "is an input now, but the lock was not made from it"))
        elif now is None:
            found.append(Finding("stale", name, "is no longer an input, but the lock was made from it"))
        elif now.digest != then.digest:
            changes = entry_changes(then.entries, now.entries) or ["changed since the lock was written"]
            found += [Finding("stale", name, change) for change in changes]
    return found


def entry_changes(
    old: Mapping[str, Mapping[str, EntryValue]], new: Mapping[str, Mapping[str, EntryValue]]
) -> list[str]:
    """One line per entry added, removed or changed between two records of an input."""
    lines = []
    for group in sorted(old.keys() | new.keys()):
        before, after = old.get(group, {}), new.get(group, {})
        for key in sorted(before.keys() | after.keys()):
            if before.get(key) != after.get(key):
                lines.append(_describe(group, key, before.get(key), after.get(key)))
    return lines


def _describe(group: str, key: str, before: EntryValue | None, after: EntryValue | None) -> str:
    label = _LABELS.get(group) or (ecosystem(group).label if group in KINDS else group)
    if group in ("requirements", "constraints"):  # the value names the requirement itself
        if before is None:
            return f"{label} added: {after}"
        if after is None:
            return f"{label} removed: {before}"
        return f"{label} changed: {before} -> {after}"
    if before is None:
        return f"{label} {key} added: {_show(after)}"
    if after is None:
        return f"{label} {key} removed (was {_show(before)})"
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        fields = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        moved = ", ".join(f"{k} {before.get(k, '(none)')} -> {after.get(k, '(none)')}" for k in fields)
        return f"{label} {key} changed: {moved}"
    return f"{label} {key} changed: {_show(before)} -> {_show(after)}"


def _show(value: EntryValue | None) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {v}" for k, v in sorted(value.items()))
    return str(value)


# -- online -------------------------------------------------------------------


def verify_online(config: ReleaseConfig, sources: list[Source], lock: Lock, http: Http | None = None) -> list[Finding]:
    """Ask upstream about every pin, each kind through its source (or generically)."""
    from releaser.ecosystems.upstream import verify_generic
    from releaser.plumbing.http import Http

    by_kind = {s.kind: s for s in sources}
    userinfo = configured_userinfo(config)
    found: list[Finding] = []
    with nullcontext(http) if http is not None else Http() as session:
        for kind in KINDS:
            pins = lock.of_kind(kind)
            if not pins:
                continue
            verdicts = ecosystem(kind).verify(config, by_kind.get(kind), pins, session, userinfo, lock.targets)
            found += verdicts if verdicts is not None else verify_generic(pins, session, userinfo=userinfo)
    return found
