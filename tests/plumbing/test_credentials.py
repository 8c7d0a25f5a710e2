"""Credentials reach the index, and nothing else: not the lock, an export, a log line or an error."""

from __future__ import annotations

import pytest

from helpers import days
from loopback.pypi import PackageIndex

TOKEN = "tok-7f3a9c-very-secret"


@pytest.fixture
def private_index():
    with PackageIndex(auth=("ci", TOKEN)) as idx:
        idx.publish("alpha", "1.0", requires=["beta>=1"], uploaded=days(0))
        idx.publish("beta", "1.0", uploaded=days(1))
        yield idx


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text


def test_credentials_from_the_environment_never_leave_the_process(private_index, make_project):
    url_with_var = private_index.url.replace("http://", "http://ci:${IDX_TOKEN}@")
    project = make_project(url_with_var)
    env = {"IDX_TOKEN": TOKEN}

    locked = project.releaser("lock", env=env)
    assert locked.returncode == 0, locked.stderr
    lock_text = project.lockfile.read_text()
    assert f"source = \"{private_index.url}\"" in lock_text  # the index, without its userinfo
    exports = [project.releaser("export", "--format", fmt, "-o", "-", env=env) for fmt in ("pylock", "requirements")]
    assert all(e.returncode == 0 for e in exports)
    assert_no_secret(locked.stdout, locked.stderr, lock_text, *(e.stdout + e.stderr for e in exports))


def test_credentials_written_in_the_url_stay_out_of_errors(private_index, make_project):
    project = make_project(private_index.url_with_auth(), requirements="alpha\nno-such-thing\n")
    failed = project.releaser("lock")
    assert failed.returncode == 2 and "no-such-thing" in failed.stderr
    assert_no_secret(failed.stdout, failed.stderr)

    unreachable = make_project(f"http://ci:{TOKEN}@127.0.0.1:9/simple")
    failed = unreachable.releaser("lock")
    assert failed.returncode == 3 and "127.0.0.1:9" in failed.stderr
    assert_no_secret(failed.stdout, failed.stderr)
    assert not unreachable.lockfile.exists()
