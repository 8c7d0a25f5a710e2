"""What the seed data looks like: every table's row count and a digest of its rows.

Taken after the previous RC's schema was built and seeded (step 1) and again after
the revert (step 5). Rows are compared as a multiset of per-row sha256 digests,
so their order does not matter. A table is *lost* data when a row it had before
is gone or changed (a column dropped and re-added empty changes every row), or
when the table itself is gone; rows that only appeared (a framework's own
bookkeeping, e.g. Django's content types of a model the upgrade added) are noted,
not refused.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from releaser.rehearse.database import Database


@dataclass(frozen=True)
class TableState:
    rows: int
    digest: str  # "sha256:" of the sorted row digests
    row_digests: Counter[bytes] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Snapshot:
    tables: dict[str, TableState]

    def to_record(self) -> dict[str, Any]:
        return {name: {"rows": t.rows, "digest": t.digest} for name, t in sorted(self.tables.items())}


def take(database: Database) -> Snapshot:
    tables = {}
    for name, rows in database.table_rows().items():
        digests = sorted(hashlib.sha256(row).digest() for row in rows)
        whole = hashlib.sha256(b"".join(digests)).hexdigest()
        tables[name] = TableState(len(digests), f"sha256:{whole}", Counter(digests))
    return Snapshot(tables)


def compare(before: Snapshot, after: Snapshot) -> tuple[list[str], list[str]]:
    """(data lost, one line per table; rows only added, one line per table)."""
    lost, added = [], []
    for name, then in sorted(before.tables.items()):
        now = after.tables.get(name)
        if now is None:
            lost.append(f"table {name} ({then.rows} rows before the upgrade) is gone after the revert")
            continue
        missing = sum((then.row_digests - now.row_digests).values())
        if missing:
            lost.append(
                f"table {name}: {missing} of its {then.rows} rows are missing or changed after the revert "
                f"({now.rows} rows now)"
            )
        elif now.rows > then.rows:
            added.append(f"table {name}: {now.rows - then.rows} rows more after the revert than before the upgrade")
    return lost, added
