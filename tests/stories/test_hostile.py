"""Hostile input: one line, the contract's exit code, no traceback, no secret, nothing outside the project.

Every case here was a traceback, a disclosure or a silently accepted edit before
(issue 14). The property-based half is tests/test_parsers_fuzz.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import days, run_releaser
from releaser.check.checking import check
from releaser.core import lockfile
from releaser.core.errors import ConfigError, UpstreamError
from releaser.core.lockfile import Artifact, Lock, Pin
from releaser.ecosystems import load_config, sources_for
from releaser.ecosystems.maven.metadata import artifact_metadata, snapshot_metadata
from releaser.lock.locking import input_records
from releaser.record import records

SECRET = "hunter2-env-s3cret"
INDEX = "https://pypi.example.org/simple"
SHA = "a" * 64


def project(root: Path, *, requirements: str = "alpha==1.0\n", python: str = "", release: str = "", extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "requirements.in").write_bytes(requirements.encode() if isinstance(requirements, str) else requirements)
    (root / "release.toml").write_text(
        f'[release]\nname = "cosmo"\nversion = "0.9.0"\n{release}\n'
        f'[python]\nrequirements = ["requirements.in"]\nindex-url = "{INDEX}"\n{python}\n{extra}',
        encoding="utf-8",
    )
    return root


def one_line(done) -> str:  # type: ignore[no-untyped-def]
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def honest_lock(root: Path, *pins: Pin, **changes: object) -> Lock:
    """A lock of `pins` whose header matches the project's inputs, written as `releaser lock` writes."""
    cfg = load_config(root / "release.toml")
    lock = Lock(days(10), "0.1.0", "none", input_records(cfg, sources_for(cfg)), {"python": (INDEX,)}, pins)
    lock = dataclasses.replace(lock, **changes)
    cfg.lockfile.write_text(lockfile.dumps(lock))
    return lock


def alpha() -> Pin:
    return Pin("python", "alpha", "1.0", INDEX, "alpha==1.0", days(1), (Artifact("alpha-1.0-py3-none-any.whl", f"{INDEX}/a.whl", SHA, 10),))


# -- 3. no traceback: each place a malformed input used to raise one -----------------


@pytest.mark.parametrize(
    ("requirements", "pyproject", "expected"),
    [
        (b"alpha\n\xff\xfe\n", None, "requirements.in: is not UTF-8 text"),
        (b"", b"[project]\ndependencies = ['\xff']\n", "pyproject.toml: is not UTF-8 text"),
        (b"", b"[project]\ndynamic = 5\n", "[project] dynamic must be a list of strings"),
    ],
    ids=["requirements-not-utf8", "pyproject-not-utf8", "dynamic-5"],
)
def test_malformed_python_inputs_are_bad_input(tmp_path: Path, requirements: bytes, pyproject: bytes | None, expected: str) -> None:
    root = project(tmp_path / "p", python="pyproject = true" if pyproject is not None else "")
    (root / "requirements.in").write_bytes(requirements or b"alpha\n")
    if pyproject is not None:
        (root / "pyproject.toml").write_bytes(pyproject)
    done = run_releaser(root, "check")
    assert done.returncode == 2 and expected in one_line(done)


def test_a_lock_with_a_source_that_is_not_a_list_is_bad_input(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    honest_lock(root, alpha())
    text = (root / "release.lock").read_text().replace("[sources]\n", "[sources]\nnpm = 5\n")
    (root / "release.lock").write_text(text)
    done = run_releaser(root, "check")
    assert done.returncode == 2 and "[sources] 'npm' is not a kind releaser pins" in one_line(done)


def test_hostile_maven_metadata_is_an_upstream_error() -> None:
    url = "https://repo.example.org/maven2/org/x/y/1.0-SNAPSHOT/maven-metadata.xml"
    with pytest.raises(UpstreamError, match="unreadable XML"):
        artifact_metadata(b'<?xml version="1.0" encoding="x-evil"?><metadata/>', url)
    snapshot = b"<metadata><versioning><snapshot><timestamp>20240101.120000</timestamp><buildNumber>\xc2\xb2</buildNumber></snapshot></versioning></metadata>"
    with pytest.raises(UpstreamError, match="malformed snapshot timestamp"):
        snapshot_metadata(snapshot, url)
    with pytest.raises(UpstreamError, match="malformed timestamp"):
        artifact_metadata("<metadata><versioning><lastUpdated>٢٠٢٤٠١٠١١٢٠٠٠٠</lastUpdated></versioning></metadata>".encode(), url)


@pytest.mark.parametrize("manifest", [b"[1, 2]", b"\xff", b'{"schema": 1, "rc": "0.9.0rc1", "pins": 5}'])
def test_a_malformed_manifest_is_reported_not_a_traceback(tmp_path: Path, manifest: bytes) -> None:
    root = project(tmp_path / "p")
    lock_bytes = lockfile.dumps(honest_lock(root, alpha())).encode()
    records.write(root / "releases", "0.9.0rc1", {"manifest.json": b"{}", "release.lock": lock_bytes})
    doc = manifest
    if manifest.startswith(b"{"):
        doc = json.dumps({**json.loads(manifest), "lock_digest": records.lock_digest(lock_bytes)}).encode()
    (root / "releases" / "0.9.0rc1" / "manifest.json").write_bytes(doc)
    shown = run_releaser(root, "show", "0.9.0rc1")
    assert shown.returncode in (1, 2) and "0.9.0rc1" in one_line(shown)
    listed = run_releaser(root, "list")
    assert listed.returncode == 1 and "NOT VERIFIED" in listed.stdout and "Traceback" not in listed.stderr


def test_an_unexpected_error_is_one_line_exit_3_with_the_traceback_only_under_debug(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from releaser import cli
    from releaser.check import checking

    root = project(tmp_path / "p")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError(f"internal state {SECRET}")

    monkeypatch.setattr(checking, "check", broken)
    done = CliRunner().invoke(cli.main, ["check", "-C", str(root)])
    assert done.exit_code == 3
    assert done.output.strip().startswith("releaser: this is a bug in releaser: KeyError (at test_hostile.py:")
    assert "Traceback" not in done.output and SECRET not in done.output
    debug = CliRunner().invoke(cli.main, ["--debug", "check", "-C", str(root)])
    assert debug.exit_code == 3 and "Traceback (most recent call last)" in debug.output


# -- 1. nothing outside the project, no line of a file echoed ---------------------------


@pytest.mark.parametrize(
    "requirements", ['"/proc/self/environ"', '"../outside.txt"', '"link.txt"'], ids=["absolute", "dotdot", "symlink"]
)
def test_a_requirements_path_outside_the_project_is_refused(tmp_path: Path, requirements: str) -> None:
    (tmp_path / "outside.txt").write_text(f"TOKEN={SECRET}\n")
    root = project(tmp_path / "p")
    (root / "link.txt").symlink_to(tmp_path / "outside.txt")
    toml = (root / "release.toml").read_text().replace('["requirements.in"]', f"[{requirements}]")
    (root / "release.toml").write_text(toml)
    done = run_releaser(root, "check", env={"DEPLOY_TOKEN": SECRET})
    assert done.returncode == 2 and "leads outside the project" in one_line(done)
    assert SECRET not in done.stderr + done.stdout


@pytest.mark.parametrize("include", ["-r ../outside.txt", "-c /proc/self/environ", "-r link.txt"])
def test_an_include_outside_the_project_is_refused(tmp_path: Path, include: str) -> None:
    (tmp_path / "outside.txt").write_text(f"TOKEN={SECRET}\n")
    root = project(tmp_path / "p", requirements=f"alpha\n{include}\n")
    (root / "link.txt").symlink_to(tmp_path / "outside.txt")
    done = run_releaser(root, "check", env={"DEPLOY_TOKEN": SECRET})
    assert done.returncode == 2 and "leads outside the project" in one_line(done)
    assert SECRET not in done.stderr + done.stdout


def test_an_invalid_requirement_is_named_without_echoing_its_line(tmp_path: Path) -> None:
    root = project(tmp_path / "p", requirements=f"alpha\nDEPLOY_TOKEN={SECRET} more\n")
    done = run_releaser(root, "check")
    line = one_line(done)
    assert done.returncode == 2 and "requirements.in:2: invalid requirement at column 13, after 'DEPLOY_TOKEN'" in line
    assert SECRET not in line


def test_a_symlinked_lockfile_folder_outside_the_project_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    root = project(tmp_path / "p", release='lockfile = "locks/release.lock"')
    (root / "locks").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ConfigError, match="must be a path inside the project"):
        load_config(root / "release.toml")


# -- 7. lock integrity ----------------------------------------------------------------


def test_duplicate_pins_are_refused_even_with_a_recomputed_digest(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    one = Pin("maven", "org.x:y", "1.0", "https://repo.example.org/maven2", "1.0", days(1), (Artifact("y-1.0.jar", "https://r/y.jar", SHA, 1),))
    honest_lock(root, alpha(), one, dataclasses.replace(one, version="2.0"))
    done = run_releaser(root, "check")
    assert done.returncode == 2 and "maven 'org.x:y' is pinned twice" in one_line(done)


def test_a_package_is_pinned_once_per_target_and_never_twice_for_one(tmp_path: Path) -> None:
    linux, windows = "sys_platform == 'linux' and python_version == '3.11'", "sys_platform == 'win32' and python_version == '3.12'"
    root = project(tmp_path / "p")
    one, other = dataclasses.replace(alpha(), marker=linux), dataclasses.replace(alpha(), version="2.0", marker=windows)
    honest_lock(root, one, other, environments=(linux, windows))
    assert [p.version for p in lockfile.read(root / "release.lock").pins] == ["1.0", "2.0"]  # one per target: read back
    honest_lock(root, one, dataclasses.replace(other, marker=f"({linux}) or ({windows})"), environments=(linux, windows))
    done = run_releaser(root, "check")
    assert done.returncode == 2 and "python 'alpha' is pinned twice" in one_line(done)


@pytest.mark.parametrize(
    "edit",
    [
        ("[sources]\npython = [", '[sources]\npython = ["https://evil.example.org/simple", '),
        ("resolver = ", 'resolver = "edited" #'),
        ('alpha = "alpha==1.0"', 'alpha = "alpha==9"'),
    ],
    ids=["index-url", "header", "inputs"],
)
def test_an_edit_anywhere_in_the_lock_shows_as_tampered(tmp_path: Path, edit: tuple[str, str]) -> None:
    root = project(tmp_path / "p")
    honest_lock(root, alpha())
    assert check(load_config(root / "release.toml")).ok
    text = (root / "release.lock").read_text()
    assert edit[0] in text
    (root / "release.lock").write_text(text.replace(edit[0], edit[1], 1))
    verdict = check(load_config(root / "release.toml"))
    assert [f.code for f in verdict.findings] == ["tampered"]
    exported = run_releaser(root, "export", "--format", "requirements", "-o", "-")
    assert exported.returncode == 1 and "evil" not in exported.stdout


@pytest.mark.parametrize("extra", ['npm = "x"\n', "[npm]\nx = 1\n", "[[python]]\nname = \"b\"\nversion = \"1\"\nsource = \"s\"\nmarkers = \"x\"\n"])
def test_unknown_keys_and_tables_are_refused(tmp_path: Path, extra: str) -> None:
    root = project(tmp_path / "p")
    honest_lock(root, alpha())
    text = (root / "release.lock").read_text()
    text = text.replace("lock-version = 1\n", "lock-version = 1\n" + extra) if "=" in extra.split("\n")[0] and "[" not in extra else text + extra
    (root / "release.lock").write_text(text)
    done = run_releaser(root, "check")
    assert done.returncode == 2 and "unknown key" in one_line(done)


def test_export_does_not_follow_an_index_url_release_toml_does_not_name(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    honest_lock(root, alpha(), sources={"python": ("https://evil.example.org/simple",)})  # digest recomputed
    done = run_releaser(root, "export", "--format", "requirements", "-o", "-")
    assert done.returncode == 1 and "not the ones release.toml names" in one_line(done)
    assert "evil" not in done.stdout


def test_a_lock_written_with_the_old_entries_only_digest_is_still_read(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    lock = honest_lock(root, alpha())
    text = (root / "release.lock").read_text()
    # as releaser 0.1 wrote it: the content-digest of the entries alone
    tables = [("python", lockfile._pin_table(p)) for p in lock.pins]
    old = "sha256:" + hashlib.sha256(json.dumps(tables, sort_keys=True, default=str).encode()).hexdigest()
    recorded = next(line for line in text.splitlines() if line.startswith("content-digest"))
    (root / "release.lock").write_text(text.replace(recorded, f'content-digest = "{old}"'))
    read = lockfile.read_recorded(root / "release.lock")
    assert read is not None and read[0].legacy_digest and read[1] == old
    assert check(load_config(root / "release.toml")).ok
    # an edited pin in an old lock still shows
    (root / "release.lock").write_text((root / "release.lock").read_text().replace('version = "1.0"', 'version = "1.1"'))
    assert [f.code for f in check(load_config(root / "release.toml")).findings if f.code == "tampered"] == ["tampered"]


# -- 10. validated with the config ------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "release", "expected"),
    [
        ("", 'tag = "-f{rc}"', "[release] tag: '-f{rc}' does not make a git tag name"),
        ('[[git]]\nname = "w"\nurl = "ext::sh -c touch% /tmp/pwned"\nref = "main"\n', "", "remote helper"),
        ('[[git]]\nname = "w"\nurl = "file:///srv/git/w.git"\nref = "main"\n', "", "unless allow-local = true"),
        ('[[git]]\nname = "w"\nurl = "/srv/git/w.git"\nref = "main"\n', "", "unless allow-local = true"),
    ],
    ids=["tag-option", "ext", "file", "path"],
)
def test_dangerous_settings_are_refused_before_anything_runs(tmp_path: Path, extra: str, release: str, expected: str) -> None:
    root = project(tmp_path / "p", release=release, extra=extra)
    done = run_releaser(root, "check")
    assert done.returncode == 2 and expected in one_line(done)


def test_a_local_git_repository_is_allowed_when_said_so(tmp_path: Path) -> None:
    root = project(tmp_path / "p", extra='[[git]]\nname = "w"\nurl = "file:///srv/git/w.git"\nref = "main"\nallow-local = true\n')
    assert load_config(root / "release.toml").inputs_of("git").items[0].url == "file:///srv/git/w.git"


def test_lock_does_not_keep_the_pins_of_a_hand_edited_lock(tmp_path: Path) -> None:
    from loopback.files import FileServer
    from releaser.lock.locking import lock

    with FileServer() as files:
        url = files.put("tz.tar.gz", b"tz 1\n")
        root = tmp_path / "p"
        root.mkdir()
        (root / "release.toml").write_text(f'[release]\nname = "c"\nversion = "1.0"\n[[artifact]]\nname = "tz"\nurl = "{url}"\n')
        first = lock(load_config(root / "release.toml")).lock
        text = (root / "release.lock").read_text()
        (root / "release.lock").write_text(text.replace("size = 5\n", "size = 6\n"))  # a hand edit, digest unchanged
        relocked = lock(load_config(root / "release.toml"))
    assert relocked.lock.pins[0].artifacts[0].size == 5  # resolved again, not the edit laundered into a valid digest
    assert relocked.lock.pins == first.pins and check(load_config(root / "release.toml")).ok


def test_a_direct_reference_to_a_local_git_repository_needs_allow_local(tmp_path: Path) -> None:
    root = project(tmp_path / "p", requirements="pkg @ git+file:///srv/git/pkg.git@main\n")
    done = run_releaser(root, "lock")
    assert done.returncode == 2 and "local git repository is refused unless [python] allow-local = true" in one_line(done)
    assert not (root / "release.lock").exists()
