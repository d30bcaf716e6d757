"""Fault injection: workers killed mid-activity, and what must still hold (exactly once)."""
