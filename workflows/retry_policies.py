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
# Outages of the LLM provider last minutes: 15 attempts wait out about 10 minutes of backoff
# (2+4+8+16+32 s, then 60 s apart; a Retry-After header replaces a wait), so a 2-minute outage is survived at
# attempt 7. Non-retryable errors (bad request, refusal, no credit) still fail at once.
LLM_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=15,
)
LLM_TIMEOUT = timedelta(minutes=3)
# A person waits for the run: slow attempts timing out one after another must not keep it going for an hour.
LLM_SCHEDULE_TO_CLOSE = timedelta(minutes=15)
LLM_HEARTBEAT = timedelta(seconds=10)

RENDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=20),
    maximum_attempts=5,
)
RENDER_TIMEOUT = timedelta(seconds=90)
# A render waits its turn in the process pool under load, so its 90 s stay; it heartbeats instead, so an attempt
# of a dead (killed) worker is retried within seconds, not after the whole 90 s.
RENDER_HEARTBEAT = timedelta(seconds=10)

# Stripe calls: its outages and rate limits are short; every creating call carries an idempotency key.
STRIPE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=10,
)
STRIPE_TIMEOUT = timedelta(seconds=30)
# Stripe activities heartbeat while the HTTP call runs: a worker that dies mid-call is noticed in 10 s, not 30.
STRIPE_HEARTBEAT = timedelta(seconds=10)
# Stripe calls a person waits for (checkout, cancel, resume, plan change): fail fast and say so.
STRIPE_INTERACTIVE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=3,
)
