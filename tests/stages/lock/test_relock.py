"""A relock's trust in the lock that was there: a dated lock ignores it, a hand-edited one is re-derived."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from helpers import days
from releaser.core import lockfile
from releaser.core.errors import ConfigError
from releaser.lock.locking import lock


def pins(project) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {p.name: p.version for p in lockfile.read(project.lockfile).pins}


@pytest.fixture
def moving(index):  # type: ignore[no-untyped-def]
    """alpha needs beta>=1 and gamma; each moved on over the months."""
    index.publish("alpha", "1.0", requires=["beta>=1", "gamma"], uploaded=days(0))
    index.publish("alpha", "2.0", requires=["beta>=2", "delta"], uploaded=days(60))
    index.publish("beta", "1.0", uploaded=days(1))
    index.publish("beta", "1.5", uploaded=days(20))
    index.publish("beta", "2.0", uploaded=days(61))
    index.publish("gamma", "1.0", uploaded=days(2))
    index.publish("delta", "1.0", uploaded=days(59))
    return index


def from_scratch(project, as_of) -> bytes:  # type: ignore[no-untyped-def]
    project.lockfile.unlink(missing_ok=True)
    lock(project.config(), as_of=as_of)
    return project.lockfile.read_bytes()


def test_a_dated_lock_over_a_newer_lock_equals_the_one_from_scratch(moving, make_project):  # type: ignore[no-untyped-def]
    project = make_project(moving.url, requirements="alpha\nbeta\n")
    scratch = from_scratch(project, days(10))
    assert pins(project) == {"alpha": "1.0", "beta": "1.0", "gamma": "1.0"}

    lock(project.config(), upgrade_all=True)  # today: alpha 2.0, beta 2.0, delta
    assert pins(project) == {"alpha": "2.0", "beta": "2.0", "delta": "1.0"}
    result = lock(project.config(), as_of=days(10))
    assert project.lockfile.read_bytes() == scratch
    assert "python alpha: 2.0 -> 1.0" in result.changes and "python delta: 1.0 -> (removed)" in result.changes


def test_a_dated_lock_over_an_older_lock_does_not_keep_its_pins(moving, make_project):  # type: ignore[no-untyped-def]
    project = make_project(moving.url, requirements="alpha\nbeta\n")
    scratch = from_scratch(project, days(30))
    assert pins(project)["beta"] == "1.5"

    from_scratch(project, days(10))  # beta 1.0, older than what days(30) saw
    done = project.releaser("lock", "--as-of", days(30).isoformat())
    assert done.returncode == 0, done.stderr
    assert project.lockfile.read_bytes() == scratch
    assert "python beta: 1.0 -> 1.5" in done.stdout


def test_a_hand_edited_pin_is_re_derived_and_the_lock_says_so(moving, make_project):  # type: ignore[no-untyped-def]
    project = make_project(moving.url, requirements="beta<2\n")
    lock(project.config())
    assert pins(project) == {"beta": "1.5"}
    text = project.lockfile.read_text()
    project.lockfile.write_text(text.replace('version = "1.5"', 'version = "1.0"'))
    assert project.releaser("check").returncode == 1  # tampered

    done = project.releaser("lock")
    assert done.returncode == 0, done.stderr
    assert "edited by hand" in done.stdout and "re-derived from the inputs" in done.stdout
    assert "python beta: 1.0 -> 1.5" in done.stdout
    assert pins(project) == {"beta": "1.5"}
    (beta,) = lockfile.read(project.lockfile).pins
    assert all(a.name.startswith("beta-1.5") for a in beta.artifacts)
    assert project.releaser("check").returncode == 0


def test_a_cut_off_in_the_future_is_refused(moving, make_project):  # type: ignore[no-untyped-def]
    project = make_project(moving.url)
    done = project.releaser("lock", "--as-of", "2999-01-01T00:00:00Z")
    assert done.returncode == 2 and "--as-of 2999-01-01T00:00:00+00:00 is in the future" in done.stderr
    assert not project.lockfile.exists()
    with pytest.raises(ConfigError, match="in the future"):
        lock(project.config(), as_of=datetime.now(UTC) + timedelta(hours=1))


def test_a_relock_with_nothing_changed_answers_from_the_lock_without_asking_the_index(moving, make_project):  # type: ignore[no-untyped-def]
    project = make_project(moving.url, requirements="alpha\n")
    written = lock(project.config()).lock
    before = project.lockfile.read_bytes()
    stat = project.lockfile.stat()
    seen = len(moving.requests_seen)
    done = project.releaser("lock")
    assert done.returncode == 0, done.stderr
    assert "nothing changed since it was written" in done.stdout
    # Told from the seal and the header alone, the same as the lock holds.
    assert f"unchanged: release.lock ({len(written.pins)} pins, as of {written.as_of.isoformat()})" in done.stdout
    # The console entry answers it before loading the command line: word for word what the command line says.
    full = subprocess.run(
        [sys.executable, "-c", "from releaser.cli import main; main()", "lock"], cwd=project.root, capture_output=True, text=True,
    )
    assert (full.returncode, full.stdout, full.stderr) == (0, done.stdout, done.stderr)
    assert done.stdout.splitlines()[0].startswith("note: nothing changed since it was written")
    script = (
        "import sys; sys.argv = ['releaser', 'lock']\nfrom releaser.entry import main\ntry:\n    main()\n"
        "except SystemExit:\n    pass\nprint(sorted(m for m in ('click', 'packaging', 'requests', 'releaser.cli') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", script], cwd=project.root, capture_output=True, text=True)
    assert loaded.stdout.splitlines()[-1] == "[]", loaded.stdout + loaded.stderr  # no command line, no parser, no HTTP
    answered = json.loads(project.releaser("lock", "--json").stdout)
    assert (answered["pins"], answered["as_of"], answered["changes"]) == (len(written.pins), written.as_of.isoformat(), [])
    assert len(moving.requests_seen) == seen  # nothing resolved, no page read
    assert project.lockfile.read_bytes() == before and project.lockfile.stat().st_mtime_ns == stat.st_mtime_ns

    refreshed = project.releaser("lock", "--refresh")
    assert refreshed.returncode == 0, refreshed.stderr
    assert len(moving.requests_seen) > seen and project.lockfile.read_bytes() == before  # resolved, same pins

    project.write("requirements.in", "alpha\nbeta\n")  # an input changed: resolved again
    seen = len(moving.requests_seen)
    changed = project.releaser("lock")
    assert changed.returncode == 0 and len(moving.requests_seen) > seen and "nothing changed" not in changed.stdout


def test_a_lock_that_is_never_sealed_answers_from_itself_only_when_this_releaser_wrote_it(moving, make_project, monkeypatch):  # type: ignore[no-untyped-def]
    """A lock the seal cannot stand for (here: another lockfile name) is trusted as unchanged only
    when fresh, sound and this releaser's; a sealable lock whose seal does not hold is relocked."""
    from releaser.core import seal
    from releaser.lock import locking

    project = make_project(moving.url, requirements="alpha\n")
    lock(project.config())
    assert locking.unchanged(project.config()) is not None  # sealed, and the seal holds
    body, _ = seal.split(project.lockfile.read_bytes())
    project.lockfile.write_bytes(body)
    assert locking.unchanged(project.config()) is None  # sealable, unsealed: relock to seal it

    toml = project.root / "release.toml"
    toml.write_text(toml.read_text().replace('version = "0.9.0"', 'version = "0.9.0"\nlockfile = "deps.lock"'))
    lock(project.config())
    assert "check-seal" not in (project.root / "deps.lock").read_text()
    assert locking.unchanged(project.config()) is not None
    monkeypatch.setattr(locking, "__version__", "999.0")
    assert locking.unchanged(project.config()) is None  # another releaser: resolve
