"""The images a compose file runs: `services.<name>.image`, read and rewritten with ruamel.yaml.

A service built from a Dockerfile (`build:`) without `image:` names no image here (its
Dockerfile is an input of its own, in `dockerfiles`). Rewriting keeps every comment and
the order of keys: ruamel.yaml's round trip.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from releaser.core.errors import ConfigError
from releaser.ecosystems.containers.dockerfile import ImageUse
from releaser.ecosystems.containers.reference import parse


MAX_DEPTH = 64  # flow collections nested deeper than any compose file: refused before ruamel.yaml recurses


def _flow_depth(text: str) -> int:
    """How deep `[` and `{` nest outside quotes and comments (one pass; an approximation that
    only ever over-counts inside odd scalars)."""
    depth = deepest = 0
    quote = ""
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or text[i - 1] in " \t\n"):
            end = text.find("\n", i)
            if end < 0:
                break
            quote = "\n"  # skip to the end of the comment
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth = max(0, depth - 1)
    return deepest


def _load(path: Path, text: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    if _flow_depth(text) > MAX_DEPTH:
        raise ConfigError(f"{path}: YAML nested more than {MAX_DEPTH} levels deep (no compose file is); refused")
    yaml = YAML()  # round trip: comments, quotes and positions kept
    yaml.preserve_quotes = True
    try:
        return yaml.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}{line}: not valid YAML: {problem}") from None
    except Exception as exc:  # ruamel raises a few plain errors on odd input (duplicate anchors, ...)
        raise ConfigError(f"{path}: not valid YAML: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}") from None


def _services(path: Path, doc: Any) -> list[tuple[str, Any]]:
    if doc is None:
        return []
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: a compose file is a mapping with `services:`, not a {type(doc).__name__}")
    services = doc.get("services")
    if services is None:
        return []
    if not isinstance(services, dict):
        raise ConfigError(f"{path}:{_line(doc, 'services')}: services must be a mapping of service names")
    return [(str(name), body) for name, body in services.items()]


def images(path: Path, text: str) -> list[ImageUse]:
    """Every `image:` of every service; ConfigError naming the file and line."""
    found = []
    for name, body in _services(path, _load(path, text)):
        if body is None:
            continue
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: service {name[:60]!r} must be a mapping")
        if "image" not in body:
            continue
        line = _line(body, "image")
        value = body["image"]
        if not isinstance(value, str):
            raise ConfigError(f"{path}:{line}: service {name[:60]}: image must be a string")
        if "$" in value:
            raise ConfigError(f"{path}:{line}: service {name[:60]}: image {value[:80]!r} uses a variable; write the image itself")
        try:
            ref = parse(value)
        except ValueError as exc:
            raise ConfigError(f"{path}:{line}: service {name[:60]}: image {exc}") from None
        platform = body.get("platform")
        found.append(ImageUse(path, line, ref, platform if isinstance(platform, str) else None, value))
    return found


def pinned_text(path: Path, text: str, digests: dict[str, str]) -> str:
    """`text` with each service's image `digests` knows as `name:tag@sha256:...`; every other byte kept.

    The value is replaced where ruamel.yaml found it (line and column), so comments, quotes
    and spacing stay as written; a value it cannot find there (a folded scalar) goes
    through ruamel.yaml's round trip, which keeps the comments.
    """
    doc = _load(path, text)
    lines = text.splitlines(keepends=True)
    rest = []
    for _, body in _services(path, doc):
        if not (isinstance(body, dict) and isinstance(body.get("image"), str)):
            continue
        written = parse(body["image"]).written
        if written not in digests:
            continue
        pinned = parse(written).pinned(digests[written])
        try:
            row, column = body.lc.value("image")
        except (AttributeError, KeyError, TypeError):
            row, column = -1, 0
        line = lines[row] if 0 <= row < len(lines) else ""
        at = line.find(written, column)
        if at >= 0:
            lines[row] = line[:at] + pinned + line[at + len(written):]
        else:
            rest.append((body, pinned))
    if not rest:
        return "".join(lines)
    from ruamel.yaml import YAML

    for body, pinned in rest:
        body["image"] = pinned
    out = io.StringIO()
    yaml = YAML()
    yaml.width = 4096  # never fold a long line the author did not fold
    yaml.dump(doc, out)
    return out.getvalue()


def _line(mapping: Any, key: str) -> int:
    """The 1-based line of `key` in a ruamel mapping (1 when it cannot say)."""
    try:
        return int(mapping.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return 1
