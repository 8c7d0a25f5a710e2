"""`releaser check`: the CI gate, on real locks made against the loopback index.

Most tests share one real lock (made once per module, ~1.3 s) and copy its project;
the `--online` tests lock their own, since they change what the index serves. The
command line runs in its own process, as CI runs it, and every run is held to
writing nothing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from helpers import Project, days, python_project
from loopback.pypi import PackageIndex
from loopback.wheels import build_wheel
from releaser.check.checking import check, floats
from releaser.core import config, lockfile
from releaser.core.lockfile import Artifact, Lock, Pin
from releaser.ecosystems import load_config, sources_for
from releaser.ecosystems.upstream import verify_generic
from releaser.lock.locking import config_entries, input_records, lock
from releaser.plumbing.http import Http

FORBIDDEN = ("pip", "piptools", "requests", "urllib3", "jinja2", "defusedxml", "tomli_w")


def files_state(root: Path) -> dict[str, tuple[bytes, int] | None]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns) if p.is_file() else None
        for p in sorted(root.rglob("*"))
    }


def run_check(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    """`releaser check ARGS` in the project; it must leave every file, and mtime, as it was."""
    before = files_state(project.root)
    done = project.releaser("check", *args)
    assert files_state(project.root) == before, "releaser check wrote to the project"
    assert "Traceback" not in done.stderr, done.stderr
    return done


def verdict(project: Project, *args: str) -> tuple[int, dict]:
    done = run_check(project, "--json", *args)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def findings(doc: dict) -> set[tuple[str, str, str]]:
    return {(f["code"], f["subject"], f["message"]) for f in doc["findings"]}


# -- one real lock, shared --------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project (requirements.in: alpha; pyproject: beta>=1) locked for real: alpha 1.0, beta 2.0."""
    root = tmp_path_factory.mktemp("check") / "project"
    with PackageIndex() as index:
        index.publish("alpha", "1.0", requires=["beta>=1"], uploaded=days(0))
        index.publish("beta", "1.0", uploaded=days(1))
        index.publish("beta", "2.0", uploaded=days(30))
        project = python_project(root, index.url, python="pyproject = true")
        project.write("pyproject.toml", '[project]\nname = "cosmo"\nversion = "0.9.0"\ndependencies = ["beta>=1"]\n')
        lock(project.config())
        yield root


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Project:
    root = tmp_path / "project"
    shutil.copytree(template, root)
    return Project(root)


def index_url(project: Project) -> str:
    return re.search(r'index-url = "([^"]+)"', (project.root / "release.toml").read_text()).group(1)


def hand_edit(project: Project, edit) -> None:  # type: ignore[no-untyped-def]
    """Rewrite the lock's entries with `edit(lock)`, keeping the old header digest, as a hand edit does."""
    text = project.lockfile.read_text()
    old_digest = re.search(r'^content-digest = ".*"$', text, re.M).group(0)
    edited = lockfile.dumps(edit(lockfile.read(project.lockfile)))
    project.lockfile.write_text(re.sub(r'^content-digest = ".*"$', old_digest, edited, flags=re.M))


# -- offline ----------------------------------------------------------------------


def test_a_fresh_lock_passes(project: Project) -> None:
    done = run_check(project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "release.lock is fresh: 2 pins, 3 inputs unchanged, nothing floats"
    code, doc = verdict(project)
    assert (code, doc) == (0, {"schema": 1, "ok": True, "exit": 0, "lockfile": "release.lock", "findings": []})

    # Comments, blank lines and order are not requirements: still fresh.
    project.write("requirements.in", "# the application\n\nalpha   # no upper bound\n")
    assert run_check(project).returncode == 0


@pytest.mark.parametrize(
    "path, text, expected",
    [
        (
            "requirements.in",
            "alpha\ngamma>=2\n",
            {
                ("stale", "requirements.in", "requirement added: gamma>=2"),
                ("uncovered", "requirements.in", "requires gamma>=2, which release.lock does not pin"),
            },
        ),
        ("requirements.in", "# nothing any more\n", {("stale", "requirements.in", "requirement removed: alpha")}),
        ("requirements.in", "alpha>=1\n", {("stale", "requirements.in", "requirement changed: alpha -> alpha>=1")}),
        (  # a requirement this interpreter does not need is stale, but not uncovered
            "requirements.in",
            "alpha\ngamma; python_version < '3'\n",
            {("stale", "requirements.in", 'requirement added: gamma; python_version < "3"')},
        ),
        (
            "pyproject.toml",
            '[project]\nname = "cosmo"\nversion = "0.9.0"\ndependencies = ["beta>=2"]\n',
            {("stale", "pyproject.toml", "requirement changed: beta>=1 -> beta>=2")},
        ),
    ],
    ids=["added", "removed", "changed", "marker", "pyproject"],
)
def test_a_changed_requirement_is_named(project: Project, path: str, text: str, expected: set) -> None:
    project.write(path, text)
    code, doc = verdict(project)
    assert code == 1 and doc["ok"] is False
    assert findings(doc) == expected
    assert {f["fix"] for f in doc["findings"]} == {"releaser lock"}
    assert {f["severity"] for f in doc["findings"]} == {"error"}


def test_a_changed_index_is_named_and_the_output_is_one_line_each(project: Project) -> None:
    old = index_url(project)
    toml = project.root / "release.toml"
    toml.write_text(toml.read_text().replace(old, "http://127.0.0.1:9/simple"))
    done = run_check(project)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"stale: release.toml: [python] index-url changed: {old} -> http://127.0.0.1:9/simple",
        "release.lock: 1 problem; run: releaser lock",
    ]


def test_an_entry_edited_to_float_is_floating_and_tampered(project: Project) -> None:
    hand_edit(project, lambda lk: replace(lk, pins=tuple(replace(p, artifacts=()) if p.name == "beta" else p for p in lk.pins)))
    code, doc = verdict(project)
    assert code == 1
    assert findings(doc) == {
        ("tampered", "release.lock", "was edited by hand: its entries do not match the header's content-digest"),
        ("floating", "python beta 2.0", "has no hashed files"),
    }
    assert {f["code"]: f["fix"] for f in doc["findings"]}["floating"] == "releaser lock --upgrade beta"
    assert run_check(project).stdout.splitlines()[-1] == "release.lock: 2 problems; run: releaser lock --upgrade beta"


def test_a_hand_edited_version_is_tampered(project: Project) -> None:
    text = project.lockfile.read_text()
    edited = text.replace('name = "alpha"\nversion = "1.0"', 'name = "alpha"\nversion = "1.1"')
    assert edited != text
    project.lockfile.write_text(edited)
    code, doc = verdict(project)
    assert code == 1
    assert findings(doc) == {("tampered", "release.lock", "was edited by hand: its entries do not match the header's content-digest")}


def test_no_lock_at_all(project: Project) -> None:
    project.lockfile.unlink()
    done = run_check(project)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "missing-lock: release.lock: there is no release.lock: nothing is pinned yet",
        "release.lock: 1 problem; run: releaser lock",
    ]
    code, doc = verdict(project)
    assert code == 1 and [f["code"] for f in doc["findings"]] == ["missing-lock"]


@pytest.mark.parametrize(
    "name, edit, message",
    [
        ("release.lock", lambda t: t.replace("[sources]", "[sources"), r"release.lock: invalid TOML: .*line \d+"),
        ("release.lock", lambda t: t.replace("lock-version = 1", "lock-version = 99"), r"release.lock: lock-version 99 .*upgrade releaser"),
        ("release.lock", lambda t: t.replace('version = "1.0"', "version = 10", 1), r"release.lock: \[\[python\]\] #1 version has the wrong type"),
        ("release.lock", lambda t: re.sub(r'^digest = "sha256:\w+"', "digest = 5", t, count=1, flags=re.M), r'release.lock: \[inputs."pyproject.toml"\] digest has the wrong type'),
        ("release.toml", lambda t: t.replace("[python]", "[python"), r"release.toml: invalid TOML"),
        ("release.toml", lambda t: t.replace("pyproject = true", "pyproject = 1"), r"release.toml:\d+: \[python\] pyproject: must be true or false"),
    ],
    ids=["lock-toml", "lock-version", "lock-type", "inputs-type", "config-toml", "config-type"],
)
def test_bad_input_is_exit_2_naming_file_and_place(project: Project, name: str, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    path = project.root / name
    path.write_text(edit(path.read_text()))
    done = run_check(project)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    assert re.search(message, done.stderr), done.stderr
    # With --json the error is a JSON document on stdout, and nothing else is printed.
    done = run_check(project, "--json")
    assert done.returncode == 2 and done.stderr == "", done.stdout + done.stderr
    document = json.loads(done.stdout)
    assert document["ok"] is False and document["exit"] == 2 and re.search(message, document["error"])


def offline_imports(root: Path) -> dict:
    """Run the offline check in a fresh interpreter; report its exit code and what it loaded of FORBIDDEN."""
    script = textwrap.dedent(
        f"""
        import json, sys
        from releaser.cli import main
        try:
            main(["check", "-C", {str(root)!r}])
        except SystemExit as exit:
            code = exit.code
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {FORBIDDEN!r})
        print(json.dumps({{"code": code, "loaded": loaded}}))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_offline_check_imports_no_resolver_or_network_stack(project: Project, tmp_path: Path) -> None:
    assert offline_imports(project.root) == {"code": 0, "loaded": []}
    # git and artifact inputs too (no lock: exit 1, but nothing heavy loaded to say so)
    other = tmp_path / "other"
    other.mkdir()
    (other / "release.toml").write_text(
        '[release]\nname = "c"\nversion = "1.0"\n\n[[git]]\nname = "w"\nurl = "https://git.example.org/w.git"\n'
        'ref = "main"\n\n[[artifact]]\nname = "tz"\nurl = "https://example.org/tz.tar.gz"\n'
        '\n[[maven]]\nrepository = "https://repo.example.org/maven2"\ndependencies = ["org.x:y:1.0-SNAPSHOT"]\n'
    )
    assert offline_imports(other) == {"code": 1, "loaded": []}


# -- other kinds, offline (synthesized locks: these sources' own tests lock for real) --


def other_kinds(root: Path, *, ref: str = "main", url: str = "https://example.org/tzdata.tar.gz", z: str = "2.0") -> config.ReleaseConfig:
    root.mkdir(exist_ok=True)
    (root / "release.toml").write_text(
        textwrap.dedent(
            f"""
            [release]
            name = "cosmo"
            version = "0.9.0"

            [[maven]]
            repository = "https://repo.example.org/maven2"
            dependencies = ["org.x:y:1.0-SNAPSHOT", "org.x:z:{z}"]

            [[git]]
            name = "windmill"
            url = "https://git.example.org/windmill.git"
            ref = "{ref}"

            [[artifact]]
            name = "tzdata"
            url = "{url}"
            """
        )
    )
    return load_config(root / "release.toml")


def test_other_kinds_floating_uncovered_and_stale(tmp_path: Path) -> None:
    cfg = other_kinds(tmp_path)
    pins = (
        Pin("maven", "org.x:y", "1.0-SNAPSHOT", "https://repo.example.org/maven2", "1.0-SNAPSHOT"),
        Pin("git", "windmill", "main", "https://git.example.org/windmill.git", "main"),
    )
    synthesized = Lock(days(40), "0.1.0", "none", input_records(cfg, sources_for(cfg)), {}, pins)
    cfg.lockfile.write_text(lockfile.dumps(synthesized))
    assert findings(check(cfg).to_dict()) == {
        ("floating", "maven org.x:y 1.0-SNAPSHOT", "is a -SNAPSHOT, not a timestamped build"),
        ("floating", "git windmill main", "'main' is not a full commit id (a branch or tag can move)"),
        ("uncovered", "release.toml", "Maven dependency org.x:z:2.0 is not pinned in release.lock"),
        ("uncovered", "release.toml", "artifact tzdata is not pinned in release.lock"),
    }

    cfg = other_kinds(tmp_path, ref="v2", url="https://example.org/tzdata-2.tar.gz", z="2.1")
    stale = {(f.subject, f.message) for f in check(cfg).findings if f.code == "stale"}
    assert stale == {
        ("release.toml", "git windmill changed: ref main -> v2"),
        ("release.toml", "artifact tzdata changed: url https://example.org/tzdata.tar.gz -> https://example.org/tzdata-2.tar.gz"),
        ("release.toml", "Maven dependency org.x:z changed: version 2.0 -> 2.1"),
    }


def test_what_floats() -> None:
    sha = "a" * 64
    hashed = (Artifact("f", "https://x/f", sha, 1),)

    def pin(kind: str, version: str, artifacts: tuple = hashed) -> Pin:
        return Pin(kind, "n", version, "https://x", artifacts=artifacts)

    exact = [
        pin("python", "1.0"),
        replace(pin("python", "1.0", ()), commit="0" * 40),  # pkg @ git+URL@ref, pinned to its commit
        pin("python", sha),  # pkg @ https://.../archive-without-a-version.tar.gz
        pin("maven", "1.0-20240101.120000-3"),
        pin("maven", "2.1"),
        pin("git", "0" * 40, ()),
        pin("artifact", sha),
    ]
    assert [floats(p) for p in exact] == [None] * len(exact)
    floating = [
        pin("python", "1.0", ()),
        pin("python", ">=1.0"),
        pin("python", "1.0", (Artifact("f", "https://x/f", "", 1),)),
        replace(pin("python", "1.0", ()), commit="main"),
        pin("maven", "1.0-SNAPSHOT"),
        pin("maven", "LATEST"),
        pin("maven", "RELEASE"),
        pin("maven", "[1.0,2.0)"),
        pin("maven", "2.1", ()),
        pin("git", "v1.2", ()),
        pin("git", "abc123", ()),
        pin("artifact", sha, ()),
    ]
    assert all(floats(p) for p in floating), [p for p in floating if not floats(p)]


def test_the_lock_header_records_entries_without_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDEX_TOKEN", "s3cret-token")
    (tmp_path / "requirements.in").write_text("alpha\n")
    (tmp_path / "release.toml").write_text(
        '[release]\nname = "c"\nversion = "1.0"\n\n[python]\nrequirements = ["requirements.in"]\n'
        'index-url = "https://user:${INDEX_TOKEN}@index.example.org/simple"\n'
        '\n[[artifact]]\nname = "tz"\nurl = "https://bot:${INDEX_TOKEN}@files.example.org/tz.tar.gz"\n'
    )
    cfg = load_config(tmp_path / "release.toml")
    entries = config_entries(cfg)
    assert entries["python"] == {"index-url": "https://index.example.org/simple", "requirements": "requirements.in"}
    assert entries["artifact"] == {"tz": {"url": "https://files.example.org/tz.tar.gz"}}
    text = lockfile.dumps(Lock(days(1), "0.1.0", "none", input_records(cfg, sources_for(cfg))))
    assert "s3cret" not in text and "user" not in text


# -- online -----------------------------------------------------------------------


def test_online_reports_a_newer_release_as_information(populated: PackageIndex, make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project(populated.url)
    lock(project.config(), as_of=days(10))  # alpha 1.0, beta 1.0; beta 2.0 came later
    code, doc = verdict(project, "--online")
    assert code == 0 and doc["ok"] is True
    assert doc["findings"] == [
        {
            "code": "newer",
            "severity": "info",
            "subject": "python beta 1.0",
            "message": f"2.0 is on {populated.url}",
            "fix": "releaser lock --upgrade beta",
        }
    ]
    done = run_check(project, "--online")
    assert done.returncode == 0
    assert done.stdout.splitlines()[-1] == "release.lock is fresh: 2 pins, 2 inputs unchanged, every pinned file verified upstream"


def test_online_does_not_offer_an_upgrade_the_inputs_pin_with_double_equals(populated: PackageIndex, make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project(populated.url, requirements="alpha\nbeta==1.0\n")
    lock(project.config())  # beta 2.0 is there, but the inputs ask for 1.0
    code, doc = verdict(project, "--online")
    assert code == 0
    [newer] = [f for f in doc["findings"] if f["code"] == "newer"]
    assert newer["subject"] == "python beta 1.0" and "the inputs ask for beta==1.0" in newer["message"]
    assert newer["fix"] == "change beta==1.0 in your requirements, then releaser lock"


def test_online_catches_files_gone_changed_and_yanked_upstream(populated: PackageIndex, make_project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = make_project(populated.url)
    lock(project.config())  # alpha 1.0, beta 2.0
    assert run_check(project, "--online").returncode == 0

    populated.remove("alpha-1.0-py3-none-any.whl")
    populated.remove("beta-2.0-py3-none-any.whl")  # ... and put back other bytes, yanked
    (tmp_path / "other").mkdir()
    other = build_wheel(tmp_path / "other", "beta", "2.0", files={"beta/extra.txt": "not what was locked"})
    populated.add(other, uploaded=days(30), yanked="broken metadata")

    code, doc = verdict(project, "--online")
    assert code == 1
    got = {(f["code"], f["subject"]): f["message"] for f in doc["findings"]}
    assert set(got) == {("gone", "python alpha 1.0"), ("hash-changed", "python beta 2.0"), ("yanked", "python beta 2.0")}
    assert got[("gone", "python alpha 1.0")] == f"{populated.url} no longer lists alpha at all"
    assert got[("hash-changed", "python beta 2.0")].startswith("beta-2.0-py3-none-any.whl: ")
    assert run_check(project, "--online").stdout.splitlines()[-1] == "release.lock: 3 problems; run: releaser lock --upgrade alpha beta"


def test_generic_online_verification_of_artifacts_and_git_commits(populated: PackageIndex, tmp_path: Path) -> None:
    repo = tmp_path / "windmill"
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "one"], check=True)
    first = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "two"], check=True)

    files = populated.url.removesuffix("/simple") + "/files/"
    wheel = "alpha-1.0-py3-none-any.whl"
    real = next(a for a in _index_artifacts(populated) if a.name == wheel)
    pins = (
        Pin("artifact", "good", real.sha256, files + wheel, artifacts=(real,)),
        Pin("artifact", "changed", "0" * 64, files + wheel, artifacts=(replace(real, sha256="0" * 64),)),
        Pin("artifact", "gone", real.sha256, files + "nothing.tar.gz", artifacts=(replace(real, url=files + "nothing.tar.gz"),)),
        Pin("git", "windmill", first, str(repo), "main"),  # main moved on; the commit is still there
        Pin("git", "windmill", "1" * 40, str(repo), "main"),  # no such commit
    )
    with Http() as http:
        found = {(f.code, f.subject) for f in verify_generic(pins, http)}
    assert found == {
        ("hash-changed", f"artifact changed {'0' * 64}"),
        ("gone", f"artifact gone {real.sha256}"),
        ("newer", f"git windmill {first}"),
        ("gone", f"git windmill {'1' * 40}"),  # gone says it all: no "newer" beside it
    }


def _index_artifacts(index: PackageIndex) -> list[Artifact]:
    from releaser.ecosystems.python.index import PackageIndexReader

    with Http() as http:
        reader = PackageIndexReader(http, (index.url,))
        return list(reader.version_files("alpha", "1.0", cutoff=days(1000), dated=False).artifacts)


def test_online_with_upstream_unreachable_is_exit_3(make_project) -> None:  # type: ignore[no-untyped-def]
    with PackageIndex() as gone:
        gone.publish("alpha", "1.0", uploaded=days(0))
        project = make_project(gone.url)
        lock(project.config())
        origin = gone.url.removesuffix("/simple")
    # The index is shut down: nothing answers on its port any more.
    assert run_check(project).returncode == 0  # offline, nothing is asked upstream
    done = run_check(project, "--online")
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stdout == "" and done.stderr.startswith("releaser: ") and origin in done.stderr, done.stderr
    done = run_check(project, "--online", "--json")  # the same error, as JSON on stdout
    assert done.returncode == 3 and done.stderr == "", done.stdout + done.stderr
    assert json.loads(done.stdout)["exit"] == 3 and origin in json.loads(done.stdout)["error"]
