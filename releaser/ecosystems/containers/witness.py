"""The witness log: every image digest releaser has seen a tag name, with its `created` and when it saw it.

A registry keeps no history of a tag: what `python:3.12` named last month is gone from
its API once the tag moved. So `releaser lock` writes down what it sees
(`.releaser/images-seen.jsonl` at the project root, one JSON object a line, appended),
and `lock --as-of` picks from it, and from the previous lock, the newest digest created
at or before the cut-off. Keep the file under version control to share what was seen.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from releaser.core.errors import ConfigError
from releaser.core.paths import inside

WITNESS = Path(".releaser") / "images-seen.jsonl"


@dataclass(frozen=True)
class Sighting:
    image: str  # registry/repository:tag (`ImageRef.locator`)
    digest: str
    created: datetime
    seen: datetime

    def line(self) -> str:
        return json.dumps({
            "image": self.image, "digest": self.digest,
            "created": _iso(self.created), "seen": _iso(self.seen),
        }, sort_keys=True) + "\n"


def read(root: Path) -> list[Sighting]:
    """Every sighting recorded under `root`; a line that does not parse is one error naming it."""
    path = _path(root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            found.append(Sighting(
                str(doc["image"]), str(doc["digest"]), _moment(doc["created"]), _moment(doc["seen"])
            ))
        except (ValueError, KeyError, TypeError, RecursionError):
            raise ConfigError(f"{path}:{number}: not a sighting releaser wrote (image, digest, created, seen)") from None
    return found


def record(root: Path, sightings: list[Sighting]) -> None:
    """Append the `sightings` of digests not yet recorded for their tag, in one write (an appended
    line is whole or absent): a relock that sees nothing new leaves the file as it was."""
    known = {(s.image, s.digest) for s in read(root)}
    sightings = [s for s in sightings if (s.image, s.digest) not in known]
    if not sightings:
        return
    path = _path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(s.line() for s in sightings).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _path(root: Path) -> Path:
    path = root / WITNESS
    if not inside(root, path):
        raise ConfigError(f"{path}: leads outside the project (a symlink); refused")
    return path


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _moment(text: object) -> datetime:
    if not isinstance(text, str):
        raise ValueError("not a time")
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("no time zone")
    return moment.astimezone(timezone.utc)
