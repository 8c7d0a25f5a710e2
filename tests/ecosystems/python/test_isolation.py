"""The machine's pip configuration never changes a resolution."""

from __future__ import annotations

from helpers import assert_locks_alike, clean_lock, home_env, hostile_setup
from loopback.pypi import PackageIndex


def test_hostile_pip_config_and_variables_change_nothing(populated, make_project, tmp_path):
    project = make_project(populated.url)
    expected = clean_lock(project)

    with PackageIndex() as hostile:
        # Everything here would change the pins if pip saw it.
        links, constraints = hostile_setup(hostile, tmp_path)
        conf = f"[global]\nindex-url = {hostile.url}\nextra-index-url = {hostile.url}\nfind-links = {links}\npre = true\n"
        home = tmp_path / "home"
        for where in (home / ".config/pip/pip.conf", home / ".pip/pip.conf", tmp_path / "xdg/pip/pip.conf"):
            where.parent.mkdir(parents=True)
            where.write_text(conf)
        project.write(".pip-tools.toml", f'[tool.pip-tools]\nextra-index-url = ["{hostile.url}"]\npre = true\n')
        env = {
            **home_env(tmp_path),
            "PIP_CONFIG_FILE": str(home / ".pip/pip.conf"),
            "PIP_INDEX_URL": hostile.url,
            "PIP_EXTRA_INDEX_URL": hostile.url,
            "PIP_FIND_LINKS": str(links),
            "PIP_CONSTRAINT": str(constraints),
            "PIP_PRE": "1",
            "PIP_NO_INDEX": "1",
            "PIP_ONLY_BINARY": ":none:",
            "PIP_UPLOADED_PRIOR_TO": "2024-01-03T00:00:00Z",
        }
        assert_locks_alike(project, expected, env, hostile)
