"""Workflow files with their pins written in: `owner/repo@<sha> # <ref>`, as pinact and ratchet write them,
and `docker://image:tag@sha256:...` (the tag kept for the reader, the digest used).

Only the `uses:` values change, each on its own line; every other byte (comments,
indentation, quoting, blank lines) is kept, so `export --format workflows --write`
leaves a diff a reviewer reads line by line. A `uses:` already naming a full
commit id, or an image by digest, is left as it is.
"""

from __future__ import annotations

import re
from pathlib import Path

from releaser.core.errors import ConfigError, Refused
from releaser.core.lockfile import Pin
from releaser.ecosystems.actions.settings import KIND, ActionsInputs
from releaser.ecosystems.actions.source import pinned_by_commit
from releaser.ecosystems.actions.workflows import workflow_uses
from releaser.ecosystems.containers.resolve import KIND as IMAGE


def pinned_workflows(inputs: ActionsInputs, pins: tuple[Pin, ...]) -> dict[Path, str]:
    """Every workflow file, as text, with each `uses:` pinned by the lock (`pins`: the whole lock's) rewritten
    to its commit, each `docker://` image to its digest."""
    by_name = {p.name: p for p in pins if p.kind == KIND}
    images = {p.name: p for p in pins if p.kind == IMAGE}
    pinned: dict[Path, str] = {}
    for path in inputs.files():
        where = path.relative_to(inputs.root).as_posix()
        try:
            text = path.read_bytes().decode("utf-8")  # not read_text: its newline translation would drop a \r
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where}: cannot be read: {exc}") from None
        lines = text.splitlines(keepends=True)
        found = workflow_uses(text, where)
        for use in found.actions:
            if pinned_by_commit(use):
                continue
            pin = by_name.get(use.name)
            if pin is None:
                raise Refused(f"{where}:{use.line}: uses: {use.name} is not pinned in the lock; run `releaser lock`")
            lines[use.line - 1] = _rewrite(lines[use.line - 1], use.text, f"{use.action}@{pin.version}", use.ref, use.file, use.line)
        for image in found.images:
            if image.ref.digest is not None:
                continue
            pin = images.get(image.image)
            if pin is None:
                raise Refused(f"{image.where}: uses: docker://{image.image} is not pinned in the lock; run `releaser lock`")
            value = f"docker://{image.ref.pinned(pin.version)}"
            lines[image.line - 1] = _rewrite(lines[image.line - 1], f"docker://{image.image}", value, None, image.file, image.line)
        pinned[path] = "".join(lines)
    return pinned


def _rewrite(line: str, text: str, value: str, ref: str | None, file: str, number: int) -> str:
    """`line` with the `uses:` value `text` as `value`, and `# ref` said in a comment after it (when `ref`)."""
    found = re.search(r"(uses\s*:\s*)(['\"]?)" + re.escape(text) + r"\2", line)
    if found is None:
        raise ConfigError(f"{file}:{number}: uses: {text[:100]!r} is not written on one line; cannot pin it in place")
    rest = line[found.end():]
    body = rest.rstrip("\r\n")
    newline = rest[len(body):]
    # The ref goes in a comment (the line's own comment stays, after it); inside a flow
    # mapping (`{uses: x@v1, with: ...}`) a comment would swallow the rest: no comment.
    said = f" # {ref}" if ref and (not body.strip() or body.lstrip().startswith("#")) else ""
    return f"{line[:found.start(2)]}{found[2]}{value}{found[2]}{said}{body}{newline}"
