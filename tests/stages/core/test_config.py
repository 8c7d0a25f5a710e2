"""release.toml validation: every bad input is one clear line, exit 2, nothing written."""

from __future__ import annotations

import pytest

from releaser.core import config
from releaser.core.errors import ConfigError
from releaser.ecosystems import load_config

GOOD = """
[release]
name = "cosmo"
version = "0.9.0"
build = ["python", "-m", "build", "--outdir", "{dist}"]
gates = [["pytest", "-q"]]

[python]
requirements = ["requirements.in"]
index-url = "https://pypi.example/simple"

[[maven]]
repository = "https://repo.example/maven2"
dependencies = ["net.fortuna:ical4j:1.0-SNAPSHOT", "org.hibernate:hibernate-core:[5.0,6.0)"]

[[git]]
name = "windmill"
url = "https://git.example/windmill.git"
ref = "main"

[[artifact]]
name = "tzdata"
url = "https://files.example/tzdata-latest.tar.gz"
"""


def load(tmp_path, text: str) -> config.ReleaseConfig:
    (tmp_path / "requirements.in").write_text("alpha\n")
    path = tmp_path / "release.toml"
    path.write_text(text)
    return load_config(path)


def test_the_whole_contract_schema_loads_into_typed_inputs(tmp_path):
    cfg = load(tmp_path, GOOD)
    assert cfg.release.version == "0.9.0" and cfg.release.lockfile == "release.lock"
    assert cfg.release.gates == (("pytest", "-q"),)
    assert cfg.inputs_of("python").index_urls == ("https://pypi.example/simple",)
    snapshot, ranged = cfg.inputs_of("maven").blocks[0].dependencies
    assert (snapshot.group, snapshot.artifact, snapshot.version) == ("net.fortuna", "ical4j", "1.0-SNAPSHOT")
    assert snapshot.floats and ranged.floats and ranged.version == "[5.0,6.0)"
    assert cfg.inputs_of("git").items[0].ref == "main" and cfg.inputs_of("artifact").items[0].name == "tzdata"


@pytest.mark.parametrize(
    "edit, expected",
    [
        (('index-url = "https://pypi.example/simple"', 'index-ur = "x"'), ":10: [python] index-ur: unknown key"),
        (('version = "0.9.0"', "version = 9"), ":4: [release] version: must be a string, not an integer"),
        (('version = "0.9.0"', 'version = "nine"'), "[release] version: 'nine' is not a PEP 440 version"),
        (('"net.fortuna:ical4j:1.0-SNAPSHOT"', '"net.fortuna:1.0"'), "[[maven]] #1 dependencies: 'net.fortuna:1.0' is not group:artifact"),
        (('"net.fortuna:ical4j:1.0-SNAPSHOT"', '"net fortuna:ical4j:1.0"'), "malformed group 'net fortuna'"),
        (('requirements = ["requirements.in"]', 'requirements = ["missing.in"]'), "[python] requirements: missing.in does not exist"),
        (('name = "windmill"', 'name = "../etc"'), "[[git]] #1 name: '../etc' must be a plain name"),
        (('[[artifact]]', '[[artefact]]'), "top level artefact: unknown key"),
        (('url = "https://files.example/tzdata-latest.tar.gz"', 'url = "ftp://files.example/x"'), "is not an http(s) URL"),
        (('gates = [["pytest", "-q"]]', 'gates = ["pytest -q"]'), "[release] gates[0]: must be a command as a list of strings"),
    ],
)
def test_bad_input_names_file_key_and_line(tmp_path, edit, expected):
    old, new = edit
    assert old in GOOD
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, GOOD.replace(old, new))
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "release.toml"))
    assert expected in message
    assert "\n" not in message


def test_malformed_toml_gives_the_parsers_line(tmp_path):
    with pytest.raises(ConfigError, match=r"invalid TOML: .*line 3"):
        load(tmp_path, '[release]\nname = "x"\nversion = \n')


def test_credentials_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("IDX_TOKEN", "s3cr3t-token")
    cfg = load(tmp_path, GOOD.replace("https://pypi.example/simple", "https://ci:${IDX_TOKEN}@pypi.example/simple"))
    assert cfg.inputs_of("python").index_url == "https://ci:s3cr3t-token@pypi.example/simple"
    # Unset, it is no error until a URL is used (offline `check` runs without secrets).
    unset = load(tmp_path, GOOD.replace("https://pypi.example/simple", "https://ci:${NOT_SET_ANYWHERE}@pypi.example/simple"))
    with pytest.raises(ConfigError, match=r"\$\{NOT_SET_ANYWHERE\}, which is not set"):
        unset.require_environment()


def test_dependency_digest_ignores_the_release_table_but_not_dependencies(tmp_path):
    base = load(tmp_path, GOOD).dependency_digest
    assert load(tmp_path, GOOD.replace('version = "0.9.0"', 'version = "1.0.0"')).dependency_digest == base
    assert load(tmp_path, GOOD.replace('ref = "main"', 'ref = "develop"')).dependency_digest != base


def test_cli_reports_bad_config_in_one_line_with_exit_2(make_project, index):
    project = make_project(index.url)
    project.write("release.toml", GOOD.replace("index-url", "index-uri"))
    done = project.releaser("lock")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "index-uri: unknown key" in done.stderr
    assert not project.lockfile.exists()
