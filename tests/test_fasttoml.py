"""releaser.fasttoml reads what tomli_w writes exactly as tomllib does, and declines the rest."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta, timezone

import pytest
import tomli_w

from releaser import fasttoml, lockfile
from releaser.lockfile import Artifact, InputRecord, Lock, Pin

UTC = timezone.utc


def sample_lock() -> Lock:
    tricky = 'quote " backslash \\ tab \t newline \n unicode é ✓ control \x01 del \x7f'
    artifact = Artifact("a-1.0.tar.gz", "https://x.example/a-1.0.tar.gz", "0" * 64, 12, datetime(2024, 1, 2, 3, 4, 5, 600, tzinfo=UTC), (("sha1", "f" * 40),))
    pins = (
        Pin("python", "alpha", "1.0", "https://x.example/simple", "alpha>=1; python_version >= \"3.8\"", datetime(2024, 1, 1, tzinfo=UTC), (artifact,)),
        Pin("python", "beta", "2.0", "https://x.example/simple"),
        Pin("maven", "org.x:y", "1.0-20240101.120000-3", "https://repo.example/m2", "1.0-SNAPSHOT", datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))),
        Pin("git", "windmill", "a" * 40, "https://git.example/w.git", tricky),
        Pin("artifact", "tz.data", "b" * 64, "https://x.example/tz", None, None, (artifact,)),
    )
    inputs = {
        "release.toml": InputRecord("sha256:1", {"git": {"windmill": {"ref": "main", "url": "https://git.example/w.git"}}, "python": {"index-url": "u"}}),
        "req uirements.in": InputRecord("sha256:2", {"requirements": {"alpha": tricky}}),
        "empty.in": InputRecord("sha256:3"),
    }
    return Lock(datetime(2024, 5, 1, 0, 0, 0, 123456, tzinfo=UTC), "0.1.0", "none", inputs, {"python": ("a", "b"), "maven": ()}, pins)


def test_reads_a_written_lock_as_tomllib_does() -> None:
    text = lockfile.dumps(sample_lock())
    fast = fasttoml.loads(text)
    assert fast is not None, "a lock releaser wrote must take the fast path"
    assert fast == tomllib.loads(text)


@pytest.mark.parametrize(
    "doc",
    [
        {"a": 1, "b": -0, "c": True, "d": False, "e": "", "f": [], "g": ["x", 2, True]},
        {"t": {"u": {"v": "w"}, "x": 1}, "arr": [{"k": "v", "sub": {"z": 1}}, {"k": "w", "inner": [1]}]},
        {"when": datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=14)))},
        {"keys": {"with.dot": 1, "with space": 2, "é": 3, "": 4, "quote\"d": 5}},
    ],
)
def test_reads_what_tomli_w_writes(doc: dict) -> None:
    text = tomli_w.dumps(doc)
    assert fasttoml.loads(text) == tomllib.loads(text) == doc


@pytest.mark.parametrize("text", ['a = "raw\ttab"\n', 'a = "raw\ttab and \\"escapes\\""\n', "# just a comment\n\n"])
def test_reads_valid_corners_as_tomllib_does(text: str) -> None:
    assert fasttoml.loads(text) == tomllib.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        "a = 'literal'\n",
        "a = { b = 1 }\n",
        "a.b = 1\n",
        'a = "x" # trailing comment\n',
        "a = 1\na = 2\n",  # duplicate key: tomllib's error, not ours
        "[t]\n[t]\n",  # table defined twice
        "[t]\nx = 1\n[t.x]\n",  # a value is not a table
        "a = [1]\n[[a]]\n",  # a static array is not an array of tables
        "[[a]]\n[a]\n",
        "d = 2024-01-01T00:00:00\n",  # local date-time
        "d = 2024-01-01\n",
        "d = 2024-02-30T00:00:00Z\n",  # no such day
        "d = 2024-01-01T00:00:00.1234567Z\n",  # more digits than the fast path takes
        'a = "\\U0001F600"\n',
        'a = "\\ud800"\n',  # a surrogate: invalid TOML, valid JSON
        "a = [\n    { q = 1 },\n]\n",  # tomli_w writes tables inside arrays inline
        "a = 1\r\n",
        "a = 0x10\n",
        "a = 1_000\n",
        "a = 1.5\n",
        "a = [\n    1,\n",  # unterminated array
        "a = [\n    [1],\n]\n",
        "a  = 1\n",
        "# comment with a \x01 control character\n",
        "[ t ]\n",
    ],
)
def test_declines_everything_else(text: str) -> None:
    assert fasttoml.loads(text) is None


def test_a_declined_document_is_still_read_or_refused_by_tomllib(tmp_path) -> None:
    lock = sample_lock()
    text = lockfile.dumps(lock).replace('releaser = "0.1.0"', "releaser = '0.1.0'  # edited")
    assert fasttoml.loads(text) is None
    assert lockfile.loads(text, tmp_path / "release.lock") == lock
    from releaser.errors import ConfigError

    with pytest.raises(ConfigError, match="invalid TOML"):
        lockfile.loads(text.replace("lock-version = 1\n", "lock-version = 1\nlock-version = 1\n"), tmp_path / "release.lock")


def test_random_strings_and_keys_read_as_tomllib_reads_them() -> None:
    import random

    rng = random.Random(4)
    alphabet = [chr(c) for c in (*range(0, 0x80), 0xE9, 0x2713, 0x1F600, 0xFFFD)] + ['"', "\\", ".", " "] * 8
    for _ in range(300):
        word = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        text = tomli_w.dumps({word: {word: word, "list": [word]}})
        fast = fasttoml.loads(text)
        assert fast is None or fast == tomllib.loads(text), repr(text)
        assert fast is not None or "\\U" in text, repr(text)  # tomli_w's own output is read fast
