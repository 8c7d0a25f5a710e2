"""The migration gate's part of the check seal: a passing verdict kept by the inputs it was read from.

With `[migrations]`, `releaser lock` seals the lock's part of the verdict as for any
lock (`releaser.core.seal`), its line marked `1+migrations`: the lock is fresh, the
migration gate must still say yes. The lock stage cannot run the gate (a later stage),
so the gate's part is kept by the plain `releaser check` that ran it and passed
(`releaser.record.plaincheck`), in a file of the user's cache named after the lock's
seal and the project's folder:

    releaser gate-seal 1
    DIGEST
    RECURSIVE<TAB>RECORDS<TAB>PREVIOUS
    PATTERN<TAB>PATTERN...
    the verdict, as the full check printed it

DIGEST is the sha256 of what the gate's verdict was read from (`inputs`): every file
(name and bytes) of every directory the `paths` globs match, the listing of the
records folder, the previous RC's record (its manifest and lock copy), and the
project's git tags (an RC tagged on another branch is a previous RC too), with
the git environment variables that decide which repository that is. A migration
added, removed or edited, a new RC recorded or tagged, and the digest moves: the full
check runs, as it always may. The allow list, the framework and every other key are
in release.toml, which the lock's seal (and so the file's name) already covers.

Read by the lean check before anything else is imported: `os`, `stat` and the
built-in sha256 only; no `glob` (its `re` costs more than the whole check), so a
pattern is expanded here, `*` and `?` only (with `[` or `**` the gate is not sealed).
"""

from __future__ import annotations

import os
import stat

from releaser.core.seal import sha256

FORMAT = "releaser gate-seal 1"
FOLDER = "check-seals"  # under $XDG_CACHE_HOME/releaser
# What decides which repository, and which refs, git reads: part of the digest.
_GIT_ENV = ("GIT_DIR", "GIT_COMMON_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM")
_UNSAFE = frozenset("\t\n\r")


def cache_home() -> str:
    """releaser's folder in the user's cache: $XDG_CACHE_HOME/releaser, ~/.cache/releaser by default."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "releaser")


def entry_path(root: str, lock_seal: str) -> str:
    """Where the gate's part of the verdict sealed as `lock_seal` (the lock's seal digest) is kept."""
    key = sha256(b"%s\0%s" % (lock_seal.encode(), os.path.realpath(root).encode("utf-8", "surrogateescape")))
    return os.path.join(cache_home(), FOLDER, key.hexdigest())


def sealable(patterns: tuple[str, ...], records: str, previous: str) -> bool:
    """Whether these settings can be written into an entry and expanded by `inputs`."""
    values = [*patterns, records, previous]
    return bool(patterns) and not any(_UNSAFE & set(v) or "[" in v or "**" in v for v in values)


def entry(digest: str, recursive: bool, records: str, previous: str, patterns: tuple[str, ...], text: str) -> str:
    """An entry's text: the header `verdict` reads, then the verdict as printed."""
    return f"{FORMAT}\n{digest}\n{int(recursive)}\t{records}\t{previous}\n" + "\t".join(patterns) + "\n" + text


def verdict(root: str, lock_seal: str) -> str | None:
    """The verdict kept for `lock_seal` when what it was read from is still as it was; else None."""
    try:
        with open(entry_path(root, lock_seal), "rb") as f:
            lines = f.read().decode("utf-8").split("\n", 4)
    except (OSError, UnicodeDecodeError):
        return None
    if len(lines) != 5 or lines[0] != FORMAT:
        return None
    head = lines[2].split("\t")
    if len(head) != 3 or head[0] not in ("0", "1"):
        return None
    patterns = tuple(lines[3].split("\t"))
    if not sealable(patterns, head[1], head[2]):
        return None
    if inputs(root, head[0] == "1", head[1], head[2], patterns) != lines[1]:
        return None
    return lines[4]


def inputs(root: str, recursive: bool, records: str, previous: str, patterns: tuple[str, ...]) -> str | None:
    """The sha256 (hex) of everything the gate's verdict was read from; None when one cannot be read
    as the full check reads it (a link out of the project, a FIFO...): the full check says why."""
    real_root = os.path.realpath(root)
    h = sha256()

    def add(*parts: bytes) -> None:
        for part in parts:
            h.update(b"%d:" % len(part) + part)

    add(FORMAT.encode(), _b(real_root))
    for pattern in patterns:
        found = _dirs(real_root, pattern)
        if found is None:
            return None
        add(b"pattern", _b(pattern), b"%d" % len(found))
        for directory in found:
            files = _files(real_root, directory, recursive)
            if files is None:
                return None
            add(b"dir", _b(directory), b"%d" % len(files))
            for name, data in files:
                add(_b(name), data)
    listing = _listing(real_root, records)
    if listing is None:
        return None
    add(b"records", listing)
    if previous:  # relative: a record in the project, read only there; absolute: a tag's, in the git folder
        for name in ("manifest.json", "release.lock"):
            path = os.path.join(real_root, previous, name)
            if not os.path.isabs(previous) and not _inside(real_root, os.path.realpath(path)):
                return None
            recorded = _regular(path, missing=b"")
            if recorded is None:
                return None
            add(_b(name), recorded)
    tags = _tags(real_root)
    if tags is None:
        return None
    add(b"tags", tags)
    for name in _GIT_ENV:
        add(_b(name), _b(os.environ.get(name, "\0")))
    return h.hexdigest()


def _inside(real_root: str, real: str) -> bool:
    return real.startswith(real_root.rstrip(os.sep) + os.sep)


def _b(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _dirs(real_root: str, pattern: str) -> list[str] | None:
    """The directories `pattern` matches under the project, relative; None for one that leaves it.

    Where glob skips hidden names for `*` and `?`, these do not: more directories read than the
    gate reads can only break the seal more often, never less.
    """
    found = [""]
    for segment in pattern.split("/"):
        wild = "*" in segment or "?" in segment
        step = []
        for base in found:
            here = os.path.join(real_root, base) if base else real_root
            if not wild:
                if os.path.isdir(os.path.join(here, segment)):
                    step.append(f"{base}/{segment}" if base else segment)
                continue
            try:
                names = sorted(e.name for e in os.scandir(here) if e.is_dir() and _fits(e.name, segment))
            except OSError:
                continue
            step += [f"{base}/{name}" if base else name for name in names]
        found = step
    if not all(_inside(real_root, os.path.realpath(os.path.join(real_root, d))) for d in found):
        return None
    return sorted(set(found))


def _fits(name: str, pattern: str) -> bool:
    """Whether `name` matches `pattern` of `*` (any run) and `?` (any one), as fnmatch reads them."""
    n = p = 0
    star, mark = -1, 0
    while n < len(name):
        if p < len(pattern) and pattern[p] in ("?", name[n]) and pattern[p] != "*":
            n, p = n + 1, p + 1
        elif p < len(pattern) and pattern[p] == "*":
            star, mark, p = p, n, p + 1
        elif star >= 0:
            mark += 1
            n, p = mark, star + 1
        else:
            return False
    return pattern[p:].strip("*") == ""


def _files(real_root: str, directory: str, recursive: bool) -> list[tuple[str, bytes]] | None:
    """(name, bytes) of every file the gate reads in `directory`: its own, and with `recursive`
    those of every folder below it (links to folders not followed, as the gate walks them)."""
    files = []
    folders = [directory]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(os.path.join(real_root, folder)) as found:
                entries = sorted(found, key=lambda e: e.name)
        except OSError:
            return None
        for entry in entries:
            if entry.is_dir():  # a link to a folder too, as os.walk sorts it: never read as a file
                if recursive and not entry.is_symlink():
                    folders.append(f"{folder}/{entry.name}")
                continue
            if entry.is_symlink() and not _inside(real_root, os.path.realpath(entry.path)):
                return None
            data = _regular(entry.path)
            if data is None:
                return None
            files.append((f"{folder}/{entry.name}", data))
    return files


def _regular(path: str, missing: bytes | None = None) -> bytes | None:
    """The bytes of the regular file `path`; `missing` when there is none; None when it is not one."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO does not wait for a writer
    except FileNotFoundError:
        return missing
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        data = os.read(fd, info.st_size + 1)  # one read, for a file as large as it says
        if len(data) <= info.st_size:
            return data
        chunks = [data]  # it grew meanwhile: to its end
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _listing(real_root: str, records: str) -> bytes | None:
    """The records folder's entries, each with whether it holds a manifest (what makes it a record)."""
    folder = os.path.realpath(os.path.join(real_root, records))
    if not _inside(real_root, folder):
        return None
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return b"(none)"
    except OSError:
        return None
    return b"\0".join(_b(n) + (b"+" if os.path.isfile(os.path.join(folder, n, "manifest.json")) else b"-") for n in names)


def _tags(real_root: str) -> bytes | None:
    """Every tag of the project's repository, as git keeps them (packed, and one file each);
    b"" outside git; None when they are kept in a way read here not (reftable)."""
    git = _git_dir(real_root)
    if git is None:
        return b""
    common = os.environ.get("GIT_COMMON_DIR") or git
    if common == git:
        try:
            with open(os.path.join(git, "commondir"), encoding="utf-8") as f:  # a worktree: tags are the repository's
                common = os.path.join(git, f.read().strip())
        except (OSError, UnicodeDecodeError):
            pass
    if os.path.exists(os.path.join(common, "reftable")):
        return None
    packed = _regular(os.path.join(common, "packed-refs"), missing=b"")
    if packed is None:
        return None
    parts = [_b(os.path.realpath(common)), packed]
    for top, subdirs, names in os.walk(os.path.join(common, "refs", "tags")):
        subdirs.sort()
        for name in sorted(names):
            data = _regular(os.path.join(top, name))
            if data is None:
                return None
            parts += [_b(os.path.relpath(os.path.join(top, name), common)), data]
    return b"\0".join(b"%d:%s" % (len(p), p) for p in parts)


def _git_dir(real_root: str) -> str | None:
    """The git directory git itself would use for the project: $GIT_DIR, or the nearest `.git` upwards."""
    if os.environ.get("GIT_DIR"):
        return os.path.abspath(os.environ["GIT_DIR"])
    folder = real_root
    while True:
        dot = os.path.join(folder, ".git")
        if os.path.isdir(dot):
            return dot
        if os.path.isfile(dot):  # a worktree or submodule: "gitdir: PATH"
            try:
                with open(dot, encoding="utf-8") as f:
                    text = f.read().strip()
            except (OSError, UnicodeDecodeError):
                return None
            if text.startswith("gitdir: "):
                return os.path.join(folder, text[len("gitdir: "):])
            return None
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
