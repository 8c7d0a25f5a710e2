"""The previous RC, as the migration gate compares with it: the newest one recorded.

Verdicts 2, 4 and 5 of the gate (and the rehearsal) judge a tree against what the
previous RC shipped: its record's `migrations` (the graph it recorded) and commit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when used: `releaser check` without [migrations] reads no record
    from releaser.core.config import ReleaseConfig
    from releaser.migrations.report import Previous
    from releaser.record import records


def previous(config: ReleaseConfig, before: str | None = None) -> Previous | None:
    """The newest recorded RC other than `before` (the one being cut).

    None for the first RC of a line, and without `[migrations]` (no gate to compare for).
    """
    if config.migrations is None:
        return None
    return as_previous(previous_record(config, before))


def as_previous(record: records.Record | None) -> Previous | None:
    """The migration gate's baseline from an RC's record: its id, commit and recorded graph."""
    if record is None:  # before the import: a check without [migrations] loads no migration code
        return None
    from releaser.migrations.report import Previous

    return Previous(record.rc, record.manifest.get("commit"), record.manifest.get("migrations"))


def previous_record(config: ReleaseConfig, before: str | None = None) -> records.Record | None:
    """The record of the newest RC other than `before`, verified; None for the first RC of a line.

    Recorded in the tree, or (with `[migrations]`) read from an RC tag's commit
    (`releaser.record.tagged`): a release branch finds the RC cut on main, and main the
    one cut on a release branch, without copying records by hand.
    """
    from releaser.record import records
    from releaser.record.tagged import newest_before, read_tagged

    folder = records.records_dir(config)
    names = [rc for rc in records.recorded(folder) if rc != before]
    if config.migrations is not None:  # the gate and the rehearsal: a newer RC tagged on another branch counts
        tagged = newest_before(config, before, names)
        found = read_tagged(config, *tagged) if tagged is not None else None
        if found is not None:
            return found
    return records.read(folder, names[-1]) if names else None
