"""`releaser site`: the line of RCs as static pages, rendered from the records into one folder.

    DIR/index.html            the line of RCs, newest first, and the rehearsal's times across it
    DIR/rc/<rc>/index.html    one RC: pins, what changed, migrations, rehearsal
    DIR/rc/<rc>/<file>        its MANIFEST.md, sbom.cdx.json, revert.sh, release.lock, as recorded
    DIR/drift.html            with --online: what is newer upstream today, per pin of the newest RC
    DIR/style.css             the one stylesheet (light, dark, phone, print)

Nothing but releaser's own Jinja2 templates (autoescaped: every value a record holds is
escaped) and its own SVG; no script, no outside asset. The same records give the same
bytes, and nothing is written outside DIR: a path in it that is a symlink leading out is
refused.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from releaser.core.config import ReleaseConfig
from releaser.core.errors import ConfigError
from releaser.record.manifest import kind_titles
from releaser.site import history, pages

if TYPE_CHECKING:
    import jinja2

    from releaser.plumbing.http import Http

STYLE = "style.css"
DEFAULT_OUT = Path("dist") / "site"



@dataclass(frozen=True)
class Built:
    out: Path
    rcs: int
    warnings: tuple[str, ...]  # one line per RC whose record is missing something
    drift: bool = False


def build(config: ReleaseConfig, out: Path | None = None, *, online: bool = False, http: Http | None = None,
          today: datetime | None = None) -> Built:
    """Render the site of `config`'s records into `out` (default `dist/site/` in the project)."""
    out = out if out is not None else config.root / DEFAULT_OUT
    line = pages.line(history.line_of_rcs(config))
    env = _environment()
    files: dict[str, bytes] = {STYLE: _template_text("site.css").encode("utf-8")}
    newest_first = list(reversed(line))
    drift = None
    if online:
        from releaser.site import drift as drift_mod

        newest = next((rc for rc in newest_first if rc.entry.ok), None)
        drift = drift_mod.drift(config, newest, today or datetime.now(UTC), http) if newest else None
    common = {"project": config.release.name, "kinds": kind_titles(), "has_drift": drift is not None}
    timings = pages.timings_chart(line)
    files["index.html"] = _render(env, "site_index.html.j2", root="", line=newest_first, chart=timings and timings.shown(), **common)
    for rc in line:
        folder = f"rc/{rc.rc}/"
        for name, data in sorted(rc.entry.files.items()):
            files[folder + name] = data
        files[folder + "index.html"] = _render(
            env, "site_rc.html.j2", root="../../", rc=rc, chart=timings and timings.shown(rc.rc), **common
        )
    if drift is not None:
        files["drift.html"] = _render(env, "site_drift.html.j2", root="", drift=drift, **common)
    _write_all(out, files)
    warnings = tuple(f"{rc.rc}: {problem}" for rc in line for problem in rc.entry.problems)
    return Built(out, len(line), warnings, drift is not None)


def _template_text(name: str) -> str:
    from releaser.record.manifest import default_template

    return default_template(name)


@functools.cache  # one per process: its templates compiled once (tests and [release] site render often)
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_text),
        autoescape=True,  # every value a record holds is escaped; releaser's SVG comes in as Markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["seconds"] = lambda v: "" if v is None else (f"{v:.2f} s" if v < 10 else f"{v:.1f} s")
    env.filters["short"] = lambda commit: (commit or "")[:12]
    env.filters["day"] = lambda iso: (iso or "")[:10]
    return env


def _render(env: jinja2.Environment, template: str, **values: Any) -> bytes:
    import jinja2

    try:
        return env.get_template(template).render(**values).encode("utf-8")
    except jinja2.TemplateError as exc:  # releaser's own templates: a bug, but told in one line
        raise ConfigError(f"{template}: {type(exc).__name__}: {exc}") from None


def _write_all(out: Path, files: dict[str, bytes]) -> None:
    """Write every file under `out`; refuse a symlink that leads out; an unwritable `out` is one line."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        top = out.resolve()
        for name, data in files.items():
            target = out / name
            _inside(top, out, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink():
                target.unlink()  # one inside DIR: replaced by the file, never written through
            elif target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
                continue
            target.write_bytes(data)
            os.chmod(target, 0o644)
    except OSError as exc:
        where = exc.filename or out
        raise ConfigError(f"{where}: cannot write the site there: {exc.strerror or type(exc).__name__}") from None


def _inside(top: Path, out: Path, name: str) -> None:
    """Refuse when `name` under `out`, or a folder on the way, is a symlink that leaves `out`."""
    path = out
    for part in Path(name).parts:
        path = path / part
        if path.is_symlink() and not path.resolve().is_relative_to(top):
            raise ConfigError(f"{path}: is a symlink leading out of {out}; the site is only written inside it")
