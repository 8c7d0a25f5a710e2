"""[[git]] inputs: a branch or tag pinned to a full commit id and its time."""
