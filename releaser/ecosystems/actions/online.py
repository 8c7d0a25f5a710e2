"""`check --online` for actions: a tag or branch that names another commit than the pinned one is news."""

from __future__ import annotations

import tempfile
from pathlib import Path

from releaser.core.errors import UpstreamError
from releaser.core.lockfile import Pin
from releaser.core.verdict import Finding, upgrade
from releaser.ecosystems.actions.settings import ActionsInputs
from releaser.ecosystems.git.ids import FULL_COMMIT_ID
from releaser.ecosystems.git.source import GitRemote
from releaser.plumbing.http import Http


def repository_of(pin: Pin) -> str:
    """owner/repo of an actions pin (its name is owner/repo[/path]@ref)."""
    owner, repo = pin.name.rsplit("@", 1)[0].split("/")[:2]
    return f"{owner}/{repo}"


def moved(inputs: ActionsInputs, pins: tuple[Pin, ...], http: Http) -> list[Finding]:
    """A `newer` finding for each pin whose ref now names another commit (a full commit id never moves)."""
    asked = [p for p in pins if p.requested and not FULL_COMMIT_ID.fullmatch(p.requested)]

    def ask(pin: Pin) -> list[Finding]:
        assert pin.requested is not None
        subject = f"{pin.kind} {pin.name}"
        with tempfile.TemporaryDirectory(prefix="releaser-actions-") as tmp:
            remote = GitRemote(inputs.remote(repository_of(pin)), what=subject, workdir=Path(tmp))
            try:
                now = remote.resolve(pin.requested).sha
            except UpstreamError as exc:  # the tag is gone; the pinned commit, verified apart, may well not be
                return [Finding("newer", subject, str(exc), upgrade(pin.name))]
        if now == pin.version:
            return []
        return [Finding("newer", subject, f"{pin.requested} moved: it names {now[:12]} now, pinned {pin.version[:12]}", upgrade(pin.name))]

    return [f for found in http.map(ask, asked) for f in found]
