"""release.toml's `[python]` table: which requirements to lock, from which indexes, for which targets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releaser.core.config import ConfigReader, KindInputs
from releaser.core.paths import inside

KIND = "python"
DEFAULT_INDEX = "https://pypi.org/simple"
# The resolvers `resolver` may name, and the module of each (releaser.ecosystems.python.resolve.resolver).
RESOLVERS = {
    "pip-tools": "releaser.ecosystems.python.resolve.piptools",
    "uv": "releaser.ecosystems.python.resolve.uv",
}
KEYS = {"requirements", "pyproject", "index-url", "extra-index-urls", "extras", "groups", "allow-local", "resolver", "environments"}


@dataclass(frozen=True)
class PythonInputs(KindInputs):
    requirements: tuple[Path, ...]
    pyproject: bool
    index_url: str
    extra_index_urls: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()  # [project.optional-dependencies] of pyproject.toml to lock too
    groups: tuple[str, ...] = ()  # PEP 735 [dependency-groups] of pyproject.toml to lock too
    allow_local: bool = False  # `pkg @ git+file://...` direct references may name a local repository
    resolver: str = "pip-tools"  # or "uv" (releaser.ecosystems.python.resolve)
    environments: tuple[str, ...] = ()  # targets, as markers (releaser.core.targets); uv only

    @property
    def index_urls(self) -> tuple[str, ...]:
        """Every index, in the order pip consults them; may carry credentials."""
        return (self.index_url, *self.extra_index_urls)

    def urls(self) -> tuple[str, ...]:
        return self.index_urls


def parse(r: ConfigReader, data: dict[str, Any]) -> PythonInputs | None:
    """`[python]`, every key checked; None when release.toml has none."""
    t = r._table(data, KIND, required=False)
    if t is None:
        return None
    where, root = "[python]", r.path.parent
    r._no_unknown(t, KEYS, where, KIND)
    reqs = r._strings(t, "requirements", where, KIND)
    pyproject = r._get(t, "pyproject", bool, where, KIND, default=False)
    extras, groups = (tuple(r._strings(t, key, where, KIND)) for key in ("extras", "groups"))
    if not reqs and not pyproject and not extras and not groups:
        r._fail(where, "requirements", "names no requirements: set requirements = [...] or pyproject = true", KIND)
    for key, names in (("extras", extras), ("groups", groups)):
        if names and not (root / "pyproject.toml").is_file():
            r._fail(where, key, "are read from pyproject.toml, but there is none beside release.toml", KIND)
    paths = []
    for req in reqs:
        p = root / req
        if not inside(root, p):
            r._fail(where, "requirements", f"{req[:60]!r} leads outside the project; refused", KIND)
        if not p.is_file():
            r._fail(where, "requirements", f"{req} does not exist", KIND)
        paths.append(p)
    if pyproject and not (root / "pyproject.toml").is_file():
        r._fail(where, "pyproject", "is true but there is no pyproject.toml beside release.toml", KIND)
    index = r.url(r._get(t, "index-url", str, where, KIND, default=DEFAULT_INDEX), where, "index-url", KIND)
    extra_urls = tuple(r.url(u, where, "extra-index-urls", KIND) for u in r._strings(t, "extra-index-urls", where, KIND))
    local = r._get(t, "allow-local", bool, where, KIND, default=False)
    resolver, environments = _targets(r, t, where)
    return PythonInputs(tuple(paths), pyproject, index, extra_urls, extras, groups, local, resolver, environments)


def _targets(r: ConfigReader, t: dict[str, Any], where: str) -> tuple[str, tuple[str, ...]]:
    """[python] resolver and environments (each a target marker, normalized)."""
    from releaser.core import targets

    resolver = r._get(t, "resolver", str, where, KIND, default="pip-tools")
    if resolver not in RESOLVERS:
        expected = " or ".join(f'"{name}"' for name in RESOLVERS)
        r._fail(where, "resolver", f"{resolver!r} is not a resolver (expected {expected})", KIND)
    try:
        listed = r._strings(t, "environments", where, KIND) if "environments" in t else None
        return resolver, targets.configured(listed, resolver)
    except ValueError as exc:
        r._fail(where, "environments", str(exc), KIND)
        raise  # unreachable: _fail raises
