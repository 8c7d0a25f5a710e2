"""The rehearsal's tests' shared fixtures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture(scope="session")
def rolling_bases(framework_index: Any, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """engine -> the rolling deploys' base project, cut as 0.9.0rc1 (tests/rolling.py): made once per
    test worker, for every test_rolling_*.py file it runs, when a test first asks for that engine."""
    from rolling import PASSWORD_VAR, Base, make_base

    made: dict[str, Base] = {}

    def get(engine: str) -> Base:
        if engine not in made:
            if engine == "postgresql":
                import pgcluster

                database = request.getfixturevalue("postgres").url(password="${" + PASSWORD_VAR + "}")
                env = {PASSWORD_VAR: pgcluster.PASSWORD}
            else:
                database, env = "sqlite", {}
            made[engine] = make_base(engine, framework_index.url, tmp_path_factory.mktemp("bases"), database, env)
        return made[engine]

    return get
