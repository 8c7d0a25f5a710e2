"""Hostile input, second pass (issue 26): no code runs, no secret leaks, nothing is read or
written through a symlink that leaves the project, a killed run leaves nothing behind.

Each case was a defect on main before; the parser and limit cases are in their own stages' tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote, urlsplit

import markdown_it
import pytest

from helpers import days, python_project, run_releaser
from loopback.files import FileServer
from loopback.pypi import PackageIndex
from migration_projects import alembic_project
from recorded import write_record
from releaser.core import config, lockfile
from releaser.core.lockfile import Artifact, Lock, Pin
from releaser.ecosystems import load_config
from releaser.record import records
from releaser.record.manifest import render_markdown
from releaser.rehearse.revertplan import plan_from_records

# Each one runs a command if pasted unquoted into a shell line, a comment or an `echo "..."`.
PWN = "touch PWNED"
HOSTILE_REVISIONS = (
    "a$(touch PWNED)",
    "b`touch PWNED`",
    "c'; touch PWNED; '",
    'd"; touch PWNED; "',
    "e\ntouch PWNED\n",
)


def _alembic_project(root: Path) -> config.ReleaseConfig:
    (root / "migrations" / "versions").mkdir(parents=True)
    # A newline in the name ends any comment line it is pasted into.
    (root / "release.toml").write_text(
        '[release]\nname = "shop\\ntouch PWNED\\n$(touch PWNED)"\nversion = "2.0.0"\n'
        '[migrations]\nframework = "alembic"\npaths = ["migrations/versions"]\n',
        encoding="utf-8",
    )
    return load_config(root / "release.toml")


def _record(root: Path, rc: str, revisions: tuple[str, ...]) -> None:
    """An RC's record as `cut` writes it: its lock copy, its digest, its migration graph (a chain)."""
    data = lockfile.dumps(Lock(days(0), "0", "pip-compile")).encode()
    chain = [
        {"app": "alembic", "name": rev, "file": f"migrations/versions/{i}.py", "digest": "sha256:" + "0" * 64,
         "reversible": True, "parents": [f"alembic.{revisions[i - 1]}"] if i else []}
        for i, rev in enumerate(revisions)
    ]
    manifest = {
        "schema": records.SCHEMA, "rc": rc, "lock_digest": records.lock_digest(data),
        "migrations": {"framework": "alembic", "migrations": chain},
    }
    records.write(root / "releases", rc, {"manifest.json": json.dumps(manifest).encode(), "release.lock": data})


FAKE_ALEMBIC = """\
#!{python}
# Stands in for the deployed project's alembic: remembers the revision it was taken to.
import pathlib, sys
state = pathlib.Path({state!r})
with open({log!r}, "a") as log:
    log.write(repr(sys.argv[1:]) + "\\n")
if sys.argv[1] == "downgrade":
    state.write_text(sys.argv[2])
elif sys.argv[1] == "current":
    print(state.read_text() + " (head)")
"""


@pytest.mark.parametrize("hostile", HOSTILE_REVISIONS, ids=["dollar-paren", "backticks", "single-quote", "double-quote", "newline"])
def test_revert_sh_runs_no_name_it_carries(tmp_path: Path, hostile: str) -> None:
    root = tmp_path / "project"
    cfg = _alembic_project(root)
    _record(root, "2.0.0rc1", (hostile,))
    _record(root, "2.0.0rc2", (hostile, hostile + "-next"))
    script = plan_from_records(cfg, "2.0.0rc2").script()

    checked = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr

    bin_dir, state, log = tmp_path / "bin", tmp_path / "state", tmp_path / "alembic.log"
    bin_dir.mkdir()
    state.write_text(hostile + "-next")
    fake = bin_dir / "alembic"
    fake.write_text(FAKE_ALEMBIC.format(python=sys.executable, state=str(state), log=str(log)))
    fake.chmod(0o755)
    (root / "revert.sh").write_text(script)
    (tmp_path / "live.sqlite3").write_bytes(b"")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'live.sqlite3'}",
           "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), os.environ["PATH"]])}
    for shell in ("sh", "bash"):
        done = subprocess.run([shell, "revert.sh"], cwd=root, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "reverted to 2.0.0rc1's schema" in done.stdout
    assert not list(tmp_path.rglob("PWNED")), "a name in the record ran as a command"
    # The revision went to alembic as one argument, byte for byte.
    assert f"{['downgrade', hostile]!r}" in log.read_text().splitlines()
    assert state.read_text() == hostile


def test_manifest_md_shows_hostile_names_as_text(tmp_path: Path) -> None:
    root = tmp_path / "project"
    cfg = _alembic_project(root)
    evil = "x` | <img src=x onerror=alert(1)> [click](javascript:alert(1)) |\n# heading"
    manifest = {
        "name": "shop", "rc": "2.0.0rc1", "version": "2.0.0", "commit": "c" * 40, "cut_at": "now", "as_of": "then",
        "lock_digest": "sha256:0", "builder": {"python": "3", "platform": "linux", "releaser": "0", "resolver": evil},
        "pins": [{"kind": "python", "name": evil, "version": "1.0", "date": None, "artifacts": [{"name": evil, "sha256": "sha256:0"}]}],
        "built": [], "gates": [["sh", "-c", evil]], "sbom": None, "tag": evil,
        "migrations": {
            "framework": "alembic", "new": [f"alembic.{evil}"], "previous": None, "accepted": [],
            "heads": {"alembic": [evil]},
            "migrations": [{"app": "alembic", "name": evil, "file": evil, "reversible": False}],
        },
    }
    page = render_markdown(cfg, manifest)
    html = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(page)  # raw HTML on
    assert "<img" not in html and "<a " not in html and "<h1>heading" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown, as text
    # No value added a table cell, a heading or a line.
    for table in re.findall(r"<table>.*?</table>", html, re.S):
        header = len(re.findall(r"<th[ >]", table))
        assert all(len(re.findall(r"<td[ >]", row)) == header for row in re.findall(r"<tr>(.*?)</tr>", table, re.S) if "<td" in row)
    assert not re.search(r"^#+ heading", page, re.M)


# -- a credential with URL syntax in it, from ${VAR}: never printed in any form -------------

TOKEN = "ab/cd+ef==%2Fgh?i#j"  # base64's `/`, `+`, `=`, a percent-encoded form, a query and a fragment


def _forms(secret: str) -> set[str]:
    basic = f"ci:{secret}".encode()
    return {secret, quote(secret, safe=""), quote_plus(secret), unquote(secret), "ab/cd", "cd+ef",
            base64.b64encode(basic).decode(), base64.urlsafe_b64encode(basic).decode()}


def _assert_secret_absent(*texts: str) -> None:
    for text in texts:
        found = sorted(form for form in _forms(TOKEN) if form in text)
        assert not found, f"{found} in {text!r}"


@pytest.fixture
def slashed_index():
    with PackageIndex(auth=("ci", TOKEN)) as index:
        index.publish("alpha", "1.0", uploaded=days(0))
        yield index


def test_a_credential_with_url_syntax_reaches_the_index_and_no_output(slashed_index: PackageIndex, tmp_path: Path) -> None:
    url = slashed_index.url.replace("http://", "http://ci:${IDX_TOKEN}@")
    project = python_project(tmp_path / "p", url, requirements="alpha\n")
    env = {"IDX_TOKEN": TOKEN}
    done = project.releaser("lock", env=env)
    assert done.returncode == 0, done.stderr  # the whole token went to the index as its password
    _assert_secret_absent(done.stdout, done.stderr, project.lockfile.read_text())

    # Errors from lock, as text and as JSON.
    (project.root / "requirements.in").write_text("alpha\nno-such-thing\n")
    for args in (("lock",), ("lock", "--json")):
        failed = project.releaser(*args, env=env)
        assert failed.returncode == 2 and "no-such-thing" in failed.stdout + failed.stderr
        _assert_secret_absent(failed.stdout, failed.stderr)
    unreachable = python_project(tmp_path / "q", "http://ci:${IDX_TOKEN}@127.0.0.1:9/simple", requirements="alpha\n")
    for args in (("lock",), ("lock", "--json")):
        failed = unreachable.releaser(*args, env=env)
        assert failed.returncode == 3 and "127.0.0.1:9" in failed.stdout + failed.stderr
        _assert_secret_absent(failed.stdout, failed.stderr)

    # export, when release.toml names another index than the lock was made against.
    (project.root / "requirements.in").write_text("alpha\n")
    text = (project.root / "release.toml").read_text().replace("/simple", "/mirror/simple")
    (project.root / "release.toml").write_text(text)
    exported = project.releaser("export", "--format", "requirements", "-o", "-", env=env)
    assert exported.returncode == 1 and "not the ones release.toml names" in exported.stderr
    _assert_secret_absent(exported.stdout, exported.stderr)


def test_rehearse_never_prints_a_database_password_with_url_syntax(tmp_path: Path) -> None:
    root = tmp_path / "project"
    _alembic_project(root)
    with (root / "release.toml").open("a") as f:
        f.write('database = "postgresql://ci:${PGPW}@127.0.0.1:9/shop"\n')
    (root / "release.lock").write_text(lockfile.dumps(Lock(days(0), "0", "pip-compile")))
    for args in (("rehearse",), ("rehearse", "--json")):
        done = run_releaser(root, *args, env={"PGPW": TOKEN})
        assert done.returncode == 3 and "127.0.0.1:9" in done.stdout + done.stderr, done.stdout + done.stderr
        _assert_secret_absent(done.stdout, done.stderr)


# -- a stopped lock leaves no file holding a password ---------------------------------------

NETRC_SECRET = "netrc-pw-0f9e8d7c"


def _files_holding(folder: Path, secret: str) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink() and secret.encode() in path.read_bytes():
                found.append(path)
        except OSError:
            pass
    return found


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "SIGKILL"])
def test_a_stopped_lock_leaves_no_private_netrc(tmp_path: Path, how: str) -> None:
    with PackageIndex(auth=("ci", NETRC_SECRET), delay=0.5) as index:  # slow: the lock is caught mid-resolution
        index.publish("alpha", "1.0", uploaded=days(0))
        project = python_project(tmp_path / "p", index.url.replace("http://", "http://ci:${IDX_TOKEN}@"))
        temp = tmp_path / "temp"
        temp.mkdir()
        env = {**os.environ, "IDX_TOKEN": NETRC_SECRET, "TMPDIR": str(temp), "XDG_RUNTIME_DIR": ""}
        lock = subprocess.Popen([sys.executable, "-m", "releaser", "lock"], cwd=project.root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while not _files_holding(temp, NETRC_SECRET):  # pip's netrc is written: the resolver is running
                assert lock.poll() is None and time.monotonic() < deadline, lock.communicate()
                time.sleep(0.05)
            lock.send_signal(getattr(signal, how))
            _out, err = lock.communicate(timeout=120)
        finally:
            if lock.poll() is None:
                lock.kill()
        if how == "SIGKILL":
            assert lock.returncode == -signal.SIGKILL
            # The next run removes what the killed one could not.
            again = subprocess.run([sys.executable, "-m", "releaser", "lock"], cwd=project.root, env=env,
                                   capture_output=True, text=True, timeout=300)
            assert again.returncode == 0, again.stderr
        else:
            assert lock.returncode == 130 and "interrupted" in err, err
        assert _files_holding(temp, NETRC_SECRET) == []


# -- migration files: no device, FIFO or symlink leaving the project is read -----------------

MIGRATION = '''revision = "{rev}"\ndown_revision = None\n\ndef upgrade():\n    pass\n\ndef downgrade():\n    pass\n'''


def _limited() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # a runaway read fails here, not on the machine


@pytest.mark.parametrize("case", ["dev-zero", "dev-stdin", "fifo", "file-outside", "folder-outside"])
def test_a_migration_that_is_not_a_file_of_the_project_is_refused(tmp_path: Path, case: str) -> None:
    project = alembic_project(tmp_path / "shop", git=False)
    project.release_toml('framework = "alembic"\npaths = ["alembic/versions"]\n')
    versions = project.root / "alembic" / "versions"
    (versions / "a1_first.py").write_text(MIGRATION.format(rev="a1"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "b1_other.py").write_text(MIGRATION.format(rev="b1"))
    named = {"dev-zero": "zero.py", "dev-stdin": "stdin.py", "fifo": "pipe.py", "file-outside": "b1_other.py", "folder-outside": "alembic/versions"}[case]
    if case == "dev-zero":
        (versions / "zero.py").symlink_to("/dev/zero")
    elif case == "dev-stdin":
        (versions / "stdin.py").symlink_to("/dev/stdin")
    elif case == "fifo":
        os.mkfifo(versions / "pipe.py")
    elif case == "file-outside":
        (versions / "b1_other.py").symlink_to(elsewhere / "b1_other.py")
    else:
        shutil.rmtree(versions)
        versions.symlink_to(elsewhere)
    keep_open, writer = os.pipe()  # its stdin never ends: a read of it would wait forever
    try:
        done = subprocess.run([sys.executable, "-m", "releaser", "migrations"], cwd=project.root, stdin=keep_open,
                              capture_output=True, text=True, timeout=60, preexec_fn=_limited)
    finally:
        os.close(keep_open), os.close(writer)
    out, err = done.stdout, done.stderr
    assert done.returncode == 2, out + err
    assert len(err.strip().splitlines()) == 1 and named in err, err
    assert "Traceback" not in err


# -- reproduce, bundle and records: nothing written or read through a symlink leading out ---------

RC = "0.9.0rc1"
TZ = b"tzdata 2024a\n"


@pytest.fixture
def recorded_artifact(tmp_path: Path):
    """A committed-looking project with rc1 recorded: one URL artifact, served on 127.0.0.1."""
    with FileServer() as files:
        url = files.put("tz/tzdata.tar.gz", TZ)
        art = Artifact("tzdata.tar.gz", url, hashlib.sha256(TZ).hexdigest(), len(TZ))
        project = python_project(tmp_path / "p", "https://pypi.example.org/simple")
        write_record(project.root, RC, Lock(days(0), "0", "pip-compile", pins=(Pin("artifact", "tzdata", art.sha256, url, url, None, (art,)),)))
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "tzdata.tar.gz").write_bytes(b"the user's own file\n")
        yield project, outside


def _one_line_refusal(done: subprocess.CompletedProcess[str], named: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and named in done.stderr and "symlink" in done.stderr, done.stderr


@pytest.mark.parametrize("linked", ["reproduce", f"reproduce/{RC}", f"reproduce/{RC}/artifacts", f"reproduce/{RC}/artifacts/tzdata.tar.gz"])
def test_reproduce_writes_nothing_through_a_symlink_leading_out(recorded_artifact, linked: str) -> None:
    project, outside = recorded_artifact
    link = project.root / linked
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside / "tzdata.tar.gz" if linked.endswith(".gz") else outside)
    before = {p.name: p.read_bytes() for p in outside.iterdir()}
    _one_line_refusal(project.releaser("reproduce", RC), linked.rsplit("/", 1)[-1])
    assert {p.name: p.read_bytes() for p in outside.iterdir()} == before  # nothing written there, nothing added


def test_bundle_writes_and_reproduce_reads_nothing_through_a_symlink_leading_out(recorded_artifact) -> None:
    project, outside = recorded_artifact
    link = project.root / "dist" / RC / "bundle" / "artifacts"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    _one_line_refusal(project.releaser("bundle", RC), "artifacts")
    assert (outside / "tzdata.tar.gz").read_bytes() == b"the user's own file\n"
    # A bundle whose file is a link to one elsewhere (with the right bytes, even) is not read.
    link.unlink()
    assert project.releaser("bundle", RC).returncode == 0
    inside = link / "tzdata.tar.gz"
    (outside / "tzdata.tar.gz").write_bytes(TZ)
    inside.unlink()
    inside.symlink_to(outside / "tzdata.tar.gz")
    _one_line_refusal(project.releaser("reproduce", RC, "--from-bundle", str(project.root / "dist" / RC)), "tzdata.tar.gz")


def test_records_are_not_read_through_a_symlink_leading_out(recorded_artifact, tmp_path: Path) -> None:
    project, _ = recorded_artifact
    record = project.root / "releases" / RC
    record.rename(tmp_path / "record-elsewhere")
    record.symlink_to(tmp_path / "record-elsewhere")
    for args in (("show", RC), ("reproduce", RC), ("bundle", RC)):
        _one_line_refusal(project.releaser(*args), RC)
    assert not (project.root / "reproduce").exists()


def test_reproduce_killed_while_writing_its_marker_is_rerun_cleanly(recorded_artifact) -> None:
    project, _ = recorded_artifact
    killed = project.releaser("reproduce", RC, env={"RELEASER_KILL_AT": "replace:.releaser-reproduce.json"})
    assert killed.returncode == -signal.SIGKILL
    done = project.releaser("reproduce", RC)
    assert done.returncode == 0, done.stderr
    assert (project.root / "reproduce" / RC / "artifacts" / "tzdata.tar.gz").read_bytes() == TZ


# -- the escapes and the ${VAR} expansion, on any input ------------------------------------


def test_any_value_is_one_shell_word_and_markdown_text_on_any_input() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from releaser.core.escaping import markdown_code, markdown_text, shell_word

    renderer = markdown_it.MarkdownIt("commonmark").enable(["table"])

    @settings(max_examples=60, deadline=None)
    @given(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0"), max_size=40))
    def check(value: str) -> None:
        echoed = subprocess.run(["sh", "-c", f"printf %s {shell_word(value)}"], capture_output=True, check=True)
        assert echoed.stdout.decode() == value
        for shown in (markdown_text(value), markdown_code(value)):
            html = renderer.render(f"| a |\n|---|\n| {shown} |\n")
            assert html.count("<td>") == 1 and not re.search(r"<(?!/?(?:table|thead|tbody|tr|th|td|code)\b)", html)

    check()


def test_a_credential_of_any_characters_is_one_password_and_scrubbed() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from releaser.core.redact import expand_references, scrub

    @settings(max_examples=200, deadline=None)
    @given(st.text(min_size=3, max_size=30))
    def check(token: str) -> None:
        url = expand_references("https://ci:${T}@pypi.example.org/simple", {"T": token}.get)
        parts = urlsplit(url)
        assert parts.hostname == "pypi.example.org" and parts.path == "/simple"
        assert unquote(parts.password or "") == token
        assert token not in scrub(f"failed: {url} ({token})")

    check()
