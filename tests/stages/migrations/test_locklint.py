"""The static lock lint (releaser.migrations.locklint): squawk where installed, releaser's own patterns else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releaser.core.errors import Refused, ReleaserError
from releaser.migrations import locklint

SQL = {
    "shop.0002_widen": 'BEGIN;\nALTER TABLE "shop_item" ALTER COLUMN "qty" TYPE bigint USING "qty"::bigint;\nCOMMIT;\n',
    "shop.0003_index": 'CREATE INDEX "shop_item_name" ON "shop_item" ("name");\nCREATE INDEX CONCURRENTLY "ok" ON "shop_item" ("qty");\n',
    "shop.0004_fk": "ALTER TABLE a ADD CONSTRAINT c CHECK (n > 0);\nALTER TABLE a ADD CONSTRAINT d CHECK (n > 1) NOT VALID;\n",
    "shop.0005_uuid": "ALTER TABLE a ADD COLUMN u uuid DEFAULT gen_random_uuid();\nALTER TABLE a ADD COLUMN v integer DEFAULT 0;\n",
    "shop.0006_rename": "ALTER TABLE a RENAME COLUMN x TO y;\n",
    "shop.0007_drop": 'ALTER TABLE "shop_item" DROP COLUMN "note" CASCADE;\n',
    "shop.0008_fine": "CREATE TABLE t (id bigint PRIMARY KEY);\n",
}
EXPECTED = {
    ("shop.0002_widen", "changing-column-type"),
    ("shop.0003_index", "require-concurrent-index-creation"),
    ("shop.0004_fk", "constraint-missing-not-valid"),
    ("shop.0005_uuid", "adding-field-with-default"),
    ("shop.0006_rename", "renaming-column"),
    ("shop.0007_drop", "ban-drop-column"),
}


@pytest.mark.parametrize("engine", ["squawk", "own"])
def test_each_kind_of_lock_taking_statement_is_found_and_nothing_else(engine):
    if engine == "squawk" and locklint.squawk() is None:
        pytest.fail("squawk-cli is a test dependency (pyproject's test extra)")
    found = locklint.lint(SQL, engine=None if engine == "squawk" else "")
    assert found.engine.startswith("squawk ") == (engine == "squawk")
    assert {(f.migration, f.rule) for f in found.findings} == EXPECTED
    widen = next(f for f in found.findings if f.rule == "changing-column-type")
    assert "ALTER COLUMN" in widen.statement and widen.status == "warning"


def test_policy_and_allow_decide_warning_refused_or_accepted():
    found = locklint.lint({"shop.0002_widen": SQL["shop.0002_widen"], "shop.0007_drop": SQL["shop.0007_drop"]}, engine="")
    warned = found.judged("warn", ())
    warned.refuse()  # warnings never refuse
    assert {f.status for f in warned.findings} == {"warning"}
    strict = found.judged("refuse", ("shop.0007_drop",))
    assert {f.migration: f.status for f in strict.findings} == {"shop.0002_widen": "refused", "shop.0007_drop": "accepted"}
    with pytest.raises(Refused, match=r"^lock lint: migration shop.0002_widen: a column type change rewrites the table"):
        strict.refuse()


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=10), st.text(max_size=200), max_size=3))
def test_any_sql_gives_findings_or_a_releaser_error(sql):
    try:
        found = locklint.lint(sql, engine="")
    except ReleaserError:
        return
    assert all(f.rule in locklint.RULES for f in found.findings)
