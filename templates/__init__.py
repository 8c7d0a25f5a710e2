"""releaser's own templates (MANIFEST.md.j2), installed as the package data of `releaser.templates`."""
