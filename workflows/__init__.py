"""Deterministic orchestration: no I/O, no clock, no randomness except Temporal's."""
