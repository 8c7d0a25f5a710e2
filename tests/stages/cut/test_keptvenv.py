"""The venv kept per locked set: installed once, copied into each cut, every file checked as it is copied.

Real venvs, real pip, the loopback index. The kept venvs live in a cache of the test's
own, so what is kept is known; its path is made long enough that pip writes its
scripts' shebangs in the `/bin/sh` form, which the copy must rewrite too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutting import BUILD_PY, make_repo, release_toml
from helpers import days
from loopback.wheels import build_wheel
from releaser.core import lockfile
from releaser.core.lockfile import Lock
from releaser.ecosystems.python.keptvenv import KEEP, Changed, Kept, Manifest, build_venv, clone, pinned_venv, prune, record, walk
from releaser.ecosystems.python.rehome import rehomed, shebang_for, shebang_of
from releaser.lock.locking import lock

pytestmark = pytest.mark.usefixtures("git_identity")

KEPT = "from the environment kept for this lock, every file checked against its install"
INSTALLED = "(kept for the next cut)"
WHERE = "import sys\ndef main():\n    print(sys.executable)\n"
# The build environment holds exactly the locked set, nothing a .pth could have added runs in it,
# and the console script runs this venv's interpreter.
GATE = (
    "import importlib.metadata as m, os, subprocess, sys; "
    "names = sorted(d.metadata['Name'] for d in m.distributions()); "
    "assert names == ['alpha', 'beta'], names; "
    "assert 'PLANTED' not in os.environ, 'a planted .pth ran'; "
    "import beta; assert beta.__version__ == '2.0', beta.__version__; "
    "ran = subprocess.run(['alpha-where'], capture_output=True, text=True, check=True).stdout.strip(); "
    "assert ran == os.path.join(os.environ['VIRTUAL_ENV'], 'bin', 'python'), (ran, os.environ['VIRTUAL_ENV']); "
    "print('exactly the locked set')"
)


@pytest.fixture
def scripted(index, tmp_path):
    """alpha 1.0 (with a console script, `alpha-where`, printing its interpreter) needing beta; beta 1.0 and 2.0."""
    (tmp_path / "wheels").mkdir()
    wheel = build_wheel(
        tmp_path / "wheels", "alpha", "1.0", requires=["beta>=1"],
        files={"alpha/where.py": WHERE, "alpha-1.0.dist-info/entry_points.txt": "[console_scripts]\nalpha-where = alpha.where:main\n"},
    )
    index.add(wheel, uploaded=days(0))
    index.publish("beta", "1.0", uploaded=days(1))
    index.publish("beta", "2.0", uploaded=days(30))
    return index


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A cache of this test's own, at a path long enough for pip's `/bin/sh` shebangs (over 127 bytes)."""
    folder = tmp_path / ("a-cache-folder-long-enough-that-a-venv-in-it-needs-the-long-shebang-form" + "-x" * 20)
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


def project_of(scripted, make_project):
    project = make_project(scripted.url)
    project.write("release.toml", release_toml(scripted.url, gates=json.dumps([["python", "-c", GATE]])))
    project.write("tools/build_rc.py", BUILD_PY)
    project.write(".gitignore", "/dist/\n")
    lock(project.config())
    make_repo(project.root)
    return project


def _lock(project) -> Lock:
    return lockfile.loads(project.lockfile.read_text(), project.lockfile)


def site_packages(venv: Path) -> Path:
    [found] = venv.glob("lib/python*/site-packages")
    return found


def cut_ok(project) -> str:
    done = project.releaser("cut", "--no-tag")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "passed: exactly the locked set" in done.stdout
    return done.stdout


def test_a_second_cut_of_the_same_lock_installs_nothing_and_builds_in_exactly_the_locked_set(scripted, make_project, cache):
    project = project_of(scripted, make_project)
    first = cut_ok(project)
    assert INSTALLED in first and KEPT not in first
    kept = Kept.of(_lock(project))
    assert kept.venv.is_relative_to(cache) and kept.manifest.is_file()
    assert (kept.venv / "bin" / "alpha-where").read_bytes().startswith(b"#!/bin/sh\n'''exec' ")  # pip's long form
    installed = kept.manifest.stat().st_ino  # a new install writes a new manifest (atomically: a new file)

    second = cut_ok(project)
    assert KEPT in second and INSTALLED not in second
    assert kept.manifest.stat().st_ino == installed  # nothing installed again (using it only touches it)
    built = json.loads((project.root / "dist" / "0.9.0rc2" / "build-env.json").read_text())
    assert (built["alpha"], built["beta"], built["releaser_importable"], built["prefix_is_venv"]) == ("1.0", "2.0", False, True)


def test_a_kept_venv_with_a_file_planted_or_changed_is_not_used(scripted, make_project, cache):
    project = project_of(scripted, make_project)
    cut_ok(project)
    kept = Kept.of(_lock(project))

    # A .pth dropped into its site-packages would run in every build: the copy finds it, the cut
    # installs afresh (the gate sees no PLANTED), and the kept venv is installed again next time.
    planted = site_packages(kept.venv) / "planted.pth"
    planted.write_text("import os; os.environ['PLANTED'] = '1'\n")
    assert subprocess.run(
        [kept.venv / "bin" / "python", "-c", "import os; assert os.environ['PLANTED']"], check=False
    ).returncode == 0  # it would have run
    said = cut_ok(project)
    assert "installed afresh" in said and "planted.pth: not installed there" in said and KEPT not in said
    assert INSTALLED in cut_ok(project) and not planted.exists()
    assert KEPT in cut_ok(project)

    # One installed file changed: the same, though its size is as installed and its mtime is set back.
    beta = site_packages(kept.venv) / "beta" / "__init__.py"
    before = beta.stat()
    beta.write_text('__version__ = "6.6"\n')
    os.utime(beta, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (beta.stat().st_size, beta.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    said = cut_ok(project)  # the gate checks beta is 2.0
    assert "installed afresh" in said and "beta/__init__.py: changed since it was installed" in said
    assert INSTALLED in cut_ok(project)
    assert beta.read_text() == '__version__ = "2.0"\n'


def test_the_copy_runs_its_own_interpreter_and_outlives_the_kept_venv(scripted, make_project, cache, tmp_path):
    """The console script, bin/activate and pyvenv.cfg of the copy name the copy, never the kept venv."""
    project = project_of(scripted, make_project)
    config, locked = project.config(), _lock(project)
    (tmp_path / "work").mkdir()
    first = build_venv(config, locked, tmp_path / "first", tmp_path / "work")
    copy = build_venv(config, locked, tmp_path / "copy with a space", tmp_path / "work")
    assert (first.how, copy.how) == ("installed", "kept")
    kept = Kept.of(locked)
    assert pinned_venv(config, locked) == kept.venv  # the rehearsal's: checked in place, kept

    shutil.rmtree(kept.venv)  # nothing of the copies may lead there
    for venv in (first.venv, copy.venv):
        ran = subprocess.run([venv / "bin" / "alpha-where"], capture_output=True, text=True, check=True, env={"PATH": os.defpath})
        assert ran.stdout.strip() == str(venv / "bin" / "python")
        activated = subprocess.run(
            ["bash", "-c", 'source "$1/bin/activate" && echo "$VIRTUAL_ENV" && command -v python', "-", str(venv)],
            capture_output=True, text=True, check=True,
        )
        assert activated.stdout.splitlines() == [str(venv), str(venv / "bin" / "python")]
        for held in [venv / "pyvenv.cfg", *(venv / "bin").iterdir()]:
            if not held.is_symlink():
                assert str(kept.venv).encode() not in held.read_bytes(), held
    assert (copy.venv / "bin" / "alpha-where").read_bytes().startswith(b'#!/bin/sh\n\'\'\'exec\' "')  # a space: quoted

    # Gone: installed again, whole, for the rehearsal.
    assert pinned_venv(config, locked) == kept.venv and (kept.venv / "bin" / "alpha-where").is_file()


# -- what is read back: a kept manifest, a venv's scripts ---------------------------------


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=400))
def test_any_bytes_as_a_manifest_or_a_script_are_read_without_an_error(data, tmp_path_factory):
    """A manifest is kept or not (never an exception); a script is rewritten or left as it was."""
    path = tmp_path_factory.mktemp("manifest") / "kept.json"
    path.write_bytes(data)
    assert Manifest.read(path) is None or isinstance(Manifest.read(path), Manifest)
    assert isinstance(rehomed(data, b"/old/venv", b"/new/venv"), bytes)


@settings(max_examples=200, deadline=None)
@given(
    old=st.text(st.characters(categories=["L", "N"], include_characters="/-_ .", max_codepoint=0x2FF), min_size=1, max_size=150),
    new=st.text(st.characters(categories=["L", "N"], include_characters="/-_ .", max_codepoint=0x2FF), min_size=1, max_size=150),
)
def test_a_script_moved_with_its_venv_names_the_new_interpreter_in_the_form_pip_would_write(old, new):
    """One line while it fits and has no space, else pip's `/bin/sh` form, the path quoted when it has a space."""
    old_venv, new_venv = ("/" + old.strip("/")).encode(), ("/" + new.strip("/")).encode()
    body = b"import sys\nfrom alpha.where import main\nsys.exit(main())\n"
    script = shebang_for(old_venv + b"/bin/python", b"") + body
    moved = rehomed(script, old_venv, new_venv)
    head, python, rest = shebang_of(moved)
    assert python == new_venv + b"/bin/python" and rest == b"" and moved == head + body
    assert head.startswith(b"#!/bin/sh\n") == (b" " in python or len(python) + 3 > 127)


def test_the_cache_keeps_the_venvs_used_last_and_never_removes_one_in_use(tmp_path):
    import fcntl

    folder = tmp_path / "venvs"
    folder.mkdir()
    names = [f"set{i}" for i in range(KEEP + 3)]  # set0 used longest ago
    for age, name in enumerate(reversed(names)):
        (folder / name / "bin").mkdir(parents=True)
        (folder / name / "bin" / "python").write_text("")
        (folder / f"{name}.json").write_text(Manifest({"bin/python": "0" * 64}, {}).dump())
        os.utime(folder / f"{name}.json", (1_700_000_000 - age * 60,) * 2)
    (folder / "stopped" / "bin").mkdir(parents=True)  # an install that never wrote its manifest
    newest = Kept(folder / names[-1])
    with open(Kept(folder / "set0").held, "w") as held:  # another releaser is using the oldest
        fcntl.flock(held, fcntl.LOCK_EX)
        prune(folder, but=newest)
    left = sorted(p.name for p in folder.iterdir() if p.is_dir())
    assert left == sorted(["set0", *names[-KEEP:]]), left
    assert {p.name for p in folder.glob("*.json")} == {f"{n}.json" for n in left}
    # the next install, with nothing held, leaves only the ones used last
    prune(folder, but=newest)
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == sorted(names[-KEEP:])


def _small_venv(root: Path) -> Path:
    venv = root / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "tool").write_text(f"#!{venv}/bin/python\nprint('tool')\n")
    (venv / "bin" / "tool").chmod(0o755)
    (venv / "pyvenv.cfg").write_text(f"home = /usr/bin\ncommand = python -m venv {venv}\n")
    (venv / "lib" / "site").mkdir(parents=True)
    (venv / "lib" / "site" / "mod.py").write_text("VALUE = 1\n")
    (venv / "lib" / "site" / "data.bin").write_bytes(os.urandom(3 << 20))  # more than one read
    os.symlink("mod.py", venv / "lib" / "site" / "alias.py")
    return venv


def test_a_file_is_read_again_only_when_its_lstat_differs_or_it_changed_as_the_hashing_began(tmp_path):
    venv = _small_venv(tmp_path)
    manifest = record(venv)
    walk(venv, manifest)  # as installed

    # A file whose lstat is as recorded is not read again: a manifest naming other bytes for it
    # passes, unless the file changed in the tick the hashing began (then it is always hashed).
    other = Manifest({**manifest.files, "lib/site/mod.py": "0" * 64}, manifest.links, manifest.seen, manifest.since)
    walk(venv, other)
    racy = Manifest(other.files, other.links, other.seen, other.seen["lib/site/mod.py"][2])
    with pytest.raises(Changed, match="lib/site/mod.py: changed since it was installed"):
        walk(venv, racy)

    # Rewritten to the same size with its mtime set back: the ctime still tells.
    mod = venv / "lib" / "site" / "mod.py"
    before = mod.stat()
    mod.write_text("VALUE = 2\n")
    os.utime(mod, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(Changed, match="lib/site/mod.py: changed since it was installed"):
        walk(venv, manifest)
    mod.write_text("VALUE = 1\n")  # the same bytes again: hashed (its lstat differs), and as installed
    walk(venv, manifest)


def test_a_copy_has_each_file_its_mode_and_mtime_and_names_itself(tmp_path):
    venv = _small_venv(tmp_path)
    manifest = record(venv)
    into = tmp_path / "copy" / "venv"
    clone(venv, into, manifest)
    for rel, _ in manifest.files.items():
        src, dst = os.lstat(venv / rel), os.lstat(into / rel)
        assert (dst.st_mode, dst.st_mtime_ns) == (src.st_mode, src.st_mtime_ns), rel
    assert (into / "lib" / "site" / "data.bin").read_bytes() == (venv / "lib" / "site" / "data.bin").read_bytes()
    assert os.readlink(into / "lib" / "site" / "alias.py") == "mod.py"
    assert (into / "bin" / "tool").read_text().startswith(f"#!{into}/bin/python\n")
    assert str(venv) not in (into / "pyvenv.cfg").read_text()
    # A file written to in the kept venv is never copied as it is now.
    (venv / "lib" / "site" / "data.bin").write_bytes(b"planted")
    with pytest.raises(Changed, match="data.bin: changed since it was installed"):
        clone(venv, tmp_path / "again", manifest)
    assert not (tmp_path / "again").exists()


def test_a_kept_file_made_a_fifo_is_changed_not_read(tmp_path):
    venv = _small_venv(tmp_path)
    manifest = record(venv)
    mod = venv / "lib" / "site" / "mod.py"
    mod.unlink()
    os.mkfifo(mod)  # reading it would wait for a writer for ever
    with pytest.raises(Changed, match="lib/site/mod.py: no longer a plain file"):
        walk(venv, manifest)


def test_a_copy_that_cannot_be_written_is_an_outside_failure_and_the_kept_venv_stays_kept(tmp_path):
    """A full disk under the cut's folder is not a changed kept venv: it is not dropped, the cut
    says where it could not write (here a file size limit stands in for the full disk)."""
    venv = _small_venv(tmp_path)
    script = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "from releaser.core.errors import UpstreamError\n"
        "from releaser.ecosystems.python.keptvenv import clone, record\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "manifest = record(Path(sys.argv[1]))\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))\n"
        "try:\n"
        "    clone(Path(sys.argv[1]), Path(sys.argv[2]), manifest)\n"
        "except UpstreamError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(3)\n"
    )
    into = tmp_path / "cut" / "venv"
    done = subprocess.run([sys.executable, "-c", script, str(venv), str(into)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stdout.startswith(f"the build environment cannot be written in {into.parent}: "), done.stdout
    assert not into.exists()
    walk(venv, record(venv))  # the kept venv untouched


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    files=st.dictionaries(st.text(max_size=8), _JSON, max_size=3),
    seen=_JSON | st.dictionaries(st.text(max_size=8), st.lists(st.integers(), max_size=5) | _JSON, max_size=3),
    since=_JSON,
)
def test_any_manifest_document_of_this_format_is_kept_whole_or_not_at_all(files, seen, since, tmp_path_factory):
    """The fields a check trusts (each file's lstat when hashed, the time hashing began) are read back
    only when every one has its type: anything else and the venv is installed again, never an error."""
    path = tmp_path_factory.mktemp("manifest") / "kept.json"
    path.write_text(json.dumps({"format": 3, "files": files, "links": {}, "seen": seen, "since": since}))
    found = Manifest.read(path)
    if found is not None:
        assert all(isinstance(v, str) for v in found.files.values()) and type(found.since) is int
        for rel in found.seen:  # a file's lstat compared with what was seen: a verdict, never an error
            assert found.unchanged(rel, os.lstat(path)) in (True, False)
