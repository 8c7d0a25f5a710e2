"""docs/config.md is the release.toml reference: every key the parser accepts is documented
in its table's section, and nothing documented there is refused.

The keys are asked of the parser itself (an unknown key's error lists the ones it
accepts), so a key added to the parser without its documentation fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from releaser.core import config
from releaser.core.errors import ConfigError
from releaser.ecosystems import parse_config

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "config.md"
RELEASE = '[release]\nname = "p"\nversion = "1.0"\n'
_EXPECTED = re.compile(r"unknown key \(expected one of: ([^)]*)\)")


def accepted(text: str, tmp_path: Path) -> list[str]:
    """The keys the parser lists when `text` (with an unknown key in it) is refused."""
    with pytest.raises(ConfigError) as refused:
        parse_config(text, tmp_path / config.CONFIG_NAME)
    found = _EXPECTED.search(str(refused.value))
    assert found, f"not refused as an unknown key: {refused.value}"
    return found.group(1).split(", ")


def parser_tables(tmp_path: Path) -> dict[str, list[str]]:
    """Each table release.toml may hold, as its header is written (`[python]`, `[[maven]]`) -> its keys."""
    tables = {}
    for name in accepted("no-such-table = 1\n" + RELEASE, tmp_path):
        header = f"[{name}]"
        try:
            parse_config(RELEASE + f"{header}\n" if name != "release" else RELEASE, tmp_path / config.CONFIG_NAME)
        except ConfigError as exc:
            if "array of tables" in str(exc):
                header = f"[[{name}]]"
        body = RELEASE.replace("[release]\n", "") if name == "release" else ""
        prefix = "" if name == "release" else RELEASE
        tables[header] = accepted(f"{prefix}{header}\nno-such-key = 1\n{body}", tmp_path)
    return tables


def documented(doc: str) -> dict[str, set[str]]:
    """The section of each table (`## \\`[python]\\``) -> the keys its table's rows name."""
    sections = re.split(r"^## ", doc, flags=re.M)[1:]
    found = {}
    for section in sections:
        heading, _, body = section.partition("\n")
        header = re.fullmatch(r"`(\[\[?[a-z-]+\]\]?)`", heading.strip())
        if header:
            found[header.group(1)] = set(re.findall(r"^\| `([a-z0-9-]+)` \|", body, flags=re.M))
    return found


def test_every_key_the_parser_accepts_is_documented_and_nothing_more(tmp_path):
    (tmp_path / "requirements.in").write_text("")
    tables = parser_tables(tmp_path)
    assert {"[release]", "[python]", "[[maven]]", "[[git]]", "[[artifact]]", "[migrations]"} <= tables.keys()
    docs = documented(DOC.read_text(encoding="utf-8"))
    for header, keys in tables.items():
        assert header in docs, f"docs/config.md has no section `{header}`"
        assert sorted(set(keys) - docs[header]) == [], f"{header}: keys the parser accepts that docs/config.md does not document"
        assert sorted(docs[header] - set(keys)) == [], f"{header}: keys docs/config.md documents that the parser refuses"
    assert sorted(docs.keys() - tables.keys()) == [], "docs/config.md documents a table the parser refuses"


def test_every_example_in_the_reference_loads(tmp_path, monkeypatch):
    """The reference's examples are release.toml a user may copy: each one (with its
    files present and its ${VARS} set) is accepted as it is."""
    doc = DOC.read_text(encoding="utf-8")
    for var in set(re.findall(r"\$\{(\w+)\}", doc)):
        monkeypatch.setenv(var, "s3cret-value")
    for folder in ("src/shop/migrations", "alembic/versions", "release/templates", "server"):
        (tmp_path / folder).mkdir(parents=True)
    for file in ("requirements.in", "server/pom.xml", "Dockerfile"):
        (tmp_path / file).write_text("")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1.0"\n')
    examples = re.findall(r"^```toml\n(.*?)^```", doc, flags=re.S | re.M)
    assert len(examples) >= 7
    for example in examples:
        text = example if "[release]" in example else RELEASE + example
        parse_config(text, tmp_path / config.CONFIG_NAME)


def test_no_documentation_points_to_the_product_contract():
    """The project's own pages, code and templates stand alone."""
    places = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "releaser").rglob("*.py"), *(ROOT / "templates").glob("*")]
    pointing = [str(p.relative_to(ROOT)) for p in places if re.search(r"\bcontract\b", p.read_text(encoding="utf-8"), re.I)]
    assert pointing == []
