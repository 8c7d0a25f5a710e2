"""TOML and JSON documents parsed with every failure one line naming the document.

A document nested deeper than any real one (`[[[[…` a few hundred levels) makes the
parsers raise RecursionError, which would otherwise surface as "a bug in releaser".
It is bad input: the project's own file (ConfigError, exit 2) or an upstream page
(UpstreamError, exit 3), as the caller says. A parsed document is also refused past
MAX_DEPTH levels, so that no code walking it later (digests, `tomli_w`) recurses
without bound.
"""

from __future__ import annotations

import json
from typing import Any

from releaser.core.errors import ConfigError, ReleaserError

# No file releaser reads nests this deep; well under the interpreter's recursion limit.
MAX_DEPTH = 64


def toml(text: str, where: object, error: type[ReleaserError] = ConfigError) -> dict[str, Any]:
    """`text` parsed as TOML; `where` (a path or URL) names it in the one-line error."""
    import tomli

    try:
        document = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        raise error(f"{where}: invalid TOML: {exc}") from None
    except RecursionError:
        raise error(_too_deep(where, "TOML")) from None
    return _bounded(document, where, "TOML", error)


def json_document(data: str | bytes, where: object, error: type[ReleaserError]) -> Any:
    """`data` parsed as JSON; `where` (a path or URL) names it in the one-line error."""
    try:
        document = json.loads(data)
    except ValueError:  # also a body that is not UTF-8
        raise error(f"{where}: is not valid JSON") from None
    except RecursionError:
        raise error(_too_deep(where, "JSON")) from None
    return _bounded(document, where, "JSON", error)


def _bounded(document: Any, where: object, kind: str, error: type[ReleaserError]) -> Any:
    level: list[Any] = [document]
    for _depth in range(MAX_DEPTH):
        level = [child for node in level for child in _children(node)]
        if not level:
            return document
    raise error(_too_deep(where, kind))


def _children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [v for v in node.values() if isinstance(v, (dict, list))]
    if isinstance(node, list):
        return [v for v in node if isinstance(v, (dict, list))]
    return []


def _too_deep(where: object, kind: str) -> str:
    return f"{where}: {kind} nested more than {MAX_DEPTH} levels deep (no real document is); refused"
