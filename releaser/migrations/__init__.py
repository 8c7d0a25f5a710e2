"""The database half of an RC: migration graphs read statically, and the gate's verdicts.

One reader per framework (`django`, `alembic`, `south`, `flyway`), each turning a
project's files into a `Graph` without importing the project; `loader` picks the
reader and reads the working tree or a git ref; `verdicts` judges a graph against
trunk, the releases it must upgrade from and the previous RC.
"""
