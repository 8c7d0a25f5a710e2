"""Signing keys and DSSE envelopes (https://github.com/secure-systems-lab/dsse).

The signature covers DSSE's pre-authentication encoding (PAE) of the payload type and
the payload bytes, never a re-serialized JSON, so any verifier reading the envelope's
bytes checks exactly what was signed. Keys are PEM: Ed25519 or ECDSA P-256 (signed with
SHA-256), the two every in-toto and sigstore verifier accepts. The crypto is the
`cryptography` library's; this module only chooses and frames it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from releaser.core.errors import ConfigError, Refused

KEY_TYPES = "an Ed25519 or ECDSA P-256 key"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what the signature covers."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def keyid_of(public_key: Any) -> str:
    """The key id: the sha256 of the public key's SubjectPublicKeyInfo (DER), in hex."""
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _check_type(key: Any, what: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)) and isinstance(key.curve, ec.SECP256R1):
        return
    raise ConfigError(f"{what}: a {type(key).__name__.removeprefix('_')} key; releaser signs with {KEY_TYPES}")


@dataclass(frozen=True)
class Signer:
    """A private key, ready to sign; `keyid` names its public half."""

    key: Any
    keyid: str

    def sign(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            return bytes(self.key.sign(data, ec.ECDSA(hashes.SHA256())))
        return bytes(self.key.sign(data))

    def public_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return bytes(
            self.key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )

    def __repr__(self) -> str:  # never the key material, wherever a Signer is printed
        return f"Signer(keyid={self.keyid[:16]}…)"


@dataclass(frozen=True)
class Verifier:
    key: Any
    keyid: str

    def verifies(self, data: bytes, signature: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        try:
            if isinstance(self.key, ec.EllipticCurvePublicKey):
                self.key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
            else:
                self.key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


def load_signer(pem: bytes, what: str, passphrase: str | None = None) -> Signer:
    """The private key in `pem`; `what` names where it came from (a path or `${VAR}`), never its bytes."""
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(pem, password=passphrase.encode("utf-8") if passphrase is not None else None)
    except TypeError:
        if passphrase is None:
            raise ConfigError(f"{what}: the key is protected by a passphrase; set [attest] passphrase = \"${{VAR}}\"") from None
        raise ConfigError(f"{what}: the key is not protected by a passphrase; remove [attest] passphrase") from None
    except ValueError:
        why = "a wrong passphrase, or not a PEM private key" if passphrase is not None else "not a PEM private key"
        raise ConfigError(f"{what}: cannot be read as a private key ({why})") from None
    except Exception as exc:  # an unsupported algorithm, a malformed encoding: the library's own classes
        raise ConfigError(f"{what}: cannot be read as a private key ({type(exc).__name__})") from None
    _check_type(key, what)
    return Signer(key, keyid_of(key.public_key()))


def load_verifier(pem: bytes, what: str) -> Verifier:
    """The public key in `pem` (a PEM public key, or a certificate's)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        if b"BEGIN CERTIFICATE" in pem:
            key: Any = x509.load_pem_x509_certificate(pem).public_key()
        else:
            key = serialization.load_pem_public_key(pem)
    except Exception:  # ValueError, UnsupportedAlgorithm: all mean the same to a user
        raise ConfigError(f"{what}: not a PEM public key") from None
    _check_type(key, what)
    return Verifier(key, keyid_of(key))


def sign_envelope(payload_type: str, payload: bytes, signer: Signer) -> dict[str, Any]:
    """A DSSE envelope of `payload`, signed by `signer`."""
    signature = signer.sign(pae(payload_type, payload))
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [{"keyid": signer.keyid, "sig": base64.b64encode(signature).decode("ascii")}],
    }


def open_envelope(envelope: Any, verifier: Verifier | None, what: str) -> tuple[str, bytes]:
    """(payload type, payload) of a DSSE envelope, after a signature by `verifier` is found valid.

    With `verifier` None the signature is not checked (the caller says so). Raises Refused,
    naming `what`, for a malformed envelope or one no signature of which verifies.
    """
    if not isinstance(envelope, dict) or not isinstance(envelope.get("payloadType"), str):
        raise Refused(f"{what}: not a DSSE envelope")
    try:
        payload = base64.b64decode(str(envelope.get("payload", "")), validate=True)
    except (binascii.Error, ValueError):
        raise Refused(f"{what}: its payload is not base64") from None
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise Refused(f"{what}: it carries no signature")
    if verifier is not None:
        message = pae(envelope["payloadType"], payload)
        for entry in signatures:
            try:
                sig = base64.b64decode(str(entry.get("sig", "")), validate=True) if isinstance(entry, dict) else b""
            except (binascii.Error, ValueError):
                continue
            if verifier.verifies(message, sig):
                return envelope["payloadType"], payload
        raise Refused(f"{what}: no signature verifies with the key {verifier.keyid[:16]}… (edited since it was signed, or another key)")
    return envelope["payloadType"], payload


def statement_of(payload: bytes, what: str) -> dict[str, Any]:
    """An in-toto Statement from an envelope's payload."""
    try:
        statement = json.loads(payload)
    except (ValueError, RecursionError):
        raise Refused(f"{what}: its payload is not JSON") from None
    if not isinstance(statement, dict) or statement.get("_type") != "https://in-toto.io/Statement/v1":
        raise Refused(f"{what}: its payload is not an in-toto Statement v1")
    return statement
