"""GitHub Actions: every `uses:` of a project's workflows pinned to a full commit."""
