"""What a reader made of each file, kept by content: a migration file is parsed once, not on every check.

Parsing and digesting 1,000 migration files takes about half a second; `releaser check`
must stay well under one. A reader's result for one file (plain JSON values) is kept
under the sha256 of the reader's own code, the file's path and its bytes, in
`$XDG_CACHE_HOME/releaser/migrations/<framework>.json` (`~/.cache` by default): the
same bytes read by the same code give the same result, so an entry is never stale.
A cache that cannot be read or written is no error: the files are parsed again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from releaser.core.gateseal import cache_home
from releaser.migrations.pysource import Source
from releaser.plumbing.fsutil import write_atomic

KEEP = 50_000  # entries kept beyond those used by the last read


def cache_dir() -> Path:
    return Path(cache_home()) / "migrations"


class FileCache:
    def __init__(self, framework: str, code: Iterable[str]) -> None:
        self.path = cache_dir() / f"{framework}.json"
        seed = hashlib.sha256()
        for module in code:
            try:
                seed.update(Path(module).read_bytes())
            except OSError:
                seed.update(module.encode())
        self.seed = seed.digest()
        try:
            self.entries: dict[str, Any] = json.loads(self.path.read_bytes())
            if not isinstance(self.entries, dict):
                self.entries = {}
        except (OSError, ValueError, RecursionError):
            self.entries = {}
        self.used: dict[str, Any] = {}

    def read(self, source: Source, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The result of `compute()` for `source`, from the cache when its bytes were read before."""
        key = hashlib.sha256(self.seed + source.path.encode("utf-8", "surrogateescape") + b"\0" + source.data).hexdigest()
        found = self.entries.get(key)
        if not isinstance(found, dict):
            found = json.loads(json.dumps(compute()))  # as it will come back from the file: lists, not tuples
        self.used[key] = found
        return found

    def save(self) -> None:
        """Write the cache if this read added to it; failing to is no error."""
        if all(key in self.entries for key in self.used):
            return
        kept = {**dict(list(self.entries.items())[-KEEP:]), **self.used}
        try:
            write_atomic(self.path, json.dumps(kept, separators=(",", ":")))
        except OSError:
            pass
