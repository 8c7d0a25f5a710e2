"""Rolling deploys (docs/rehearsal.md, "Rolling deploys"), compat: the previous RC's gates on this RC's
schema refuse a change they cannot run on. The base project and the scenarios: tests/rolling.py
(the rolling tests are three files, test_rolling_*.py, so the test workers share them out)."""

from __future__ import annotations

import re

import pytest

from rolling import rc2, refused


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"])
def test_dropping_a_column_the_previous_rc_reads_is_refused_by_compat_naming_its_gate(rolling_bases, tmp_path, engine):
    base = rolling_bases(engine)
    root = rc2(base, tmp_path, "drop-note")
    done, error = refused(root, base)
    assert "rehearsal step 'compat': 0.9.0rc1's gate `python manage.py shell -c" in error[0]
    assert "fails on this RC's schema (exit 1)" in error[0]
    assert re.search(r"no such column: shop_item\.note|column shop_item\.note does not exist", error[0]), error[0]
    assert "this RC's migrations touching shop_item: shop.0003_drop_note" in error[0]
    assert "upgrade:" in done.stdout and "gates:" in done.stdout  # this RC's own steps passed first
