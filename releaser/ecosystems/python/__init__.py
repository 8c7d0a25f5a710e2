"""Python requirements: resolved by pip-tools or uv, every file hashed and dated from the index."""
