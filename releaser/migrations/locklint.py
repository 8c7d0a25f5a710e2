"""Static lock lint: the statements of a migration's SQL that lock a table for long, or break old code.

Read from the SQL the framework would run (the rehearsal asks for it: `sqlmigrate`,
`alembic upgrade --sql`, Flyway's own files), one migration at a time. The engine is
squawk (`squawk-cli`, PyPI; the `lint` extra) when it is installed, run once over
every migration; only its rules about locks and about breaking code still deployed
are kept (`RULES`), not its style advice. Without squawk, releaser's own few
patterns (`_OWN`) find the same kinds of statement, less precisely.

Each finding is a warning; `[migrations] lock-lint = "refuse"` makes it refuse the RC
unless `allow` names the migration, and `"off"` skips the lint.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sysconfig
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from releaser.core.errors import Refused, UpstreamError

# squawk's rule -> what it means here, in a release engineer's words
RULES = {
    "require-concurrent-index-creation": "CREATE INDEX without CONCURRENTLY blocks writes to the table while it builds",
    "require-concurrent-index-deletion": "DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table",
    "constraint-missing-not-valid": "a constraint added without NOT VALID scans the table while blocking writes",
    "adding-foreign-key-constraint": "a foreign key added without NOT VALID blocks writes to both tables while it scans",
    "disallowed-unique-constraint": "a UNIQUE constraint builds its index while blocking writes",
    "changing-column-type": "a column type change rewrites the table under ACCESS EXCLUSIVE",
    "adding-field-with-default": "a volatile default rewrites the table under ACCESS EXCLUSIVE",
    "adding-not-nullable-field": "SET NOT NULL scans the table under ACCESS EXCLUSIVE",
    "adding-serial-primary-key-field": "a serial primary key rewrites the table under ACCESS EXCLUSIVE",
    "renaming-column": "renaming a column breaks the previous RC's code still serving",
    "renaming-table": "renaming a table breaks the previous RC's code still serving",
    "ban-drop-column": "dropping a column breaks the previous RC's code still serving",
    "ban-drop-table": "dropping a table breaks the previous RC's code still serving",
}
_OWN = {  # releaser's own patterns, over one statement (squawk's rule names)
    "require-concurrent-index-creation": r"^create\s+(unique\s+)?index\s+(?!concurrently)",
    "require-concurrent-index-deletion": r"^drop\s+index\s+(?!concurrently)",
    "constraint-missing-not-valid": r"\badd\s+constraint\b(?!.*\bnot\s+valid\b)(?!.*\bunique\b)(?!.*\bprimary\s+key\b)",
    "disallowed-unique-constraint": r"\badd\s+constraint\b[^;]*\bunique\b(?!\s+using\s+index)",
    "changing-column-type": r"\balter\s+column\s+\S+\s+(set\s+data\s+)?type\b",
    "adding-field-with-default": r"\badd\s+column\b.*\bdefault\s+[^;]*\b(random|gen_random_uuid|uuid_generate_v\d|clock_timestamp|nextval)\s*\(",
    "adding-not-nullable-field": r"\balter\s+column\s+\S+\s+set\s+not\s+null\b",
    "renaming-column": r"\brename\s+column\b",
    "renaming-table": r"^alter\s+table\s+\S+\s+rename\s+to\b",
    "ban-drop-column": r"\bdrop\s+column\b",
    "ban-drop-table": r"^drop\s+table\b",
}


@dataclass(frozen=True)
class LockFinding:
    migration: str  # its label, as `allow` names it
    rule: str  # squawk's rule name
    statement: str  # the statement, shortened, or its line
    status: str = "warning"  # "warning" | "refused" | "accepted"

    @property
    def message(self) -> str:
        return RULES[self.rule]

    def to_json(self) -> dict[str, str]:
        return {"migration": self.migration, "rule": self.rule, "message": self.message, "statement": self.statement, "status": self.status}


@dataclass(frozen=True)
class Lint:
    engine: str  # "squawk 2.70.0" or "releaser's own patterns"
    findings: tuple[LockFinding, ...]
    unread: tuple[str, ...] = ()  # migrations whose SQL the framework did not give

    def to_record(self) -> dict[str, Any]:
        return {"engine": self.engine, "findings": [f.to_json() for f in self.findings], "unread": list(self.unread)}

    def judged(self, policy: str, allow: tuple[str, ...]) -> Lint:
        """Each finding accepted (its migration is allowed), refused (policy "refuse") or a warning."""
        def status(f: LockFinding) -> str:
            return "accepted" if f.migration in allow else "refused" if policy == "refuse" else "warning"

        return replace(self, findings=tuple(replace(f, status=status(f)) for f in self.findings))

    def refuse(self) -> None:
        refused = [f for f in self.findings if f.status == "refused"]
        if refused:
            first = refused[0]
            more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
            raise Refused(
                f"lock lint: migration {first.migration}: {first.message} ({first.rule}: {first.statement}){more}; "
                "[migrations] lock-lint = \"refuse\": make the change in steps that lock briefly, or allow the "
                "migration by name; nothing is recorded"
            )


def squawk() -> str | None:
    """The squawk binary: beside this interpreter (the `lint` extra), else on PATH."""
    beside = Path(sysconfig.get_path("scripts")) / "squawk"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("squawk")


def lint(sql: Mapping[str, str], *, engine: str | None = None) -> Lint:
    """The lock findings of each migration's SQL (label -> SQL), with squawk when it is installed."""
    binary = engine if engine is not None else squawk()
    if binary:
        return Lint(_version(binary), tuple(_squawk(binary, sql)))
    return Lint("releaser's own patterns (squawk-cli is not installed)", tuple(_own(sql)))


def _squawk(binary: str, sql: Mapping[str, str]) -> list[LockFinding]:
    if not sql:
        return []
    with tempfile.TemporaryDirectory(prefix="releaser-lint-") as tmp:
        files = {}
        for i, (label, text) in enumerate(sql.items()):
            path = Path(tmp) / f"{i:05d}.sql"
            path.write_text(text, encoding="utf-8")
            files[str(path)] = (label, text.splitlines())
        try:
            done = subprocess.run(
                [binary, "--reporter", "json", *files], capture_output=True, timeout=300, stdin=subprocess.DEVNULL,
            )
            reported = json.loads(done.stdout or b"[]")
        except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
            raise UpstreamError(f"lock lint: squawk ({binary}) failed: {exc}") from None
    found = []
    for item in reported if isinstance(reported, list) else ():
        if not isinstance(item, dict) or item.get("rule_name") not in RULES or item.get("file") not in files:
            continue
        label, lines = files[item["file"]]
        line = item.get("line")
        if not isinstance(line, int):
            line = 0
        found.append(LockFinding(label, item["rule_name"], _short(lines[line] if 0 <= line < len(lines) else "")))
    return _unique(found)


def _own(sql: Mapping[str, str]) -> list[LockFinding]:
    found = []
    for label, text in sql.items():
        without = re.sub(r"--[^\n]*", "", text)
        for statement in (s.strip() for s in without.split(";")):
            flat = " ".join(statement.lower().split())
            for rule, pattern in _OWN.items():
                if re.search(pattern, flat):
                    found.append(LockFinding(label, rule, _short(" ".join(statement.split()))))
    return _unique(found)


def _unique(found: list[LockFinding]) -> list[LockFinding]:
    return list({(f.migration, f.rule, f.statement): f for f in found}.values())


def _short(text: str, n: int = 160) -> str:
    text = text.strip()
    return text if len(text) <= n else text[: n - 1] + "…"


def _version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    return out or "squawk"

