"""`releaser lock` on Python inputs: exact, hashed, dated pins from a real index and real pip-compile."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
import requests

from helpers import T0, days
from loopback.pypi import PackageIndex
from releaser.core import lockfile
from releaser.core.errors import ResolutionError, UpstreamError
from releaser.lock.locking import lock


def pins(project) -> dict[str, str]:
    return {p.name: p.version for p in lockfile.read(project.lockfile).pins}


def test_floating_requirements_become_exact_hashed_dated_pins(populated, make_project):
    project = make_project(populated.url, requirements="alpha  # floats\n")
    result = lock(project.config())

    assert pins(project) == {"alpha": "1.0", "beta": "2.0"}
    alpha, beta = sorted(result.lock.pins, key=lambda p: p.name)
    assert alpha.requested == "alpha" and beta.requested is None  # beta is transitive
    assert alpha.date == days(0) and beta.date == days(30)
    for pin in result.lock.pins:
        for artifact in pin.artifacts:
            body = requests.get(artifact.url, timeout=10).content
            assert hashlib.sha256(body).hexdigest() == artifact.sha256 and len(body) == artifact.size
    header = lockfile.read(project.lockfile)
    assert header.sources == {"python": (populated.url,)}
    assert set(header.inputs) == {"release.toml", "requirements.in"}
    assert header.resolver.startswith("pip-tools 7.") and "pip 2" in header.resolver


def test_every_file_of_a_pinned_version_is_recorded_for_every_platform(populated, make_project):
    project = make_project(populated.url, requirements="beta==1.0\n")
    lock(project.config())
    (beta,) = lockfile.read(project.lockfile).pins
    assert sorted(a.name for a in beta.artifacts) == [
        "beta-1.0-cp311-cp311-win_amd64.whl",
        "beta-1.0-py3-none-any.whl",
        "beta-1.0.tar.gz",
    ]


def test_as_of_resolves_as_the_index_was_then(populated, make_project):
    project = make_project(populated.url)
    result = lock(project.config(), as_of=days(10))
    assert pins(project) == {"alpha": "1.0", "beta": "1.0"}
    assert result.lock.as_of == days(10)


def test_files_uploaded_after_the_cut_off_are_not_recorded(populated, make_project):
    populated.publish("beta", "1.0", uploaded=days(20), tags=("cp312-cp312-macosx_11_0_arm64",))
    project = make_project(populated.url, requirements="beta==1.0\n")
    lock(project.config(), as_of=days(10))
    (beta,) = lockfile.read(project.lockfile).pins
    assert "beta-1.0-cp312-cp312-macosx_11_0_arm64.whl" not in {a.name for a in beta.artifacts}
    assert all(a.date < days(10) for a in beta.artifacts)


def test_undated_lock_records_its_time_and_that_time_reproduces_it_later(populated, make_project):
    project = make_project(populated.url)
    first = lock(project.config())
    recorded = project.lockfile.read_bytes()
    populated.publish("beta", "3.0", uploaded=first.lock.as_of.replace(year=first.lock.as_of.year + 1))
    project.lockfile.unlink()

    lock(project.config(), as_of=first.lock.as_of)
    assert project.lockfile.read_bytes() == recorded


def test_same_inputs_and_cut_off_give_byte_identical_locks(populated, make_project):
    project = make_project(populated.url)
    lock(project.config(), as_of=days(40))
    first = project.lockfile.read_bytes()
    project.lockfile.unlink()
    lock(project.config(), as_of=days(40))
    assert project.lockfile.read_bytes() == first


def test_relock_keeps_pins_and_bytes_until_asked_to_upgrade(populated, make_project):
    populated.publish("gamma", "1.0", uploaded=days(0))
    project = make_project(populated.url, requirements="alpha\ngamma\n")
    lock(project.config())
    before = project.lockfile.read_bytes()
    mtime = project.lockfile.stat().st_mtime_ns

    populated.publish("beta", "2.5", uploaded=days(60))
    populated.publish("gamma", "2.0", uploaded=days(60))
    again = lock(project.config())
    assert not again.written and project.lockfile.read_bytes() == before  # cut-off included
    assert project.lockfile.stat().st_mtime_ns == mtime

    lock(project.config(), upgrade=("gamma",))
    assert pins(project) == {"alpha": "1.0", "beta": "2.0", "gamma": "2.0"}
    lock(project.config(), upgrade_all=True)
    assert pins(project) == {"alpha": "1.0", "beta": "2.5", "gamma": "2.0"}


def test_a_newer_resolver_that_picks_the_same_pins_is_no_change(populated, make_project):
    project = make_project(populated.url)
    written = lock(project.config()).lock
    # as an older pip-tools would have written it (the content-digest covers the resolver too)
    older = lockfile.dumps(dataclasses.replace(written, resolver="pip-tools 7.6.0 (pip 26.0)"))
    project.lockfile.write_text(older)

    relocked = lock(project.config())
    assert relocked.lock.resolver == "pip-tools 7.6.0 (pip 26.0)"
    text = project.lockfile.read_text()  # the one line added: the check seal, which `older` did not have
    assert [line for line in text.splitlines() if not line.startswith("check-seal = ")] == older.splitlines()
    assert not lock(project.config()).written


def test_upgrade_of_a_name_the_lock_does_not_pin_is_refused(populated, make_project):
    project = make_project(populated.url)
    lock(project.config())
    done = project.releaser("lock", "--upgrade", "nosuch")
    assert done.returncode == 2
    assert "--upgrade nosuch: release.lock pins no dependency of that name" in done.stderr


def test_pyproject_dependencies_are_an_input(populated, make_project):
    project = make_project(populated.url, python="pyproject = true")
    project.write("requirements.in", "")
    project.write("pyproject.toml", '[project]\nname = "cosmo"\nversion = "0.9.0"\ndependencies = ["beta<2"]\n')
    result = lock(project.config())
    assert pins(project) == {"beta": "1.0"}
    assert "pyproject.toml" in result.lock.inputs


def test_unknown_requirement_fails_naming_it_and_keeps_the_previous_lock(populated, make_project):
    project = make_project(populated.url)
    lock(project.config())
    before = project.lockfile.read_bytes()
    project.write("requirements.in", "alpha\nno-such-package>=1\n")

    with pytest.raises(ResolutionError, match="no-such-package"):
        lock(project.config())
    done = project.releaser("lock")
    assert done.returncode == 2 and "no-such-package" in done.stderr and "Traceback" not in done.stderr
    assert project.lockfile.read_bytes() == before


def test_as_of_against_an_index_without_upload_times_names_the_index(make_project):
    with PackageIndex(upload_times=False) as undated:
        undated.publish("alpha", "1.0", requires=["beta>=1"], uploaded=T0)
        undated.publish("beta", "1.0", uploaded=T0)
        project = make_project(undated.url)
        with pytest.raises(UpstreamError, match=f"{undated.url} gives no upload times"):
            lock(project.config(), as_of=days(10))
        done = project.releaser("lock", "--as-of", "2024-02-01T00:00:00Z")
        assert done.returncode == 3 and "gives no upload times" in done.stderr
        assert not project.lockfile.exists()

        # Without --as-of nothing is filtered: the lock works, undated.
        lock(project.config())
        assert pins(project) == {"alpha": "1.0", "beta": "1.0"}


def test_a_legacy_html_index_is_read_too(make_project):
    with PackageIndex(html_only=True) as legacy:
        legacy.publish("alpha", "1.0", requires=["beta>=1"], uploaded=T0)
        legacy.publish("beta", "1.0", uploaded=T0)
        project = make_project(legacy.url)
        lock(project.config())
        for pin in lockfile.read(project.lockfile).pins:
            (artifact,) = pin.artifacts
            body = requests.get(artifact.url, timeout=10).content
            assert artifact.sha256 == hashlib.sha256(body).hexdigest() and artifact.size == len(body)


def test_requirement_files_may_not_name_indexes(populated, make_project):
    project = make_project(populated.url, requirements="--extra-index-url https://evil.example/simple\nalpha\n")
    done = project.releaser("lock")
    assert done.returncode == 2
    assert "requirements.in:1: --extra-index-url is not allowed here" in done.stderr


def test_cli_lock_prints_what_moved(populated, make_project):
    project = make_project(populated.url)
    done = project.releaser("lock", "--as-of", "2024-01-15")
    assert done.returncode == 0, done.stderr
    assert "python beta: (new) -> 1.0" in done.stdout
    assert "as of 2024-01-15T00:00:00+00:00" in done.stdout
    done = project.releaser("lock", "--upgrade")
    assert "python beta: 1.0 -> 2.0" in done.stdout


def test_extra_index_urls_are_searched_too_and_each_pin_names_its_index(populated, make_project):
    with PackageIndex() as extra:
        extra.publish("gamma", "1.0", uploaded=days(0))
        project = make_project(
            populated.url, requirements="alpha\ngamma\n", python=f'extra-index-urls = ["{extra.url}"]'
        )
        lock(project.config())
        header = lockfile.read(project.lockfile)
        by_name = {p.name: p for p in header.pins}
        assert {n: p.version for n, p in by_name.items()} == {"alpha": "1.0", "beta": "2.0", "gamma": "1.0"}
        assert by_name["gamma"].source == extra.url and by_name["alpha"].source == populated.url
        assert all(a.url.startswith(extra.url.split("/simple")[0]) for a in by_name["gamma"].artifacts)
        assert header.sources == {"python": (populated.url, extra.url)}
