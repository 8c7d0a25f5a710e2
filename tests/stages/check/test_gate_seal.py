"""The check seal with `[migrations]`: a plain check that passed is kept, and the next one answers
from it without reading a migration, until a migration, the allow list or the previous RC moves.

A real Django project in a real git repository: migrations written by `makemigrations`, RCs cut
by `releaser cut` (recorded, committed, tagged), each check a `releaser` process of its own.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import run_releaser
from migration_projects import DjangoProject, django_project
from releaser import __version__
from releaser.core import gateseal, seal

GATE = 'framework = "django"\npaths = ["*/migrations"]\n'
# What answering from the seal must not load: the readers, and every parser the full check needs.
HEAVY = ("releaser.migrations", "releaser.check", "ast", "json", "tomllib", "re", "click", "subprocess")


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> DjangoProject:
    """1.0.0rc1 cut with 0001 and 0002; then 0003 made and committed: one migration new since it."""
    project = django_project(tmp_path_factory.mktemp("gate-seal") / "shop")
    project.write(".gitignore", "*.sqlite3\n__pycache__/\n/dist/\n")
    project.release_toml(GATE)
    project.add_field("shop", "Item", "price", "models.IntegerField(default=0)")
    project.makemigrations("shop", "add_price")
    assert releaser(project, "lock").returncode == 0
    project.commit("locked, with migrations")
    done = releaser(project, "cut")
    assert done.returncode == 0, done.stdout + done.stderr
    project.add_field("shop", "Item", "color", "models.CharField(max_length=20, default='red')")
    project.makemigrations("shop", "add_color")
    project.commit("color")
    return project


@pytest.fixture
def project(released: DjangoProject, tmp_path: Path) -> DjangoProject:
    """A copy of `released` (its git repository too) for one test to change."""
    copy = DjangoProject(tmp_path / "shop", models={app: {m: dict(f) for m, f in ms.items()} for app, ms in released.models.items()})
    shutil.copytree(released.root, copy.root, symlinks=True)
    return copy


def releaser(project: DjangoProject, *args: str) -> subprocess.CompletedProcess[str]:
    return run_releaser(project.root, *args)


def full_check(project: DjangoProject) -> subprocess.CompletedProcess[str]:
    """releaser.cli:main, which never reads a seal (and keeps the gate's part when the verdict passes)."""
    return subprocess.run(
        [sys.executable, "-c", "import sys; from releaser.cli import main; sys.argv[0] = 'releaser'; main()", "check"],
        cwd=project.root, capture_output=True, text=True, timeout=120,
    )


def plain_check(project: DjangoProject) -> tuple[int, str, list[str]]:
    """`releaser check` through the console entry point: exit code, stdout, and which of HEAVY it loaded."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.argv = ["releaser", "check"]
        from releaser.entry import main
        try:
            main()
        except SystemExit as exit:
            code = exit.code
        loaded = sorted(h for h in {HEAVY!r} if any(m == h or m.startswith(h + ".") for m in sys.modules))
        print("LOADED", code, " ".join(loaded))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=project.root, capture_output=True, text=True, timeout=120)
    *out, last = done.stdout.splitlines()
    _, code, *loaded = last.split(" ")
    assert last.startswith("LOADED "), done.stdout + done.stderr
    return int(code), "".join(line + "\n" for line in out), [m for m in loaded if m]


def from_the_seal(project: DjangoProject) -> bool:
    """Whether a plain check now answers from the seal (no migration read), its answer the full check's."""
    code, out, loaded = plain_check(project)
    full = full_check(project)
    assert (code, out) == (full.returncode, full.stdout), (out, full.stdout, full.stderr)
    return not loaded


def test_a_passing_check_is_kept_and_the_next_answers_without_reading_a_migration(project: DjangoProject) -> None:
    assert seal_line(project).startswith('check-seal = "1+migrations ')
    assert seal.quick_verdict(str(project.root), __version__) is None  # the lock's part alone is no verdict
    code, first, loaded = plain_check(project)  # nothing kept yet: the full check, which keeps it
    assert code == 0 and "releaser.migrations" in loaded
    assert "migrations (django): 3 read, 1 new since 1.0.0rc1; heads: shop 0003_add_color; nothing refused" in first
    code, second, loaded = plain_check(project)
    assert (code, second, loaded) == (0, first, [])
    assert first == full_check(project).stdout


def edit_new_migration(p: DjangoProject) -> None:
    path = p.migration("shop", "0003")
    path.write_text(path.read_text() + "\n# a comment: the same meaning, other bytes\n")


def add_migration(p: DjangoProject) -> None:
    p.add_field("shop", "Item", "size", "models.IntegerField(default=1)")
    p.makemigrations("shop", "add_size")


def remove_migration(p: DjangoProject) -> None:
    p.migration("shop", "0003").unlink()


def another_app(p: DjangoProject) -> None:
    """A new directory the `*/migrations` glob matches."""
    p.write("billing/migrations/__init__.py", "")
    p.write("billing/migrations/0001_initial.py", p.migration("shop", "0001").read_text())


@pytest.mark.parametrize(
    "change, now",
    [
        (edit_new_migration, "3 read, 1 new since 1.0.0rc1"),
        (add_migration, "4 read, 2 new since 1.0.0rc1; heads: shop 0004_add_size"),
        (remove_migration, "2 read, 0 new since 1.0.0rc1; heads: shop 0002_add_price"),
        (another_app, "4 read, 2 new since 1.0.0rc1; heads: billing 0001_initial; shop 0003_add_color"),
    ],
    ids=["edited", "added", "removed", "new-directory"],
)
def test_a_migration_changed_added_or_removed_breaks_the_seal(project: DjangoProject, change, now: str) -> None:
    plain_check(project)
    assert from_the_seal(project)
    change(project)
    code, out, loaded = plain_check(project)
    assert code == 0 and "releaser.migrations" in loaded and now in out, out
    assert from_the_seal(project)  # kept again, for the migrations as they are now


def test_a_migration_edited_after_release_is_refused_every_time(project: DjangoProject) -> None:
    plain_check(project)
    released = project.migration("shop", "0002")
    released.write_text(released.read_text().replace("default=0", "default=1"))
    for _ in range(2):  # a refusal is never kept: the second check reads the migrations again
        code, out, loaded = plain_check(project)
        assert code == 1 and "refused: changed shop.0002_add_price" in out and "releaser.migrations" in loaded, out
    assert not from_the_seal(project)


def test_a_changed_allow_list_breaks_the_seal(project: DjangoProject) -> None:
    plain_check(project)
    assert from_the_seal(project)
    project.release_toml(GATE + 'allow = ["shop.0099_nothing"]\n')
    code, out, loaded = plain_check(project)
    assert code == 0 and "releaser.migrations" in loaded
    assert "warning: allow names 'shop.0099_nothing', which no finding and no new migration has" in out
    assert releaser(project, "lock").returncode == 0  # release.toml moved: `lock` seals the lock again
    plain_check(project)
    assert from_the_seal(project)


@pytest.mark.parametrize("on_branch", [False, True], ids=["recorded-here", "tagged-on-a-release-branch"])
def test_a_new_rc_breaks_the_seal(project: DjangoProject, on_branch: bool) -> None:
    """rc2 cut here, or on a release branch (main's tree has no record of it: its tag makes it the previous RC)."""
    plain_check(project)
    assert from_the_seal(project)
    if on_branch:
        project.branch("release-1.0")
    done = releaser(project, "cut")
    assert done.returncode == 0, done.stdout + done.stderr
    if on_branch:
        project.checkout("main")
        assert not (project.root / "releases" / "1.0.0rc2").exists()
    code, out, loaded = plain_check(project)
    assert code == 0 and "releaser.migrations" in loaded and "3 read, 0 new since 1.0.0rc2" in out, out
    assert from_the_seal(project)


def test_in_a_git_worktree_a_tag_made_in_the_main_checkout_breaks_the_seal(project: DjangoProject, tmp_path: Path) -> None:
    """A worktree's tags are its repository's (`.git` is a file there, `commondir` names the shared folder)."""
    project.git("worktree", "add", "-q", str(tmp_path / "wt"), "-b", "work")
    worktree = DjangoProject(tmp_path / "wt", models=project.models)
    plain_check(worktree)
    assert from_the_seal(worktree)
    assert releaser(project, "cut").returncode == 0  # rc2, recorded and tagged from the main checkout
    code, out, loaded = plain_check(worktree)
    assert code == 0 and "releaser.migrations" in loaded and "0 new since 1.0.0rc2" in out, out


def test_a_previous_record_edited_by_hand_breaks_the_seal(project: DjangoProject) -> None:
    plain_check(project)
    assert from_the_seal(project)
    manifest = project.root / "releases" / "1.0.0rc1" / "manifest.json"
    document = json.loads(manifest.read_text())
    document["migrations"]["migrations"][1]["digest"] = "sha256:" + "0" * 64  # what rc1 says 0002 was
    manifest.write_text(json.dumps(document))
    code, out, loaded = plain_check(project)
    assert code == 1 and "releaser.migrations" in loaded and "refused: changed shop.0002_add_price" in out, out


def test_with_trunk_the_gate_is_never_kept(project: DjangoProject) -> None:
    """Trunk moves with every commit: its verdict is read each time."""
    project.release_toml(GATE + 'trunk = "main"\n')
    assert releaser(project, "lock").returncode == 0
    for _ in range(2):
        code, out, loaded = plain_check(project)
        assert code == 0 and "releaser.migrations" in loaded, out


def test_a_migration_folder_linked_outside_the_project_is_never_read_by_the_seal(project: DjangoProject, tmp_path: Path) -> None:
    plain_check(project)
    outside = tmp_path / "elsewhere"
    (project.root / "shop" / "migrations").rename(outside)
    (project.root / "shop" / "migrations").symlink_to(outside)
    code, _, loaded = plain_check(project)
    full = full_check(project)
    assert code == full.returncode == 2 and "releaser.migrations" in loaded and "shop/migrations" in full.stderr, full.stderr


def seal_line(project: DjangoProject) -> str:
    return next(line for line in (project.root / "release.lock").read_text().splitlines() if line.startswith("check-seal = "))


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(header=st.booleans(), data=st.binary(max_size=400) | st.text(max_size=300).map(str.encode))
def test_any_kept_entry_is_read_without_an_error(project: DjangoProject, header: bool, data: bytes) -> None:
    """Whatever the cache file holds, the lean check takes it as a verdict only when its digest holds now."""
    held = seal.holding(str(project.root), __version__)
    assert held is not None
    path = Path(gateseal.entry_path(str(project.root), held[2]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"releaser gate-seal 1\n" * header + data)
    assert gateseal.verdict(str(project.root), held[2]) is None


@given(name=st.text("ab.*?x", max_size=8), pattern=st.text("ab.*?x", max_size=8))
def test_the_seal_expands_star_and_question_mark_as_fnmatch_does(name: str, pattern: str) -> None:
    assert gateseal._fits(name, pattern) == fnmatch.fnmatchcase(name, pattern)
