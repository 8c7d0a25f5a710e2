"""Values from outside, written into a shell script or a Markdown page, escaped for that medium.

A template renders every `{{ value }}` through its medium's escape (Jinja2's `finalize`), so a
migration name, an RC or a project name is data wherever the template puts it: a quoted word in
a shell script, plain text or a code span in Markdown. Text a template means to paste as it
is (a command line releaser built from quoted words) is marked `Trusted` by a filter.
"""

from __future__ import annotations

import re
import shlex
from typing import Any


class Trusted(str):
    """Text already written for the medium (a command line built by `shlex.join`): pasted as is."""


def shell_word(value: Any) -> str:
    """One shell word: `value` quoted, unless it is `Trusted`."""
    if isinstance(value, Trusted):
        return value
    return shlex.quote("" if value is None else str(value))


# What Markdown, or the HTML it may carry, would read as syntax inside a line: emphasis, code,
# links, tags, entities, table cells (an underscore between letters or digits emphasises nothing).
_MARKDOWN_SYNTAX = re.compile(r"([\\`*\[\]<>&|~]|(?<![^\W_])_|_(?![^\W_]))")


def markdown_text(value: Any) -> str:
    """`value` as plain text on one line of a Markdown page (table cells included)."""
    if isinstance(value, Trusted):
        return value
    text = " ".join(str("" if value is None else value).split())
    return _MARKDOWN_SYNTAX.sub(r"\\\1", text)


def markdown_code(value: Any) -> Trusted:
    """`value` as one inline code span, safe in a table cell: no backtick run or newline ends it early."""
    text = " ".join(str("" if value is None else value).split()).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Trusted(f"{fence}{pad}{text}{pad}{fence}")


def template_environment(medium: str, **options: Any) -> Any:
    """A Jinja2 environment that escapes every value for `medium` ("shell" or "markdown")."""
    import jinja2

    escape = shell_word if medium == "shell" else markdown_text
    env = jinja2.Environment(
        autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined, finalize=escape, **options,
    )
    env.filters["trusted"] = Trusted
    env.filters["code"] = markdown_code
    return env
