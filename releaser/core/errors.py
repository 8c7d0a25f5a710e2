"""One exception hierarchy; every message is written for the person at the terminal.

Each class carries the process exit code (README, "Exit codes"), so the CLI
maps an error to its exit code without knowing what went wrong.
"""

from __future__ import annotations


class ReleaserError(Exception):
    """Base class. `str(error)` is a one-line message naming what and where."""

    exit_code = 3


class Refused(ReleaserError):
    """The gate said no: the lock is stale, something floats, a record exists."""

    exit_code = 1


class ConfigError(ReleaserError):
    """Bad input: release.toml, a requirements file, a lockfile, or the command line."""

    exit_code = 2


class UpstreamError(ReleaserError):
    """Something outside failed: an index, a repository, the network, the resolver."""

    exit_code = 3


class ResolutionError(ConfigError):
    """No version on the named indexes satisfies the requirements (unknown or conflicting).

    Bad input rather than an outside failure: the fix is in the requirements. When
    the index cannot be reached at all, the Python source raises UpstreamError.
    """


class UpstreamMissing(UpstreamError):
    """Upstream answered that a file is not there (HTTP 404 or 410): gone, not unreachable."""
