"""`releaser verify RC`: is this RC's record what its signer recorded, and its build what was built?

Checked, in order, each failure one line naming what does not match (exit 1):
the signature of every envelope in `provenance.intoto.jsonl` with the trusted public
key; every subject against the file it names (the record's lock, manifest and SBOM
always; the built files under `dist/<rc>/` when that folder is here); the subjects
against what the record says was built, so none was dropped or added; and the
provenance's `resolvedDependencies` against the ones the recorded lock gives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from releaser.core.errors import ConfigError, Refused
from releaser.core.verdict import Finding, Verdict
from releaser.plumbing.fsutil import sha256_of
from releaser.plumbing.signing import (
    Verifier,
    load_verifier,
    open_envelope,
    statement_of,
)
from releaser.record import provenance, records

if TYPE_CHECKING:
    from releaser.core.config import ReleaseConfig

MAX_PROVENANCE = 64 << 20  # bytes: far above any real lock's provenance


@dataclass(frozen=True)
class Verification:
    rc: str
    keyid: str
    statements: tuple[str, ...]  # the predicate types verified
    checked: tuple[str, ...]  # the subjects whose files were hashed
    not_here: tuple[str, ...] = field(default=())  # built files not on this machine (no dist/<rc>/)

    def to_json(self) -> dict[str, Any]:
        return {
            "rc": self.rc,
            "keyid": self.keyid,
            "statements": list(self.statements),
            "checked": list(self.checked),
            "not_here": list(self.not_here),
        }


def trusted_key(config: ReleaseConfig, key_path: Path | None) -> Verifier:
    """The public key to verify with: `--key`, else `[attest] public-key`."""
    from releaser.core.attest_config import read_pem

    if key_path is not None:
        return load_verifier(read_pem(str(key_path), Path.cwd(), f"--key {key_path}"), f"--key {key_path}")
    settings = config.attest
    if settings is None or settings.public_key is None:
        raise ConfigError("no public key to verify with: pass --key PUB.pem or set [attest] public-key in release.toml")
    what = f"[attest] public-key {settings.public_key}"
    return load_verifier(read_pem(settings.public_key, config.root, what), what)


def read_provenance(path: Path) -> bytes:
    """A record's provenance file, bounded; Refused when it has none."""
    try:
        if path.is_symlink() or not path.is_file():
            raise Refused(f"{path}: not recorded; this RC was cut without [attest] key, so there is nothing to verify")
        if path.stat().st_size > MAX_PROVENANCE:
            raise Refused(f"{path}: larger than any provenance releaser writes")
        return path.read_bytes()
    except OSError as exc:
        raise Refused(f"{path}: cannot be read ({exc.strerror})") from None


def envelopes_of(data: bytes, where: str) -> list[Any]:
    """The DSSE envelopes of a provenance file, one JSON document a line."""
    envelopes = []
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            envelopes.append(json.loads(line))
        except (ValueError, RecursionError):
            raise Refused(f"{where}, line {number}: not a JSON envelope") from None
    if not envelopes:
        raise Refused(f"{where}: holds no envelope")
    return envelopes


def verify(config: ReleaseConfig, rc: str, verifier: Verifier) -> Verification:
    """Verify RC's signed provenance, or raise Refused naming the first thing that does not match."""
    record = records.read(records.records_dir(config), rc)
    data = read_provenance(record.path / provenance.FILE)
    return verify_envelopes(config, rc, data, verifier, where=f"{config.release.records}/{rc}/{provenance.FILE}")


def verify_envelopes(config: ReleaseConfig, rc: str, data: bytes, verifier: Verifier, *, where: str | None = None) -> Verification:
    """Verify `data` (a provenance, one envelope a line) as RC's, against its record and `verifier`."""
    record = records.read(records.records_dir(config), rc)
    where = where or f"the provenance of {rc}"
    statements = []
    for number, envelope in enumerate(envelopes_of(data, where), 1):
        kind, payload = open_envelope(envelope, verifier, f"{where}, envelope {number}")
        if kind != provenance.PAYLOAD_TYPE:
            raise Refused(f"{where}, envelope {number}: payload type {kind[:60]!r}, not {provenance.PAYLOAD_TYPE}")
        statements.append(statement_of(payload, f"{where}, envelope {number}"))
    slsa = [s for s in statements if s.get("predicateType") == provenance.SLSA_PROVENANCE]
    if len(slsa) != 1:
        raise Refused(f"{where}: holds {len(slsa)} SLSA provenance statements, not one")
    checked, not_here = _check_subjects(config, record, slsa[0], where)
    _check_dependencies(record, slsa[0], where)
    for statement in statements:
        if statement.get("predicateType") == provenance.TEST_RESULT:
            manifest = f"{config.release.records}/{rc}/{records.MANIFEST}"
            named = [s.get("name") for s in statement.get("subject", []) if isinstance(s, dict)]
            if named != [manifest]:
                raise Refused(f"{where}: the rehearsal's statement is about {named!r}, not {manifest}")
    return Verification(rc, verifier.keyid, tuple(str(s.get("predicateType")) for s in statements), checked, not_here)


def _check_subjects(
    config: ReleaseConfig, record: records.Record, statement: dict[str, Any], where: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    rc = record.rc
    given = statement.get("subject")
    if not isinstance(given, list) or not all(isinstance(s, dict) for s in given):
        raise Refused(f"{where}: its subjects are not a list")
    record_files = {name: (record.path / name).read_bytes() for name in provenance.RECORD_SUBJECTS if (record.path / name).is_file()}
    expected = provenance.subjects(rc, config.release.records, record_files, record.manifest.get("built", []))
    by_name = {str(s.get("name")): s.get("digest") for s in given}
    for subject in expected:
        name = subject["name"]
        if name not in by_name:
            raise Refused(f"{where}: names no subject {name}; the record has it (added since the RC was signed?)")
        if by_name[name] != subject["digest"]:
            raise Refused(f"{name}: its sha256 is not the one signed in {where} (edited since the RC was signed)")
    extra = sorted(set(by_name) - {s["name"] for s in expected})
    if extra:
        raise Refused(f"{where}: signs {extra[0]}, which the record does not list (removed since the RC was signed?)")
    dist = config.root / "dist" / rc
    checked = [s["name"] for s in expected if not s["name"].startswith("dist/")]
    not_here = []
    for subject in expected:
        name = subject["name"]
        if not name.startswith("dist/"):
            continue
        path = dist / name.removeprefix(f"dist/{rc}/")
        if not dist.is_dir():
            not_here.append(name)
            continue
        if path.is_symlink() or not path.is_file():
            raise Refused(f"{name}: missing; it was built and signed as part of {rc}")
        if sha256_of(path)[0] != subject["digest"]["sha256"]:
            raise Refused(f"{name}: its sha256 is not the one signed for {rc} (a different build)")
        checked.append(name)
    return tuple(checked), tuple(not_here)


def _check_dependencies(record: records.Record, statement: dict[str, Any], where: str) -> None:
    predicate = statement.get("predicate")
    definition = predicate.get("buildDefinition") if isinstance(predicate, dict) else None
    given = definition.get("resolvedDependencies") if isinstance(definition, dict) else None
    expected = [{"name": "source", "digest": {"gitCommit": record.manifest.get("commit")}}, *provenance.resolved_dependencies(record.lock)]
    if given != expected:
        given_list = given if isinstance(given, list) else []
        for want, got in zip(expected, given_list, strict=False):  # the first that differs
            if want != got:
                raise Refused(f"{where}: resolvedDependencies say {_short(got)}, the recorded lock {_short(want)}")
        raise Refused(f"{where}: resolvedDependencies list {len(given_list)} entries, the recorded lock gives {len(expected)}")


def _short(entry: Any) -> str:
    if not isinstance(entry, dict):
        return repr(entry)[:60]
    digest = entry.get("digest") if isinstance(entry.get("digest"), dict) else {}
    value = next(iter(digest.values()), "?") if digest else "?"
    return f"{str(entry.get('name'))[:60]} {str(value)[:16]}"


def with_provenance(config: ReleaseConfig, verdict: Verdict) -> Verdict:
    """`releaser check` with `[attest] public-key`: the newest RC's provenance must verify too."""
    if config.attest is None or config.attest.public_key is None:
        return verdict
    newest = records.recorded(records.records_dir(config))[-1:]
    if not newest:
        return verdict
    rc = newest[0]
    try:
        verify(config, rc, trusted_key(config, None))
    except Refused as exc:
        found = Finding("provenance", rc, str(exc), fix=f"releaser verify {rc}")
        return replace(verdict, findings=(*verdict.findings, found))
    return verdict
