"""A `pkg @ git+URL@branch` requirement whose branch moved: news online, a change line on upgrade."""

from __future__ import annotations

import json
from datetime import UTC, datetime

FEB = datetime(2024, 2, 1, 12, tzinfo=UTC)


def test_a_moved_branch_is_news_and_upgrading_it_says_what_moved(git_requirement):  # type: ignore[no-untyped-def]
    project, repo = git_requirement
    first = repo.rev("main")
    assert project.releaser("lock").returncode == 0

    done = project.releaser("check", "--online", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not [f for f in json.loads(done.stdout)["findings"] if f["code"] == "newer"]

    # The branch moves on; the package's version does not.
    repo.commit({"README": "two\n"}, when=FEB, message="two")
    second = repo.rev("main")
    done = project.releaser("check", "--online", "--json")
    assert done.returncode == 0, done.stdout + done.stderr  # news, not a failure
    newer = [f for f in json.loads(done.stdout)["findings"] if f["code"] == "newer"]
    assert [(f["subject"], f["message"]) for f in newer] == [
        ("python gitpkg 1.0", f"main has moved on to {second[:12]} (locked {first[:12]})")
    ]

    done = project.releaser("lock", "--upgrade", "gitpkg")
    assert done.returncode == 0, done.stderr
    assert f"python gitpkg: 1.0 ({first[:12]}) -> 1.0 ({second[:12]})" in done.stdout
