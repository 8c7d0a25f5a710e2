"""releaser: cut release candidates in which no dependency floats."""

__version__ = "0.1.0"
