"""Workflow files with their pins written in: `owner/repo@<sha> # <ref>`, as pinact and ratchet write them.

Only the `uses:` values change, each on its own line; every other byte (comments,
indentation, quoting, blank lines) is kept, so `export --format workflows --write`
leaves a diff a reviewer reads line by line. A `uses:` already naming a full
commit id is left as it is.
"""

from __future__ import annotations

import re
from pathlib import Path

from releaser.core.errors import ConfigError, Refused
from releaser.core.lockfile import Pin
from releaser.ecosystems.actions.settings import ActionsInputs
from releaser.ecosystems.actions.source import pinned_by_commit
from releaser.ecosystems.actions.workflows import Use, workflow_uses


def pinned_workflows(inputs: ActionsInputs, pins: tuple[Pin, ...]) -> dict[Path, str]:
    """Every workflow file, as text, with each `uses:` pinned by the lock rewritten to its commit."""
    by_name = {p.name: p for p in pins}
    pinned: dict[Path, str] = {}
    for path in inputs.files():
        where = path.relative_to(inputs.root).as_posix()
        try:
            text = path.read_bytes().decode("utf-8")  # not read_text: its newline translation would drop a \r
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where}: cannot be read: {exc}") from None
        lines = text.splitlines(keepends=True)
        for use in workflow_uses(text, where).actions:
            if pinned_by_commit(use):
                continue
            pin = by_name.get(use.name)
            if pin is None:
                raise Refused(f"{where}:{use.line}: uses: {use.name} is not pinned in the lock; run `releaser lock`")
            lines[use.line - 1] = _rewrite(lines[use.line - 1], use, pin.version)
        pinned[path] = "".join(lines)
    return pinned


def _rewrite(line: str, use: Use, sha: str) -> str:
    """`line` with `use`'s value as `action@sha`, and `# ref` said in a comment after it."""
    found = re.search(r"(uses\s*:\s*)(['\"]?)" + re.escape(use.text) + r"\2", line)
    if found is None:
        raise ConfigError(f"{use.file}:{use.line}: uses: {use.text[:100]!r} is not written on one line; cannot pin it in place")
    value = f"{found[2]}{use.action}@{sha}{found[2]}"
    rest = line[found.end():]
    body = rest.rstrip("\r\n")
    newline = rest[len(body):]
    # The ref goes in a comment (the line's own comment stays, after it); inside a flow
    # mapping (`{uses: x@v1, with: ...}`) a comment would swallow the rest: no comment.
    said = f" # {use.ref}" if not body.strip() or body.lstrip().startswith("#") else ""
    return f"{line[:found.start(2)]}{value}{said}{body}{newline}"
