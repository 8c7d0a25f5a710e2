"""Plumbing every stage uses: HTTP, git, pip and venvs, files on disk, credentials, the project lock."""
