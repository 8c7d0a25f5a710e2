"""[[artifact]] inputs: a URL pinned to a sha256, a size and a date."""
