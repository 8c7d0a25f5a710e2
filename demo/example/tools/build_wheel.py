"""The example's build: a real, reproducible wheel of src/cosmo, with the standard library only.

`releaser cut` runs it as `[release] build` in the RC's build environment:
    python tools/build_wheel.py DIST
The version is the RC id (RELEASER_RC) and every timestamp is SOURCE_DATE_EPOCH
(the built commit's time), so the same commit builds the same bytes.
"""

import base64
import hashlib
import os
import sys
import time
import zipfile
from pathlib import Path

dist, version = Path(sys.argv[1]), os.environ["RELEASER_RC"]
stamp = time.gmtime(int(os.environ["SOURCE_DATE_EPOCH"]))[:6]
info = f"cosmo-{version}.dist-info"
files = {f"cosmo/{p.name}": p.read_bytes() for p in sorted(Path("src/cosmo").glob("*.py"))}
requires = [line.strip() for line in Path("requirements.in").read_text().splitlines() if line.strip() and not line.startswith("#")]
files[f"{info}/METADATA"] = "".join(
    ["Metadata-Version: 2.1\n", "Name: cosmo\n", f"Version: {version}\n"] + [f"Requires-Dist: {r}\n" for r in requires]
).encode()
files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: tools/build_wheel.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
record = [f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}" for name, data in files.items()]
files[f"{info}/RECORD"] = ("\n".join(record + [f"{info}/RECORD,,"]) + "\n").encode()
target = dist / f"cosmo-{version}-py3-none-any.whl"
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as wheel:
    for name, data in files.items():
        entry = zipfile.ZipInfo(name, stamp)
        entry.external_attr = 0o644 << 16
        wheel.writestr(entry, data, zipfile.ZIP_DEFLATED)
print(f"built {target.name}")
