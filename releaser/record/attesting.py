"""What `cut` signs: the record's provenance, with the key `[attest] key` names.

The key is loaded before the build starts, so a missing, unreadable or wrong key refuses
the cut before anything is built or recorded: no RC is ever recorded half-signed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from releaser.core.lockfile import Lock
from releaser.plumbing.signing import Signer, load_signer, sign_envelope
from releaser.record import provenance
from releaser.record.records import MANIFEST

if TYPE_CHECKING:
    from releaser.core.config import ReleaseConfig


def signer_of(config: ReleaseConfig, notes: list[str]) -> Signer | None:
    """The signer `[attest] key` names, or None without one; a key others can read is a note."""
    from releaser.core.attest_config import passphrase_of, read_pem

    settings = config.attest
    if settings is None or settings.key is None:
        return None
    what = f"[attest] key {settings.key}"
    return load_signer(read_pem(settings.key, config.root, what, notes), what, passphrase_of(settings))


def attest(
    signer: Signer,
    config: ReleaseConfig,
    *,
    rc: str,
    files: Mapping[str, bytes],
    manifest: Mapping[str, Any],
    lock: Lock,
    started: datetime,
) -> bytes:
    """`provenance.intoto.jsonl` for a record about to be written with `files`."""
    release_toml = config.path.read_bytes()
    subjects = provenance.subjects(rc, config.release.records, files, list(manifest.get("built", [])))
    statements = [
        provenance.provenance(
            rc=rc,
            subjects=subjects,
            lock=lock,
            commit=str(manifest.get("commit")),
            release_toml=release_toml,
            builder_id=config.attest.builder_id if config.attest else "",
            started=started,
            finished=datetime.now(timezone.utc),
        )
    ]
    manifest_subject = next(s for s in subjects if s["name"].endswith(f"/{MANIFEST}"))
    rehearsal = provenance.rehearsal_result(rc, manifest.get("rehearsal") or {}, manifest_subject, release_toml)
    if rehearsal is not None:
        statements.append(rehearsal)
    return provenance.write_lines([sign_envelope(provenance.PAYLOAD_TYPE, provenance.encode(s), signer) for s in statements])
