"""The `compat` step: the previous RC's code on this RC's schema, as during a rolling deploy.

While the new schema is live, the previous RC is still serving (rolling, blue-green
and canary deploys all have that window). So after `upgrade` and this RC's `gates`,
the previous RC's own gates (the ones its record names) run from its tree and its
pinned environment against the upgraded database. A gate that fails refuses the RC,
naming the previous RC, the gate, the last line it printed and, when the tables in
its error can be matched to them, this RC's migrations that touch those tables: a
column the old code still reads was dropped or renamed (the removing half of a
parallel change, released too early).

`allow` naming every such migration accepts the failure: a deliberate removal
(the old code is known to be drained first). It is recorded as accepted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from releaser.core.errors import Refused, ReleaserError
from releaser.core.redact import shown_command
from releaser.install.layout import expand
from releaser.rehearse.environments import Place
from releaser.rehearse.migrationsql import tables_in

STEP = "compat"
Words = Callable[[str], "set[str] | None"]  # a migration's label -> the identifiers its SQL names (None: cannot tell)


class Ended(Protocol):
    """How a command ended (`rehearsing.Outcome`)."""

    @property
    def returncode(self) -> int: ...

    @property
    def errors(self) -> tuple[str, ...]: ...  # the error lines of its output's tail

    @property
    def last(self) -> str: ...


class Invoke(Protocol):
    def __call__(self, argv: Sequence[str], place: Place, step: str, error: type[ReleaserError]) -> Ended: ...


@dataclass(frozen=True)
class GateRun:
    """One of the previous RC's gates, run on this RC's schema."""

    argv: tuple[str, ...]
    verdict: str  # "ok" | "accepted"
    error: str = ""  # the last line it printed, when it failed
    migrations: tuple[str, ...] = ()  # this RC's migrations touching the tables in its error

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"gate": shown_command(self.argv), "verdict": self.verdict}
        if self.verdict != "ok":
            found.update(error=self.error, migrations=list(self.migrations))
        return found


@dataclass(frozen=True)
class Compat:
    previous: str
    gates: tuple[GateRun, ...]

    def to_record(self) -> dict[str, Any]:
        """manifest.json's `rehearsal.compat`."""
        return {"previous": self.previous, "gates": [g.to_json() for g in self.gates]}

    @property
    def accepted(self) -> list[str]:
        return [f"{self.previous}'s gate `{shown_command(g.argv)}` fails on this RC's schema "
                f"({g.error}): accepted, allow names {', '.join(g.migrations)}" for g in self.gates if g.verdict == "accepted"]


def previous_gates(manifest: dict[str, Any]) -> list[tuple[str, ...]]:
    """The gates the previous RC's record names (as that RC ran them, before `{rc}`/`{dist}` were filled)."""
    gates = manifest.get("gates")
    if not isinstance(gates, list):
        return []
    return [tuple(str(a) for a in gate) for gate in gates if isinstance(gate, list) and gate]


def did(previous: str, gates: Iterable[Sequence[str]]) -> str:
    shown = "; ".join(shown_command(g) for g in gates)
    return f"{previous}'s gates on this RC's schema: {shown or 'it named none'}"


def run_previous_gates(
    invoke: Invoke,
    there: Place,
    gates: Sequence[tuple[str, ...]],
    *,
    dist: Path,
    new: Sequence[str],
    tables: Iterable[str],
    words: Words,
    allow: Sequence[str],
) -> Compat:
    """Run `gates` (the previous RC's) in `there`; see the module docstring.

    `new` are this RC's migrations (labels, as `allow` names them), `tables` every table
    the database is known to hold (matched against the words of a gate's error) and
    `words` gives the identifiers a migration's SQL names, asked only when a gate fails.
    """
    runs = []
    for gate in gates:
        argv = tuple(expand(gate, rc=there.rc, dist=dist))
        done = invoke(argv, there, STEP, Refused)
        if done.returncode == 0:
            runs.append(GateRun(argv, "ok"))
            continue
        named, culprits = suspects(done.errors, tables, new, words)
        if culprits and all(m in allow for m in culprits):
            runs.append(GateRun(argv, "accepted", done.last, culprits))
            continue
        raise Refused(refusal(there.rc, argv, done.returncode, done.last, named, culprits, new))
    return Compat(there.rc, tuple(runs))


def refusal(
    previous: str, argv: Sequence[str], code: int, last: str, named: set[str], culprits: Sequence[str], new: Sequence[str],
) -> str:
    head = (
        f"rehearsal step '{STEP}': {previous}'s gate `{shown_command(argv)}` fails on this RC's schema "
        f"(exit {code}): {last}"
    )
    if culprits:
        why = (
            f"; this RC's migrations touching {', '.join(sorted(named))}: {', '.join(culprits)} "
            f"(while {previous} still serves, its code cannot run on them: release the code that stops using them "
            "first, or allow them by name in [migrations] allow once that code is drained)"
        )
    elif new:
        why = f"; which of this RC's {len(new)} migrations ({_some(new)}) it trips on cannot be told from its error"
    else:
        why = "; this RC adds no migration: the gate fails on the previous RC's own schema too"
    return head + why + "; nothing is recorded"


def suspects(
    errors: Sequence[str], tables: Iterable[str], new: Sequence[str], words: Words,
) -> tuple[set[str], tuple[str, ...]]:
    """(the tables an error names, this RC's migrations whose SQL names them too).

    When the error also names a column (`shop_item.note`, `column "note"`), the
    migrations naming that column as well are the suspects, if any does.
    """
    text = "\n".join(errors)
    named = tables_in(text, list(tables))
    if not named:
        return named, ()
    said = {m: words(m) or set() for m in new}
    culprits = [m for m in new if said[m] & {t.lower().rpartition(".")[2] for t in named}]
    columns = {c.lower() for t in named for c in re.findall(rf"\b{re.escape(t.rpartition('.')[2])}\.\"?(\w+)", text, re.IGNORECASE)}
    columns |= {c.lower() for c in re.findall(r'\bcolumn "?(\w+)"?', text, re.IGNORECASE)}
    columns -= {t.lower().rpartition(".")[2] for t in named}
    narrowed = [m for m in culprits if said[m] & columns]
    return named, tuple(narrowed or culprits)


def _some(names: Sequence[str], n: int = 5) -> str:
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")
