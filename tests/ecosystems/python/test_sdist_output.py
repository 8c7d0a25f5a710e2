"""What a user sees of an sdist's build backend: nothing raw; one line for its warnings; the end of its output when it fails.

Real sdists with a setup.py, built by the real setuptools from the loopback index (as in
test_sdist_builds.py): `chatty` prints to stdout, to stderr, straight to file descriptor 2,
and warns; `broken` cannot even say what it needs to build; `fragile` says that, then
fails to build its wheel. The index asks for a password, which release.toml takes from
`${CHATTY_TOKEN}`, and the failing setup.py files print it: it must never be shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cutting import commit_all, git
from helpers import Project, days, python_project, sdist_index
from loopback.pypi import PackageIndex
from loopback.wheels import build_sdist

TOKEN = "s3tup-t0ken-5e1f"
ENV = {"CHATTY_TOKEN": TOKEN}

CHATTY = """
import os, sys, warnings
print("chatty: running setup.py")
print("WARNING: chatty: the frobnicator option is deprecated", file=sys.stderr)
os.write(2, b"chatty: straight to fd 2\\n")
warnings.warn("chatty: setup.py builds are on their way out")
from setuptools import setup
setup()
"""

BROKEN = """
import os, sys
for n in range(40):
    print(f"broken: checking step {n}")
print("broken: the index token is", os.environ.get("CHATTY_TOKEN"))
sys.exit("error: broken needs the libfoo headers (apt install libfoo-dev)")
"""

FRAGILE = """
import os, sys
if "bdist_wheel" in sys.argv:
    print("fragile: compiling _speedups.c with", os.environ.get("CHATTY_TOKEN"))
    sys.exit("error: fragile: gcc failed: Python.h: No such file or directory")
from setuptools import setup
setup()
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackageIndex]:
    with sdist_index(tmp_path_factory, "sdist-output", auth=("ci", TOKEN)) as (index, folder):
        for name, setup in (("chatty", CHATTY), ("broken", BROKEN), ("fragile", FRAGILE)):
            index.add(build_sdist(folder, name, "1.0", files={"setup.py": setup}), uploaded=days(1))
        yield index


def project_of(index: PackageIndex, root: Path, requirement: str, resolver: str = "pip-tools") -> Project:
    """A project needing `requirement` from the index, through `${CHATTY_TOKEN}`, that cuts with a no-op build."""
    url = index.url.replace("http://", "http://ci:${CHATTY_TOKEN}@")
    project = python_project(root, url, f"{requirement}\n", python=f'resolver = "{resolver}"')
    text = (root / "release.toml").read_text().replace('version = "0.9.0"', 'version = "0.9.0"\nbuild = ["python", "-c", "pass"]\ngates = []')
    project.write("release.toml", text)
    project.write(".gitignore", "/dist/\n")
    git(root, "init", "-q")
    return project


def test_a_chatty_backend_is_one_line_of_lock_output_and_nothing_of_cut(index, tmp_path):  # type: ignore[no-untyped-def]
    project = project_of(index, tmp_path / "project", "chatty")
    done = project.releaser("lock", "--as-of", "2024-01-05T00:00:00Z", env=ENV)
    assert done.returncode == 0, done.stderr
    assert "chatty" not in done.stderr and "Warning" not in done.stderr, done.stderr
    notes = [line for line in done.stdout.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: python chatty 1.0: building chatty-1.0.tar.gz: its build backend warned 2 times; "
        "the first: WARNING: chatty: the frobnicator option is deprecated"
    ], done.stdout
    assert "  python chatty: (new) -> 1.0" in done.stdout.splitlines()
    # A lock --as-of resolves from scratch, asking the backend again: the same note, for a program.
    as_json = project.releaser("lock", "--as-of", "2024-01-05T00:00:00Z", "--json", env=ENV)
    assert as_json.returncode == 0 and "chatty" not in as_json.stderr, as_json.stderr
    assert json.loads(as_json.stdout)["notes"] == [notes[0].removeprefix("note: ")]

    # The cut builds it again, from its pinned build requirements: not a word of it shows.
    commit_all(project.root, "lock")
    cut = project.releaser("cut", env=ENV)
    assert cut.returncode == 0, cut.stderr
    assert "chatty:" not in cut.stdout + cut.stderr and "Warning" not in cut.stderr, cut.stdout + cut.stderr


@pytest.mark.parametrize(
    ("resolver", "said"),
    [
        # pip-compile builds the sdist to read its requirements (pip trusts no sdist's metadata) ...
        ("pip-tools", "releaser: pip-compile could not build broken to read its requirements. The end of the build's output:"),
        # ... uv takes them from PKG-INFO: releaser's own question to the backend is the first to fail.
        ("uv", (
            "releaser: python broken 1.0: building broken-1.0.tar.gz: its build backend failed "
            "(get_requires_for_build_wheel: Backend subprocess exited when trying to invoke get_requires_for_build_wheel). "
            "The end of its output:"
        )),
    ],
)
def test_a_backend_that_fails_shows_the_end_of_its_output_scrubbed(index, tmp_path, resolver, said):  # type: ignore[no-untyped-def]
    project = project_of(index, tmp_path / "project", "broken", resolver)
    done = project.releaser("lock", "--as-of", "2024-01-05T00:00:00Z", env=ENV)
    assert done.returncode == 3, done.stdout + done.stderr
    first, *tail = done.stderr.strip().splitlines()[-21:]
    assert first == said, done.stderr
    assert tail[-2:] == [
        "  | broken: the index token is ***",
        "  | error: broken needs the libfoo headers (apt install libfoo-dev)",
    ], done.stderr
    assert len(tail) == 20 and "  | broken: checking step 0" not in tail  # its end, not all of it
    assert TOKEN not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert not project.lockfile.exists()


def test_a_cut_whose_sdist_does_not_build_shows_why(index, tmp_path):  # type: ignore[no-untyped-def]
    project = project_of(index, tmp_path / "project", "fragile")
    locked = project.releaser("lock", "--as-of", "2024-01-05T00:00:00Z", env=ENV)
    assert locked.returncode == 0, locked.stderr
    commit_all(project.root, "lock")
    head = git(project.root, "rev-parse", "HEAD")

    done = project.releaser("cut", env=ENV)
    assert done.returncode == 3, done.stdout + done.stderr
    said = done.stderr[done.stderr.index("releaser: python fragile 1.0: "):]
    assert said.startswith(
        "releaser: python fragile 1.0: building its sdist with the pinned build requirements failed. The end of its output:\n"
    ), said
    assert "  | error: fragile: gcc failed: Python.h: No such file or directory" in said.splitlines()
    assert "  | fragile: compiling _speedups.c with ***" in said.splitlines()
    assert TOKEN not in done.stdout + done.stderr
    assert git(project.root, "rev-parse", "HEAD") == head and git(project.root, "tag") == ""
