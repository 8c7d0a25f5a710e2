"""Reading `uses:` out of workflow files and action.yml files, with the line each is on.

A workflow names actions in `jobs.<id>.uses` (a reusable workflow) and
`jobs.<id>.steps[*].uses`; a composite action in `runs.steps[*].uses` of its
action.yml. Each is `owner/repo[/path]@ref`, `./local/path` (part of the same
repository: nothing to pin) or `docker://image:tag` (an image, read as Docker reads
a reference); a Docker container action's action.yml names its image in
`runs.image`. ruamel.yaml reads the files, so every `uses:` keeps its line for
messages and for `export`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from releaser.core.errors import ConfigError
from releaser.ecosystems.containers.reference import ImageRef
from releaser.ecosystems.containers.reference import parse as parse_image

# GitHub's own rules: an owner is letters, digits and single hyphens; a repository
# name also allows `.` and `_`. The path below it is any plain relative path.
_USES = re.compile(
    r"^(?P<repo>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100})"
    r"(?P<path>(?:/[A-Za-z0-9._ -]+)*)@(?P<ref>[^\s@]+)$"
)
MAX_BYTES = 1 << 20  # a workflow is a few kilobytes; a megabyte is not one


@dataclass(frozen=True)
class Use:
    """One `uses: owner/repo[/path]@ref`."""

    repository: str  # owner/repo
    path: str  # the folder (or workflow file) inside it; "" for its root
    ref: str
    file: str  # the file it was read from, as messages name it
    line: int  # 1-based
    text: str  # the value as written

    @property
    def action(self) -> str:
        """owner/repo[/path]: how a workflow names it, without the ref."""
        return f"{self.repository}/{self.path}" if self.path else self.repository

    @property
    def name(self) -> str:
        """The pin's name: the action and the ref asked for (one action may be used at two refs)."""
        return f"{self.action}@{self.ref}"

    @property
    def is_workflow(self) -> bool:
        """A reusable workflow (`.github/workflows/x.yml`) rather than an action."""
        return self.path.endswith((".yml", ".yaml"))


@dataclass(frozen=True)
class ImageUse:
    """One `uses: docker://image:tag` (or a Docker action's `runs.image: docker://...`)."""

    ref: ImageRef
    file: str
    line: int

    @property
    def image(self) -> str:
        """The reference as written after `docker://`: the image pin's name."""
        return self.ref.written

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Uses:
    """What one file names."""

    actions: tuple[Use, ...]
    images: tuple[ImageUse, ...]
    composite: bool = True  # an action.yml: whether it runs steps (composite) at all


def load(text: str, where: str, error: type[ConfigError] | Any = ConfigError) -> Any:
    """`text` as YAML (round-trip: lines kept); `error` (naming `where`) when it is not."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise error(f"{where}: larger than {MAX_BYTES // 1024} KiB; not a workflow")
    try:
        return YAML(typ="rt").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise error(f"{where}{at}: not valid YAML: {problem}") from None
    except (ValueError, TypeError, RecursionError, AttributeError, KeyError) as exc:
        # ruamel raises these for some malformed documents (duplicate anchors, odd tags)
        raise error(f"{where}: not valid YAML: {type(exc).__name__}") from None


def workflow_uses(text: str, where: str, error: type[ConfigError] | Any = ConfigError) -> Uses:
    """Every `uses:` of a workflow: each job's (reusable workflows) and each step's."""
    doc = load(text, where, error)
    if doc is None:
        return Uses((), ())
    if not isinstance(doc, dict):
        raise error(f"{where}: not a workflow (a mapping with jobs)")
    jobs = doc.get("jobs", {})
    if not isinstance(jobs, dict):
        raise error(f"{where}:{_line(doc, 'jobs')}: jobs is not a mapping")
    found: list[tuple[Any, Any]] = []
    for job in jobs.values():
        if not isinstance(job, dict):
            continue
        if "uses" in job:
            found.append((job, "uses"))
        found += _steps(job.get("steps"), where, error)
    return _collect(found, where, error)


def action_uses(text: str, where: str, error: type[ConfigError] | Any = ConfigError) -> Uses:
    """Every `uses:` of an action.yml's steps, when it is a composite action."""
    doc = load(text, where, error)
    runs = doc.get("runs") if isinstance(doc, dict) else None
    using = str(runs.get("using", "")).lower() if isinstance(runs, dict) else ""
    if using == "docker" and isinstance(runs, dict) and "image" in runs:
        image = runs["image"]  # `Dockerfile` (built from the action's own files) or `docker://image:tag`
        if isinstance(image, str) and image.strip().startswith("docker://"):
            return Uses((), (_image(image.strip(), where, _line(runs, "image"), error, "image"),), composite=False)
        return Uses((), (), composite=False)
    if not isinstance(runs, dict) or using != "composite":
        return Uses((), (), composite=False)
    return _collect(_steps(runs.get("steps"), where, error), where, error)


def _steps(steps: Any, where: str, error: Any) -> list[tuple[Any, Any]]:
    if steps is None:
        return []
    if not isinstance(steps, list):
        raise error(f"{where}: steps is not a list")
    return [(step, "uses") for step in steps if isinstance(step, dict) and "uses" in step]


def _collect(found: list[tuple[Any, Any]], where: str, error: Any) -> Uses:
    actions: list[Use] = []
    images: list[ImageUse] = []
    for holder, key in found:
        value, line = holder[key], _line(holder, key)
        if not isinstance(value, str):
            raise error(f"{where}:{line}: uses: is not a string")
        value = value.strip()
        if value.startswith(("./", ".\\")):
            continue  # an action or workflow of this repository: pinned by its commit
        if value.startswith("docker://"):
            images.append(_image(value, where, line, error))
            continue
        actions.append(parse_use(value, where, line, error))
    return Uses(tuple(actions), tuple(images))


def _image(value: str, where: str, line: int, error: Any, key: str = "uses") -> ImageUse:
    """`docker://image[:tag][@sha256:...]`; `error` naming the file and line when it is no image reference."""
    image = value.removeprefix("docker://")
    if not image:
        raise error(f"{where}:{line}: {key}: docker:// names no image")
    try:
        return ImageUse(parse_image(image), where, line)
    except ValueError as exc:
        raise error(f"{where}:{line}: {key}: docker://{image[:100]}: {exc}") from None


def parse_use(value: str, where: str, line: int, error: Any = ConfigError) -> Use:
    """`owner/repo[/path]@ref`; `error` naming the file and line for anything else."""
    shown = value[:100]
    if "@" not in value:
        raise error(f"{where}:{line}: uses: {shown!r} has no @ref; write owner/repo@v1 (or a full commit id)")
    match = _USES.fullmatch(value)
    if match is None:
        raise error(f"{where}:{line}: uses: {shown!r} is not owner/repo[/path]@ref, ./path or docker://image")
    path = match["path"].strip("/")
    if ".." in path.split("/"):
        raise error(f"{where}:{line}: uses: {shown!r}: its path leads outside the repository")
    ref = match["ref"]
    if ref.startswith("-"):
        raise error(f"{where}:{line}: uses: {shown!r}: {ref!r} is not a branch, tag or commit")
    return Use(match["repo"], path, ref, where, line, value)


def _line(holder: Any, key: Any) -> int:
    """The 1-based line of `key`'s value in a ruamel mapping (0 when unknown)."""
    try:
        return int(holder.lc.value(key)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return 0
