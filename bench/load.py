"""`make load` (`python -m bench.run --load-only`): `--users` virtual users for `--duration` seconds against the
bench stack (bench/stack.py), each looping what a person does, with think times:

- sign in at the start (ramped over `--ramp` s), refresh the tokens every 60 s, sign in again every 75 s;
- GET /me, list CVs, upload a CV (the bench CV or samples/jane-doe-cv.md; always the first time, then 30 %);
- start an improvement, follow it (even users over server-sent events, odd users by polling GET
  /improvements/{id} every second), then GET it and download its PDF and its DOCX export;
- every 10th user (index % 10 == 0) buys Pro first: POST /billing/checkout, the checkout is paid at the fake
  Stripe, and its handled events are POSTed signed to /webhooks/stripe; a billing cycle turns every ~45 s
  (renewal events, signed, again); GET /billing/subscription and /billing/usage;
- users with index % 10 == 1 stay on Free (3 improvements a month): their 402 quota_exhausted is expected and
  counted apart. The others are on the bench plan (bench/client.py), whose quota nobody reaches.

Every request is recorded (endpoint template, status, latency; for the event stream, the time to its headers).
After the window, the accepted improvements are waited for (bounded) and classified from PostgreSQL and Temporal:
completed, failed with a user-facing error (code and message), failed without one, still running, lost. The
webhook events delivered must each be in `stripe_events` once. Figures: bench/results/load.json and a table.

Exit code 0 when there was no 5xx, no transport error, nothing still running or lost, and every webhook applied
once; 1 otherwise; 2 if the stack did not start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import ssl
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from temporalio.client import Client, WorkflowExecutionStatus

from bench.client import PASSWORD, BenchError, grant_bench_plan, target_body
from bench.stack import ROOT, Stack, StackConfig, StackError
from bench.stats import percentile
from bench.webhooks import INTERVAL, PLAN, WEBHOOK_PATH
from devstack.services import DevStackError, asyncpg_connect_args
from models.billing import HANDLED_EVENT_TYPES
from tests.fakes.stripe_server import render, sign_payload

BENCH_DIR = Path(__file__).resolve().parent
CVS = (BENCH_DIR / "cv-2-pages.md", ROOT / "samples" / "jane-doe-cv.md")
RESULTS_PATH = BENCH_DIR / "results" / "load.json"
REFRESH_EVERY_S, SIGN_IN_EVERY_S, RENEW_EVERY_S = 60.0, 75.0, 45.0
FINAL = ("completed", "failed", "canceled")
EXPECTED = {"POST /cvs/{id}/improvements": {402}}  # the Free users' quota_exhausted
EXIT_OK, EXIT_FAILED, EXIT_STACK_FAILED = 0, 1, 2


@dataclass(frozen=True)
class Sample:
    endpoint: str
    status: int | None  # None: no answer (transport error)
    ms: float
    at: float  # seconds since the window opened
    error: str | None = None  # an unexpected answer, in short


@dataclass
class Recorder:
    t0: float = field(default_factory=time.perf_counter)
    samples: list[Sample] = field(default_factory=list)

    async def call(
        self,
        http: httpx.AsyncClient,
        method: str,
        endpoint: str,
        url: str,
        *,
        ok: tuple[int, ...] = (200,),
        **kwargs: Any,
    ) -> httpx.Response | None:
        """One request, recorded; None when no answer came (recorded as a transport error)."""
        start = time.perf_counter()
        try:
            response = await http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.add(endpoint, None, start, f"{type(exc).__name__}: {exc}"[:300])
            return None
        expected = response.status_code in ok or response.status_code in EXPECTED.get(endpoint, set())
        self.add(endpoint, response.status_code, start, None if expected else response.text[:300])
        return response

    def add(self, endpoint: str, status: int | None, start: float, error: str | None) -> None:
        now = time.perf_counter()
        self.samples.append(Sample(endpoint, status, (now - start) * 1000.0, start - self.t0, error))


@dataclass
class Accepted:
    improvement_id: str
    workflow_id: str
    user: int
    seen_stage: str | None = None  # the last stage the user saw


@dataclass
class User:
    index: int
    email: str
    kind: str  # bench | free | billing
    http: httpx.AsyncClient
    access: str = ""
    refresh: str = ""
    signed_in_at: float = 0.0
    refreshed_at: float = 0.0
    cv_ids: list[str] = field(default_factory=list)
    subscription_id: str = ""
    renewed_at: float = 0.0
    delivered: list[str] = field(default_factory=list)  # webhook event ids answered "delivered"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


def user_kind(index: int) -> str:
    return "billing" if index % 10 == 0 else "free" if index % 10 == 1 else "bench"


class LoadTest:
    def __init__(
        self, *, stack: Stack, users: int, duration: float, ramp: float, seed: int, say: Callable[[str], None]
    ) -> None:
        self.stack = stack
        self.n_users = users
        self.duration = duration
        self.ramp = ramp
        self.rng = random.Random(seed)  # noqa: S311 - think times, not secrets
        self.say = say
        self.rec = Recorder()
        self.deadline = 0.0
        self.accepted: list[Accepted] = []
        self.users: list[User] = []
        self.target = target_body()
        self.cvs = [(p.name, p.read_bytes()) for p in CVS]
        self.stripe = httpx.AsyncClient(base_url=stack.stripe_url, timeout=60.0)
        self.crashes: list[str] = []

    def over(self) -> bool:
        return time.perf_counter() >= self.deadline

    async def think(self, low: float = 0.5, high: float = 2.0) -> None:
        await asyncio.sleep(min(self.rng.uniform(low, high), max(0.0, self.deadline - time.perf_counter())))

    # -- set-up (not measured): accounts, their plans

    async def create_users(self) -> None:
        tls = ssl.create_default_context()  # plain HTTP; shared, as one per client costs ~20 ms
        # One connection per user, as a browser tab; idle ones dropped before uvicorn's 5 s keep-alive closes them.
        limits = httpx.Limits(max_connections=2, max_keepalive_connections=1, keepalive_expiry=2.0)
        tag = uuid.uuid4().hex[:8]
        self.users = [
            User(
                i,
                f"load-{tag}-{i:03d}@example.com",
                user_kind(i),
                httpx.AsyncClient(base_url=self.stack.api_url, timeout=60.0, limits=limits, verify=tls),
            )
            for i in range(self.n_users)
        ]
        gate = asyncio.Semaphore(4)  # argon2 is CPU-bound in the API

        async def register(user: User) -> None:
            async with gate:
                response = await user.http.post("/auth/register", json={"email": user.email, "password": PASSWORD})
                if response.status_code != 201:
                    raise BenchError(f"register: HTTP {response.status_code}: {response.text[:300]}")

        await asyncio.gather(*(register(u) for u in self.users))
        await grant_bench_plan(self.stack.database_url, [u.email for u in self.users if u.kind == "bench"])

    # -- the user's steps

    async def sign_in(self, user: User) -> bool:
        body = {"email": user.email, "password": PASSWORD}
        response = await self.rec.call(user.http, "POST", "POST /auth/login", "/auth/login", json=body)
        if response is None or response.status_code != 200:
            return False
        self._tokens(user, response.json())
        user.signed_in_at = time.perf_counter()
        return True

    async def refresh(self, user: User) -> bool:
        body = {"refresh_token": user.refresh}
        response = await self.rec.call(user.http, "POST", "POST /auth/refresh", "/auth/refresh", json=body)
        if response is None or response.status_code != 200:
            return await self.sign_in(user)
        self._tokens(user, response.json())
        return True

    @staticmethod
    def _tokens(user: User, body: dict[str, Any]) -> None:
        user.access, user.refresh = str(body["access_token"]), str(body["refresh_token"])
        user.refreshed_at = time.perf_counter()

    async def keep_session(self, user: User) -> bool:
        now = time.perf_counter()
        if now - user.signed_in_at > SIGN_IN_EVERY_S:
            return await self.sign_in(user)
        if now - user.refreshed_at > REFRESH_EVERY_S:
            return await self.refresh(user)
        return True

    async def upload(self, user: User) -> None:
        name, data = self.cvs[self.rng.randrange(len(self.cvs))]
        response = await self.rec.call(
            user.http, "POST", "POST /cvs", "/cvs", ok=(201,), headers=user.headers, files={"file": (name, data)}
        )
        if response is not None and response.status_code == 201:
            user.cv_ids.append(str(response.json()["id"]))

    async def improve(self, user: User) -> Accepted | None:
        cv_id = user.cv_ids[-1]
        response = await self.rec.call(
            user.http,
            "POST",
            "POST /cvs/{id}/improvements",
            f"/cvs/{cv_id}/improvements",
            ok=(202,),
            headers=user.headers,
            json=self.target,
        )
        if response is None or response.status_code != 202:
            return None
        body = response.json()
        accepted = Accepted(str(body["improvement_id"]), str(body["workflow_id"]), user.index)
        self.accepted.append(accepted)
        return accepted

    async def poll(self, user: User, run: Accepted) -> dict[str, Any] | None:
        """GET the improvement every second until it ends or the window closes; its last body."""
        while True:
            response = await self.rec.call(
                user.http,
                "GET",
                "GET /improvements/{id}",
                f"/improvements/{run.improvement_id}",
                headers=user.headers,
            )
            if response is None or response.status_code != 200:
                return None
            body: dict[str, Any] = response.json()
            run.seen_stage = str(body["stage"])
            if run.seen_stage in FINAL or self.over():
                return body
            await asyncio.sleep(1.0)

    async def follow(self, user: User, run: Accepted) -> None:
        """The event stream until `end` or the window closes; recorded as the time to its headers."""
        endpoint = "GET /improvements/{id}/events"
        start = time.perf_counter()
        timeout = httpx.Timeout(10.0, read=None)  # silent between stages; bounded by the window below
        try:
            async with (
                asyncio.timeout(max(1.0, self.deadline - start)),
                user.http.stream(
                    "GET", f"/improvements/{run.improvement_id}/events", headers=user.headers, timeout=timeout
                ) as response,
            ):
                if response.status_code != 200:
                    await response.aread()
                    self.rec.add(endpoint, response.status_code, start, response.text[:300])
                    return
                self.rec.add(endpoint, 200, start, None)
                event = "message"
                async for line in response.aiter_lines():
                    if line.startswith("event:"):
                        event = line.removeprefix("event:").strip()
                    elif line.startswith("data:"):
                        data = json.loads(line.removeprefix("data:").strip())
                        if "stage" in data:
                            run.seen_stage = str(data["stage"])
                        if event in ("end", "error"):
                            return
                    elif not line:
                        event = "message"
        except TimeoutError:
            return  # the window closed while the run went on; the end check classifies it
        except httpx.HTTPError as exc:
            self.rec.add(endpoint, None, start, f"{type(exc).__name__}: {exc}"[:300])

    async def downloads(self, user: User, run: Accepted) -> None:
        base = f"/improvements/{run.improvement_id}"
        await self.rec.call(user.http, "GET", "GET /improvements/{id}/pdf", f"{base}/pdf", headers=user.headers)
        await self.think(0.2, 1.0)
        await self.rec.call(
            user.http,
            "GET",
            "GET /improvements/{id}/export?format=docx",
            f"{base}/export",
            params={"format": "docx"},
            headers=user.headers,
        )

    # -- billing

    async def webhook(self, user: User, event: dict[str, Any]) -> None:
        payload = render(event)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": sign_payload(payload, self.stack.stripe_webhook_secret, int(time.time())),
        }
        response = await self.rec.call(
            user.http, "POST", "POST /webhooks/stripe", WEBHOOK_PATH, content=payload, headers=headers
        )
        if response is not None and response.status_code == 200 and response.json().get("action") == "delivered":
            user.delivered.append(str(event["id"]))

    async def buy_pro(self, user: User) -> None:
        await self.rec.call(user.http, "GET", "GET /plans", "/plans", headers=user.headers)
        response = await self.rec.call(
            user.http,
            "POST",
            "POST /billing/checkout",
            "/billing/checkout",
            headers={**user.headers, "Idempotency-Key": f"load-{user.email}"},
            json={"plan": PLAN, "interval": INTERVAL},
        )
        if response is None or response.status_code != 200:
            return
        await self.think(1.0, 3.0)  # the user pays on Stripe's page
        paid = await self.stripe.post(f"/_test/checkout/{response.json()['session_id']}/complete", json={"card": "ok"})
        if paid.status_code != 200:
            self.crashes.append(f"fake Stripe checkout complete: {paid.status_code} {paid.text[:200]}")
            return
        for event in paid.json()["events"]:
            if event["type"] == "checkout.session.completed":
                user.subscription_id = str(event["data"]["object"]["subscription"])
            if event["type"] in HANDLED_EVENT_TYPES:
                await self.webhook(user, event)
        user.renewed_at = time.perf_counter()

    async def maybe_renew(self, user: User) -> None:
        if not user.subscription_id or time.perf_counter() - user.renewed_at < RENEW_EVERY_S:
            return
        user.renewed_at = time.perf_counter()
        renewed = await self.stripe.post(f"/_test/subscriptions/{user.subscription_id}/renew", json={"outcome": "paid"})
        if renewed.status_code != 200:
            self.crashes.append(f"fake Stripe renew: {renewed.status_code} {renewed.text[:200]}")
            return
        for event in renewed.json()["events"]:
            if event["type"] in HANDLED_EVENT_TYPES:
                await self.webhook(user, event)
        await self.rec.call(
            user.http, "GET", "GET /billing/subscription", "/billing/subscription", headers=user.headers
        )

    # -- the loop

    async def virtual_user(self, user: User) -> None:
        try:
            await asyncio.sleep(self.ramp * user.index / max(1, self.n_users))
            if not await self.sign_in(user):
                return
            if user.kind == "billing":
                await self.buy_pro(user)
            iteration = 0
            while not self.over():
                if not await self.keep_session(user):
                    await self.think(2.0, 5.0)
                    continue
                await self.rec.call(user.http, "GET", "GET /me", "/me", headers=user.headers)
                await self.rec.call(user.http, "GET", "GET /cvs", "/cvs", headers=user.headers)
                await self.think()
                if not user.cv_ids or self.rng.random() < 0.3:
                    await self.upload(user)
                    await self.think()
                if user.kind == "billing":
                    await self.maybe_renew(user)
                    await self.rec.call(user.http, "GET", "GET /billing/usage", "/billing/usage", headers=user.headers)
                if self.over() or not user.cv_ids:
                    continue
                run = await self.improve(user)
                if run is None:
                    await self.think(3.0, 6.0)  # quota used up: the user reads the message, tries again later
                    continue
                body: dict[str, Any] | None
                if user.index % 2 == 0:
                    await self.follow(user, run)
                    body = await self.poll(user, run) if not self.over() else None
                else:
                    body = await self.poll(user, run)
                if body is not None and body.get("stage") == "completed" and not self.over():
                    await self.think()
                    await self.downloads(user, run)
                if iteration % 3 == 2:
                    await self.rec.call(user.http, "GET", "GET /improvements", "/improvements", headers=user.headers)
                iteration += 1
                await self.think(1.0, 3.0)
        except Exception as exc:  # a defect of the load test itself: reported, never hidden
            self.crashes.append(f"user {user.index}: {type(exc).__name__}: {exc}"[:300])

    async def run(self) -> None:
        self.say(f"  creating {self.n_users} users (set-up, not measured) ...")
        await self.create_users()
        self.say(f"  {self.n_users} virtual users for {self.duration:.0f} s (ramp {self.ramp:.0f} s) ...")
        self.rec = Recorder()
        self.deadline = time.perf_counter() + self.duration
        await asyncio.gather(*(self.virtual_user(u) for u in self.users))

    async def close(self) -> None:
        await self.stripe.aclose()
        for user in self.users:
            await user.http.aclose()

    # -- after the window

    async def settle(self, temporal: Client, timeout: float) -> dict[str, Any]:
        """Wait (bounded) for the accepted improvements to end; classify each from PostgreSQL and Temporal."""
        ids = [a.improvement_id for a in self.accepted]
        conn = await asyncpg.connect(**asyncpg_connect_args(self.stack.database_url))
        start = time.perf_counter()
        try:
            while True:
                rows = {
                    str(r["id"]): r
                    for r in await conn.fetch(
                        "SELECT id, stage, error_code, error_message FROM improvements WHERE id = ANY($1::uuid[])", ids
                    )
                }
                open_runs = [i for i in ids if i in rows and rows[i]["stage"] not in FINAL]
                if not open_runs or time.perf_counter() - start > timeout:
                    break
                await asyncio.sleep(1.0)
        finally:
            await conn.close()
        waited = time.perf_counter() - start
        outcome: Counter[str] = Counter()
        failed_codes: Counter[str] = Counter()
        details: list[dict[str, Any]] = []
        for run in self.accepted:
            row = rows.get(run.improvement_id)
            if row is None:
                kind = "lost"
            elif row["stage"] == "completed":
                kind = "completed"
            elif row["stage"] == "failed":
                user_facing = bool(row["error_code"]) and bool((row["error_message"] or "").strip())
                kind = "failed_user_facing" if user_facing else "failed_without_message"
                failed_codes[str(row["error_code"])] += 1
            elif row["stage"] == "canceled":
                kind = "canceled"
            else:
                kind = await self._open_kind(temporal, run.workflow_id)
            outcome[kind] += 1
            if kind not in ("completed", "failed_user_facing"):
                details.append({"improvement_id": run.improvement_id, "outcome": kind, "stage": row and row["stage"]})
        return {
            "accepted": len(self.accepted),
            "completed": outcome["completed"],
            "failed_user_facing": outcome["failed_user_facing"],
            "failed_without_message": outcome["failed_without_message"],
            "canceled": outcome["canceled"],
            "still_running": outcome["still_running"],
            "lost": outcome["lost"],
            "failed_codes": dict(failed_codes),
            "settle_wait_s": round(waited, 1),
            "problems": details[:50],
        }

    @staticmethod
    async def _open_kind(temporal: Client, workflow_id: str) -> str:
        """A run not ended in PostgreSQL: still running if its workflow runs, else lost."""
        try:
            described = await temporal.get_workflow_handle(workflow_id).describe()
        except Exception:
            return "lost"
        return "still_running" if described.status == WorkflowExecutionStatus.RUNNING else "lost"

    async def webhooks_applied(self, timeout: float) -> dict[str, Any]:
        """Each event answered "delivered" must be once in `stripe_events`, with no other event of those users."""
        delivered = [e for u in self.users for e in u.delivered]
        user_ids = [u.email for u in self.users if u.kind == "billing"]
        conn = await asyncpg.connect(**asyncpg_connect_args(self.stack.database_url))
        start = time.perf_counter()
        try:
            while True:
                rows = await conn.fetch(
                    "SELECT e.event_id FROM stripe_events e JOIN users u ON u.id = e.user_id "
                    "WHERE u.email = ANY($1::text[])",
                    user_ids,
                )
                seen = Counter(str(r["event_id"]) for r in rows)
                if set(seen) >= set(delivered) or time.perf_counter() - start > timeout:
                    break
                await asyncio.sleep(0.5)
        finally:
            await conn.close()
        missing = sorted(set(delivered) - set(seen))
        twice = sorted(e for e, n in seen.items() if n > 1)
        return {
            "users": len(user_ids),
            "subscribed": sum(1 for u in self.users if u.subscription_id),
            "delivered": len(delivered),
            "rows": sum(seen.values()),
            "missing": missing[:20],
            "applied_twice": twice[:20],
            "exactly_once": not missing and not twice and len(set(delivered)) == len(delivered),
        }

    # -- figures

    def endpoints(self) -> dict[str, dict[str, Any]]:
        by: dict[str, list[Sample]] = {}
        for s in self.rec.samples:
            by.setdefault(s.endpoint, []).append(s)
        table: dict[str, dict[str, Any]] = {}
        for endpoint, samples in sorted(by.items(), key=lambda kv: -len(kv[1])):
            ms = [s.ms for s in samples]
            table[endpoint] = {
                "requests": len(samples),
                "status": dict(sorted(Counter(str(s.status or "transport") for s in samples).items())),
                "errors": sum(s.error is not None for s in samples),
                "expected_non_2xx": sum(s.error is None and (s.status or 0) >= 400 for s in samples),
                "5xx": sum((s.status or 0) >= 500 for s in samples),
                **{f"p{q}_ms": round(percentile(ms, q) or 0.0, 1) for q in (50, 95, 99)},
                "max_ms": round(max(ms), 1),
            }
        return table


def render_table(figures: dict[str, Any]) -> str:
    lines = [
        f"{'endpoint':42} {'requests':>8} {'errors':>6} {'5xx':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8}  statuses"
    ]
    for endpoint, row in figures["endpoints"].items():
        lines.append(
            f"{endpoint:42} {row['requests']:8d} {row['errors']:6d} {row['5xx']:4d} {row['p50_ms']:8.1f} "
            f"{row['p95_ms']:8.1f} {row['p99_ms']:8.1f} {row['max_ms']:8.1f}  {row['status']}"
        )
    t = figures["totals"]
    lines.append(
        f"{'all':42} {t['requests']:8d} {t['errors']:6d} {t['5xx']:4d}   ({t['requests_per_s']} req/s, "
        f"{t['expected_non_2xx']} expected 402 quota_exhausted, {t['transport_errors']} transport errors)"
    )
    i = figures["improvements"]
    lines.append(
        f"improvements: {i['accepted']} accepted, {i['completed']} completed, {i['failed_user_facing']} failed with a "
        f"user-facing error {i['failed_codes']}, {i['failed_without_message']} failed without one, "
        f"{i['canceled']} canceled, {i['still_running']} still running, {i['lost']} lost "
        f"(waited {i['settle_wait_s']} s after the window)"
    )
    w = figures["webhooks"]
    lines.append(
        f"webhooks: {w['subscribed']}/{w['users']} users subscribed, {w['delivered']} events delivered, "
        f"{w['rows']} rows in stripe_events, exactly once: {w['exactly_once']}"
    )
    return "\n".join(lines)


async def run_load_test(
    *, users: int, duration: float, ramp: float, latency: float, log_dir: Path, say: Callable[[str], None]
) -> int:
    """Start the bench stack, run the load, write bench/results/load.json; the exit code."""
    from bench.run import cores, cpu_model  # run.py imports this module

    stack = Stack(StackConfig(latency=latency, log_dir=log_dir, worker_nice=0), say=say)
    test: LoadTest | None = None
    try:
        say(f"Starting the stack (logs in {log_dir}) ...")
        try:
            await stack.start()
        except (StackError, DevStackError) as exc:
            say(f"the stack did not start: {exc}")
            return EXIT_STACK_FAILED
        for name, description in stack.descriptions.items():
            say(f"  {name:9} {description}")
        test = LoadTest(stack=stack, users=users, duration=duration, ramp=ramp, seed=20261127, say=say)
        load_average = [round(x, 2) for x in os.getloadavg()]
        await test.run()
        window_s = time.perf_counter() - test.rec.t0
        dead = stack.stopped_unexpectedly()
        temporal = await stack.temporal_client()
        say("  the window closed; waiting for the accepted improvements to end ...")
        improvements = await test.settle(temporal, timeout=180.0)
        webhooks = await test.webhooks_applied(timeout=60.0)
        samples = test.rec.samples
        five = [s for s in samples if (s.status or 0) >= 500]
        figures: dict[str, Any] = {
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {
                "cores": cores(),
                "cpu": cpu_model(),
                "memory_mb": round(psutil.virtual_memory().total / (1024 * 1024)),
                "python": platform.python_version(),
                "load_average_at_start": load_average,
            },
            "config": {
                "users": users,
                "duration_s": duration,
                "ramp_s": ramp,
                "latency_s": latency,
                "users_by_plan": dict(Counter(u.kind for u in test.users)),
                "stack": stack.descriptions,
            },
            "totals": {
                "requests": len(samples),
                "window_s": round(window_s, 1),
                "requests_per_s": round(len(samples) / window_s, 1) if window_s else None,
                "errors": sum(s.error is not None for s in samples),
                "expected_non_2xx": sum(s.error is None and (s.status or 0) >= 400 for s in samples),
                "5xx": len(five),
                "transport_errors": sum(s.status is None for s in samples),
            },
            "endpoints": test.endpoints(),
            "improvements": improvements,
            "webhooks": webhooks,
            "errors": [
                {"endpoint": s.endpoint, "status": s.status, "at_s": round(s.at, 1), "error": s.error}
                for s in samples
                if s.error is not None
            ][:100],
            "load_test_defects": test.crashes[:50],
            "stack_processes_died": dead,
        }
        RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_PATH.write_text(json.dumps(figures, indent=2) + "\n")
        say("")
        say(render_table(figures))
        say(f"figures written to {RESULTS_PATH}")
        for problem in [*figures["errors"][:10], *test.crashes[:10], *dead]:
            say(f"  {problem}")
        ok = (
            not five
            and figures["totals"]["transport_errors"] == 0
            and improvements["still_running"] == 0
            and improvements["lost"] == 0
            and improvements["failed_without_message"] == 0
            and webhooks["exactly_once"]
            and not test.crashes
            and not dead
        )
        return EXIT_OK if ok else EXIT_FAILED
    finally:
        if test is not None:
            await test.close()
        say("Stopping the stack ...")
        stack.stop()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--load-only", action="store_true", help="run only the load test (bench/load.py)")
    parser.add_argument("--users", type=int, default=100, help="virtual users of the load test (100)")
    parser.add_argument("--duration", type=float, default=180.0, help="seconds the load test lasts (180)")
    parser.add_argument("--ramp", type=float, default=30.0, help="seconds over which the users sign in (30)")
