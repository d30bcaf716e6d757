"""Retry policies and timeouts of the activities, in one place."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# PostgreSQL and Redis work: quick, retried patiently through short outages.
STORAGE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=20,
)
STORAGE_TIMEOUT = timedelta(seconds=30)

# LLM calls: the SDK's own retries are off, so every attempt shows in the history (DESIGN.md section 2).
LLM_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=6,
)
LLM_TIMEOUT = timedelta(minutes=3)
LLM_HEARTBEAT = timedelta(seconds=10)

RENDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=20),
    maximum_attempts=5,
)
RENDER_TIMEOUT = timedelta(seconds=90)

# Stripe calls: its outages and rate limits are short; every creating call carries an idempotency key.
STRIPE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=10,
)
STRIPE_TIMEOUT = timedelta(seconds=30)
# Stripe calls a person waits for (checkout, cancel, resume, plan change): fail fast and say so.
STRIPE_INTERACTIVE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=3,
)
