"""The rehearsal: an RC's upgrade tried on a real database, reverted, checked and timed (docs/rehearsal.md)."""
