"""`[attest]`: a cut signs its provenance (in-toto Statement v1, SLSA Provenance v1, DSSE),
`releaser verify` and `releaser check` refuse any tampering.

Keys are generated here with `cryptography`; every signature `cut` writes is verified
here independently of releaser: the DSSE pre-authentication encoding computed by the
test itself, the signature checked with the library directly.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from cutting import git, make_repo, setup_project
from releaser.core.errors import ConfigError
from releaser.cut.cutting import cut
from releaser.record import provenance

RC = "0.9.0rc1"
pytestmark = pytest.mark.usefixtures("git_identity")


def pem_private(key: Any, passphrase: bytes | None = None) -> bytes:
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def pem_public(key: Any) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def dsse_pae(kind: str, body: bytes) -> bytes:
    """DSSE v1's pre-authentication encoding, written from the spec here, not taken from releaser."""
    return b"DSSEv1 " + str(len(kind)).encode() + b" " + kind.encode() + b" " + str(len(body)).encode() + b" " + body


def independently_verified(line: bytes, public: Any) -> dict[str, Any]:
    envelope = json.loads(line)
    payload = base64.b64decode(envelope["payload"])
    signature = base64.b64decode(envelope["signatures"][0]["sig"])
    message = dsse_pae(envelope["payloadType"], payload)
    if isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(signature, message, ec.ECDSA(hashes.SHA256()))  # raises InvalidSignature
    else:
        public.verify(signature, message)
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    return json.loads(payload)


def attested_project(populated, make_project, tmp_path: Path, key: Any, *, via_env: bool, monkeypatch) -> Any:
    secret = tmp_path / "secrets" / "release.key"
    secret.parent.mkdir()
    secret.write_bytes(pem_private(key))
    secret.chmod(0o600)
    if via_env:
        monkeypatch.setenv("RELEASE_SIGNING_KEY", pem_private(key).decode())
    setting = '"${RELEASE_SIGNING_KEY}"' if via_env else json.dumps(str(secret))
    project = setup_project(populated, make_project)
    project.write("keys/release.pub", pem_public(key).decode())
    with (project.root / "release.toml").open("a") as f:
        f.write(f'\n[attest]\nkey = {setting}\npublic-key = "keys/release.pub"\nbuilder-id = "https://ci.example.org/release"\n')
    make_repo(project.root)
    return project


@pytest.mark.parametrize("algorithm", ["ed25519", "p256"])
def test_a_cut_signs_a_provenance_an_independent_verifier_accepts(populated, make_project, tmp_path, monkeypatch, algorithm):
    key = ed25519.Ed25519PrivateKey.generate() if algorithm == "ed25519" else ec.generate_private_key(ec.SECP256R1())
    project = attested_project(populated, make_project, tmp_path, key, via_env=algorithm == "ed25519", monkeypatch=monkeypatch)
    lines: list[str] = []
    result = cut(project.config(), log=lines.append)
    record = result.record
    envelopes = (record / provenance.FILE).read_bytes().splitlines()
    statement = independently_verified(envelopes[0], key.public_key())

    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    wheel = project.root / "dist" / RC / f"cosmo-{RC}-py3-none-any.whl"
    assert subjects[f"dist/{RC}/{wheel.name}"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    for name in ("release.lock", "manifest.json", "sbom.cdx.json"):
        assert subjects[f"releases/{RC}/{name}"] == hashlib.sha256((record / name).read_bytes()).hexdigest()
    predicate = statement["predicate"]
    assert predicate["buildDefinition"]["externalParameters"]["rc"] == RC
    assert predicate["runDetails"]["builder"]["id"] == "https://ci.example.org/release"
    pinned = {d["digest"].get("sha256") for d in predicate["buildDefinition"]["resolvedDependencies"]}
    assert {a.sha256 for p in _lock(record).pins for a in p.artifacts} <= pinned
    keyid = json.loads(envelopes[0])["signatures"][0]["keyid"]
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert keyid == hashlib.sha256(der).hexdigest()

    done = project.releaser("verify", RC)
    assert done.returncode == 0, done.stderr
    assert "verified" in done.stdout
    as_json = json.loads(project.releaser("verify", RC, "--json").stdout)
    assert as_json["ok"] and f"dist/{RC}/{wheel.name}" in as_json["checked"]
    # The private key reaches no file of the record and nothing the cut printed.
    secret_line = pem_private(key).decode().splitlines()[1]
    assert not any(secret_line in p.read_text(errors="replace") for p in record.iterdir())
    assert not any(secret_line in line for line in lines)
    assert project.releaser("check").returncode == 0


def _lock(record: Path) -> Any:
    from releaser.core import lockfile

    return lockfile.loads((record / "release.lock").read_text(), record / "release.lock")


@pytest.fixture
def signed(populated, make_project, tmp_path, monkeypatch) -> Any:
    key = ed25519.Ed25519PrivateKey.generate()
    project = attested_project(populated, make_project, tmp_path, key, via_env=True, monkeypatch=monkeypatch)
    cut(project.config())
    return project


def test_a_payload_edited_after_signing_is_refused(signed) -> None:
    path = signed.root / "releases" / RC / provenance.FILE
    envelope = json.loads(path.read_bytes().splitlines()[0])
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["buildDefinition"]["externalParameters"]["rc"] = "0.9.0rc9"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    path.write_text(json.dumps(envelope) + "\n")
    done = signed.releaser("verify", RC)
    assert done.returncode == 1 and "no signature verifies" in done.stderr, done.stderr
    checked = signed.releaser("check")
    assert checked.returncode == 1 and "provenance" in checked.stdout + checked.stderr


def test_a_swapped_built_file_or_an_edited_sbom_is_refused_by_name(signed) -> None:
    wheel = signed.root / "dist" / RC / f"cosmo-{RC}-py3-none-any.whl"
    original = wheel.read_bytes()
    wheel.write_bytes(original + b"\0")
    done = signed.releaser("verify", RC)
    assert done.returncode == 1 and wheel.name in done.stderr and "different build" in done.stderr, done.stderr
    wheel.write_bytes(original)
    assert signed.releaser("verify", RC).returncode == 0
    sbom = signed.root / "releases" / RC / "sbom.cdx.json"
    sbom.write_text(sbom.read_text().replace("cosmo", "c0smo", 1))
    done = signed.releaser("verify", RC)
    assert done.returncode == 1 and "sbom.cdx.json" in done.stderr and "edited since" in done.stderr, done.stderr


def test_another_key_is_refused_and_no_key_is_bad_input(signed, tmp_path) -> None:
    other = tmp_path / "other.pub"
    other.write_bytes(pem_public(ed25519.Ed25519PrivateKey.generate()))
    done = signed.releaser("verify", RC, "--key", str(other))
    assert done.returncode == 1 and "no signature verifies" in done.stderr
    toml = signed.root / "release.toml"
    toml.write_text(toml.read_text().replace('public-key = "keys/release.pub"\n', ""))
    done = signed.releaser("verify", RC)
    assert done.returncode == 2 and "--key" in done.stderr and "Traceback" not in done.stderr


def test_without_the_build_here_the_record_is_still_verified(signed) -> None:
    import shutil

    shutil.rmtree(signed.root / "dist" / RC)
    done = signed.releaser("verify", RC)
    assert done.returncode == 0 and "not here" in done.stderr


def test_resolved_dependencies_must_be_the_recorded_lock(signed, monkeypatch) -> None:
    """An envelope signed by the right key over dependencies that are not the lock's is refused."""
    from releaser.plumbing.signing import load_signer, sign_envelope

    path = signed.root / "releases" / RC / provenance.FILE
    statement = json.loads(base64.b64decode(json.loads(path.read_bytes().splitlines()[0])["payload"]))
    statement["predicate"]["buildDefinition"]["resolvedDependencies"][1]["digest"] = {"sha256": "0" * 64}
    signer = load_signer(os.environ["RELEASE_SIGNING_KEY"].encode(), "test key")
    path.write_bytes(provenance.write_lines([sign_envelope(provenance.PAYLOAD_TYPE, provenance.encode(statement), signer)]))
    done = signed.releaser("verify", RC)
    assert done.returncode == 1 and "resolvedDependencies" in done.stderr and "recorded lock" in done.stderr, done.stderr


@pytest.mark.parametrize(
    "case, expected",
    [
        ("missing", "does not exist"),
        ("rsa", "releaser signs with an Ed25519 or ECDSA P-256 key"),
        ("passphrase", "protected by a passphrase"),
        ("garbage", "cannot be read as a private key"),
        ("unset", "RELEASE_SIGNING_KEY"),
    ],
)
def test_a_bad_key_refuses_the_cut_before_anything_is_built(populated, make_project, tmp_path, monkeypatch, case, expected) -> None:
    project = setup_project(populated, make_project)
    key_file = tmp_path / "key.pem"
    if case == "rsa":
        key_file.write_bytes(pem_private(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    elif case == "passphrase":
        key_file.write_bytes(pem_private(ed25519.Ed25519PrivateKey.generate(), b"s3cret"))
    elif case == "garbage":
        key_file.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    setting = '"${RELEASE_SIGNING_KEY}"' if case == "unset" else json.dumps(str(key_file))
    monkeypatch.delenv("RELEASE_SIGNING_KEY", raising=False)
    with (project.root / "release.toml").open("a") as f:
        f.write(f"\n[attest]\nkey = {setting}\n")
    head = make_repo(project.root)
    with pytest.raises(ConfigError, match=expected) as caught:
        cut(project.config())
    assert "BEGIN" not in str(caught.value)
    assert not (project.root / "releases").exists() and not (project.root / "dist" / RC).exists()
    assert git(project.root, "rev-parse", "HEAD") == head and git(project.root, "tag", "--list") == ""  # nothing committed or tagged
    done = project.releaser("cut")
    assert done.returncode == 2 and expected.split()[0] in done.stderr and "Traceback" not in done.stderr


def test_a_key_others_can_read_is_a_warning(populated, make_project, tmp_path, monkeypatch) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    project = attested_project(populated, make_project, tmp_path, key, via_env=False, monkeypatch=monkeypatch)
    (tmp_path / "secrets" / "release.key").chmod(0o644)
    result = cut(project.config())
    assert any("can be read by other users" in note for note in result.notes)


def test_attest_settings_are_validated_with_the_key_named(tmp_path) -> None:
    from releaser.ecosystems import parse_config

    base = '[release]\nname = "x"\nversion = "1.0"\n'
    for table, expected in [
        ('[attest]\npassphrase = "hunter2"\nkey = "k.pem"\n', "passphrase"),
        ('[attest]\npublic-key = "/etc/key.pub"\n', "public-key"),
        ('[attest]\nkeyfile = "k.pem"\n', "keyfile"),
        ('[attest]\nbuilder-id = "not a uri"\n', "builder-id"),
    ]:
        with pytest.raises(ConfigError, match=expected):
            parse_config(base + table, tmp_path / "release.toml")


def test_the_rehearsal_statement_lists_its_steps() -> None:
    rehearsal = {"ran": True, "verdict": "passed", "steps": [{"name": "upgrade", "verdict": "ok"}, {"name": "revert", "verdict": "ok"}]}
    statement = provenance.rehearsal_result(RC, rehearsal, {"name": "m", "digest": {"sha256": "0"}}, b"toml")
    assert statement is not None and statement["predicate"]["result"] == "pass"
    assert statement["predicate"]["passedTests"] == ["upgrade", "revert"] and statement["predicate"]["failedTests"] == []
    assert provenance.rehearsal_result(RC, {"ran": False}, {}, b"") is None
