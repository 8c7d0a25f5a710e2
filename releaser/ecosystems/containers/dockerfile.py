"""The images a Dockerfile builds from: every `FROM` of every stage (and every `COPY --from=`
an image rather than a stage), as BuildKit reads it.

A small reader of the documented syntax (docs.docker.com/reference/dockerfile): the
`escape` parser directive, comments, line continuations, heredocs (`<<EOF` ... `EOF`,
skipped: their lines are a script's, not instructions), `ARG`s before the first `FROM`
(substituted into `FROM`, `${VAR:-default}` and `${VAR:+alt}` included), `--platform`,
`AS name`. A `FROM` naming an earlier stage, or `scratch`, is no image. It also rewrites
a file with each image pinned (`pinned_text`), every other byte kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from releaser.core.errors import ConfigError
from releaser.ecosystems.containers.reference import ImageRef, parse

_DIRECTIVE = re.compile(r"#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
# A default is plain text (no nested `$`): the scan for its `}` stops at the next `$`, so a line
# of many unclosed `${A:-` is read in one pass, not once per `$`.
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}$]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
# Set by the builder for every build: a FROM --platform naming one of them is any platform.
_AUTOMATIC = {"BUILDPLATFORM", "TARGETPLATFORM", "BUILDOS", "BUILDARCH", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDVARIANT"}


@dataclass(frozen=True)
class ImageUse:
    """One image a file names: where, what, and for which platform if it says."""

    path: Path
    line: int  # 1-based, where the instruction (or the compose `image:`) starts
    ref: ImageRef
    platform: str | None = None  # FROM --platform=linux/arm64
    raw: str = ""  # the token as written, before ARG substitution (what a rewrite replaces)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class _Instruction:
    line: int  # 0-based index of its first physical line
    last: int  # 0-based index of its last physical line
    text: str  # the logical line, continuations joined


def images(path: Path, text: str) -> list[ImageUse]:
    """Every base image of every stage of the Dockerfile `text` (read from `path`); ConfigError naming the line."""
    found: list[ImageUse] = []
    args: dict[str, str] = {}
    stages: set[str] = set()
    seen_from = False
    for ins in _instructions(path, text):
        keyword, _, rest = ins.text.strip().partition(" ")
        keyword = keyword.upper()
        where = f"{path}:{ins.line + 1}"
        if keyword == "ARG" and not seen_from:
            for name, value in _arg_pairs(rest, where):
                args[name] = _substitute(value, args, where) if value is not None else args.get(name, "")
        elif keyword == "FROM":
            seen_from = True
            use, stage = _from(path, ins, rest, args, stages)
            if stage:
                stages.add(stage.lower())
            if use is not None:
                found.append(use)
        elif keyword == "COPY" and seen_from:
            use = _copy_from(path, ins, rest, args, stages)
            if use is not None:
                found.append(use)
    return found


def _copy_from(path: Path, ins: _Instruction, rest: str, args: dict[str, str], stages: set[str]) -> ImageUse | None:
    """`COPY --from=IMAGE`: an image too, unless it names a stage (by name or number)."""
    where = f"{path}:{ins.line + 1}"
    for word in rest.split():
        if not word.startswith("--"):
            return None  # the flags are over
        if word.startswith("--from="):
            raw = word.removeprefix("--from=")
            source = _substitute(raw, args, where)
            if not source or source.lower() in stages or source.isdigit():
                return None
            try:
                return ImageUse(path, ins.line + 1, parse(source), None, raw)
            except ValueError as exc:
                raise ConfigError(f"{where}: COPY --from={exc}") from None
    return None


def pinned_text(path: Path, text: str, digests: dict[str, str]) -> str:
    """`text` with each image `digests` knows (by written reference) as `name:tag@sha256:...`."""
    lines = text.splitlines(keepends=True)
    uses = {u.line - 1: u for u in images(path, text)}
    for ins in _instructions(path, text):
        use = uses.get(ins.line)
        if use is None or use.ref.written not in digests:
            continue
        pinned = use.ref.pinned(digests[use.ref.written])
        for i in range(ins.line, ins.last + 1):
            start = len(lines[i]) - len(lines[i].lstrip()) + 4 if i == ins.line else 0  # past FROM or COPY
            column = _token_at(lines[i], use.raw, start)
            if column is not None:
                lines[i] = lines[i][:column] + pinned + lines[i][column + len(use.raw):]
                break
    return "".join(lines)


def _token_at(line: str, token: str, start: int) -> int | None:
    """Where `token` stands as a whole word in `line` at or after `start`."""
    for match in re.finditer(re.escape(token), line[start:]):
        begin, end = start + match.start(), start + match.end()
        if (begin == 0 or line[begin - 1].isspace() or line[begin - 1] == "=") and (end == len(line) or line[end].isspace()):
            return begin
    return None


def _from(path: Path, ins: _Instruction, rest: str, args: dict[str, str], stages: set[str]) -> tuple[ImageUse | None, str | None]:
    where = f"{path}:{ins.line + 1}"
    words = rest.split()
    platform = None
    while words and words[0].startswith("--"):
        flag, _, value = words.pop(0)[2:].partition("=")
        if flag != "platform" or not value:
            raise ConfigError(f"{where}: FROM --{flag[:30]}: not a flag of FROM (only --platform=os/arch)")
        platform = _platform(value, args, where)
    if len(words) not in (1, 3) or (len(words) == 3 and words[1].lower() != "as"):
        raise ConfigError(f"{where}: FROM must be `FROM [--platform=...] image [AS name]`, not {ins.text.strip()[:80]!r}")
    raw = words[0]
    stage = words[2] if len(words) == 3 else None
    image = _substitute(raw, args, where)
    if not image:
        raise ConfigError(f"{where}: FROM {raw[:60]} is empty once its ARGs are substituted (give the ARG a default)")
    if image.lower() == "scratch" or image.lower() in stages:
        return None, stage
    try:
        ref = parse(image)
    except ValueError as exc:
        raise ConfigError(f"{where}: FROM {exc}") from None
    return ImageUse(path, ins.line + 1, ref, platform, raw), stage


def _platform(value: str, args: dict[str, str], where: str) -> str | None:
    names = {m.group(1) or m.group(4) for m in _VAR.finditer(value)}
    if names & _AUTOMATIC:
        return None  # the builder's or the target's platform: whichever the build is for
    shown = _substitute(value, args, where)
    if not re.fullmatch(r"[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?", shown):
        raise ConfigError(f"{where}: FROM --platform={shown[:40]!r} is not os/arch[/variant]")
    return shown


def _substitute(text: str, args: dict[str, str], where: str) -> str:
    def value(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(4)
        have = args.get(name, "")
        if m.group(2) == "-":
            return have or m.group(3)
        if m.group(2) == "+":
            return m.group(3) if have else ""
        return have

    out = _VAR.sub(value, text)
    if "$" in out:
        raise ConfigError(f"{where}: {text[:80]!r}: a $ releaser cannot substitute (write ${{NAME}})")
    return out


def _arg_pairs(rest: str, where: str) -> list[tuple[str, str | None]]:
    import shlex

    try:
        words = shlex.split(rest, posix=True)
    except ValueError as exc:
        raise ConfigError(f"{where}: ARG {rest[:60]!r}: {exc}") from None
    pairs: list[tuple[str, str | None]] = []
    for word in words:
        name, eq, value = word.partition("=")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ConfigError(f"{where}: ARG {name[:40]!r} is not a variable name")
        pairs.append((name, value if eq else None))
    if not pairs:
        raise ConfigError(f"{where}: ARG names no variable")
    return pairs


def _instructions(path: Path, text: str) -> list[_Instruction]:
    """The logical instructions: comments and blank lines dropped, continuations joined, heredoc bodies skipped."""
    lines = text.splitlines()
    escape = "\\"
    i = 0
    while i < len(lines):  # parser directives: only at the very top, before any other line
        match = _DIRECTIVE.match(lines[i])
        if not match:
            break
        if match.group(1).lower() == "escape":
            if match.group(2) not in ("\\", "`"):
                raise ConfigError(f"{path}:{i + 1}: escape={match.group(2)[:5]!r} must be \\ or `")
            escape = match.group(2)
        i += 1
    found: list[_Instruction] = []
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        start, parts = i, []
        while True:
            line = lines[i].rstrip()
            if i > start and line.lstrip().startswith("#"):
                i += 1  # a comment inside a continued instruction
                if i >= len(lines):
                    break
                continue
            if line.endswith(escape):
                parts.append(line[:-1])
                i += 1
                if i >= len(lines):
                    break
                continue
            parts.append(line)
            break
        logical = " ".join(p.strip() for p in parts)
        last = min(i, len(lines) - 1)
        i += 1
        heredocs = _HEREDOC.finditer(logical) if logical.split(" ", 1)[0].upper() in ("RUN", "COPY", "ADD") else ()
        for heredoc in heredocs:  # each body ends at a line that is its word
            end = heredoc.group(3)
            while i < len(lines) and (lines[i].lstrip("\t") if heredoc.group(1) else lines[i]) != end:
                i += 1
            if i >= len(lines):
                raise ConfigError(f"{path}:{start + 1}: heredoc <<{end} is never closed by a line {end}")
            i += 1
        found.append(_Instruction(start, last, logical))
    return found
