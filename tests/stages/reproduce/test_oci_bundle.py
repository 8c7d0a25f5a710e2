"""`releaser bundle RC --push oci://…` and `releaser reproduce RC --from-bundle oci://…`, against a
real registry (Debian's docker-registry 2.8, which has no referrers API: the attestation is
found through the OCI 1.1 fallback tag). The RC is reproduced from the registry alone, after
its index and its local bundle are gone; its signed provenance is checked with a key.
"""

from __future__ import annotations

import json
import shutil
import urllib.request

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from cutting import make_repo, setup_project
from loopback import registry as loopback_registry
from releaser.cut.cutting import cut
from releaser.install import ocibundle
from releaser.lock.locking import lock

pytestmark = [
    pytest.mark.skipif(not loopback_registry.available(), reason="docker-registry and skopeo are installed by .ci/run"),
    pytest.mark.usefixtures("git_identity"),
]

RC = "0.9.0rc1"


def signed_project(populated, make_project, monkeypatch, registry_host: str):  # type: ignore[no-untyped-def]
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    monkeypatch.setenv("RELEASE_SIGNING_KEY", pem.decode())
    project = setup_project(populated, make_project)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    project.write("keys/release.pub", public.decode())
    with (project.root / "release.toml").open("a") as f:
        f.write(f'\n[attest]\nkey = "${{RELEASE_SIGNING_KEY}}"\n\n[containers]\ninsecure = ["{registry_host}"]\n')
    lock(project.config())  # release.toml changed: the lock records it
    make_repo(project.root)
    cut(project.config())
    return project, public


def get_json(url: str, accept: str) -> dict:  # type: ignore[type-arg]
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def test_an_rc_pushed_to_a_registry_is_reproduced_from_it_alone(populated, make_project, monkeypatch, registry, tmp_path):  # type: ignore[no-untyped-def]
    project, public = signed_project(populated, make_project, monkeypatch, registry.host)
    target = f"oci://{registry.host}/releases/cosmo"
    pushed = project.releaser("bundle", RC, "--push", target)
    assert pushed.returncode == 0, pushed.stderr
    assert "its provenance attached" in pushed.stdout and "the tag sha256-" in pushed.stdout

    # What any OCI client sees: an artifact manifest, one layer per bundle file, named as oras names them.
    manifest = get_json(f"{registry.url}/v2/releases/cosmo/manifests/{RC}", "application/vnd.oci.image.manifest.v1+json")
    assert manifest["artifactType"] == ocibundle.ARTIFACT_TYPE
    assert manifest["annotations"][ocibundle.RC_ANNOTATION] == RC
    titles = {layer["annotations"][ocibundle.TITLE] for layer in manifest["layers"]}
    local = {p.relative_to(project.root / "dist" / RC / "bundle").as_posix() for p in (project.root / "dist" / RC / "bundle").rglob("*") if p.is_file()}
    assert titles == local and "bundle.json" in titles
    digest = "sha256:" + __import__("hashlib").sha256(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    referrers = get_json(f"{registry.url}/v2/releases/cosmo/manifests/{digest.replace(':', '-')}", "application/vnd.oci.image.index.v1+json")
    attestation = get_json(f"{registry.url}/v2/releases/cosmo/manifests/{referrers['manifests'][0]['digest']}", "application/vnd.oci.image.manifest.v1+json")
    assert attestation["subject"]["digest"] == digest and attestation["artifactType"] == "application/vnd.in-toto+json"

    # Upstream and the local bundle are gone: the registry alone gives the RC back, its provenance verified.
    shutil.rmtree(project.root / "dist")
    populated.stop()
    key = tmp_path / "release.pub"
    key.write_bytes(public)
    done = project.releaser("reproduce", RC, "--from-bundle", f"{target}:{RC}", "--key", str(key))
    assert done.returncode == 0, done.stderr
    assert "pulled the bundle" in done.stderr and "its provenance verifies" in done.stderr
    assert (project.root / "reproduce" / RC / "venv").is_dir()

    other = tmp_path / "other.pub"
    other.write_bytes(ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    wrong = project.releaser("reproduce", RC, "--into", str(tmp_path / "again"), "--from-bundle", target + f":{RC}", "--key", str(other))
    assert wrong.returncode == 1 and "no signature verifies" in wrong.stderr, wrong.stderr
    assert not (tmp_path / "again").exists()


def test_a_bundle_whose_blob_was_altered_in_the_registry_is_refused(populated, make_project, monkeypatch, registry):  # type: ignore[no-untyped-def]
    project, _ = signed_project(populated, make_project, monkeypatch, registry.host)
    target = f"oci://{registry.host}/releases/cosmo"
    assert project.releaser("bundle", RC, "--push", target).returncode == 0
    manifest = get_json(f"{registry.url}/v2/releases/cosmo/manifests/{RC}", "application/vnd.oci.image.manifest.v1+json")
    layer = next(la for la in manifest["layers"] if la["annotations"][ocibundle.TITLE].endswith(".whl"))
    hexdigest = layer["digest"].removeprefix("sha256:")
    blob = next(registry.root.rglob(f"blobs/sha256/{hexdigest[:2]}/{hexdigest}/data"))
    blob.write_bytes(blob.read_bytes() + b"tampered")
    shutil.rmtree(project.root / "dist")
    done = project.releaser("reproduce", RC, "--from-bundle", f"{target}:{RC}")
    assert done.returncode == 3 and "sha256" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not (project.root / "reproduce" / RC / "venv").exists()


def test_bad_targets_and_a_registry_that_refuses_are_one_line(populated, make_project, monkeypatch, private_registry):  # type: ignore[no-untyped-def]
    project, _ = signed_project(populated, make_project, monkeypatch, private_registry.host)
    for bad in ("oci://", "oci://host/UPPER", "oci://127.0.0.1:5000/repo@sha256:" + "0" * 64):
        done = project.releaser("bundle", RC, "--push", bad)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    refused = project.releaser("bundle", RC, "--push", f"oci://{private_registry.host}/releases/cosmo")
    assert refused.returncode == 3 and "401" in refused.stderr and "Traceback" not in refused.stderr, refused.stderr


def test_a_target_is_parsed_strictly() -> None:
    assert ocibundle.parse_target("oci://127.0.0.1:5000/releases/cosmo:0.9.0rc1") == ocibundle.Target("127.0.0.1:5000", "releases/cosmo", "0.9.0rc1")
    digest = "sha256:" + "a" * 64
    assert ocibundle.parse_target(f"oci://r.example.org/x@{digest}").digest == digest
    for bad in ("oci://r/Repo", "oci://r/x:tag with space", "oci://r/../x", "r/x", "oci://r/x:" + "t" * 200):
        with pytest.raises(Exception, match="is not oci://"):
            ocibundle.parse_target(bad)
