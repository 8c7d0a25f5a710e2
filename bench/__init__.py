"""Benchmarks of releaser against what its users would run instead.

`bench/run.py` is the one command: it generates its inputs, runs every comparison
side by side (bench/measure.py) and writes docs/benchmarks.md (bench/report.py).
Each comparison is also a script of its own: check.py, pylock.py, maven_snapshots.py.
"""
