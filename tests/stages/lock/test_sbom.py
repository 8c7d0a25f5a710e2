"""`releaser export --format cyclonedx`: a CycloneDX 1.6 SBOM of every pin, checked by
cyclonedx-python-lib's own JSON schema validator, from a real lock of every kind."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from helpers import validated_sbom
from loopback.gitrepo import GitRepo
from releaser.core import lockfile
from releaser.lock.locking import lock

JAN = datetime(2024, 1, 10, tzinfo=UTC)


def test_sbom_of_every_kind_validates_and_names_every_file(populated, make_project, maven_repo, files, tmp_path):
    upstream = GitRepo(tmp_path / "upstream")
    upstream.commit({"f.txt": "a\n"}, when=JAN, message="A")
    maven_repo.deploy_snapshot("org.cosmo", "ical", "1.0", JAN, 1)
    url = files.put("dl/tzdata-2024a.tar.gz", b"tz data\n", last_modified=JAN)
    project = make_project(
        populated.url,
        requirements="alpha\n",
        extra=f"""
        [[maven]]
        repository = "{maven_repo.url}"
        dependencies = ["org.cosmo:ical:1.0-SNAPSHOT"]

        [[git]]
        name = "windmill"
        url = "{upstream.url}"
        ref = "main"
        allow-local = true

        [[artifact]]
        name = "tzdata"
        url = "{url}"
        """,
    )
    lock(project.config())
    current = lockfile.read(project.lockfile)
    assert current is not None

    done = project.releaser("export", "--format", "cyclonedx")
    assert done.returncode == 0, done.stderr
    text = (project.root / "sbom.cdx.json").read_text()
    sbom = validated_sbom(text)
    assert sbom["specVersion"] == "1.6" and sbom["bomFormat"] == "CycloneDX"
    assert sbom["metadata"]["component"]["name"] == "cosmo" and sbom["metadata"]["component"]["version"] == "0.9.0"
    assert {"name": "releaser:as-of", "value": current.as_of.isoformat().replace("+00:00", "Z")} in sbom["metadata"]["properties"]

    by_purl = {c["purl"]: c for c in sbom["components"]}
    snapshot = current.of_kind("maven")[0].version
    commit = current.of_kind("git")[0].version
    sha = current.of_kind("artifact")[0].version
    windmill_purl = next(p for p in by_purl if p.startswith("pkg:generic/windmill@"))
    tzdata_purl = next(p for p in by_purl if p.startswith("pkg:generic/tzdata@"))
    assert set(by_purl) == {
        "pkg:pypi/alpha@1.0", "pkg:pypi/beta@2.0", f"pkg:maven/org.cosmo/ical@{snapshot}", windmill_purl, tzdata_purl,
    }
    assert snapshot != "1.0-SNAPSHOT" and windmill_purl.startswith(f"pkg:generic/windmill@{commit}?vcs_url=git")
    assert tzdata_purl.startswith(f"pkg:generic/tzdata@{sha}?") and f"checksum=sha256:{sha}" in tzdata_purl
    windmill = by_purl[windmill_purl]
    assert windmill["pedigree"]["commits"] == [{"uid": commit}]

    # Every file of every pin is there with its SHA-256 (and a Maven file with the repository's sha1).
    listed = {
        (ref["url"], h["content"])
        for c in sbom["components"] for ref in c.get("externalReferences", []) for h in ref["hashes"] if h["alg"] == "SHA-256"
    }
    assert listed == {(a.url, a.sha256) for p in current.pins for a in p.artifacts}
    jar = next(ref for ref in by_purl[f"pkg:maven/org.cosmo/ical@{snapshot}"]["externalReferences"] if ref["comment"].endswith(".jar"))
    assert {h["alg"] for h in jar["hashes"]} == {"SHA-1", "SHA-256"}
    dates = {c["name"]: {p["name"]: p["value"] for p in c["properties"]}.get("releaser:date") for c in sbom["components"]}
    assert dates["windmill"] == "2024-01-10T00:00:00Z"
    # The project depends on what its inputs ask for; beta comes in through alpha.
    root_deps = next(d for d in sbom["dependencies"] if d["ref"] == sbom["metadata"]["component"]["bom-ref"])
    assert "pkg:pypi/alpha@1.0" in root_deps["dependsOn"] and "pkg:pypi/beta@2.0" not in root_deps["dependsOn"]

    # Deterministic: the same lock gives the same bytes; to stdout with -o -.
    again = project.releaser("export", "--format", "cyclonedx", "-o", "-")
    assert again.returncode == 0 and again.stdout == text


def test_export_cyclonedx_never_loads_on_the_path_of_check(populated, make_project):
    project = make_project(populated.url)
    lock(project.config())
    probe = (
        "import sys, runpy; sys.argv = ['releaser', 'check']\n"
        "try:\n    runpy.run_module('releaser', run_name='__main__')\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "loaded = [m for m in sys.modules if m.startswith(('cyclonedx', 'packageurl', 'releaser.lock.sbom'))]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=project.root, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
