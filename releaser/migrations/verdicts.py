"""The five verdicts of the migration gate (docs/migrations.md), each a pure function of graphs.

1. `heads`: more than one head per app; a number, version or revision id used twice.
2. `history`: a migration of the previous RC removed, renamed or changed in meaning.
3. `trunk`: a migration trunk lacks, or has with other dependencies (the backport rule).
4. `upgrade`: a database at an earlier release could not be upgraded to this tree in order.
5. `reversibility`: a migration new since the previous RC that cannot be reversed.

Each finding names the migration, its file and the command that fixes it.
"""

from __future__ import annotations

import shlex

from releaser.migrations.graph import Graph, Key, Migration, number
from releaser.migrations.report import MigrationFinding

_MERGE = {"django": "python manage.py makemigrations --merge {app}", "alembic": "alembic merge heads -m 'merge heads'"}
_IRREVERSIBLE = {
    "django": "give every RunPython a reverse_code (migrations.RunPython.noop when there is nothing to undo) "
    "and every RunSQL a reverse_sql in {file}",
    "alembic": "write downgrade() in {file} (it is empty or raises)",
    "south": "write backwards() in {file} (it is empty or raises)",
    "flyway": "add its undo script U{name}__<description>.sql beside {file}",
}


def _finding(graph: Graph, m: Migration, kind: str, message: str, fix: str) -> MigrationFinding:
    """A finding about one migration, named by it."""
    return MigrationFinding(graph.label(m.key), kind, graph.label(m.key), m.file, message, fix)


# -- 1 ---------------------------------------------------------------------------


def heads(graph: Graph) -> list[MigrationFinding]:
    """More than one head in an app; South/Flyway: a shared number or version; any name claimed twice."""
    found = []
    fw = graph.framework
    for app, leaves in sorted(graph.heads().items()):
        if len(leaves) < 2 or fw not in _MERGE:
            continue
        numbers = {number(leaf) for leaf in leaves}
        shared = numbers.pop() if len(numbers) == 1 and None not in numbers else None
        if fw == "alembic":
            name = "+".join(leaves)
        else:
            name = f"{app}.{shared}" if shared else f"{app}.{'+'.join(leaves)}"
        files = ", ".join(graph.migrations[(app, leaf)].file for leaf in leaves)
        shown = ", ".join(graph.label((app, leaf)) for leaf in leaves)
        what = "app" if fw == "django" else "script directory"
        message = (
            f"{what} {app} has {len(leaves)} heads ({shown}): "
            + ("`migrate` refuses (\"Conflicting migrations detected\") until a merge migration joins them" if fw == "django"
               else "`alembic upgrade head` refuses until a merge revision joins them")
        )
        found.append(MigrationFinding(name, "multiple-heads", shown, files, message, _MERGE[fw].format(app=app)))
    if fw == "south":
        by_number: dict[tuple[str, str], list[Migration]] = {}
        for m in graph.internal():
            n = number(m.name)
            if n is not None:
                by_number.setdefault((m.app, n), []).append(m)
        for (app, n), ms in sorted(by_number.items()):
            if len(ms) > 1:
                names = ", ".join(graph.label(m.key) for m in ms)
                found.append(MigrationFinding(
                    f"{app}.{n}", "duplicate", names, ", ".join(m.file for m in ms),
                    f"{len(ms)} migrations of {app} share the number {n} ({names}); South applies them in name order",
                    f"renumber the one not released yet after the last migration of {app}; "
                    f"if both are released, accept it: allow = [\"{app}.{n}\"]",
                ))
    for key, paths in sorted(graph.duplicates.items()):
        name = graph.label(key)
        what = {"flyway": "version", "alembic": "revision id"}.get(fw, "migration")
        found.append(MigrationFinding(
            name, "duplicate", name, ", ".join(paths),
            f"{len(paths)} files claim {what} {name}; the framework refuses or picks one at random",
            f"give one of them a new {what} (the one not released yet)",
        ))
    return found


# -- 2 ---------------------------------------------------------------------------


def history(graph: Graph, previous: Graph, rc: str, commit: str | None) -> list[MigrationFinding]:
    """A migration the previous RC recorded is gone (renamed?) or changed in meaning."""
    found = []
    aliases = graph.replaced_by()
    by_digest = {m.digest: m for m in graph.internal() if m.key not in previous.migrations}
    restore = f"git checkout {commit[:12]} -- {{file}}" if commit else "restore {file} as it was"
    for old in previous.internal():
        now = graph.migrations.get(old.key)
        if now is None or now.external:
            if old.key in aliases:
                continue  # squashed: the squashed migration stands for it
            renamed = by_digest.get(old.digest)
            how = f"renamed to {graph.label(renamed.key)} ({renamed.file})" if renamed else "removed"
            message = (
                f"was released in {rc} and is {how}: databases at {rc} recorded it as applied by name, "
                "so the framework would apply it again or lose track of it"
            )
            fix = restore.format(file=old.file)
            if renamed is not None and renamed.file and old.file:
                # Restoring the old file beside the new one leaves two migrations: give it its name back instead.
                fix = f"git mv {shlex.quote(renamed.file)} {shlex.quote(old.file)}"
                if graph.framework in ("django", "south"):
                    fix += f" (and depend on {old.name!r} again wherever {renamed.name!r} is named)"
            found.append(_finding(previous, old, "removed", message, fix))
        elif now.digest != old.digest:
            message = (
                f"was released in {rc} and has changed in meaning since (not only its formatting): "
                f"databases at {rc} will not run the new version; put the change in a new migration"
            )
            found.append(_finding(graph, now, "changed", message, restore.format(file=old.file) + ", then add a new migration"))
    return found


# -- 3 ---------------------------------------------------------------------------


def trunk(graph: Graph, trunk_graph: Graph, ref: str) -> list[MigrationFinding]:
    """Every migration here must be on trunk under the same name and with the same dependencies."""
    found = []
    trunk_aliases = trunk_graph.replaced_by()
    for m in graph.internal():
        there = trunk_graph.migrations.get(m.key)
        if there is None or there.external:
            if m.key in trunk_aliases:
                continue
            message = f"is not on trunk ({ref}): a release that has it cannot be upgraded to one from trunk"
            fix = f"land it on {ref} with the same dependencies (git cherry-pick the commit that added {m.file})"
            found.append(_finding(graph, m, "not-on-trunk", message, fix))
        elif set(m.parents) != set(there.parents):
            here, then = _names(graph, m.parents), _names(trunk_graph, there.parents)
            message = f"depends on {here} here but on {then} on trunk ({ref}): a backport re-parented differently"
            merge = _MERGE.get(graph.framework, "renumber what sorts after it").format(app=m.app)
            # Trunk released it with those parents: the backport is what changed, so it goes back to them here.
            fix = (
                f"give it here the dependencies it has on {ref} ({then}), backporting them too where they are missing, "
                f"then join the heads that leaves here: {merge}"
            )
            found.append(_finding(graph, m, "trunk-parents", message, fix))
    return found


def _names(graph: Graph, keys: tuple[Key, ...]) -> str:
    return ", ".join(sorted(graph.label(k) for k in keys)) or "nothing"


# -- 4 ---------------------------------------------------------------------------


def upgrade(graph: Graph, release: Graph, ref: str, *, missing: bool = True) -> list[MigrationFinding]:
    """Could a database fully migrated at `release` (git ref or RC `ref`) be upgraded to this tree?"""
    applied = {m.key for m in release.internal()}
    found: list[MigrationFinding] = []
    aliases = graph.replaced_by()
    if missing:
        for m in release.internal():
            if m.key not in graph.migrations and m.key not in aliases:
                message = f"is applied in databases at {ref} but this tree lacks it: it was never landed here"
                fix = f"land {m.file} here as it is at {ref}"
                found.append(_finding(release, m, "upgrade", message, fix))
    fw = graph.framework
    if fw == "django":
        found += _django_upgrade(graph, applied, ref, release)
    elif fw == "alembic":
        found += _alembic_upgrade(graph, release, ref)
    else:  # South and Flyway apply in order: nothing new may sort before what is applied
        order = (lambda k: tuple(int(p) for p in k[1].split("."))) if fw == "flyway" else (lambda k: k[1])
        for app in sorted({k[0] for k in applied}):
            done = [k for k in applied if k[0] == app]
            last = max(done, key=order)
            for m in graph.internal():
                if m.app == app and m.key not in applied and order(m.key) < order(last):
                    message = (
                        f"is new since {ref} but sorts before {graph.label(last)}, which databases at {ref} have applied: "
                        + ("Flyway ignores it there (outOfOrder=false) and validate fails" if fw == "flyway"
                           else "South refuses to migrate without --merge")
                    )
                    fix = (f"renumber it above {last[1]}" if fw == "flyway"
                           else f"renumber it after {last[1]} (or migrate with: python manage.py migrate {app} --merge)")
                    found.append(_finding(graph, m, "upgrade", message, fix))
    return found


def _django_upgrade(graph: Graph, applied: set[Key], ref: str, release: Graph) -> list[MigrationFinding]:
    """Django's MigrationLoader.check_consistent_history: an applied migration whose dependency is not applied."""
    parents = graph.effective_parents()
    squashed = {m.key for m in graph.internal() if m.replaces and set(m.replaces) <= applied}
    done = applied | squashed
    found = []
    for key in sorted(parents):
        m = graph.migrations[key]
        if key not in done or m.external:
            continue
        unapplied = sorted(p for p in parents[key] if p not in done and not graph.migrations[p].external)
        if unapplied:
            names = ", ".join(graph.label(p) for p in unapplied)
            was = _names(release, release.migrations[key].parents) if key in release.migrations else "?"
            message = (
                f"is applied in databases at {ref}, but here it depends on {names}, which they never applied: "
                f"the upgrade fails with InconsistentMigrationHistory (at {ref} it depends on {was})"
            )
            fix = f"give it the same dependencies as at {ref} ({was}), then: python manage.py makemigrations --merge {key[0]}"
            found.append(_finding(graph, m, "upgrade", message, fix))
    return found


def _alembic_upgrade(graph: Graph, release: Graph, ref: str) -> list[MigrationFinding]:
    """alembic_version keeps only the heads: each head of `release` must have the same ancestry here."""
    found = []
    for app, names in sorted(release.heads().items()):
        for name in names:
            head = (app, name)
            if head not in graph.migrations:
                continue  # reported as missing
            before = release.ancestors(head) | {head}
            after = graph.ancestors(head) | {head}
            if before == after:
                continue
            moved = [k for k in sorted(before & after) if set(release.migrations[k].parents) != set(graph.migrations[k].parents)]
            culprit = graph.migrations[moved[0]] if moved else graph.migrations[head]
            skipped = ", ".join(graph.label(k) for k in sorted(after - before)) or "none"
            rerun = ", ".join(release.label(k) for k in sorted(before - after)) or "none"
            message = (
                f"databases at {ref} are stamped {name}, whose ancestry changed here: Alembic would count "
                f"{skipped} as applied without running them (and no longer counts {rerun})"
            )
            fix = f"restore the down_revision {graph.label(culprit.key)} had at {ref}, then: alembic merge heads -m 'merge heads'"
            found.append(_finding(graph, culprit, "upgrade", message, fix))
    return found


# -- 5 ---------------------------------------------------------------------------


def reversibility(graph: Graph, new: list[Key]) -> tuple[list[MigrationFinding], list[str]]:
    """Findings for new migrations that cannot be reversed; notes for those that could not be told."""
    found, notes = [], []
    for key in new:
        m = graph.migrations[key]
        if m.reversible is False:
            fix = _IRREVERSIBLE[graph.framework].format(file=m.file, name=m.name)
            message = "is new in this RC and cannot be reversed: there is no way back to the previous RC's schema"
            found.append(_finding(graph, m, "irreversible", message, fix))
        elif m.reversible is None:
            notes.append(f"{m.file}: could not tell whether {graph.label(key)} can be reversed (not read statically)")
    return found, notes


def new_since(graph: Graph, previous: Graph | None) -> list[Key]:
    """Migrations here that the previous RC did not record (none without a previous RC)."""
    if previous is None:
        return []
    return [m.key for m in graph.internal() if m.key not in previous.migrations]

