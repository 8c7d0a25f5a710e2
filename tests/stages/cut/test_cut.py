"""`releaser cut`, `list`, `show`: real git repositories, a real hash-verified install into
a fresh virtual environment from the loopback index, a real build and real gates.

Every refusal is checked to leave the project as it was: no record, no tag, nothing
in dist/, HEAD where it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from dataclasses import replace
from datetime import UTC
from pathlib import Path

import pytest

from cutting import (
    BUILD_PY,
    GATE,
    commit_all,
    git,
    make_repo,
    release_toml,
    setup_project,
)
from helpers import days, validated_sbom
from recorded import write_record
from releaser.core import config as config_mod
from releaser.core import lockfile
from releaser.core.errors import ConfigError, Refused, UpstreamError
from releaser.cut import numbering
from releaser.cut.cutting import cut
from releaser.ecosystems import load_config
from releaser.lock.locking import lock
from releaser.plumbing import fsutil
from releaser.record import manifest, records

pytestmark = pytest.mark.usefixtures("git_identity")


def assert_untouched(root: Path, head: str, rc: str = "0.9.0rc1", tags: str = "") -> None:
    """Nothing a refused or failed cut could have written is there."""
    assert not (root / "releases" / rc).exists()
    assert not list((root / "releases").glob(".*")) if (root / "releases").exists() else True
    assert not (root / "dist" / rc).exists()
    assert not (root / "dist").is_dir() or any((root / "dist").iterdir())  # no empty dist/ left behind
    assert git(root, "tag", "--list") == tags
    assert git(root, "rev-parse", "HEAD") == head
    assert git(root, "status", "--porcelain") == ""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the happy path, numbering, list and show ------------------------------------


def test_cut_builds_gates_records_commits_and_tags(populated, make_project):
    project = setup_project(populated, make_project)
    root = project.root
    built_from = make_repo(root)
    lock_bytes = project.lockfile.read_bytes()

    done = project.releaser("cut")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cut 0.9.0rc1" in done.stdout and "tagged v0.9.0rc1" in done.stdout
    assert "gate: python -c" in done.stdout and "  passed: gate ok" in done.stdout
    # Every command shown is pasteable: quoted, placeholders filled.
    assert f"build: python tools/build_rc.py {root / 'dist' / '0.9.0rc1'}/ 0.9.0rc1\n" in done.stdout
    assert "{dist}" not in done.stdout and "{rc}" not in done.stdout

    # The record, verified through the reader `reproduce` and `diff` use.
    rec = records.read(root / "releases", "0.9.0rc1")
    m = rec.manifest
    assert (root / "releases" / "0.9.0rc1" / "release.lock").read_bytes() == lock_bytes
    assert m["schema"] == 1 and m["rc"] == "0.9.0rc1" and m["name"] == "cosmo" and m["version"] == "0.9.0"
    assert m["commit"] == built_from and m["tag"] == "v0.9.0rc1"
    assert m["lock_digest"] == "sha256:" + hashlib.sha256(lock_bytes).hexdigest()
    assert m["as_of"].endswith("Z") and m["cut_at"].endswith("Z")
    pins = {p["name"]: p for p in m["pins"]}
    assert {n: p["version"] for n, p in pins.items()} == {"alpha": "1.0", "beta": "2.0"}
    assert pins["alpha"]["requested"] == "alpha" and pins["beta"]["requested"] is None
    art = pins["alpha"]["artifacts"][0]
    assert set(art) == {"name", "url", "sha256", "size", "date", "upstream"} and len(art["sha256"]) == 64
    assert m["builder"]["releaser"] and m["builder"]["resolver"].startswith("pip-tools")
    assert m["rehearsal"] == {"ran": False, "reason": "no [migrations] database is set"}  # and no revert.sh
    # Deterministic JSON: sorted keys, indent 2.
    raw = (rec.path / "manifest.json").read_text()
    assert raw == json.dumps(m, sort_keys=True, indent=2, ensure_ascii=False) + "\n"

    # The build ran in the isolated environment with exactly the locked set.
    dist = root / "dist" / "0.9.0rc1"
    seen = json.loads((dist / "build-env.json").read_text())
    assert seen == {
        "alpha": "1.0", "beta": "2.0", "releaser_importable": False, "prefix_is_venv": True,
        "deps": str(dist / "deps"), "rc_arg": "0.9.0rc1",
    }
    wheel = dist / "cosmo-0.9.0rc1-py3-none-any.whl"
    assert zipfile.ZipFile(wheel).read("cosmo/__init__.py") == b"__version__ = '0.9.0rc1'\n"
    epoch = int(git(root, "show", "-s", "--format=%ct", built_from))
    assert zipfile.ZipFile(wheel).getinfo("cosmo/__init__.py").date_time[:3] == tuple(
        __import__("time").gmtime(epoch)[:3]
    )
    assert m["built"] == [
        {"name": "build-env.json", "sha256": sha256(dist / "build-env.json"), "size": (dist / "build-env.json").stat().st_size},
        {"name": wheel.name, "sha256": sha256(wheel), "size": wheel.stat().st_size},
    ]

    # MANIFEST.md: readable, from templates/MANIFEST.md.j2.
    page = (rec.path / "MANIFEST.md").read_text()
    assert page.startswith("# cosmo 0.9.0rc1\n")
    assert built_from in page and m["as_of"] in page and "| alpha | 1.0 |" in page
    assert f"`{sha256(wheel)}`" in page and "### Python (2)" in page
    assert f"`{art['sha256']}`" in page  # full digests: they identify the files
    # The SBOM, linked from MANIFEST.md, named with its digest in manifest.json.
    sbom = (rec.path / "sbom.cdx.json").read_bytes()
    assert m["sbom"] == {"file": "sbom.cdx.json", "format": "CycloneDX 1.6 JSON", "sha256": "sha256:" + hashlib.sha256(sbom).hexdigest()}
    assert "[`sbom.cdx.json`](sbom.cdx.json)" in page and m["sbom"]["sha256"] in page
    assert not any(line != line.rstrip() for line in page.splitlines())

    # Committed, then tagged: the tag's commit holds the record, its parent was built.
    record_commit = git(root, "rev-parse", "HEAD")
    assert git(root, "rev-parse", f"{record_commit}^") == built_from
    assert git(root, "log", "-1", "--format=%s") == "Record 0.9.0rc1"
    assert git(root, "show", "--name-only", "--format=", "HEAD").splitlines() == [
        "releases/0.9.0rc1/MANIFEST.md", "releases/0.9.0rc1/manifest.json", "releases/0.9.0rc1/release.lock",
        "releases/0.9.0rc1/sbom.cdx.json",
    ]
    assert git(root, "cat-file", "-t", "v0.9.0rc1") == "tag"  # annotated
    assert git(root, "rev-parse", "v0.9.0rc1^{commit}") == record_commit
    message = git(root, "tag", "-l", "--format=%(contents)", "v0.9.0rc1")
    assert "0.9.0rc1" in message and m["lock_digest"] in message
    assert git(root, "status", "--porcelain") == ""

    # The next cut numbers itself; --rc picks a number; ids are never reused.
    config = project.config()
    rc2 = cut(config)
    assert rc2.rc == "0.9.0rc2" and rc2.commit == record_commit and rc2.tag == "v0.9.0rc2"
    rc7 = cut(config, rc_number=7, tag=False)
    assert rc7.rc == "0.9.0rc7" and rc7.tag is None and rc7.manifest["tag"] is None
    assert numbering.rc_id(config, root, None) == "0.9.0rc8"
    head = git(root, "rev-parse", "HEAD")
    tags = "v0.9.0rc1\nv0.9.0rc2"
    with pytest.raises(Refused, match="0.9.0rc2 is already recorded"):
        cut(config, rc_number=2)
    assert_untouched(root, head, "0.9.0rc3", tags)
    # A tag without a record (e.g. made by hand) also takes its id.
    git(root, "tag", "v0.9.0rc9")
    tags += "\nv0.9.0rc9"
    with pytest.raises(Refused, match="0.9.0rc9 is already tagged"):
        cut(config, rc_number=9)
    assert_untouched(root, head, "0.9.0rc9", tags)
    assert numbering.rc_id(config, root, None) == "0.9.0rc10"

    # Killed while the record is written: no record, no staging folder, no tag, no dist.
    class Interrupted:
        def __getattr__(self, name):
            return getattr(os, name)

        @staticmethod
        def fsync(fd):
            raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fsutil, "os", Interrupted())  # records.write syncs each file through fsutil
        with pytest.raises(KeyboardInterrupt):
            cut(config)
    assert_untouched(root, head, "0.9.0rc10", tags)
    assert sorted(p.name for p in (root / "releases").iterdir()) == ["0.9.0rc1", "0.9.0rc2", "0.9.0rc7"]

    # list and show, text and JSON.
    listed = project.releaser("list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["0.9.0rc1", "0.9.0rc2", "0.9.0rc7"]
    assert lines[0].split()[1:] == [m["cut_at"], built_from[:12], "2", "pins"]
    as_json = json.loads(project.releaser("list", "--json").stdout)
    assert [r["rc"] for r in as_json["releases"]] == ["0.9.0rc1", "0.9.0rc2", "0.9.0rc7"]
    assert as_json["releases"][1] | {} == as_json["releases"][1] and as_json["releases"][1]["commit"] == record_commit
    assert all(r["verified"] and r["pins"] == 2 for r in as_json["releases"])

    shown = project.releaser("show", "0.9.0rc1")
    assert shown.returncode == 0, shown.stderr
    assert f"commit     {built_from}" in shown.stdout and "alpha  1.0" in shown.stdout
    assert wheel.name in shown.stdout and "gates passed (1)" in shown.stdout
    shown_json = project.releaser("show", "--json", "0.9.0rc1")
    shown_document = json.loads(shown_json.stdout)  # the manifest as recorded, in the --json envelope
    assert (shown_document.pop("ok"), shown_document.pop("exit")) == (True, 0)
    assert shown_document == json.loads((rec.path / "manifest.json").read_text())
    missing = project.releaser("show", "0.9.0rc5")
    assert missing.returncode == 2 and "no such RC" in missing.stderr and "0.9.0rc1, 0.9.0rc2, 0.9.0rc7" in missing.stderr

    # A record edited by hand is not trusted: listed as such, exit 1; show refuses it.
    copy = root / "releases" / "0.9.0rc2" / "release.lock"
    copy.write_text(copy.read_text().replace('version = "2.0"', 'version = "1.0"', 1))
    listed = project.releaser("list")
    assert listed.returncode == 1 and "0.9.0rc2  NOT VERIFIED" in listed.stdout and "0.9.0rc7  " in listed.stdout
    assert project.releaser("show", "0.9.0rc2").returncode == 1


# -- refusals: nothing written -----------------------------------------------------


def test_every_refusal_writes_nothing(populated, make_project):
    project = setup_project(populated, make_project)
    root = project.root
    config = project.config()

    with pytest.raises(Refused, match="not in a git repository"):
        cut(config)
    assert not (root / "releases").exists() and not (root / "dist").exists()

    head = make_repo(root)
    # A tracked change, then an untracked file that is not ignored.
    (root / "tools" / "build_rc.py").write_text(BUILD_PY + "\n# local edit\n")
    with pytest.raises(Refused, match=r"not clean \( M tools/build_rc.py\).*[Cc]ommit or stash"):
        cut(config)
    git(root, "checkout", "--", "tools/build_rc.py")
    assert_untouched(root, head)
    (root / "notes.txt").write_text("todo\n")
    with pytest.raises(Refused, match=r"not clean \(\?\? notes.txt\)"):
        cut(config)
    (root / "notes.txt").unlink()
    assert_untouched(root, head)

    # A stale lock: an input changed (and was committed) since the lock was written.
    project.write("requirements.in", "alpha\nbeta<2\n")
    head = commit_all(root, "ask for beta<2")
    with pytest.raises(Refused) as refused:
        cut(config)
    assert "stale: requirements.in: requirement added: beta<2" in str(refused.value)
    assert "run: releaser lock" in str(refused.value)
    assert_untouched(root, head)
    git(root, "revert", "--no-edit", "HEAD")
    head = git(root, "rev-parse", "HEAD")

    # A hand-edited lock: tampered.
    good = project.lockfile.read_text()
    project.lockfile.write_text(good.replace('version = "2.0"', 'version = "1.0"', 1))
    head = commit_all(root, "edit the lock by hand")
    with pytest.raises(Refused, match="tampered: release.lock"):
        cut(config)
    assert_untouched(root, head)

    # A floating lock (consistent digest, but a pin without hashed files).
    current = lockfile.loads(good, project.lockfile)
    floating = [p if p.name != "beta" else replace(p, artifacts=()) for p in current.pins]
    project.lockfile.write_text(lockfile.dumps(replace(current, pins=tuple(floating))))
    head = commit_all(root, "a floating pin")
    with pytest.raises(Refused) as refused:
        cut(config)
    assert "floating: python beta 2.0: has no hashed files" in str(refused.value)
    assert_untouched(root, head)

    # The CLI prints the same findings, exit 1.
    done = project.releaser("cut")
    assert done.returncode == 1 and "floating: python beta 2.0" in done.stderr
    assert_untouched(root, head)

    project.lockfile.write_text(good)
    head = commit_all(root, "the lock as written")

    # dist/ must be ignored by git, or the built files would dirty the tree.
    (root / ".gitignore").write_text("")
    head = commit_all(root, "no ignores")
    with pytest.raises(Refused, match=r"dist/ is not ignored by git.*\.gitignore"):
        cut(config)
    assert_untouched(root, head)
    (root / ".gitignore").write_text("/dist/\n")
    head = commit_all(root, "ignore dist")

    # A failing gate: exit 1, the gate named, the end of its output shown, nothing recorded.
    gate = "import sys; print('checking the upgrade path'); [print('line', i) for i in range(30)]; sys.exit('gate says no')"
    project.write("release.toml", release_toml(populated.url, gates=json.dumps([["python", "-c", GATE], ["python", "-c", gate]])))
    head = commit_all(root, "a gate that fails")
    done = project.releaser("cut")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "gate `python -c" in done.stderr and "exited 1" in done.stderr and "gate says no" in done.stderr
    assert "| line 29" in done.stderr and "| line 5" not in done.stderr  # the tail, not all of it
    assert_untouched(root, head)

    # A failing build: exit 3 (an outside failure), named, its tail shown.
    project.write("release.toml", release_toml(populated.url, build='["python", "-c", "import sys; sys.exit(\\"no compiler\\")"]'))
    head = commit_all(root, "a build that fails")
    done = project.releaser("cut")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "build `python -c" in done.stderr and "no compiler" in done.stderr
    assert_untouched(root, head)
    missing = project.write("release.toml", release_toml(populated.url, build='["no-such-tool", "{dist}"]'))
    assert missing
    head = commit_all(root, "a build tool that is not there")
    with pytest.raises(UpstreamError, match="no-such-tool is not found"):
        cut(project.config())
    assert_untouched(root, head)

    # A build that edits tracked files did not build the commit.
    project.write("release.toml", release_toml(populated.url, build='["python", "-c", "open(\'tools/build_rc.py\', \'a\').write(\'#\')"]'))
    head = commit_all(root, "a build that edits sources")
    with pytest.raises(Refused, match="changed tracked files"):
        cut(project.config())
    git(root, "checkout", "--", "tools/build_rc.py")
    assert_untouched(root, head)

    # The record commit fails (a hook says no): the cut is undone, record and all.
    project.write("release.toml", release_toml(populated.url))
    head = commit_all(root, "a good build again")
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'records need a ticket number' >&2\nexit 1\n")
    hook.chmod(0o755)
    with pytest.raises(UpstreamError, match="git commit failed: records need a ticket number"):
        cut(project.config())
    assert_untouched(root, head)
    hook.unlink()

    # Killed (SIGTERM) while a gate runs: the gate is stopped, dist/<rc> removed, nothing recorded.
    marker = root.parent / "gate-started"
    slow = "import os, pathlib, time; pathlib.Path(os.environ['GATE_MARKER']).touch(); time.sleep(60)"
    project.write("release.toml", release_toml(populated.url, gates=json.dumps([["python", "-c", slow]])))
    head = commit_all(root, "a slow gate")
    process = subprocess.Popen(
        [sys.executable, "-m", "releaser", "cut"], cwd=root, env={**os.environ, "GATE_MARKER": str(marker)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), process.communicate()
    assert (root / "dist" / "0.9.0rc1").is_dir()  # the cut is under way
    process.terminate()
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130 and "interrupted" in err, out + err
    assert_untouched(root, head)


def test_a_lock_stating_another_size_than_its_file_is_refused_as_reproduce_refuses_it(populated, make_project, monkeypatch, tmp_path):
    """pip's --require-hashes checks only the sha256: cut checks each file against the lock's size too,
    before pip sees it, as `reproduce` does, so no RC is recorded that `reproduce` would refuse."""
    from releaser.ecosystems.python.files import choose_python_file

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # where the verified files are kept: empty
    project = setup_project(populated, make_project)
    root = project.root
    honest = project.lockfile.read_text()
    good = lockfile.loads(honest, project.lockfile)
    [alpha] = [p for p in good.pins if p.name == "alpha"]
    wheel = choose_python_file(alpha)
    stated = replace(alpha, artifacts=tuple(replace(a, size=a.size + 1) if a == wheel else a for a in alpha.artifacts))
    tampered = replace(good, pins=tuple(stated if p is alpha else p for p in good.pins))
    project.lockfile.write_text(lockfile.dumps(tampered))  # digest and all consistent: only the size is wrong
    head = make_repo(root)
    said = f"python alpha 1.0: {wheel.name}: the lock states {wheel.size + 1} bytes, but the file with that sha256 has {wheel.size} bytes"
    cached = tmp_path / "cache" / "releaser" / "files" / wheel.sha256 / wheel.name

    # Downloaded: the bytes are refused, nothing is kept, nothing recorded, nothing tagged.
    done = project.releaser("cut")
    assert done.returncode == 1, done.stdout + done.stderr
    [line] = [line for line in done.stderr.splitlines() if "alpha" in line]
    assert said in line and "releaser check --online" in line
    assert not cached.exists() and not list(cached.parent.glob(".*"))  # no .unverified leftover either
    assert_untouched(root, head)

    # The honest lock cuts, its files kept as verified; the next cut fetches none of them again.
    # What no cut used for 30 days goes (the cache pruned at most once a day): an entry planted so.
    stale = cached.parent.parent / ("0" * 64) / "gone-1.0-py3-none-any.whl"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"a file no lock names any longer")
    for path in (stale, stale.parent):
        os.utime(path, (time.time() - 40 * 86_400,) * 2)
    project.lockfile.write_text(honest)
    commit_all(root, "the lock as written")
    assert project.releaser("cut").returncode == 0
    assert sha256(cached) == wheel.sha256
    assert not stale.parent.exists() and time.time() - cached.parent.stat().st_mtime < 3600  # used: marked now
    seen = len(populated.requests_seen)
    assert project.releaser("cut").returncode == 0
    assert not [r for r in populated.requests_seen[seen:] if r.startswith("/files/")]

    # Kept from an earlier cut: the same bytes, so the same refusal; the right file stays.
    project.lockfile.write_text(lockfile.dumps(tampered))
    head = commit_all(root, "a lock that misstates a size")
    with pytest.raises(Refused, match=re.escape(said)):
        cut(project.config())
    assert sha256(cached) == wheel.sha256
    assert_untouched(root, head, rc="0.9.0rc3", tags="v0.9.0rc1\nv0.9.0rc2")

    # `reproduce` of a record stating that size refuses it in the same words.
    write_record(root, "0.9.0rc9", tampered)
    done = project.releaser("reproduce", "0.9.0rc9", "--into", str(tmp_path / "again"))
    assert done.returncode == 3 and said.replace("the lock", "0.9.0rc9's record") in done.stderr, done.stderr


def test_a_git_pin_is_installed_by_its_commit_beside_the_verified_files(git_requirement, tmp_path):
    """The build environment: the index's files verified and installed offline, then the git pin by commit."""
    from releaser.ecosystems.python.buildenv import create_venv, installed_set
    from releaser.ecosystems.python.install import install_python

    project, _ = git_requirement
    locked = lock(project.config()).lock
    venv = create_venv(tmp_path / "venv")
    install_python(project.config(), locked, venv, tmp_path)
    assert installed_set(venv) == {"gitpkg": "1.0", "beta": "1.0"}


def test_the_verified_files_come_from_an_index_behind_a_password(make_project, tmp_path, monkeypatch):
    """releaser fetches the Python files itself now: with the credentials release.toml gives the index."""
    from loopback.pypi import PackageIndex
    from releaser.ecosystems.python.buildenv import create_venv, installed_set
    from releaser.ecosystems.python.install import install_python

    monkeypatch.setenv("INDEX_TOKEN", "s3cret/to+ken=")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no verified file kept from another test
    with PackageIndex(auth=("ci", "s3cret/to+ken=")) as index:
        index.publish("alpha", "1.0", uploaded=days(0))
        project = make_project(index.url.replace("http://", "http://ci:${INDEX_TOKEN}@"))
        locked = lock(project.config()).lock
        venv = create_venv(tmp_path / "venv")
        (tmp_path / "work").mkdir()
        install_python(project.config(), locked, venv, tmp_path / "work")
        assert [r for r in index.requests_seen if r.startswith("/files/")]  # fetched from the index, not a cache
    assert installed_set(venv) == {"alpha": "1.0"}


# -- dependency files, templates, tags, an empty build ------------------------------


def test_locked_files_fetched_custom_template_and_tag(populated, make_project, monkeypatch):
    """Maven (behind a password) and URL pins are fetched into dist/<rc>/deps/, sha256-verified."""
    from datetime import datetime

    from loopback.files import FileServer
    from loopback.maven import MavenRepository

    monkeypatch.setenv("MVN_TOKEN", "s3cret-token")
    deps_gate = (
        "import os, pathlib; d = pathlib.Path(os.environ['RELEASER_DEPS']); "
        "assert (d / 'artifact' / 'tzdata-2024a.tar.gz').read_bytes() == b'tz data 2024a\\n'; "
        "print(sorted(p.name for p in (d / 'maven').iterdir()))"
    )
    with FileServer() as files, MavenRepository(auth=("ci", "s3cret-token")) as maven:
        url = files.put("/data/tzdata-2024a.tar.gz", b"tz data 2024a\n")
        snapshot = maven.deploy_snapshot("org.cosmo", "ical", "1.0", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), 7, content=b"jar bytes")
        repository = maven.url.replace("http://", "http://ci:${MVN_TOKEN}@")
        project = make_project(populated.url)
        project.write(
            "release.toml",
            release_toml(
                populated.url,
                build="[]",
                gates=json.dumps([["python", "-c", deps_gate]]),
                more='templates = "release/templates"\ntag = "cosmo-{rc}"',
                extra=(
                    f'\n[[artifact]]\nname = "tzdata"\nurl = "{url}"\n'
                    f'\n[[maven]]\nrepository = "{repository}"\ndependencies = ["org.cosmo:ical:1.0-SNAPSHOT"]\n'
                ),
            ),
        )
        project.write(
            "release/templates/MANIFEST.md.j2",
            "RC {{ manifest.rc }} of {{ manifest.name }}\n{% for p in manifest.pins %}{{ p.kind }} {{ p.name }} {{ p.version | short }}\n{% endfor %}",
        )
        project.write(".gitignore", "/dist/\n")
        lock(project.config())
        root = project.root
        built_from = make_repo(root)

        # Upstream serving other bytes than the lock pinned: refused, nothing written.
        jar = f"ical-{snapshot}.jar"
        maven.tamper(jar, b"evil bytes")
        with pytest.raises(Refused, match=f"org.cosmo:ical {snapshot} file {jar}: upstream .* now has other bytes than the lock states"):
            cut(project.config())
        assert_untouched(root, built_from)
        maven.tamper(jar, b"jar bytes")

        result = cut(project.config(), commit=False)

    assert result.rc == "0.9.0rc1" and result.tag == "cosmo-0.9.0rc1" and result.record_commit is None
    deps = root / "dist" / "0.9.0rc1" / "deps"
    assert (deps / "artifact" / "tzdata-2024a.tar.gz").read_bytes() == b"tz data 2024a\n"
    assert (deps / "maven" / jar).read_bytes() == b"jar bytes"
    assert result.manifest["built"] == []  # an empty build builds nothing; deps/ is not a built file
    manifest_text = (result.record / "manifest.json").read_text()
    assert "s3cret" not in manifest_text and "org.cosmo:ical" in manifest_text
    page = (result.record / "MANIFEST.md").read_text()
    tz = hashlib.sha256(b"tz data 2024a\n").hexdigest()
    assert page == (
        f"RC 0.9.0rc1 of cosmo\npython alpha 1.0\npython beta 2.0\n"
        f"maven org.cosmo:ical {snapshot[:12]}…\nartifact tzdata {tz[:12]}…\n"
    )
    # The record's SBOM: valid CycloneDX 1.6, the RC named, the SNAPSHOT as its full timestamped build.
    sbom = validated_sbom((result.record / "sbom.cdx.json").read_text())
    assert {"name": "releaser:rc", "value": "0.9.0rc1"} in sbom["metadata"]["properties"]
    assert f"pkg:maven/org.cosmo/ical@{snapshot}" in {c["purl"] for c in sbom["components"]}
    # --no-commit: the record is left for the engineer to commit; the tag is on the built commit.
    assert git(root, "rev-parse", "HEAD") == built_from
    assert git(root, "rev-parse", "cosmo-0.9.0rc1^{commit}") == built_from
    assert git(root, "status", "--porcelain", "--untracked-files=all").splitlines() == [
        "?? releases/0.9.0rc1/MANIFEST.md", "?? releases/0.9.0rc1/manifest.json", "?? releases/0.9.0rc1/release.lock",
        "?? releases/0.9.0rc1/sbom.cdx.json",
    ]
    # ...so the next cut is refused until it is committed.
    with pytest.raises(Refused, match=r"not clean \(\?\? releases/0.9.0rc1/"):
        cut(project.config())


def test_release_settings_are_validated(tmp_path):
    def load(release: str) -> config_mod.ReleaseConfig:
        path = tmp_path / "release.toml"
        path.write_text(f'[release]\nname = "cosmo"\nversion = "0.9.0"\n{release}\n')
        return load_config(path)

    assert load("").release.tag == "v{rc}" and load("").release.templates is None
    assert load('templates = "t"\ntag = "release/{rc}"').release.templates == "t"
    with pytest.raises(ConfigError, match=r"release.toml:4: \[release\] templates: '/abs' must be a path inside the project"):
        load('templates = "/abs"')
    with pytest.raises(ConfigError, match=r"\[release\] tag: 'v1' must name the RC once as \{rc\}"):
        load('tag = "v1"')
    with pytest.raises(ConfigError, match=r"\[release\] tag"):
        load('tag = "{rc}-{name}"')
    # A pre-release version cannot have release candidates.
    cfg = replace(load(""), release=replace(load("").release, version="1.0a1"))
    with pytest.raises(ConfigError, match="not a PEP 440 release candidate"):
        numbering.rc_id(cfg, tmp_path, 1)


def test_the_default_template_is_found_in_a_checkout_and_packaged_for_wheels():
    import tomllib

    assert "manifest.rc" in manifest.default_template()
    root = Path(__file__).resolve().parents[3]
    setuptools = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["package-dir"]["releaser.templates"] == "templates"
    assert "*.j2" in setuptools["package-data"]["releaser.templates"]
    assert (root / "templates" / "MANIFEST.md.j2").is_file()
    # Every package under releaser/ is listed (discovery is off: see pyproject.toml).
    found = {
        ".".join(p.parent.relative_to(root).parts)
        for p in (root / "releaser").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found | {"releaser.templates"} == set(setuptools["packages"])


def test_manifest_md_lists_a_pin_with_a_wheel_per_platform_by_count(tmp_path):
    """29 pins with 30 wheels each made a 60 KB page; their digests are in release.lock and manifest.json."""
    from releaser.record.manifest import render_markdown

    (tmp_path / "release.toml").write_text('[release]\nname = "hc"\nversion = "1.0"\n')
    wheels = [{"name": f"cryptography-44.0-cp39-abi3-platform{i}.whl", "sha256": f"{i:064x}"} for i in range(30)]
    pins = [{"kind": "python", "name": f"pkg{n}", "version": "1.0", "date": None, "artifacts": wheels} for n in range(29)]
    pins.append({"kind": "python", "name": "asgiref", "version": "3.8", "date": None, "artifacts": [{"name": "asgiref-3.8-py3-none-any.whl", "sha256": "a" * 64}]})
    pins.append({"kind": "python", "name": "pywin32", "version": "306", "date": None, "artifacts": [], "marker": 'sys_platform == "win32"'})
    manifest = {
        "name": "hc", "rc": "1.0rc1", "version": "1.0", "commit": "0" * 40, "cut_at": "now", "as_of": "then",
        "lock_digest": "sha256:" + "0" * 64, "builder": {"python": "3.12", "platform": "linux", "releaser": "0.1", "resolver": "pip-tools"},
        "pins": pins, "built": [], "gates": [], "sbom": None, "tag": None,
    }
    page = render_markdown(load_config(tmp_path / "release.toml"), manifest)
    assert len(page.encode()) < 8_000, len(page.encode())
    assert "| pkg3 | 1.0 |  | 30 files (cryptography-44.0-cp39-abi3-platform0.whl, …), each sha256 in `release.lock`" in page
    assert f"asgiref-3.8-py3-none-any.whl `{'a' * 64}`" in page  # one file: named with its digest, as before
    assert '| pywin32; sys_platform == "win32" | 306 |' in page  # needed on one target: named with its marker
