"""The loopback index and its archives, checked against real clients (requests, pip, pip-tools)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from loopback.pypi import JSON_V1, PackageIndex, negotiate
from loopback.wheels import build_sdist, build_wheel, read_metadata

PYTHON = "/tmp/v/bin/python" if Path("/tmp/v/bin/python").exists() else sys.executable
JAN = datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
FEB = datetime(2024, 2, 1, tzinfo=UTC)
MAR = datetime(2024, 3, 1, tzinfo=UTC)


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment minus every PIP_* variable: this machine's pip config is hostile."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, XDG_CACHE_HOME=str(tmp_path / "xdg-cache"))
    return env


@pytest.fixture
def index() -> Iterator[PackageIndex]:
    with PackageIndex() as running:
        running.publish("alpha", "1.0", requires=["beta>=1"], uploaded=JAN, sdist=True)
        running.publish("beta", "1.0", uploaded=FEB)
        running.publish("beta", "2.0", uploaded=MAR)
        yield running


def page(url: str, accept: str, **kwargs: object) -> requests.Response:
    return requests.get(url, headers={"Accept": accept}, timeout=10, **kwargs)  # type: ignore[arg-type]


def test_wheel_is_deterministic_and_complete(tmp_path: Path) -> None:
    def build(directory: Path) -> Path:
        directory.mkdir()
        extra = {"foo_bar/data.txt": "x"}
        return build_wheel(directory, "Foo.Bar", "1.0", requires=["beta>=1"], requires_python=">=3.8", files=extra)

    one, two = build(tmp_path / "a"), build(tmp_path / "b")
    assert one.name == "foo_bar-1.0-py3-none-any.whl"
    assert one.read_bytes() == two.read_bytes()
    with zipfile.ZipFile(one) as archive:
        names = archive.namelist()
        record = archive.read("foo_bar-1.0.dist-info/RECORD").decode()
    assert "foo_bar/data.txt" in names and names[-1] == "foo_bar-1.0.dist-info/RECORD"
    assert "foo_bar-1.0.dist-info/RECORD,," in record
    metadata = read_metadata(one)
    assert metadata.get_all("Requires-Dist") == ["beta>=1"]
    assert metadata["Requires-Python"] == ">=3.8"


def test_sdist_is_deterministic_and_readable(tmp_path: Path) -> None:
    one = build_sdist(tmp_path, "Foo-Bar", "2.0", requires=["beta"])
    data = one.read_bytes()
    assert build_sdist(tmp_path, "Foo-Bar", "2.0", requires=["beta"]).read_bytes() == data
    assert one.name == "foo_bar-2.0.tar.gz"
    metadata = read_metadata(one)
    assert (metadata["Metadata-Version"], metadata.get_all("Requires-Dist")) == ("2.2", ["beta"])


def test_wheel_installs_with_pip(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, "gamma", "3.1", requires=["nothing-here"])
    target = tmp_path / "site"
    command = [PYTHON, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)]
    subprocess.run(command, env=clean_env(tmp_path), check=True, capture_output=True, timeout=60)
    assert (target / "gamma" / "__init__.py").read_text() == '__version__ = "3.1"\n'
    assert (target / "gamma-3.1.dist-info" / "RECORD").exists()


def test_json_page_links_resolve_to_the_advertised_bytes(index: PackageIndex) -> None:
    url = f"{index.url}/alpha/"
    response = page(url, f"{JSON_V1}, text/html;q=0.5")
    assert response.headers["Content-Type"] == JSON_V1
    assert response.headers["Cache-Control"] == "no-cache"  # keep it, but ask before using it again
    project = response.json()
    assert project["meta"]["api-version"] == "1.1" and project["versions"] == ["1.0"]
    assert {f["upload-time"] for f in project["files"]} == {"2024-01-02T03:04:05.123456Z"}
    for entry in project["files"]:
        assert not entry["url"].startswith("http")
        download = requests.get(urljoin(url, entry["url"]), timeout=10)
        assert download.status_code == 200 and len(download.content) == entry["size"]
        assert hashlib.sha256(download.content).hexdigest() == entry["hashes"]["sha256"]


def test_an_unchanged_page_is_answered_304_and_a_changed_one_in_full(index: PackageIndex) -> None:
    """ETag and Last-Modified, as clients revalidate a kept page with them (RFC 9110)."""
    url, accept = f"{index.url}/beta/", {"Accept": JSON_V1}
    first = requests.get(url, headers=accept, timeout=10)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    same = requests.get(url, headers={**accept, "If-None-Match": etag}, timeout=10)
    assert same.status_code == 304 and same.content == b"" and same.headers["Content-Type"] == JSON_V1
    assert requests.get(url, headers={**accept, "If-Modified-Since": modified}, timeout=10).status_code == 304
    assert requests.get(url, headers={"Accept": "text/html", "If-None-Match": etag}, timeout=10).status_code == 200
    assert [path for path, _ in index.not_modified_sent] == ["/simple/beta/", "/simple/beta/"]
    index.publish("beta", "3.0", uploaded=MAR)
    for condition in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        changed = requests.get(url, headers={**accept, **condition}, timeout=10)
        assert changed.status_code == 200 and "3.0" in changed.json()["versions"]
    index.remove("beta-3.0-py3-none-any.whl")
    after = requests.get(url, headers={**accept, "If-Modified-Since": changed.headers["Last-Modified"]}, timeout=10)
    assert after.status_code == 200 and "3.0" not in after.json()["versions"]


def test_json_versions_sort_by_version_and_list_projects(index: PackageIndex) -> None:
    index.publish("beta", "10.0", uploaded=MAR)
    assert page(f"{index.url}/beta/", JSON_V1).json()["versions"] == ["1.0", "2.0", "10.0"]
    projects = page(f"{index.url}/", JSON_V1).json()["projects"]
    assert projects == [{"name": "alpha"}, {"name": "beta"}]


def test_html_page_carries_hashes_requires_python_and_yanks(tmp_path: Path, index: PackageIndex) -> None:
    index.add(build_wheel(tmp_path, "delta", "1.0", requires_python=">=3.8,<4"), yanked="broken")
    response = page(f"{index.url}/delta/", "text/html")
    assert response.headers["Content-Type"] == "text/html"
    sha = hashlib.sha256((tmp_path / "delta-1.0-py3-none-any.whl").read_bytes()).hexdigest()
    assert f'href="../../files/delta-1.0-py3-none-any.whl#sha256={sha}"' in response.text
    assert 'data-requires-python="&gt;=3.8,&lt;4"' in response.text
    assert 'data-yanked="broken"' in response.text
    assert "upload" not in response.text
    entry = page(f"{index.url}/delta/", JSON_V1).json()["files"][0]
    assert (entry["yanked"], entry["requires-python"]) == ("broken", ">=3.8,<4")


def test_remove_makes_the_file_and_project_disappear(index: PackageIndex) -> None:
    index.remove("beta-2.0-py3-none-any.whl")
    assert page(f"{index.url}/beta/", JSON_V1).json()["versions"] == ["1.0"]
    assert requests.get(f"{index.url.removesuffix('/simple')}/files/beta-2.0-py3-none-any.whl", timeout=10).status_code == 404
    index.remove("beta-1.0-py3-none-any.whl")
    assert page(f"{index.url}/beta/", JSON_V1).status_code == 404


def test_add_refuses_naive_times_and_duplicates(tmp_path: Path, index: PackageIndex) -> None:
    wheel = build_wheel(tmp_path, "beta", "2.0")
    with pytest.raises(ValueError):
        index.add(wheel)
    with pytest.raises(ValueError):
        index.add(build_wheel(tmp_path, "eps", "1.0"), uploaded=datetime(2024, 1, 1))


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON_V1),
        ("*/*", JSON_V1),
        ("text/html", "text/html"),
        ("application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1", "application/vnd.pypi.simple.v1+html"),
        ("text/*;q=0.5, */*;q=0.1", "text/html"),
        (f"{JSON_V1};q=0, */*", "application/vnd.pypi.simple.v1+html"),
        ("application/json", None),
    ],
)
def test_negotiation_follows_pep_691(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


def test_unacceptable_accept_is_406_and_legacy_index_ignores_accept(index: PackageIndex) -> None:
    assert page(f"{index.url}/alpha/", "application/json").status_code == 406
    with PackageIndex(html_only=True) as legacy:
        legacy.publish("alpha", "1.0")
        response = page(f"{legacy.url}/alpha/", JSON_V1)
        assert response.headers["Content-Type"] == "text/html" and "<a href" in response.text


def test_upload_time_omitted_when_disabled() -> None:
    with PackageIndex(upload_times=False) as index:
        index.publish("alpha", "1.0", uploaded=JAN)
        (entry,) = page(f"{index.url}/alpha/", JSON_V1).json()["files"]
        assert "upload-time" not in entry


def test_non_normalized_names_redirect_and_unknown_ones_are_404(index: PackageIndex) -> None:
    response = page(f"{index.url}/Alpha/", JSON_V1, allow_redirects=False)
    assert (response.status_code, response.headers["Location"]) == (301, "/simple/alpha/")
    assert page(f"{index.url}/Alpha", JSON_V1).json()["name"] == "alpha"
    assert page(f"{index.url}/nope/", JSON_V1).status_code == 404
    assert index.requests_seen[:2] == ["/simple/Alpha/", "/simple/Alpha"]


def test_basic_auth_is_required_when_configured() -> None:
    with PackageIndex(auth=("user", "s3cret")) as index:
        index.publish("alpha", "1.0")
        denied = page(f"{index.url}/alpha/", JSON_V1)
        assert denied.status_code == 401
        assert denied.headers["WWW-Authenticate"] == 'Basic realm="test"'
        assert page(f"{index.url}/alpha/", JSON_V1, auth=("user", "wrong")).status_code == 401
        assert page(f"{index.url}/alpha/", JSON_V1, auth=("user", "s3cret")).status_code == 200
        assert index.url_with_auth().startswith("http://user:s3cret@127.0.0.1:")


def pip_compile(tmp_path: Path, index: PackageIndex, *extra: str) -> dict[str, str]:
    """Run real pip-compile against the index; return the pins it wrote."""
    (tmp_path / "req.in").write_text("alpha\n")
    out = tmp_path / "out.txt"
    command = [PYTHON, "-m", "piptools", "compile", "--no-config", "--no-header", "--no-annotate"]
    command += ["--index-url", index.url, "--cache-dir", str(tmp_path / "cache"), *extra, "-o", str(out), "req.in"]
    result = subprocess.run(command, cwd=tmp_path, env=clean_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    pins = [line.split("==") for line in out.read_text().splitlines() if "==" in line]
    return {name.strip(): version.strip() for name, version in pins}


def test_pip_compile_resolves_against_the_index_and_honours_upload_dates(tmp_path: Path, index: PackageIndex) -> None:
    assert pip_compile(tmp_path, index) == {"alpha": "1.0", "beta": "2.0"}
    between = "2024-02-15T00:00:00Z"
    assert pip_compile(tmp_path, index, "--uploaded-prior-to", between) == {"alpha": "1.0", "beta": "1.0"}
    assert "/simple/beta/" in index.requests_seen
