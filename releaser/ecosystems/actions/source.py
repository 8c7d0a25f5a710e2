"""The actions source: every `uses: owner/repo[/path]@ref` pinned to the full commit the ref names.

Each action's repository is a git remote on the configured server
(`{server}/owner/repo`), read with the git source's `GitRemote`: the same
isolation from the machine's git configuration, credentials and timeouts. A
composite action (`action.yml` with `runs.using: composite`) and a reusable
workflow name actions of their own: they are read at the pinned commit and
followed, transitively, until nothing new is named.

A `docker://image:tag` step (a workflow's, or a composite action's found on the way)
is an image pin: this source finds them, because only it can (a composite action's
steps are known once the action is pinned), and asks the containers ecosystem's
`ImagePinner` to pin them, so they are resolved, kept, dated and verified exactly as
`[containers]`' images are and land in the lock's `[[image]]` table; the image code
stays in its package, the workflow code here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from releaser.core.errors import Refused, UpstreamError
from releaser.core.lockfile import Pin
from releaser.core.redact import strip_credentials
from releaser.ecosystems.actions.settings import KIND, ActionsInputs
from releaser.ecosystems.actions.workflows import ImageUse, Use, Uses, action_uses, workflow_uses
from releaser.ecosystems.base import LockRequest, Source
from releaser.ecosystems.containers.pinning import ImagePinner
from releaser.ecosystems.containers.resolve import KIND as IMAGE
from releaser.ecosystems.git.ids import FULL_COMMIT_ID
from releaser.ecosystems.git.source import GitRemote, keeps, utc_iso
from releaser.plumbing.gitrepo import git_version

MAX_ACTIONS = 500  # a chain of composite actions that names more than this is not a workflow's


def read_all(inputs: ActionsInputs) -> Uses:
    """Every `uses:` of the project's workflow files, actions and `docker://` images, in file and line order
    (ConfigError: a file that does not parse)."""
    from releaser.core.errors import ConfigError

    actions: list[Use] = []
    images: list[ImageUse] = []
    for path in inputs.files():
        where = path.relative_to(inputs.root).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where}: cannot be read: {exc}") from None
        found = workflow_uses(text, where)
        actions += found.actions
        images += found.images
    return Uses(tuple(actions), tuple(images))


def pinned_by_commit(use: Use) -> bool:
    return FULL_COMMIT_ID.fullmatch(use.ref) is not None


class ActionsSource(Source):
    """`[actions]`: the workflows' actions and reusable workflows, and everything they use."""

    kind = KIND
    also_pins = (IMAGE,)  # the docker:// steps

    def __init__(self, inputs: ActionsInputs, images: ImagePinner) -> None:
        self.inputs, self.images = inputs, images

    def input_digests(self) -> dict[str, str]:
        """Each workflow's digest is that of the `uses:` it names, in order: a comment, a `run:` edit
        or `export --write`'s `# ref` leaves the lock fresh; a changed or added `uses:` does not."""
        named: dict[str, list[str]] = {}
        found = read_all(self.inputs)
        for use in found.actions:
            named.setdefault(use.file, []).append(use.name)
        for image in found.images:  # after the actions: a workflow without docker:// keeps its digest
            named.setdefault(image.file, []).append(f"docker://{image.image}")
        return {
            p.relative_to(self.inputs.root).as_posix(): "sha256:" + hashlib.sha256(
                "\n".join(named.get(p.relative_to(self.inputs.root).as_posix(), [])).encode()
            ).hexdigest()
            for p in self.inputs.files()
        }

    def input_paths(self) -> list[Path]:
        return self.inputs.files()

    def resolver(self) -> str | None:
        version = git_version()
        return f"git {version}" if version else None

    def source_urls(self) -> tuple[str, ...]:
        return (strip_credentials(self.inputs.server),)

    def lock(self, request: LockRequest) -> list[Pin]:
        """Every action pinned, transitively; then every `docker://` image they and the workflows name."""
        previous = {p.name: p for p in request.previous if p.kind == KIND}
        pins: dict[str, Pin] = {}
        start = read_all(self.inputs)
        images = list(start.images)
        wanted = _first_of_each(list(start.actions))
        while wanted:
            if len(pins) + len(wanted) > MAX_ACTIONS:
                raise UpstreamError(f"the workflows' actions name more than {MAX_ACTIONS} actions, transitively; refused")
            done = request.http.map(lambda use: self._pin(use, previous.get(use.name), request), wanted)
            pins.update((pin.name, pin) for pin, _ in done)
            images += [image for _, uses in done for image in uses.images]
            named = [u for _, uses in done for u in uses.actions]
            wanted = [u for u in _first_of_each(named) if u.name not in pins]
        where: dict[str, str] = {}
        for image in images:
            where.setdefault(image.image, image.where)
        pinned = [pins[name] for name in sorted(pins)]
        if not where:
            return pinned
        return pinned + self.images.lock(dict.fromkeys(where, self.images.platforms()), request, where)

    def _pin(self, use: Use, previous: Pin | None, request: LockRequest) -> tuple[Pin, Uses]:
        """`use` pinned (the previous pin kept when it may stand), and the actions it uses in turn."""
        url = self.inputs.remote(use.repository)
        what = f"{use.file}:{use.line}: action {use.name}"
        workdir = request.workdir / hashlib.sha256(use.name.encode()).hexdigest()[:16]
        remote = GitRemote(url, what=what, workdir=workdir)
        source = strip_credentials(url)
        if previous is not None and keeps(previous, use.ref, source, use.name, request):
            if remote.commit(previous.version) is not None:
                return previous, self._named(remote, previous.version, use)
        target = remote.resolve(use.ref)
        commit = remote.commit(target.sha, target.refname)
        if commit is None:
            raise UpstreamError(f"{what}: {remote.display} has no commit {target.sha}")
        if request.dated and commit.date >= request.as_of:
            raise Refused(
                f"{what}: {use.ref} is commit {commit.sha[:12]} of {utc_iso(commit.date)}, after the cut-off "
                f"{utc_iso(request.as_of)}; name an older tag or commit, or use a later --as-of"
            )
        pin = Pin(kind=KIND, name=use.name, version=commit.sha, source=source, requested=use.ref, date=commit.date)
        return pin, self._named(remote, commit.sha, use)

    def _named(self, remote: GitRemote, sha: str, use: Use) -> Uses:
        """What `use` names at commit `sha`: a reusable workflow's `uses:`, a composite action's, a Docker action's image."""
        if use.is_workflow:
            text = remote.read(sha, use.path)
            if text is None:
                raise UpstreamError(f"{remote.what}: {remote.display} has no workflow {use.path} at {sha[:12]}")
            return workflow_uses(text, f"{use.name}: {use.path}", UpstreamError)
        folder = f"{use.path}/" if use.path else ""
        for name in ("action.yml", "action.yaml"):
            text = remote.read(sha, folder + name)
            if text is not None:
                return action_uses(text, f"{use.name}: {folder}{name}", UpstreamError)
        raise UpstreamError(f"{remote.what}: {remote.display} has no {folder}action.yml at {sha[:12]}")


def _first_of_each(uses: list[Use]) -> list[Use]:
    """One `Use` per pin name (the first, whose file and line messages name)."""
    return list({u.name: u for u in reversed(uses)}.values())[::-1]
