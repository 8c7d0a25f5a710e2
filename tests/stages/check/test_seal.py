"""The check seal: `releaser check` answers from one header line, and only when the full check would agree."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releaser import __version__
from releaser.core import seal
from releaser.lock import locking
from releaser.lock.locking import lock


def quick(project) -> tuple[int, int] | None:
    return seal.quick_verdict(str(project.root), __version__)


def full_check(root) -> subprocess.CompletedProcess[str]:
    """releaser.cli:main, which never reads the seal."""
    return subprocess.run(
        [sys.executable, "-c", "import sys; from releaser.cli import main; sys.argv[0] = 'releaser'; main()", "check"],
        cwd=root, capture_output=True, text=True, timeout=60,
    )


def sealed_check(root) -> subprocess.CompletedProcess[str]:
    """The console entry point, which answers from the seal when it holds."""
    return subprocess.run([sys.executable, "-m", "releaser", "check"], cwd=root, capture_output=True, text=True, timeout=60)


def seal_line(project) -> str:
    return next(line for line in project.lockfile.read_text().splitlines() if line.startswith("check-seal = "))


@pytest.fixture
def locked(populated, make_project):
    project = make_project(populated.url, requirements="-r base.in\n")
    project.write("base.in", "alpha\n")
    lock(project.config())
    return project


def test_a_lock_is_sealed_and_check_answers_from_the_seal_as_the_full_check_does(locked):
    assert quick(locked) == (2, 2)  # alpha and beta; release.toml and requirements.in
    assert seal_line(locked).endswith(' release.toml|requirements.in|base.in"')
    entry, full = sealed_check(locked.root), full_check(locked.root)
    assert (entry.returncode, entry.stdout, entry.stderr) == (full.returncode, full.stdout, full.stderr)
    assert entry.stdout == "release.lock is fresh: 2 pins, 2 inputs unchanged, nothing floats\n"


@pytest.mark.parametrize(
    "change, finding",
    [
        (lambda p: p.write("base.in", "alpha\ngamma\n"), "requirement added: gamma"),  # an included file
        (lambda p: p.write("requirements.in", "-r base.in\nbeta<2\n"), "requirement added: beta<2"),
        (lambda p: p.lockfile.write_text(p.lockfile.read_text().replace('version = "1.0"', 'version = "0.9"', 1)), "tampered"),
        (lambda p: p.lockfile.write_text(p.lockfile.read_text().replace(" 2 2 target ", " 3 2 target ")), None),
        (lambda p: p.lockfile.write_text(p.lockfile.read_text() + "\n"), None),  # same entries: fresh
        (lambda p: (p.root / "release.toml").write_text((p.root / "release.toml").read_text() + "\n# a comment\n"), None),
    ],
    ids=["included-file", "requirements-file", "pin-edited", "seal-counts-edited", "lock-reformatted", "release-toml"],
)
def test_any_change_breaks_the_seal_and_the_full_check_decides(locked, change, finding):
    change(locked)
    assert quick(locked) is None
    entry, full = sealed_check(locked.root), full_check(locked.root)
    assert (entry.returncode, entry.stdout, entry.stderr) == (full.returncode, full.stdout, full.stderr)
    if finding is None:
        assert entry.returncode == 0 and "is fresh" in entry.stdout
    else:
        assert entry.returncode == 1 and finding in entry.stdout


def test_a_seal_holds_only_for_the_releaser_that_wrote_it(locked):
    assert quick(locked) is not None
    assert seal.quick_verdict(str(locked.root), __version__ + ".post1") is None


def test_a_relock_that_moves_nothing_keeps_the_file_and_its_seal(locked):
    before = locked.lockfile.read_bytes()
    assert not lock(locked.config()).written
    assert locked.lockfile.read_bytes() == before


def test_an_unsealed_lock_is_resealed_by_the_next_lock(locked):
    text = locked.lockfile.read_text()
    locked.lockfile.write_text(text.replace(seal_line(locked) + "\n", ""))
    assert quick(locked) is None and sealed_check(locked.root).returncode == 0
    assert lock(locked.config()).written
    assert locked.lockfile.read_text() == text


def test_an_input_edited_while_the_lock_is_made_leaves_it_unsealed(locked, monkeypatch):
    records = locking.input_records

    def edited_meanwhile(config, sources, known=None):
        found = records(config, sources, known)
        locked.write("base.in", "alpha\ngamma\n")
        return found

    monkeypatch.setattr(locking, "input_records", edited_meanwhile)
    locked.lockfile.unlink()
    lock(locked.config())
    assert "check-seal" not in locked.lockfile.read_text() and quick(locked) is None
    done = sealed_check(locked.root)
    assert done.returncode == 1 and "requirement added: gamma" in done.stdout


def test_a_lock_the_migration_gate_judges_too_is_sealed_for_the_lock_part_only(populated, make_project):
    """The seal alone is no verdict with [migrations]: the gate's part is kept by a check (test_gate_seal.py)."""
    project = make_project(populated.url, extra='[migrations]\nframework = "alembic"\npaths = ["migrations/versions"]\n')
    (project.root / "migrations" / "versions").mkdir(parents=True)
    lock(project.config())
    assert seal_line(project).startswith('check-seal = "1+migrations 2 2 target ')
    assert quick(project) is None and seal.holding(str(project.root), __version__) is not None
    assert not lock(project.config()).written  # a relock that moves nothing answers from the lock's part


def test_a_lock_with_markers_is_sealed_for_the_exact_interpreter(populated, make_project, monkeypatch):
    project = make_project(populated.url, requirements="alpha\nbeta; python_version < '3'\n")
    lock(project.config())
    assert " exact " in seal_line(project) and quick(project) is not None
    monkeypatch.setattr(sys, "version", "3.99.1 (another build)")  # another patch release: a marker may say otherwise
    assert quick(project) is None


def test_without_markers_the_seal_holds_across_patch_releases(locked, monkeypatch):
    assert " target " in seal_line(locked)
    monkeypatch.setattr(sys, "version", "3.99.1 (another build)")
    assert quick(locked) is not None
    monkeypatch.setattr(sys, "platform", "win32")  # another target: `other-target`, which the full check reports
    assert quick(locked) is None


@pytest.mark.parametrize("names", ["../outside", "/etc/passwd", "a/../../b", "", "release.toml|", "C:/Windows/win.ini"])
def test_a_seal_never_reads_outside_the_project(locked, names):
    text = locked.lockfile.read_text()
    fields = seal_line(locked).split(" ")
    forged = " ".join(fields[:7]) + f' {names}"'
    locked.lockfile.write_text(text.replace(seal_line(locked), forged))
    assert quick(locked) is None


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(value=st.text(max_size=200), tail=st.binary(max_size=100))
def test_any_seal_line_is_read_without_an_error(locked, value, tail):
    """Whatever a lock's seal line holds, the quick path says None or a verdict; it never raises."""
    original = locked.lockfile.read_bytes()
    try:
        forged = original.replace(seal_line(locked).encode(), b'check-seal = "' + value.encode(errors="replace") + b'"', 1)
        locked.lockfile.write_bytes(forged + tail)
        assert quick(locked) is None
    finally:
        locked.lockfile.write_bytes(original)


def test_a_sealed_check_parses_nothing(locked):
    """What makes it as fast as uv's check: no TOML parser, no OpenSSL, no JSON, no click."""
    script = (
        "import sys\nsys.argv = ['releaser', 'check']\nfrom releaser.entry import main\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
        "print(code, sorted(m for m in ('tomllib', 'tomli', 'hashlib', 'json', 'click', 're') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=locked.root, capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines()[-1] == "0 []", done.stdout + done.stderr


def test_a_forged_seal_with_the_right_digest_but_odd_counts_is_not_taken(locked):
    """The digest is no secret: a line forged with it, but with counts that are not plain digits, is ignored."""
    body, value = seal.split(locked.lockfile.read_bytes())
    fields, names = "1 ² 2 target", value.split(" ", 5)[5]
    files = [(n, (locked.root / n).read_bytes()) for n in names.split("|")]
    forged = f'check-seal = "{fields} {seal.digest(__version__, "target", fields, body, files)} {names}"\n'
    text = body.decode()
    head, sep, rest = text.partition("\ncontent-digest = ")
    first, newline, tail = rest.partition("\n")
    locked.lockfile.write_text(head + sep + first + newline + forged + tail)
    assert quick(locked) is None
    assert sealed_check(locked.root).returncode == 0  # the full check: fresh


@pytest.mark.parametrize("moved", ["release.lock", "base.in"])
def test_a_sealed_file_symlinked_outside_the_project_is_refused_as_the_full_check_refuses_it(locked, tmp_path, moved):
    outside = tmp_path / "elsewhere" / moved
    outside.parent.mkdir()
    (locked.root / moved).rename(outside)
    (locked.root / moved).symlink_to(outside)
    assert quick(locked) is None
    entry, full = sealed_check(locked.root), full_check(locked.root)
    assert (entry.returncode, entry.stdout, entry.stderr) == (full.returncode, full.stdout, full.stderr)
    assert entry.returncode == 2 and moved in entry.stderr, entry.stdout + entry.stderr
