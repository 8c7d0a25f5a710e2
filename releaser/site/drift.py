"""The drift page (`releaser site --online`): what is newer upstream today than each pin of the
newest RC, and how old each pin is today. Upstream is asked exactly as `releaser check
--online` asks it (`releaser.check.checking.verify_online`): the same findings, per pin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from releaser.core.config import ReleaseConfig
from releaser.core.errors import ConfigError
from releaser.core.verdict import Finding

if TYPE_CHECKING:
    from releaser.plumbing.http import Http
    from releaser.site.pages import Rc


@dataclass(frozen=True)
class DriftRow:
    kind: str
    name: str
    version: str
    date: str
    age_days: int | None  # today
    findings: tuple[Finding, ...]  # newer, gone, hash-changed, ...: what upstream says of this pin


@dataclass(frozen=True)
class Drift:
    rc: str
    asked: str  # the day upstream was asked, YYYY-MM-DD
    rows: tuple[DriftRow, ...]


def drift(config: ReleaseConfig, newest: Rc, today: datetime, http: Http | None = None) -> Drift:
    from releaser.check.checking import verify_online
    from releaser.core import lockfile
    from releaser.ecosystems import sources_for

    data = newest.entry.files.get("release.lock")
    if data is None:
        raise ConfigError(f"{newest.rc}: its record holds no release.lock to ask upstream about")
    lock = lockfile.loads(data.decode("utf-8", "replace"), Path(f"{newest.entry.source}release.lock"))
    config.require_environment()
    found = verify_online(config, sources_for(config), lock, http)
    by_subject: dict[str, list[Finding]] = {}
    for finding in found:  # "python beta 1.0", or "python beta 1.0 build requirement ...": beta's
        parts = finding.subject.split(" ")
        by_subject.setdefault(" ".join(parts[:3]), []).append(finding)
    rows = tuple(
        DriftRow(
            pin.kind, pin.name, pin.version, pin.date.strftime("%Y-%m-%d") if pin.date else "",
            (today - pin.date).days if pin.date else None,
            tuple(by_subject.get(f"{pin.kind} {pin.name} {pin.version}", ())),
        )
        for pin in lock.pins
    )
    return Drift(newest.rc, today.strftime("%Y-%m-%d"), rows)
