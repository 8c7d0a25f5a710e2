"""The rehearsal's parts that need no database: the URL of `database`, the revert order."""

from __future__ import annotations

import pytest

from releaser.core.errors import ConfigError, ReleaserError


def test_database_urls_of_any_shape_give_releaser_errors_only(tmp_path):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from releaser.rehearse.engines import open_database

    @settings(max_examples=200, deadline=None)
    @given(st.one_of(
        st.text(max_size=60),
        st.builds(lambda a, b: f"postgresql://{a}@{b}", st.text(max_size=20), st.text(max_size=20)),
        st.builds(lambda a: f"postgres://[{a}/db", st.text(max_size=10)),
    ))
    def check(spec: str) -> None:
        try:
            database = open_database(spec, tmp_path / "db")
        except ReleaserError:
            return
        assert database.engine in ("sqlite", "postgresql")
        assert "${" not in database.shown or "$" in spec

    check()
    with pytest.raises(ConfigError, match="neither"):
        open_database("mysql://u:pw@h/db", tmp_path)
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE"):
        open_database("postgresql://u:${NOT_SET_ANYWHERE}@h/db", tmp_path)


def test_the_revert_order_takes_dependents_back_first():
    from releaser.rehearse.commands import Commands, app_dependencies, revert_steps

    settings = type("S", (), {"framework": "django", "upgrade": None, "revert": None})()
    commands = Commands.of(settings)
    depends = app_dependencies([("orders", ["shop", "auth"]), ("shop", ["auth"]), ("billing", ["orders"])])
    steps = revert_steps(
        commands,
        {"shop": ["0003_x"], "orders": ["0002_y"], "billing": ["0001_initial"], "auth": [], "same": ["0001_initial"]},
        {"shop": ["0002_w"], "orders": ["0001_initial"], "auth": [], "same": ["0001_initial"]},
        depends,
    )
    assert [(s.app, s.target) for s in steps] == [("billing", "zero"), ("orders", "0001_initial"), ("shop", "0002_w")]
    assert steps[0].argv == ("python", "manage.py", "migrate", "--noinput", "billing", "zero")
    assert steps[0].check == "python manage.py migrate --check billing zero >/dev/null"
    flyway = type("S", (), {"framework": "flyway", "upgrade": None, "revert": None})()
    with pytest.raises(ConfigError, match="set upgrade and revert"):
        Commands.of(flyway)


def test_the_rehearsal_benchmark_keeps_working(tmp_path):
    """`bench/rehearsal.py` writes its section, with figures (none is judged: a time on a shared machine proves nothing)."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    output = tmp_path / "benchmarks.md"
    output.write_text("# Benchmarks\n\nearlier sections\n\n<!-- rehearsal -->\nan older run\n<!-- /rehearsal -->\n")
    script = Path(__file__).resolve().parents[3] / "bench" / "rehearsal.py"
    done = subprocess.run(
        [sys.executable, str(script), "--sizes", "2", "--runs", "1", "--output", str(output)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = output.read_text()
    assert text.startswith("# Benchmarks\n\nearlier sections\n") and "an older run" not in text  # replaced, the rest kept
    assert text.count("<!-- rehearsal -->") == 1
    assert re.search(r"\| 2 \| \d+\.\d\d \| \d+\.\d\d \| \d+\.\d{3} \| (yes|no) \|", text), text


def test_step_times_are_compared_only_with_the_previous_rc_on_the_same_engine(tmp_path):
    """rc1 rehearsed on PostgreSQL, rc2 on SQLite: rc1's seconds say nothing about SQLite's."""
    from releaser.core.lockfile import Lock
    from releaser.record.records import Record
    from releaser.rehearse.rehearsing import _Run
    from releaser.rehearse.sqlite import SqliteDatabase

    def previous(engine: str) -> Record:
        rehearsal = {"engine": engine, "steps": [{"name": "upgrade", "seconds": 0.01}]}
        return Record("1.0rc1", tmp_path, {"rehearsal": rehearsal}, Lock.__new__(Lock))

    database = SqliteDatabase(tmp_path / "db.sqlite3")
    assert _Run(None, "1.0rc2", database, tmp_path, print, previous("postgresql"), 2.0).figures == {}  # type: ignore[arg-type]
    assert _Run(None, "1.0rc2", database, tmp_path, print, previous("sqlite"), 2.0).figures == {"upgrade": 0.01}  # type: ignore[arg-type]
