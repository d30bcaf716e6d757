"""Phase 3 of `make bench`: Stripe webhooks. `--webhook-events` signed events from `--webhook-senders` concurrent
senders to `POST /webhooks/stripe`, the latency of each request, and a check that each event was applied exactly
once.

Set-up (not measured): `--webhook-users` accounts each buy Pro (POST /billing/checkout, then the checkout is
completed in the fake Stripe over its HTTP controls) and Stripe's events are delivered, so every user is active.

Measured: billing cycles turn in waves, as at Stripe, where each period end produces its events: in each wave the
fake renews the subscriptions (paid), which yields `customer.subscription.updated` and `invoice.paid` per user
(the handled types; the others, e.g. `invoice.created`, are acknowledged as ignored and not sent here), then the
senders POST the wave's events, each signed at send time (`t=<now>,v1=<HMAC-SHA256 of "t.payload">`), and the
bench waits until the workflows have applied them before the next wave. A wave per cycle because the workflow
reads the subscription from Stripe for every event: a cycle is counted as a renewal when a read finds the period
advanced, so cycles turned before the previous ones were read would be counted as one.

Exactly once: PostgreSQL must then hold every event id once in `stripe_events`, and for each user
`subscriptions.events_applied` = the distinct handled events delivered (set-up included) and `renewals` = the
cycles turned. Then ~5 % of the events are delivered again: once the workflows have taken these signals (seen in
their histories), nothing in PostgreSQL may have changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import random
import ssl
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.client import BenchError, sign_up
from bench.probes import Probes
from bench.procs import CpuMark, Monitor
from bench.stats import percentile, summary
from devstack.services import asyncpg_connect_args
from models.billing import HANDLED_EVENT_TYPES, subscription_workflow_id

# The fake Stripe's own signing and rendering, so the bench sends exactly what Stripe (and the fake) would.
from tests.fakes.stripe_server import render, sign_payload

WEBHOOK_PATH = "/webhooks/stripe"
P99_TARGET_MS = 50.0
PLAN, INTERVAL = "pro", "month"
SETUP_CONCURRENCY = 10  # checkouts and renewals at once (the set-up is not measured)

T = TypeVar("T")


@dataclass(frozen=True)
class WebhookConfig:
    events: int = 1000
    senders: int = 100
    users: int = 100
    apply_timeout: float = 120.0
    redeliver_fraction: float = 0.05
    seed: int = 20261127


@dataclass
class Account:
    """A bench user with a Pro subscription at the fake Stripe."""

    index: int
    user_id: str
    headers: dict[str, str]
    subscription_id: str = ""
    delivered: list[str] = field(default_factory=list)  # handled event ids delivered once, set-up included
    cycles: int = 0  # billing cycles turned (and delivered)


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    account: int
    payload: bytes  # as Stripe sends it


@dataclass
class Sent:
    """One POST as the sender saw it; `started`/`ended` are `time.perf_counter()`, `ended_at` is wall time."""

    event: Event
    wave: str
    started: float = 0.0
    ended: float = 0.0
    ended_at: float = 0.0
    status: int | None = None
    action: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.action == "delivered" and self.error is None

    @property
    def latency_ms(self) -> float:
        return (self.ended - self.started) * 1000.0


def latency_summary(values: Sequence[float]) -> dict[str, float | int | None]:
    p95 = percentile(values, 95)
    return {**summary(values, 1), "p95": None if p95 is None else round(p95, 1)}


async def bounded(limit: int, works: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    gate = asyncio.Semaphore(limit)

    async def one(work: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await work()

    return list(await asyncio.gather(*(one(w) for w in works)))


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code != 200:
        raise BenchError(f"{what}: HTTP {response.status_code}: {response.text[:500]}")
    body: dict[str, Any] = response.json()
    return body


class WebhookPhase:
    def __init__(
        self,
        *,
        config: WebhookConfig,
        api: httpx.AsyncClient,
        senders: Sequence[httpx.AsyncClient],
        stripe: httpx.AsyncClient,
        secret: str,
        database_url: str,
        temporal: Client,
        monitor: Monitor,
        say: Callable[[str], None],
    ) -> None:
        self.config = config
        self.api = api
        self.senders = senders
        self.stripe = stripe
        self.secret = secret
        self.database_url = database_url
        self.temporal = temporal
        self.monitor = monitor
        self.say = say
        self.accounts: list[Account] = []
        self.setup_failures: list[str] = []
        self.problems: list[str] = []
        self._db: asyncpg.Connection | None = None

    # -- sending

    async def send(
        self, events: Sequence[Event], wave: str, senders: int, *, shared: httpx.AsyncClient | None = None
    ) -> tuple[list[Sent], float]:
        """`senders` concurrent loops POST `events` (taken in order), each signed just before it is sent. Each
        loop has its own client and connection (or they all use `shared`): one pool shared by 100 concurrent
        requests costs httpx several ms of CPU per request, taken from the machine under test."""
        queue = deque(events)
        results: list[Sent] = []

        async def sender(http: httpx.AsyncClient) -> None:
            while queue:
                event = queue.popleft()
                sent = Sent(event, wave)
                headers = {
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                    "Stripe-Signature": sign_payload(event.payload, self.secret, int(time.time())),
                }
                sent.started = time.perf_counter()
                try:
                    response = await http.post(WEBHOOK_PATH, content=event.payload, headers=headers)
                    sent.ended = time.perf_counter()
                    sent.status = response.status_code
                    if response.status_code == 200:
                        sent.action = str(response.json().get("action"))
                        if sent.action != "delivered":
                            sent.error = f"answered {response.text[:200]}"
                    else:
                        sent.error = f"HTTP {response.status_code}: {response.text[:200]}"
                except (httpx.HTTPError, ValueError) as exc:
                    sent.ended = time.perf_counter()
                    sent.error = f"{type(exc).__name__}: {exc}"
                sent.ended_at = time.time()
                results.append(sent)

        start = time.perf_counter()
        loops = max(1, min(senders, len(events), len(self.senders)))
        await asyncio.gather(*(sender(shared or self.senders[i]) for i in range(loops)))
        return results, time.perf_counter() - start

    # -- PostgreSQL

    async def db(self) -> asyncpg.Connection:
        if self._db is None:
            self._db = await asyncpg.connect(**asyncpg_connect_args(self.database_url))
        return self._db

    async def projection(self) -> dict[str, dict[str, Any]]:
        """user id -> the `subscriptions` row of the bench accounts."""
        rows = await (await self.db()).fetch(
            "SELECT user_id::text AS user_id, status, plan_code, events_applied, renewals, updated_at "
            "FROM subscriptions WHERE user_id = ANY($1::uuid[])",
            [a.user_id for a in self.accounts],
        )
        return {str(r["user_id"]): dict(r) for r in rows}

    async def audit(self) -> list[dict[str, Any]]:
        """The `stripe_events` rows of the bench accounts."""
        rows = await (await self.db()).fetch(
            "SELECT event_id, user_id::text AS user_id, type, outcome, received_at FROM stripe_events "
            "WHERE user_id = ANY($1::uuid[])",
            [a.user_id for a in self.accounts],
        )
        return [dict(r) for r in rows]

    def lagging(self, rows: dict[str, dict[str, Any]]) -> list[Account]:
        """Accounts whose projection does not show every event delivered and every cycle turned yet."""
        return [
            a
            for a in self.accounts
            if (row := rows.get(a.user_id)) is None
            or row["events_applied"] != len(a.delivered)
            or row["renewals"] != a.cycles
            or row["status"] != "active"
        ]

    async def wait_applied(self, timeout: float) -> tuple[bool, float]:
        """Until every account's projection shows what was delivered, at most `timeout` seconds."""
        start = time.perf_counter()
        while True:
            behind = self.lagging(await self.projection())
            elapsed = time.perf_counter() - start
            if not behind:
                return True, elapsed
            if elapsed > timeout:
                rows = await self.projection()
                for a in behind[:5]:
                    self.problems.append(
                        f"user {a.user_id}: after {timeout:.0f} s the projection shows {rows.get(a.user_id)}; "
                        f"expected {len(a.delivered)} events applied, {a.cycles} renewals, status active"
                    )
                return False, elapsed
            await asyncio.sleep(0.05)

    # -- set-up

    async def create_accounts(self) -> None:
        tag = uuid.uuid4().hex[:8]

        def create(i: int) -> Callable[[], Awaitable[Account]]:
            async def work() -> Account:
                user_id, headers = await sign_up(self.api, f"bench-webhooks-{tag}-{i:03d}@example.com")
                return Account(i, user_id, headers)

            return work

        # argon2 is CPU-bound in the API: a few at a time
        self.accounts = await bounded(4, [create(i) for i in range(self.config.users)])

    async def subscribe(self, account: Account) -> None:
        """Checkout, paid at the fake, and Stripe's handled events delivered in order."""
        checkout = self.api.post(
            "/billing/checkout", headers=account.headers, json={"plan": PLAN, "interval": INTERVAL}
        )
        session = _json(await checkout, "POST /billing/checkout")
        if session.get("workflow_id") != subscription_workflow_id(uuid.UUID(account.user_id)):
            raise BenchError(f"checkout answered workflow {session.get('workflow_id')} for user {account.user_id}")
        completed = await self.stripe.post(f"/_test/checkout/{session['session_id']}/complete", json={"card": "ok"})
        events = _json(completed, "complete the checkout at the fake Stripe")["events"]
        for event in events:
            if event["type"] == "checkout.session.completed":
                account.subscription_id = str(event["data"]["object"]["subscription"])
        handled = [self.event(e, account) for e in events if e["type"] in HANDLED_EVENT_TYPES]
        sent, _ = await self.send(handled, "setup", 1, shared=self.api)
        for s in sent:
            if not s.ok:
                raise BenchError(f"set-up delivery of {s.event.type} {s.event.id}: {s.error}")
            account.delivered.append(s.event.id)
        if not account.subscription_id:
            raise BenchError(f"no checkout.session.completed for user {account.user_id}")

    def event(self, event: dict[str, Any], account: Account) -> Event:
        return Event(str(event["id"]), str(event["type"]), account.index, render(event))

    async def renew(self, account: Account) -> list[Event]:
        """The billing cycle turns at the fake (paid): the handled events it produced, oldest first."""
        response = await self.stripe.post(
            f"/_test/subscriptions/{account.subscription_id}/renew", json={"outcome": "paid"}
        )
        events = _json(response, f"renew {account.subscription_id} at the fake Stripe")["events"]
        return [self.event(e, account) for e in events if e["type"] in HANDLED_EVENT_TYPES]

    # -- the phase

    async def run(self) -> dict[str, Any]:
        config = self.config
        figures: dict[str, Any] = {
            "events": config.events,
            "senders": config.senders,
            "users": config.users,
            "target_p99_ms": P99_TARGET_MS,
        }
        t0 = time.perf_counter()
        self.say(f"  creating {config.users} users and subscribing each to {PLAN} (checkout at the fake Stripe) ...")
        await self.create_accounts()
        await bounded(SETUP_CONCURRENCY, [functools.partial(self.subscribe, a) for a in self.accounts])
        ok, _ = await self.wait_applied(config.apply_timeout)
        if not ok:
            raise BenchError("the set-up events were not applied: " + "; ".join(self.problems[:3]))
        figures["setup_s"] = round(time.perf_counter() - t0, 2)

        # -- measured waves
        probes = Probes(str(self.api.base_url), self.database_url, self.temporal)
        await probes.start()
        sent: list[Sent] = []
        waves: list[dict[str, Any]] = []
        cpu_burst: dict[str, float] = {}
        cpu_applied: dict[str, float] = {}
        remaining = config.events
        phase_start = time.perf_counter()
        applied_ok = True
        try:
            while remaining > 0 and applied_ok:
                wave = len(waves) + 1
                renewing = self.accounts[: min(len(self.accounts), math.ceil(remaining / 2))]
                renewed = await bounded(SETUP_CONCURRENCY, [functools.partial(self.renew, a) for a in renewing])
                batch = [e for events in renewed for e in events][:remaining]
                if not batch:
                    raise BenchError("renewals at the fake Stripe produced no handled events")
                for index in {e.account for e in batch}:
                    self.accounts[index].cycles += 1
                mark_start = self.monitor.mark()
                results, burst_s = await self.send(batch, f"wave {wave}", config.senders)
                mark_sent = self.monitor.mark()
                for s in results:
                    if s.ok:
                        self.accounts[s.event.account].delivered.append(s.event.id)
                sent.extend(results)
                applied_ok, applied_s = await self.wait_applied(config.apply_timeout)
                mark_applied = self.monitor.mark()
                _add(cpu_burst, mark_start, mark_sent)
                _add(cpu_applied, mark_start, mark_applied)
                latencies = [s.latency_ms for s in results if s.ok]
                waves.append(
                    {
                        "wave": wave,
                        "events": len(batch),
                        "burst_s": round(burst_s, 3),
                        "applied_after_burst_s": round(applied_s, 3),
                        "p50_ms": _round(percentile(latencies, 50)),
                        "p99_ms": _round(percentile(latencies, 99)),
                        "failed": sum(not s.ok for s in results),
                    }
                )
                remaining -= len(batch)
                self.say(
                    f"  wave {wave}: {len(batch)} events in {burst_s:.2f} s (p50 {waves[-1]['p50_ms']} ms, "
                    f"p99 {waves[-1]['p99_ms']} ms), all applied {applied_s:.2f} s later"
                    if applied_ok
                    else f"  wave {wave}: not all applied within {config.apply_timeout:.0f} s"
                )
        finally:
            await probes.stop()
        phase_s = time.perf_counter() - phase_start

        ok_sent = [s for s in sent if s.ok]
        failed = [s for s in sent if not s.ok]
        burst_total = sum(w["burst_s"] for w in waves)
        in_flight = sum(s.latency_ms for s in ok_sent) / 1000.0 / burst_total if burst_total else None
        n_events = len(sent)
        figures.update(
            {
                "sent": n_events,
                "delivered": len(ok_sent),
                "failed": len(failed),
                "failures": [
                    {"event": s.event.id, "type": s.event.type, "wave": s.wave, "error": s.error} for s in failed[:20]
                ],
                "cycles_per_user": max((a.cycles for a in self.accounts), default=0),
                "waves": waves,
                "latency_ms": latency_summary([s.latency_ms for s in ok_sent]),
                "latency_ms_by_type": {
                    kind: latency_summary([s.latency_ms for s in ok_sent if s.event.type == kind])
                    for kind in sorted({s.event.type for s in ok_sent})
                },
                "events_per_s": round(n_events / burst_total, 1) if burst_total else None,
                "events_applied_per_s": round(n_events / phase_s, 1) if phase_s else None,
                "mean_in_flight": None if in_flight is None else round(in_flight, 1),
                "phase_s": round(phase_s, 2),
                "cpu_ms_per_event_burst": {k: round(v * 1000 / max(1, n_events), 2) for k, v in cpu_burst.items()},
                "cpu_ms_per_event_until_applied": {
                    k: round(v * 1000 / max(1, n_events), 2) for k, v in cpu_applied.items()
                },
                "probes_ms": probes.figures(),
            }
        )
        figures["sent_to_applied_ms"] = await self.apply_lag(ok_sent)
        figures["exactly_once"] = await self.check_exactly_once(ok_sent) if applied_ok else self.failed_check()
        return figures

    async def apply_lag(self, sent: Sequence[Sent]) -> dict[str, float | int | None]:
        """From the answer to the sender until the workflow's write (`stripe_events.received_at`)."""
        at = {r["event_id"]: r["received_at"] for r in await self.audit()}
        lags = [
            (at[s.event.id].timestamp() - s.ended_at) * 1000.0 for s in sent if isinstance(at.get(s.event.id), datetime)
        ]
        return summary(lags, 1)

    def failed_check(self) -> dict[str, Any]:
        return {"passed": False, "problems": self.problems[:20]}

    async def check_exactly_once(self, measured: Sequence[Sent]) -> dict[str, Any]:
        """Every event id once in `stripe_events`, the counts in `subscriptions`; then duplicates change nothing."""
        problems = self.problems
        rows = await self.audit()
        by_user: dict[str, Counter[str]] = {}
        for r in rows:
            by_user.setdefault(str(r["user_id"]), Counter())[str(r["event_id"])] += 1
        expected = sum(len(a.delivered) for a in self.accounts)
        for a in self.accounts:
            seen = by_user.get(a.user_id, Counter())
            if set(seen) != set(a.delivered) or any(n != 1 for n in seen.values()):
                missing = set(a.delivered) - set(seen)
                extra = set(seen) - set(a.delivered)
                problems.append(
                    f"user {a.user_id}: stripe_events missing {sorted(missing)[:3]}, extra {sorted(extra)[:3]}"
                )
        projection = await self.projection()
        for a in self.lagging(projection):
            problems.append(
                f"user {a.user_id}: projection {projection.get(a.user_id)}, expected {len(a.delivered)} / {a.cycles}"
            )
        outcomes = Counter(str(r["outcome"]) for r in rows)

        # Duplicates: ~5 % of the measured events again. The workflow drops them without writing anything.
        rng = random.Random(self.config.seed)  # noqa: S311 - which events to repeat, not a secret
        count = max(1, round(len(measured) * self.config.redeliver_fraction)) if measured else 0
        again = [s.event for s in rng.sample(list(measured), min(count, len(measured)))]
        before_rows, before_count = projection, len(rows)
        # One sender: the endpoint's latency on a machine that has nothing else to do.
        duplicates, _ = await self.send(again, "duplicates", 1)
        refused = [d for d in duplicates if not d.ok]
        for d in refused[:5]:
            problems.append(f"duplicate {d.event.id}: {d.error}")
        taken = await self.wait_signals_taken(again, self.config.apply_timeout)
        after_rows = await self.projection()
        after_count = len(await self.audit())
        changed = [
            uid
            for uid, row in after_rows.items()
            if (before := before_rows.get(uid)) is None
            or (row["events_applied"], row["renewals"], row["updated_at"])
            != (before["events_applied"], before["renewals"], before["updated_at"])
        ]
        if after_count != before_count:
            problems.append(f"stripe_events rows {before_count} before the duplicates, {after_count} after")
        for uid in changed[:5]:
            problems.append(f"user {uid}: the projection changed after duplicates: {after_rows[uid]}")
        if not taken:
            problems.append("the workflows did not take the duplicate signals in time; nothing could be concluded")
        return {
            "passed": not problems,
            "stripe_events_rows": len(rows),
            "expected_rows": expected,
            "users_checked": len(self.accounts),
            "outcomes": dict(outcomes),
            "duplicates_sent": len(again),
            "duplicates_answered_delivered": len(duplicates) - len(refused),
            "duplicates_taken_by_workflows": taken,
            "unchanged_after_duplicates": taken and not changed and after_count == before_count,
            "duplicate_latency_ms": latency_summary([d.latency_ms for d in duplicates if d.ok]),
            "problems": problems[:20],
        }

    async def wait_signals_taken(self, events: Sequence[Event], timeout: float) -> bool:
        """Until each workflow's history shows the duplicate signal (the event's second signal) followed by a
        completed workflow task with none pending: then the workflow code has seen it."""
        ids_by_user: dict[str, set[str]] = {}
        for e in events:
            ids_by_user.setdefault(self.accounts[e.account].user_id, set()).add(e.id)
        deadline = time.monotonic() + timeout
        pending = dict(ids_by_user)
        while pending:
            for user_id, ids in list(pending.items()):
                if await self._signals_taken(user_id, ids):
                    del pending[user_id]
            if not pending:
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.1)
        return True

    async def _signals_taken(self, user_id: str, ids: set[str]) -> bool:
        handle = self.temporal.get_workflow_handle(subscription_workflow_id(uuid.UUID(user_id)))
        history = await handle.fetch_history()
        signals: Counter[str] = Counter()
        last_signal = last_completed = last_scheduled = -1
        for position, event in enumerate(history.events):
            kind = event.event_type
            if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                last_signal = position
                for payload in event.workflow_execution_signaled_event_attributes.input.payloads:
                    for event_id in ids:
                        if event_id.encode() in payload.data:
                            signals[event_id] += 1
            elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                last_completed = position
            elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
                last_scheduled = position
        return all(signals[i] >= 2 for i in ids) and last_completed > max(last_signal, last_scheduled)

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None


def _add(total: dict[str, float], start: CpuMark, end: CpuMark) -> None:
    for name, seconds in Monitor.cpu_between(start, end).items():
        total[name] = total.get(name, 0.0) + seconds


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


async def run_webhooks(
    *,
    config: WebhookConfig,
    api_url: str,
    stripe_url: str,
    secret: str,
    database_url: str,
    temporal: Client,
    monitor: Monitor,
    say: Callable[[str], None],
) -> tuple[dict[str, Any], bool]:
    """The phase's figures, and whether every event was delivered and applied exactly once. Never raises for a
    failure of the system under test: it is in the figures."""
    timeout = httpx.Timeout(60.0)
    tls = ssl.create_default_context()  # plain HTTP here; shared, as building one per client costs ~20 ms
    # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them under a new request.
    one = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=2.0)
    async with contextlib.AsyncExitStack() as clients:
        api = await clients.enter_async_context(httpx.AsyncClient(base_url=api_url, timeout=timeout, verify=tls))
        stripe = await clients.enter_async_context(httpx.AsyncClient(base_url=stripe_url, timeout=timeout, verify=tls))
        senders = [
            await clients.enter_async_context(
                httpx.AsyncClient(base_url=api_url, timeout=timeout, limits=one, verify=tls)
            )
            for _ in range(config.senders)
        ]
        phase = WebhookPhase(
            config=config,
            api=api,
            senders=senders,
            stripe=stripe,
            secret=secret,
            database_url=database_url,
            temporal=temporal,
            monitor=monitor,
            say=say,
        )
        try:
            figures = await phase.run()
        except (BenchError, httpx.HTTPError, asyncpg.PostgresError, OSError) as exc:
            say(f"  the webhook phase failed: {type(exc).__name__}: {exc}")
            return {"error": f"{type(exc).__name__}: {exc}", "problems": phase.problems[:20]}, False
        finally:
            await phase.close()
    ok = figures["failed"] == 0 and bool(figures["exactly_once"].get("passed"))
    return figures, ok
