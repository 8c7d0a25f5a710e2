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
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from helpers import run_releaser

from releaser.core import lockfile
from releaser.core.lockfile import Artifact, Lock, Pin
from releaser.record import records
from releaser.site.building import build

RC1, RC2, RC3 = "0.9.0rc1", "0.9.0rc2", "0.9.0rc3"


class Page(HTMLParser):
    """A page as a reader meets it: its text, the rows of its tables, its links, its drawings."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.links: list[str] = []
        self.rows: list[list[str]] = []
        self.row_classes: list[str] = []
        self.text: list[str] = []
        self.svgs: list[dict[str, str]] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self._cell: list[str] | None = None
        self.feed(path.read_text(encoding="utf-8"))

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
    assert drawing.count('class="edge"') == 4  # 0003 -> 0004_a, 0004_b -> 0005_merge


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
        assert f'<text class="legend"' in chart and f">{name}</text></g>" in chart
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
