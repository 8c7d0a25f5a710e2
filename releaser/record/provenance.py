"""The signed provenance of an RC: in-toto Statements v1 in DSSE envelopes.

`releases/<rc>/provenance.intoto.jsonl` holds one envelope per line:

1. an SLSA Provenance v1 statement: the subjects are the built files under
   `dist/<rc>/` and the record's lock, manifest and SBOM, each with its sha256; its
   `resolvedDependencies` are the lock's pins, file by file (which *is* the lock);
2. when the rehearsal ran, an in-toto test-result statement of its steps, with the
   record's manifest as its subject.

Statements are built from what the record holds, so `releaser verify` rebuilds the
expected `resolvedDependencies` from the recorded lock and compares them exactly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from releaser.core.lockfile import Lock, Pin

FILE = "provenance.intoto.jsonl"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT = "https://in-toto.io/Statement/v1"
SLSA_PROVENANCE = "https://slsa.dev/provenance/v1"
TEST_RESULT = "https://in-toto.io/attestation/test-result/v0.1"
# What kind of build this is: a releaser cut, described in docs/attest.md ("buildType").
BUILD_TYPE = "urn:releaser:buildtype:cut:v1"
# The record's files a provenance names as subjects, besides the built ones.
RECORD_SUBJECTS = ("release.lock", "manifest.json", "sbom.cdx.json")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def subjects(rc: str, records: str, record_files: Mapping[str, bytes], built: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The files this RC's provenance speaks for, named by their path in the project."""
    found = [
        {"name": f"dist/{rc}/{f['name']}", "digest": {"sha256": f["sha256"]}} for f in sorted(built, key=lambda f: f["name"])
    ]
    found += [
        {"name": f"{records}/{rc}/{name}", "digest": {"sha256": sha256(record_files[name])}}
        for name in RECORD_SUBJECTS
        if name in record_files
    ]
    return found


def _pin_descriptors(pin: Pin) -> list[dict[str, Any]]:
    """A pin as SLSA ResourceDescriptors: one per file, or its commit when it has none."""
    from releaser.lock.sbom import purl_of

    purl = purl_of(pin).to_string()
    annotations = {"kind": pin.kind, "pin": pin.name, "version": pin.version}
    if pin.artifacts:
        return [
            {"name": a.name, "uri": a.url, "digest": {"sha256": a.sha256}, "annotations": {**annotations, "purl": purl}}
            for a in sorted(pin.artifacts, key=lambda a: (a.name, a.url))
        ]
    commit = pin.commit or pin.version
    annotations["purl"] = purl
    return [{"name": pin.name, "uri": f"git+{pin.source}@{commit}", "digest": {"gitCommit": commit}, "annotations": annotations}]


def resolved_dependencies(lock: Lock) -> list[dict[str, Any]]:
    """Every pinned file of the lock (build pins included), in the lock's order."""
    found: list[dict[str, Any]] = []
    for pin in sorted(lock.pins, key=lambda p: (p.kind, p.name, p.version)):
        found += _pin_descriptors(pin)
        for build in pin.build:
            found += [{**d, "annotations": {**d["annotations"], "build-of": pin.name}} for d in _pin_descriptors(build)]
    return found


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def provenance(
    *,
    rc: str,
    subjects: list[dict[str, Any]],
    lock: Lock,
    commit: str,
    release_toml: bytes,
    builder_id: str,
    started: datetime,
    finished: datetime,
) -> dict[str, Any]:
    """The SLSA Provenance v1 statement of a cut."""
    from releaser import __version__

    return {
        "_type": STATEMENT,
        "subject": subjects,
        "predicateType": SLSA_PROVENANCE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "rc": rc,
                    "as_of": _iso(lock.as_of),
                    "release_toml": {"digest": {"sha256": sha256(release_toml)}},
                },
                "internalParameters": {"releaser": __version__, "resolver": lock.resolver},
                "resolvedDependencies": [{"name": "source", "digest": {"gitCommit": commit}}, *resolved_dependencies(lock)],
            },
            "runDetails": {
                "builder": {"id": builder_id, "version": {"releaser": __version__}},
                "metadata": {"invocationId": rc, "startedOn": _iso(started), "finishedOn": _iso(finished)},
            },
        },
    }


def rehearsal_result(rc: str, rehearsal: Mapping[str, Any], manifest_subject: dict[str, Any], release_toml: bytes) -> dict[str, Any] | None:
    """The test-result statement of the rehearsal the record holds; None when none ran."""
    if not rehearsal.get("ran"):
        return None
    steps = [s for s in rehearsal.get("steps", []) if isinstance(s, dict)]
    passed = [str(s.get("name")) for s in steps if s.get("verdict", "ok") == "ok"]
    warned = [str(s.get("name")) for s in steps if s.get("verdict") in ("accepted", "warned")]
    failed = [str(s.get("name")) for s in steps if str(s.get("name")) not in passed + warned]
    return {
        "_type": STATEMENT,
        "subject": [manifest_subject],
        "predicateType": TEST_RESULT,
        "predicate": {
            "result": "pass" if rehearsal.get("verdict") == "passed" and not failed else "fail",
            "configuration": [{"name": "release.toml", "digest": {"sha256": sha256(release_toml)}}],
            "url": f"urn:releaser:rehearsal:{rc}",
            "passedTests": passed,
            "warnedTests": warned,
            "failedTests": failed,
        },
    }


def encode(statement: Mapping[str, Any]) -> bytes:
    """A statement's bytes as signed: canonical enough to be the same for the same statement."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":")).encode("utf-8")


def write_lines(envelopes: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(e, sort_keys=True, separators=(",", ":")).encode("utf-8") + b"\n" for e in envelopes)
