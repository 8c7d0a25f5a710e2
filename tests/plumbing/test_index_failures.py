"""An index that refuses or fails is an outside failure naming its status; offline work needs no secret."""

from __future__ import annotations

import os

import pytest
from helpers import days

from loopback.pypi import PackageIndex

TOKEN = "tok-5b1e-secret"


@pytest.fixture
def private_index():  # type: ignore[no-untyped-def]
    with PackageIndex(auth=("ci", TOKEN)) as idx:
        idx.publish("alpha", "1.0", uploaded=days(0))
        yield idx


def test_a_wrong_token_is_exit_3_naming_401(private_index, make_project):  # type: ignore[no-untyped-def]
    project = make_project(private_index.url.replace("http://", "http://ci:${IDX_TOKEN}@"))
    done = project.releaser("lock", env={"IDX_TOKEN": "wrong"})
    assert done.returncode == 3, done.stderr
    assert "HTTP 401" in done.stderr and "no versions" not in done.stderr and "Traceback" not in done.stderr
    assert not project.lockfile.exists()


@pytest.mark.parametrize(
    ("path", "status", "said"),
    [
        ("/simple/", 403, "/simple/alpha/ answered HTTP 403"),
        ("/simple/", 503, "/simple/alpha/ answered HTTP 503"),
        ("/simple", 404, "the index http://127.0.0.1:{port}/simple/ answered HTTP 404"),
    ],
)
def test_an_index_that_refuses_or_fails_is_exit_3_naming_the_status(index, make_project, path, status, said):  # type: ignore[no-untyped-def]
    index.publish("alpha", "1.0", uploaded=days(0))
    index.fail_next(path, 10_000, status)
    project = make_project(index.url)
    done = project.releaser("lock")
    assert done.returncode == 3, done.stderr
    assert said.format(port=index.url.split(":")[2].split("/")[0]) in done.stderr


def test_an_unknown_project_on_a_working_index_is_still_bad_input(index, make_project):  # type: ignore[no-untyped-def]
    index.publish("alpha", "1.0", uploaded=days(0))
    done = make_project(index.url, requirements="no-such-thing\n").releaser("lock")
    assert done.returncode == 2 and "no-such-thing" in done.stderr


def test_offline_commands_run_without_the_credential_variables(private_index, make_project):  # type: ignore[no-untyped-def]
    project = make_project(private_index.url.replace("http://", "http://ci:${IDX_TOKEN}@"))
    assert project.releaser("lock", env={"IDX_TOKEN": TOKEN}).returncode == 0
    without = {k: v for k, v in os.environ.items() if k != "IDX_TOKEN"}
    assert "IDX_TOKEN" not in without

    checked = project.releaser("check")  # a fork's PR, a pre-commit hook: no secrets
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert project.releaser("export", "--format", "requirements", "-o", "-").returncode == 0
    relock = project.releaser("lock")  # nothing changed: answered from the lock, no URL used
    assert relock.returncode == 0 and "nothing changed" in relock.stdout, relock.stderr

    # Where a URL is used, the unset variable is the error, naming the file, the key and the line.
    for command in (("lock", "--refresh"), ("check", "--online")):
        done = project.releaser(*command)
        assert done.returncode == 2, (command, done.stderr)
        assert "release.toml:7: [python] index-url: refers to ${IDX_TOKEN}, which is not set" in done.stderr
    assert TOKEN not in project.lockfile.read_text()
