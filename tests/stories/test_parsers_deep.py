"""Property-based, long and deep: the parsers rewritten to be linear or bounded (issue 26).

The requirement-comment and Flyway SQL scanners must keep exactly what the regexes
they replace kept (a recorded digest must not change), which is checked on short
inputs where the old regexes are cheap; on long runs of the characters that made
those regexes quadratic, and on documents nested thousands deep, only releaser's
own errors escape. The new scanners are single passes by construction; no test here
measures time.
"""

from __future__ import annotations

import re
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releaser.core import documents
from releaser.core.errors import ConfigError, UpstreamError
from releaser.ecosystems.python import requirements
from releaser.migrations import flyway

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

PIP_COMMENT = re.compile(r"(^|\s+)#.*$")  # pip's own; what requirement files meant until now
OLD_SQL_NOISE = re.compile(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")|--[^\n]*|/\*.*?\*/|\s+", re.DOTALL)

sql_text = st.text(alphabet=st.sampled_from(list("'\"-/*\n a;#\t\u3000\x85")), max_size=40)
line_text = st.text(alphabet=st.sampled_from(list(" \t#a=1\u3000\x0c")), max_size=40)


@FUZZ
@given(sql_text)
def test_the_sql_scanner_keeps_what_the_old_regex_kept(text: str) -> None:
    assert "".join(flyway._without_noise(text)) == OLD_SQL_NOISE.sub(lambda m: m.group(1) or "", text)


@FUZZ
@given(line_text)
def test_a_requirement_comment_ends_where_pip_says(line: str) -> None:
    assert requirements._without_comment(line) == PIP_COMMENT.sub("", line)


def repeated(units: list[str]) -> st.SearchStrategy[str]:
    """Long texts: a hostile unit repeated thousands of times, with a little around it."""
    return st.builds(lambda unit, n, tail: unit * n + tail, st.sampled_from(units), st.integers(1_000, 50_000), st.text(max_size=5))


@LONG
@given(repeated(["/*", "/* ", "'", "''", "' ", '"', "--", " ", "\t\n", "/*'"]))
def test_long_sql_is_digested(text: str) -> None:
    assert flyway.sql_digest(text.encode("utf-8", "surrogatepass")).startswith("sha256:")


@LONG
@given(repeated([" ", "\t", " #", "# ", "\\", " \\"]))
def test_long_requirement_lines_are_read(text: str) -> None:
    lines = requirements._logical_lines("alpha" + text + "\nbeta\n")
    assert all(isinstance(line, str) for _number, line in lines)


def nested(opening: str, closing: str) -> st.SearchStrategy[str]:
    return st.integers(1, 3_000).map(lambda depth: opening * depth + closing * depth)


@LONG
@given(st.one_of(nested("[", "]"), nested("{a=", "}")), st.sampled_from(["x = {}\n", "[t]\nx = {}\n"]))
def test_nested_toml_is_read_or_refused_as_bad_input(value: str, document: str) -> None:
    try:
        parsed = documents.toml(document.format(value), "release.toml")
    except ConfigError as exc:
        assert str(exc).startswith("release.toml: ")
    else:
        assert isinstance(parsed, dict)


@LONG
@given(st.one_of(nested("[", "]"), nested('{"a":', "}"), nested('{"files":[', "]}")))
def test_nested_json_is_read_or_refused_naming_the_page(text: str) -> None:
    url = "https://pypi.example.org/simple/alpha/"
    try:
        documents.json_document(text.encode(), url, UpstreamError)
    except UpstreamError as exc:
        assert str(exc).startswith(url)



@st.composite
def property_graphs(draw: st.DrawFn) -> dict[str, str]:
    """Up to 60 POM properties, each text and references to any of them (itself, later ones, doubling)."""
    names = [f"p{i}" for i in range(draw(st.integers(1, 60)))]
    piece = st.one_of(st.sampled_from([f"${{{n}}}" for n in names] + ["${missing}"]), st.text("x.-", max_size=3))
    return {n: "".join(draw(st.lists(piece, max_size=4))) for n in names}


@FUZZ
@given(property_graphs())
def test_pom_properties_expand_or_fail_naming_the_pom(properties: dict[str, str]) -> None:
    """Cycles, unknown names, deep chains and doublings: a value, or one PomError naming the POM."""
    from releaser.ecosystems.maven.model import MAX_VALUE, _Interpolator
    from releaser.ecosystems.maven.pom import PomError

    expand = _Interpolator(properties, "https://repo/g/a/1/a-1.pom", PomError)
    for name in properties:
        try:
            assert len(expand(f"${{{name}}}", "version")) <= MAX_VALUE
        except PomError as exc:
            assert str(exc).startswith("https://repo/g/a/1/a-1.pom: ")
