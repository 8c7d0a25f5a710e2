"""`releaser site`: the line of RCs made by real cuts (tests/lineofrcs.py), rendered as static pages.

What a reader sees is read back out of the HTML with html.parser: the RCs listed newest
first, each RC's pins marked changed, new or gone, its migrations and their graph, the
rehearsal's chart; every link of every page resolves to a file of the site.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from helpers import run_releaser
from releaser.core import lockfile
from releaser.core.lockfile import Artifact, Lock, Pin
from releaser.record import records
from releaser.record.manifest import pin_entry
from releaser.site.building import build

RC1, RC2, RC3 = "0.9.0rc1", "0.9.0rc2", "0.9.0rc3"


class Page(HTMLParser):
    """A page as a reader meets it: its text, the rows of its tables, its links, its drawings."""

    def __init__(self, path: Path, html: str | None = None) -> None:
        super().__init__()
        self.path = path
        self.links: list[str] = []
        self.rows: list[list[str]] = []
        self.row_classes: list[str] = []
        self.text: list[str] = []
        self.svgs: list[dict[str, str]] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self._cell: list[str] | None = None
        self.feed(path.read_text(encoding="utf-8") if html is None else html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self.tags.append((tag, found))
        if tag in ("a", "link") and "href" in found:
            self.links.append(found["href"])
        if tag == "tr":
            self.rows.append([])
            self.row_classes.append(found.get("class", ""))
        if tag in ("td", "th"):
            self._cell = []
        if tag == "svg":
            self.svgs.append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())

    def row(self, *cells: str) -> tuple[list[str], str]:
        """The first table row holding every one of `cells`, and its class."""
        for found, css in zip(self.rows, self.row_classes):
            if all(any(c == cell for cell in found) for c in cells):
                return found, css
        raise AssertionError(f"no row with {cells} in {self.path}: {self.rows}")


def all_links_resolve(out: Path) -> int:
    """Every href of every page names a file of the site; returns how many links were followed."""
    followed = 0
    for page in out.rglob("*.html"):
        for href in Page(page).links:
            parts = urlsplit(href)
            assert not parts.scheme and not parts.netloc, f"{page}: an outside link {href}"
            target = (page.parent / unquote(parts.path)).resolve()
            assert target.is_file() and target.is_relative_to(out.resolve()), f"{page}: {href} does not resolve"
            followed += 1
    return followed


@pytest.fixture(scope="module")
def site(line_of_rcs, tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "site"
    built = build(line_of_rcs.config(), out)
    assert built.rcs == 3 and built.warnings == (), built.warnings
    return out


def test_the_index_lists_the_rcs_newest_first_with_what_each_changed(site):
    index = Page(site / "index.html")
    listed = [r[0] for r in index.rows[1:]]
    assert listed == [RC3, RC2, RC1]
    rc2, _ = index.row(RC2)
    assert rc2[3] == "Python 5 · Maven 1"  # django, asgiref, sqlparse, alpha, beta; ledger
    assert rc2[4] == "2 changed 1 new"  # alpha 1.0 -> 2.0, the ledger build; beta appeared
    assert rc2[5] == "1" and rc2[6] == "passed" and rc2[7].endswith(" s")
    rc3, _ = index.row(RC3)
    assert rc3[4] == "1 gone" and rc3[5] == "3"
    rc1, _ = index.row(RC1)
    assert rc1[4] == "first" and rc1[5] == "2"  # the first RC: both of its migrations
    assert len(index.svgs) == 1 and "chart" in index.svgs[0]["class"]
    assert f"rc/{RC2}/index.html" in index.links


def test_an_rc_page_marks_what_changed_appeared_and_went(site, line_of_rcs):
    page = Page(site / "rc" / RC2 / "index.html")
    alpha, css = page.row("Python", "alpha")
    assert alpha[2] == "2.0" and css == "changed" and alpha[5] == "changed from 1.0"
    assert alpha[3] == "1970-02-10"[:0] + alpha[3] and alpha[4].endswith(" d")  # dated, with its age at the cut
    beta, css = page.row("Python", "beta")
    assert css == "new" and beta[5] == "new"
    ledger, css = page.row("Maven", "org.acme:ledger")
    assert ledger[2].startswith("1.0-20240402.090000-2") and css == "changed" and "1.0-20240301.120000-1" in ledger[5]
    assert ledger[3] == "2024-04-02"
    django, css = page.row("Python", "django")
    assert css == "" and django[5] == ""
    gone = Page(site / "rc" / RC3 / "index.html")
    beta, css = gone.row("Python", "beta")
    assert css == "gone" and beta[5] == "gone"


def test_an_rc_page_shows_its_migrations_and_their_graph(site):
    page = Page(site / "rc" / RC3 / "index.html")
    assert page.row("shop", "0004_a")[0][3] == "yes"
    page.row("shop", "0004_b")
    page.row("shop", "0005_merge")
    graph = (site / "rc" / RC3 / "index.html").read_text()
    drawing = graph[graph.index('<svg xmlns="http://www.w3.org/2000/svg" class="graph"'):]
    drawing = drawing[: drawing.index("</svg>")]
    assert '<g class="node new head merge"><title>shop.0005_merge (new) (head) (merge)</title><polygon' in drawing
    assert '<g class="node new"><title>shop.0004_a (new)</title><rect' in drawing
    assert "<title>shop.0003_price</title>" in drawing  # what they stand on
    # 0002 -> 0003 -> 0004_a, 0004_b -> 0005_merge; 0001 is two steps from the nearest new one: a stub into 0002
    assert drawing.count('class="edge"') == 5 and drawing.count('class="edge stub"') == 1


def test_an_rc_page_shows_the_rehearsal_and_every_steps_time_across_rcs(site, line_of_rcs):
    page = Page(site / "rc" / RC2 / "index.html")
    recorded = records.read(line_of_rcs.root / "releases", RC2).manifest["rehearsal"]
    for step in recorded["steps"]:
        found, _ = page.row(step["name"])
        assert found[1].endswith(" s") and found[2].endswith(" s") == ("previous_seconds" in step)
    html = (site / "rc" / RC2 / "index.html").read_text()
    chart = html[html.index('<svg xmlns="http://www.w3.org/2000/svg" class="chart"'):]
    chart = chart[: chart.index("</svg>")]
    names = {s["name"] for rc in (RC1, RC2, RC3) for s in records.read(line_of_rcs.root / "releases", rc).manifest["rehearsal"]["steps"]}
    for name in names:  # one line per step, named in its legend
        assert '<text class="legend"' in chart and f">{name}</text></g>" in chart
    assert chart.count('<path class="line"') == len(names)
    assert 'class="ceiling"' in chart  # the max-slowdown ceiling, where a previous figure exists
    assert '<rect class="mark"' in chart  # this RC shaded


def test_each_rc_page_links_its_record_files_copied_byte_for_byte(site, line_of_rcs):
    for rc in (RC1, RC2, RC3):
        page = Page(site / "rc" / rc / "index.html")
        for name in ("MANIFEST.md", "sbom.cdx.json", "revert.sh", "release.lock"):
            assert name in page.links
            assert (site / "rc" / rc / name).read_bytes() == (line_of_rcs.root / "releases" / rc / name).read_bytes()
    assert all_links_resolve(site) > 20


def test_the_same_records_give_the_same_bytes(site, line_of_rcs, tmp_path):
    again = tmp_path / "again"
    build(line_of_rcs.config(), again)
    first = {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    second = {p.relative_to(again).as_posix(): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first == second


def test_no_script_and_no_outside_asset(site):
    for path in site.rglob("*.html"):
        page = Page(path)
        assert not any(tag == "script" or any(k.startswith("on") for k in attrs) for tag, attrs in page.tags)
        assert not any(attrs.get("src") for _tag, attrs in page.tags)
    css = (site / "style.css").read_text()
    assert "prefers-color-scheme: dark" in css and "@media print" in css and "url(" not in css and "@import" not in css


def _copy(line_of_rcs, tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(line_of_rcs.root, root, symlinks=True)
    return root


def test_a_record_that_does_not_parse_or_lacks_a_file_is_named_on_its_page_and_the_rest_renders(line_of_rcs, tmp_path):
    root = _copy(line_of_rcs, tmp_path)
    (root / "releases" / RC2 / "manifest.json").write_text("{ not json")
    (root / "releases" / RC1 / "sbom.cdx.json").unlink()
    done = run_releaser(root, "site")
    assert done.returncode == 0, done.stderr
    assert f"warning: {RC2}: the record cannot be read: " in done.stderr and "manifest.json: is not valid JSON" in done.stderr
    assert f"warning: {RC1}: sbom.cdx.json is missing from the record" in done.stderr
    out = root / "dist" / "site"
    rc2 = Page(out / "rc" / RC2 / "index.html")
    assert "What is missing" in rc2.words and "manifest.json: is not valid JSON" in rc2.words
    rc1 = Page(out / "rc" / RC1 / "index.html")
    assert "sbom.cdx.json is missing from the record" in rc1.words and "sbom.cdx.json" not in rc1.links
    index = Page(out / "index.html")
    row, css = index.row(RC2)
    assert css == "problem" and "cannot be read" in row[1]
    rc3, _ = index.row(RC3)
    assert rc3[4] == "2 changed"  # compared with rc1, the last readable RC before it: alpha, ledger; beta never came
    assert all_links_resolve(out) > 10


def test_an_rc_whose_record_is_not_in_the_tree_is_read_from_its_tag(line_of_rcs, tmp_path):
    root = _copy(line_of_rcs, tmp_path)
    shutil.rmtree(root / "releases" / RC1)
    out = tmp_path / "out"
    built = build(_config(root), out)
    assert built.rcs == 3 and built.warnings == ()
    page = Page(out / "rc" / RC1 / "index.html")
    assert "tag v0.9.0rc1" in page.words
    assert (out / "rc" / RC1 / "release.lock").read_bytes() == (line_of_rcs.root / "releases" / RC1 / "release.lock").read_bytes()


def _config(root: Path):
    from releaser.ecosystems import load_config

    return load_config(root / "release.toml")


def test_an_unwritable_out_is_one_line_and_exit_2(line_of_rcs, tmp_path):
    (tmp_path / "file").write_text("not a folder\n")
    done = run_releaser(line_of_rcs.root, "site", "--out", str(tmp_path / "file" / "site"))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "cannot write the site there" in done.stderr and "Traceback" not in done.stderr


def test_a_symlink_leading_out_of_the_site_is_refused_and_nothing_is_written_through_it(line_of_rcs, tmp_path):
    out, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "rc").symlink_to(elsewhere)
    done = run_releaser(line_of_rcs.root, "site", "--out", str(out))
    assert done.returncode == 2 and "is a symlink leading out of" in done.stderr
    assert list(elsewhere.iterdir()) == []


HOSTILE = '<script>alert("pin")</script>'
HOSTILE_MIGRATION = '0002_<img src=x onerror=alert(1)>'


def test_every_value_from_a_record_is_escaped(tmp_path):
    """A hostile pin name, version and migration name (a record is outside input) stay text."""
    root = tmp_path / "hostile"
    root.mkdir()
    (root / "release.toml").write_text('[release]\nname = "<b>shop</b>"\nversion = "1.0.0"\n')
    data = b"tzdata"
    artifact = Artifact("a<b>.tar.gz", "https://example.org/a<b>", "0" * 64, len(data))
    lock = Lock(datetime(2024, 5, 1, tzinfo=UTC), "0.1.0", "pip-tools", pins=(Pin("artifact", HOSTILE, '1.0"><script>x</script>', "https://example.org/<x>", None, None, (artifact,)),))
    lock_bytes = lockfile.dumps(lock).encode()
    manifest = {
        "schema": records.SCHEMA, "rc": "1.0.0rc1", "lock_digest": records.lock_digest(lock_bytes),
        "commit": "<i>c</i>", "cut_at": "2024-05-01T00:00:00Z", "pins": [pin_entry(p) for p in lock.pins],
        "migrations": {"framework": "django", "heads": {"shop": [HOSTILE_MIGRATION]}, "new": [f"shop.{HOSTILE_MIGRATION}"],
                       "migrations": [{"app": "shop", "name": HOSTILE_MIGRATION, "file": "shop/<x>.py", "parents": [],
                                       "digest": "sha256:0", "reversible": True, "replaces": []}]},
        "rehearsal": {"ran": True, "verdict": "<u>passed</u>", "max_slowdown": 2.0,
                      "steps": [{"name": "<s>upgrade</s>", "seconds": 1.0, "did": "<tt>migrate</tt>"}]},
    }
    records.write(root / "releases", "1.0.0rc1", {"manifest.json": json.dumps(manifest).encode(), "release.lock": lock_bytes})
    built = build(_config(root), tmp_path / "site")
    assert built.rcs == 1
    for path in (tmp_path / "site").rglob("*.html"):
        text = path.read_text()
        page = Page(path)
        assert not any(tag in ("script", "img", "b", "i", "u", "s", "tt") for tag, _ in page.tags), path
        assert "<script>" not in text and "<img" not in text
    words = Page(tmp_path / "site" / "rc" / "1.0.0rc1" / "index.html").words
    assert HOSTILE in words and HOSTILE_MIGRATION in words and "<s>upgrade</s>" in words


# -- as a reader's browser shows it: headless Chromium (Debian's chromium; .ci/run installs it) --------


def chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()
    return subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)},
    )


def screenshot(page: Path, tmp_path: Path, name: str, width: int, height: int, *extra: str):
    from PIL import Image

    shot = tmp_path / f"{name}.png"
    done = chromium(*extra, f"--screenshot={shot}", f"--window-size={width},{height}", page.as_uri(), tmp_path=tmp_path)
    assert shot.is_file(), done.stderr[-2000:]
    return Image.open(shot).convert("RGB")


def band(image, top: float, bottom: float) -> set[tuple[int, int, int]]:
    """The colours of a horizontal band of the image (fractions of its height)."""
    width, height = image.size
    return {image.getpixel((x, y)) for x in range(0, width, 3) for y in range(int(top * height), int(bottom * height), 3)}


def test_chromium_renders_the_index_with_the_rcs_listed_and_the_chart_drawn(site, tmp_path):
    dom = chromium("--dump-dom", (site / "index.html").as_uri(), tmp_path=tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = Page(site / "index.html", dom.stdout)  # the DOM after Chromium rendered it
    assert [r[0] for r in rendered.rows[1:]] == [RC3, RC2, RC1]
    assert any("chart" in s.get("class", "") for s in rendered.svgs)

    desktop = screenshot(site / "index.html", tmp_path, "desktop", 1280, 1100)
    assert desktop.getpixel((5, 5)) == (255, 255, 255)  # light by default
    assert len(band(desktop, 0.0, 0.3)) > 20  # the table: text, not a blank page
    chart = band(desktop, 0.4, 0.95)
    coloured = {c for c in chart if max(c) - min(c) > 80}  # the series' lines: saturated colours
    assert len(coloured) > 5, "no chart lines drawn"


def test_chromium_renders_an_rc_page_on_a_phone_and_in_dark_mode(site, tmp_path):
    page = site / "rc" / RC3 / "index.html"
    phone = screenshot(page, tmp_path, "phone", 390, 2400)
    assert len(band(phone, 0.0, 0.2)) > 10
    # No page wider than the phone: the right edge is the page's background, the tables scroll inside.
    assert phone.size[0] == 390 and phone.getpixel((389, 5)) == (255, 255, 255)
    dark = screenshot(page, tmp_path, "dark", 1280, 2400, "--force-dark-mode")
    background = dark.getpixel((5, 5))
    assert max(background) < 60, background  # prefers-color-scheme: dark is followed
    text = band(dark, 0.0, 0.1)
    assert any(min(c) > 180 for c in text), "no light text on the dark page"
    graph = band(dark, 0.0, 1.0)
    assert any(c[1] > 150 and c[0] < 150 for c in graph), "the new migrations' green is not drawn"


def test_online_the_drift_page_says_what_is_newer_upstream_per_pin(line_of_rcs, tmp_path):
    line_of_rcs.index.publish("alpha", "3.0")
    line_of_rcs.maven.deploy_snapshot("org.acme", "ledger", "1.0-SNAPSHOT", datetime(2024, 5, 6, 7, tzinfo=UTC), 3)
    out = tmp_path / "site"
    built = build(line_of_rcs.config(), out, online=True, today=datetime(2025, 1, 1, tzinfo=UTC))
    assert built.drift
    drift = Page(out / "drift.html")
    assert f"Drift since {RC3}" in drift.words and "on 2025-01-01" in drift.words
    alpha, css = drift.row("Python", "alpha")
    assert css == "changed" and "newer" in alpha[5] and "3.0" in alpha[5]
    assert alpha[3] == "2024-02-10" and alpha[4] == "326 d"  # uploaded on day 40 (helpers.days), its age today
    ledger, css = drift.row("Maven", "org.acme:ledger")
    assert css == "changed" and "1.0-20240506.070000-3" in ledger[5]
    django, css = drift.row("Python", "django")
    assert css == "" and django[5] == "nothing newer"
    assert "drift.html" in Page(out / "index.html").links and all_links_resolve(out) > 20
    # Offline, no drift page is written and none is linked.
    offline = tmp_path / "offline"
    build(line_of_rcs.config(), offline)
    assert not (offline / "drift.html").exists() and "drift.html" not in Page(offline / "index.html").links


def test_release_site_true_refreshes_the_site_after_every_cut(line_of_rcs, tmp_path):
    root = _copy(line_of_rcs, tmp_path)
    toml = (root / "release.toml").read_text()
    # No rehearsal for this cut (it is the site that is under test): the database line goes.
    toml = toml.replace('name = "shop"\n', 'name = "shop"\nsite = true\n').replace('database = "sqlite"\n', "")
    (root / "release.toml").write_text(toml)
    subprocess.run(["git", "commit", "-qam", "the site after every cut"], cwd=root, check=True)
    done = run_releaser(root, "cut")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "site: 4 RCs rendered in" in done.stdout
    index = Page(root / "dist" / "site" / "index.html")
    assert [r[0] for r in index.rows[1:]] == ["0.9.0rc4", RC3, RC2, RC1]
    assert index.row("0.9.0rc4")[0][6] == "not rehearsed"


def test_a_pin_per_target_is_a_row_per_marker_compared_with_the_same_targets_pin():
    from releaser.site.history import Entry
    from releaser.site.pages import _pins

    linux, windows = 'sys_platform == "linux"', 'sys_platform == "win32"'

    def entry(rc: str, *pins: Pin) -> Entry:
        return Entry(rc, f"releases/{rc}/", manifest={"pins": [pin_entry(p) for p in pins]})

    def numpy(version: str, marker: str) -> Pin:
        return Pin("python", "numpy", version, "https://index.example/simple", marker=marker)

    before = entry(RC1, numpy("1.0", linux), numpy("1.0", windows))
    after = entry(RC2, numpy("2.0", linux), numpy("1.0", windows))
    assert pin_entry(numpy("2.0", linux))["marker"] == linux and "marker" not in pin_entry(Pin("python", "a", "1", "x"))
    rows, gone = _pins(after, before, None)
    assert {(r.name, r.version, r.change, r.before) for r in rows} == {
        (f"numpy; {linux}", "2.0", "changed", "1.0"), (f"numpy; {windows}", "1.0", "", ""),
    }
    rows, gone = _pins(entry(RC3, numpy("2.0", linux)), after, None)
    assert [(g.name, g.version) for g in gone] == [(f"numpy; {windows}", "1.0")]
