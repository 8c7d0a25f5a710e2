"""site: the line of RCs as static pages a person reads (releaser site)."""
