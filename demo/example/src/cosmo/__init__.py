"""cosmo: the example project's own code (what its release candidates ship)."""

import sqlpath
import tzkit

__all__ = ["describe"]


def describe() -> str:
    return f"cosmo on sqlpath {sqlpath.__version__} and tzkit {tzkit.__version__}"
