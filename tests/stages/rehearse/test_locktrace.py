"""Lock tracing (releaser.rehearse.locktrace) on the real PostgreSQL cluster, with psql as the
"framework": fast, and exactly the statements whose locks PostgreSQL's documentation names."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence

import pytest

from releaser.core.errors import Refused, UpstreamError
from releaser.rehearse import locktrace
from releaser.rehearse.postgres import PostgresDatabase
from releaser.rehearse.sqlite import SqliteDatabase

ROWS = 60_000  # a table above BATCH_BELOW: one migration at a time


@pytest.fixture
def database(postgres) -> Iterator[PostgresDatabase]:
    db = PostgresDatabase.from_url(postgres.url())
    db.create()
    try:
        yield db
    finally:
        db.drop()


def _psql(db: PostgresDatabase, sql: str) -> tuple[str, ...]:
    return ("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql)


def _run(db: PostgresDatabase):
    def command(argv: Sequence[str]) -> None:
        subprocess.run(list(argv), env=db.client_env(), check=True, capture_output=True, timeout=120)

    return command


def _seed(db: PostgresDatabase, rows: int) -> None:
    _run(db)(_psql(db, "CREATE TABLE item (id serial PRIMARY KEY, qty integer NOT NULL, note text);"
                       f"INSERT INTO item (qty, note) SELECT i, 'note ' || i FROM generate_series(1, {rows}) AS i"))


def _traced(db: PostgresDatabase, steps, upgrade, command=None, budget=None, framework=None, own=()) -> locktrace.LockTrace:
    with locktrace.observing(db, framework) as observer:
        assert observer is not None
        return locktrace.traced_upgrade(observer, steps, upgrade, command or _run(db), budget, own)


def test_each_migration_is_traced_alone_with_its_locks_and_rewrites(database):
    _seed(database, ROWS)
    ran: list[Sequence[str]] = []

    def command(argv: Sequence[str]) -> None:
        ran.append(argv)
        _run(database)(argv)

    steps = [
        ("app.0002_widen", _psql(database, "ALTER TABLE item ALTER COLUMN qty TYPE bigint")),
        ("app.0003_index", _psql(database, "CREATE INDEX item_note ON item (note)")),
        ("app.0004_nullable", _psql(database, "SELECT no_such_column FROM item")),  # never run: the upgrade applies the last
    ]
    upgrade = _psql(database, "ALTER TABLE item ALTER COLUMN note DROP NOT NULL")
    trace = _traced(database, steps, upgrade, command)
    # One command per migration, the last the framework's full upgrade: no upgrade after them.
    assert ran == [steps[0][1], steps[1][1], upgrade]
    assert trace.how == "one migration at a time" and [m.migration for m in trace.migrations] == [s[0] for s in steps]
    widen, index, nullable = trace.migrations

    def modes(m: locktrace.Traced) -> set[tuple[str, str]]:
        return {(lock.table, locktrace.shown_mode(lock.mode)) for lock in m.locks}

    assert ("item", "ACCESS EXCLUSIVE") in modes(widen) and widen.rewrites == ("item",)
    assert ("item", "SHARE") in modes(index) and index.rewrites == ()  # CREATE INDEX blocks writes, rewrites nothing
    assert nullable.rewrites == ()
    assert database.rows("SELECT is_nullable FROM information_schema.columns WHERE column_name = 'note'", doing="") == [["YES"]]
    record = trace.to_record()
    assert record["traced"] and record["migrations"][0]["rewrites"] == ["item"]
    assert any(lock["mode"] == "ACCESS EXCLUSIVE" and lock["blocking"] for lock in record["migrations"][0]["locks"])


def test_a_blocking_lock_held_past_the_budget_refuses_naming_migration_table_mode_and_time(database):
    _seed(database, ROWS)
    # A lock held for a known time: the migration's transaction sleeps holding ACCESS EXCLUSIVE.
    slow = _psql(database, "BEGIN; LOCK TABLE item IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(0.5); COMMIT;")
    with pytest.raises(Refused) as refused:
        _traced(database, [("app.0002_lock", slow)], slow, budget=0.2)
    message = str(refused.value)
    assert message.startswith("rehearsal step 'upgrade': migration app.0002_lock held ACCESS EXCLUSIVE on item for 0.")
    assert "more than [migrations] lock-budget 0.2 s" in message and "rewriting" not in message
    # A lock that blocks nobody (ROW EXCLUSIVE: ordinary writes) is never judged.
    quiet = _psql(database, "BEGIN; LOCK TABLE item IN ROW EXCLUSIVE MODE; SELECT pg_sleep(0.5); COMMIT;")
    trace = _traced(database, [("app.0003_write", quiet)], quiet, budget=0.2)
    [held] = [lock for lock in trace.migrations[0].locks if lock.table == "item"]
    assert held.mode == "RowExclusiveLock" and not held.blocking and held.seconds >= 0.3


def test_what_the_framework_applies_besides_the_migration_is_named_with_it(database):
    """The last migration goes through the full upgrade: the ledger (django_migrations) names what else it applied."""
    _seed(database, ROWS)
    _run(database)(_psql(database, "CREATE TABLE django_migrations (id serial, app text, name text, applied timestamptz DEFAULT now());"
                                   "INSERT INTO django_migrations (app, name) VALUES ('app', '0001_initial')"))

    def applies(*names: str, sql: str = "SELECT 1") -> tuple[str, ...]:
        rows = ", ".join(f"('{app}', '{name}')" for app, _, name in (n.partition(".") for n in names))
        return _psql(database, f"{sql}; INSERT INTO django_migrations (app, name) VALUES {rows}")

    steps = [("app.0002_a", applies("app.0002_a")), ("app.0004_b", applies("app.0004_b"))]
    # The full upgrade applies app.0004_b, a framework app's migration, and app.0003_c (a squashed migration
    # of the project's own, recorded with it: not named), holding ACCESS EXCLUSIVE past the budget.
    upgrade = applies("app.0004_b", "contenttypes.0003_x", "app.0003_c",
                      sql="BEGIN; LOCK TABLE item IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(0.5); COMMIT")
    trace = _traced(database, steps, upgrade, framework="django", own={"app.0003_c"})
    assert [m.migration for m in trace.migrations] == ["app.0002_a", "app.0004_b, contenttypes.0003_x"]
    _run(database)(_psql(database, "DELETE FROM django_migrations WHERE name <> '0001_initial'"))  # as before the upgrade
    with pytest.raises(Refused) as refused:
        _traced(database, steps, upgrade, budget=0.2, framework="django", own={"app.0003_c"})
    assert str(refused.value).startswith(
        "rehearsal step 'upgrade': one of the migrations app.0004_b, contenttypes.0003_x (applied in one upgrade) "
        "held ACCESS EXCLUSIVE on item for 0."
    )


def test_small_tables_run_the_upgrade_in_one_go_observed_as_one(database):
    _seed(database, 100)
    ran: list[Sequence[str]] = []

    def command(argv: Sequence[str]) -> None:
        ran.append(argv)
        _run(database)(argv)

    upgrade = _psql(database, "ALTER TABLE item ALTER COLUMN qty TYPE bigint")
    steps = [("app.0002_a", _psql(database, "SELECT 2")), ("app.0003_b", _psql(database, "SELECT 3"))]
    trace = _traced(database, steps, upgrade, command)
    assert ran == [upgrade] and trace.how.startswith("in one upgrade (no table of 1 MiB or more)")
    [batch] = trace.migrations
    assert batch.migration == "app.0002_a, app.0003_b" and batch.rewrites == ("item",)


def test_an_observer_that_cannot_connect_says_so_at_once(database):
    database.password = "wrong"
    with pytest.raises(UpstreamError, match=r"^rehearsal step 'upgrade': psql observing the locks ended \(exit 2\)$"):
        _traced(database, [("app.0002_a", _psql(database, "SELECT 1"))], _psql(database, "SELECT 1"))


def test_sqlite_says_it_has_no_table_locks(tmp_path):
    trace = locktrace.untraced(SqliteDatabase(tmp_path / "db.sqlite3").engine)
    assert not trace.traced and "sqlite has no table locks to trace" in trace.how
    assert trace.to_record()["migrations"] == []


def test_modes_are_named_as_postgresql_documents_them():
    assert [locktrace.shown_mode(m) for m in locktrace.BLOCKING] == ["ACCESS EXCLUSIVE", "EXCLUSIVE", "SHARE ROW EXCLUSIVE", "SHARE"]


def test_scale_multiplies_every_tables_rows_with_keys_renumbered(database, tmp_path):
    from releaser.rehearse import scale

    _seed(database, 10)
    _run(database)(_psql(database, "CREATE TABLE tag (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, item integer REFERENCES item, "
                                   "label text); INSERT INTO tag (item, label) SELECT id, 'x' FROM item;"
                                   "CREATE TABLE code (id serial PRIMARY KEY, code text UNIQUE); INSERT INTO code (code) VALUES ('a');"
                                   "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('a1')"))
    scaled = scale.scale(database, 3)
    assert scaled.to_record() == {
        "factor": 3, "tables": ["item", "tag"],
        "left": ["alembic_version (the framework's own bookkeeping)", "code (another unique constraint: copies would collide)"],
    }
    counts = database.rows("SELECT (SELECT count(*) FROM item), (SELECT count(DISTINCT id) FROM item), (SELECT count(*) FROM tag), "
                           "(SELECT count(*) FROM code)", doing="counting")
    assert counts == [["30", "30", "30", "1"]]
    # The sequences moved past the copies: the framework's next insert gets a new key.
    _run(database)(_psql(database, "INSERT INTO item (qty) VALUES (0); INSERT INTO tag (item) VALUES (1)"))

    sqlite = SqliteDatabase(tmp_path / "db.sqlite3")
    sqlite.create()
    import sqlite3

    with sqlite3.connect(sqlite.path) as db:
        db.executescript("CREATE TABLE shop_item (id integer PRIMARY KEY AUTOINCREMENT, name text);"
                         "INSERT INTO shop_item (name) VALUES ('a'), ('b');")
    assert scale.scale(sqlite, 4).tables == ("shop_item",)
    with sqlite3.connect(sqlite.path) as db:
        assert db.execute("SELECT count(*), count(DISTINCT id) FROM shop_item").fetchone() == (8, 8)
