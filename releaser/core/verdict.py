"""What `releaser check` decides, as a value: findings, an exit code, a JSON document.

`releaser check` prints a `Verdict`; `releaser cut` refuses on the same one, so the
two can never disagree. The JSON form is documented in docs/check.md and is
stable: fields are only ever added, under a new `schema` number if one changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from releaser.core.console import fresh

SCHEMA = 1
ERROR, INFO = "error", "info"

# Every finding code, in the order findings are reported, and its severity.
CODES: dict[str, str] = {
    "missing-lock": ERROR,  # there is no lockfile
    "tampered": ERROR,  # the entries do not match the header's content-digest
    "stale": ERROR,  # an input changed since the lock was written
    "floating": ERROR,  # a lock entry is not exact, hashed
    "uncovered": ERROR,  # an input the lock does not pin
    "provenance": ERROR,  # [attest] public-key: the newest RC's signed provenance does not verify
    "gone": ERROR,  # --online: a pinned file, project or commit is no longer upstream
    "hash-changed": ERROR,  # --online: upstream serves different bytes under the same name
    "yanked": ERROR,  # --online: the pinned release was yanked (PEP 592)
    "newer": INFO,  # --online: a newer release or build exists; not a failure
    "other-target": INFO,  # the lock was made for another interpreter than the one running check
}
_ORDER = {code: i for i, code in enumerate(CODES)}

LOCK = "releaser lock"
UPGRADE = "releaser lock --upgrade "


def upgrade(name: str) -> str:
    """The command that re-resolves one pin."""
    return UPGRADE + name


@dataclass(frozen=True)
class Finding:
    """One problem (or, for `newer`, one piece of information) about the lock.

    `subject` names the input (`requirements.in`, `release.toml`) or the entry
    (`python beta==1.0`); `message` says what changed or what floats; `fix` is the
    command that fixes it.
    """

    code: str
    subject: str
    message: str
    fix: str = LOCK

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}")

    @property
    def severity(self) -> str:
        return CODES[self.code]

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def line(self) -> str:
        text = f"{self.code}: {self.subject}: {self.message}"
        return text if self.is_error else f"{text} ({self.fix})"

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity,
            "subject": self.subject,
            "message": self.message,
            "fix": self.fix,
        }


class MigrationPart(Protocol):
    """The migration gate's report (releaser.migrations.report.Report), as the verdict needs it."""

    @property
    def ok(self) -> bool: ...

    def to_dict(self) -> dict[str, Any]: ...

    def lines(self) -> list[str]: ...

    def record(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Verdict:
    """Every finding about one lockfile (and, with [migrations], the migration gate's); `ok` when none refuses."""

    lockfile: str  # as release.toml names it, relative to the project root
    findings: tuple[Finding, ...] = ()
    pins: int = 0  # entries in the lock, for the summary line
    inputs: int = 0  # inputs compared, for the summary line
    online: bool = False
    migrations: MigrationPart | None = None

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.findings, key=lambda f: (_ORDER[f.code], f.subject, f.message)))
        object.__setattr__(self, "findings", ordered)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.is_error)

    @property
    def lock_ok(self) -> bool:
        return not self.errors

    @property
    def ok(self) -> bool:
        return self.lock_ok and (self.migrations is None or self.migrations.ok)

    @property
    def exit_code(self) -> int:
        """0 fresh; 1 stale, floating, tampered, missing (or, online, gone/changed/yanked).

        Bad input never gets this far: it is a ConfigError (exit 2).
        """
        return 0 if self.ok else 1

    @property
    def fix(self) -> str | None:
        """One command that fixes every error: `releaser lock`, with --upgrade NAME... when needed.

        `releaser lock --upgrade A B` re-resolves A and B and refreshes everything else
        as `releaser lock` does, so it covers both kinds of fix.
        """
        if self.lock_ok:
            return None
        names = sorted({f.fix[len(UPGRADE):] for f in self.errors if f.fix.startswith(UPGRADE)})
        return upgrade(" ".join(names)) if names else LOCK

    def to_dict(self) -> dict[str, Any]:
        document = {
            "schema": SCHEMA,
            "ok": self.ok,
            "lockfile": self.lockfile,
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.migrations is not None:
            document["migrations"] = self.migrations.to_dict()  # the document of `releaser migrations --json`
        return document

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def render(self) -> str:
        """The human form: one line per finding, then the command that fixes them all."""
        lines = [f.line() for f in self.findings]
        if self.lock_ok:
            lines.append(fresh(self.lockfile, self.pins, self.inputs, self.online))
        else:
            count = len(self.errors)
            lines.append(f"{self.lockfile}: {count} problem{'s' if count != 1 else ''}; run: {self.fix}")
        if self.migrations is not None:
            lines += self.migrations.lines()
        return "\n".join(lines)
