"""release.toml's `[containers]`: the Dockerfiles and compose files whose images are pinned.

```toml
[containers]
dockerfiles = ["Dockerfile", "docker/worker.Dockerfile"]
compose = ["compose.yaml"]
platforms = ["linux/amd64", "linux/arm64"]   # default: every platform the index offers
insecure = ["127.0.0.1:5000"]                # registries reached over plain HTTP
registries = ["https://${REG_USER}:${REG_TOKEN}@registry.example.com"]  # credentials by registry
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from releaser.core.config import ConfigReader, KindInputs
from releaser.core.paths import inside

WHERE, SECTION = "[containers]", "containers"
KEYS = {"dockerfiles", "compose", "platforms", "insecure", "registries"}
_PLATFORM = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$")
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9a-fA-F:]+\](:[0-9]{1,5})?$")


@dataclass(frozen=True)
class ContainerInputs(KindInputs):
    dockerfiles: tuple[Path, ...] = ()
    compose: tuple[Path, ...] = ()
    platforms: tuple[str, ...] = ()  # empty: every platform each index offers
    insecure: tuple[str, ...] = ()  # host[:port] reached over plain HTTP
    # host[:port] -> (user, password), from `registries` URLs (their `${VAR}`s expanded)
    logins: tuple[tuple[str, tuple[str, str]], ...] = ()
    registries: tuple[str, ...] = ()  # as configured, `${VAR}`s expanded

    def urls(self) -> tuple[str, ...]:
        return self.registries

    def login_for(self, host: str) -> tuple[str, str] | None:
        return dict(self.logins).get(host)

    @property
    def files(self) -> tuple[Path, ...]:
        return (*self.dockerfiles, *self.compose)


def parse(p: ConfigReader, data: dict[str, Any]) -> ContainerInputs | None:
    """`[containers]` of release.toml (`data`: the whole document), every key checked; None without one.

    It may name no file, only `platforms`, `insecure` and `registries`: how the images other
    kinds name (a workflow's `docker://` steps) are pinned, and the registries `bundle --push` uses."""
    t = p._table(data, SECTION, required=False)
    if t is None:
        return None
    root = p.path.parent
    p._no_unknown(t, KEYS, WHERE, SECTION)
    files: dict[str, tuple[Path, ...]] = {}
    for key in ("dockerfiles", "compose"):
        found = []
        for name in p._strings(t, key, WHERE, SECTION):
            path = root / name
            if Path(name).is_absolute() or ".." in Path(name).parts or not inside(root, path):
                p._fail(WHERE, key, f"{name[:60]!r} leads outside the project; refused", SECTION)
            if not path.is_file():
                p._fail(WHERE, key, f"{name} does not exist", SECTION)
            found.append(path)
        files[key] = tuple(found)
    if not files["dockerfiles"] and not files["compose"] and not any(t.get(k) for k in ("platforms", "insecure", "registries")):
        p._fail(
            WHERE, "dockerfiles",
            "names no Dockerfile, no compose file and no registry: set dockerfiles = [...] or compose = [...] "
            "(or only platforms/insecure/registries, for the images other files name, such as a workflow's "
            "docker:// steps, and for `bundle --push`)", SECTION,
        )
    platforms = p._strings(t, "platforms", WHERE, SECTION)
    for platform in platforms:
        if not _PLATFORM.match(platform):
            p._fail(WHERE, "platforms", f"{platform[:40]!r} is not os/arch[/variant], such as \"linux/amd64\"", SECTION)
    insecure = p._strings(t, "insecure", WHERE, SECTION)
    for host in insecure:
        if not _HOST.match(host):
            p._fail(WHERE, "insecure", f"{host[:60]!r} is not a registry host[:port]", SECTION)
    logins, urls = [], []
    for url in p._strings(t, "registries", WHERE, SECTION):
        expanded = p.url(url, WHERE, "registries", SECTION)  # ${VAR}s expanded, the secret remembered
        parts = urlsplit(expanded)
        urls.append(expanded)
        host = parts.netloc.rpartition("@")[2]
        if parts.username is not None and "${" not in expanded:
            logins.append((host, (unquote(parts.username), unquote(parts.password or ""))))
    return ContainerInputs(
        files["dockerfiles"], files["compose"], tuple(dict.fromkeys(platforms)), tuple(insecure), tuple(logins),
        tuple(urls),
    )
