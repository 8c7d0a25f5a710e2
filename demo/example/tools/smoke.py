"""The example's gate: the built wheel imports and works against the locked dependencies.

    python tools/smoke.py DIST
"""

import sys
from pathlib import Path

wheels = sorted(Path(sys.argv[1]).glob("cosmo-*.whl"))
assert len(wheels) == 1, f"expected one cosmo wheel in {sys.argv[1]}, found {wheels}"
sys.path.insert(0, str(wheels[0]))  # a pure-Python wheel is importable as it is

import cosmo  # noqa: E402

print(f"{wheels[0].name}: {cosmo.describe()}")
