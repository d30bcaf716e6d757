"""The bench's HTTP clients: sign up, upload the CV, start an improvement and follow its server-sent events."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from devstack.services import asyncpg_connect_args

ROOT = Path(__file__).resolve().parent.parent
JOB_PATH = ROOT / "samples" / "job-senior-backend.txt"
PASSWORD = "bench-password-not-secret"  # noqa: S105 - throw-away accounts on a throw-away database
BENCH_PLAN = "bench"
FINAL_STAGES = ("completed", "failed", "canceled")


def target_body() -> dict[str, Any]:
    """The job every bench improvement is made for."""
    return {
        "position": "Senior Backend Engineer",
        "industry": "Fintech",
        "experience_level": "6+",
        "job_description": JOB_PATH.read_text(),
        "output_language": "en",
        "theme": "classic",
        "paper": "A4",
    }


class BenchError(RuntimeError):
    """A request of the bench's own set-up failed."""


@dataclass(frozen=True)
class BenchUser:
    email: str
    headers: dict[str, str]
    cv_id: str


@dataclass
class RunResult:
    """One improvement as the client saw it; times are `time.perf_counter()` seconds."""

    phase: str
    index: int
    client: int
    post_start: float
    post_end: float | None = None
    end: float | None = None
    status_code: int | None = None
    improvement_id: str | None = None
    workflow_id: str | None = None
    stage: str | None = None
    error: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def completed(self) -> bool:
        return self.stage == "completed" and self.error is None and self.end is not None

    @property
    def post_ms(self) -> float | None:
        return None if self.post_end is None else (self.post_end - self.post_start) * 1000.0

    @property
    def e2e_s(self) -> float | None:
        return None if self.end is None else self.end - self.post_start


def _check(response: httpx.Response, expected: int, what: str) -> dict[str, Any]:
    if response.status_code != expected:
        raise BenchError(f"{what}: HTTP {response.status_code}: {response.text[:500]}")
    body: dict[str, Any] = response.json()
    return body


async def sign_up(http: httpx.AsyncClient, email: str) -> tuple[str, dict[str, str]]:
    """Register and sign in: the user id and the headers that carry the access token."""
    me = _check(await http.post("/auth/register", json={"email": email, "password": PASSWORD}), 201, "register")
    token = _check(await http.post("/auth/login", json={"email": email, "password": PASSWORD}), 200, "login")[
        "access_token"
    ]
    return str(me["id"]), {"Authorization": f"Bearer {token}"}


async def create_user(http: httpx.AsyncClient, email: str, cv_name: str, cv_data: bytes) -> BenchUser:
    """Register, sign in and upload the CV."""
    _, headers = await sign_up(http, email)
    cv = _check(await http.post("/cvs", headers=headers, files={"file": (cv_name, cv_data)}), 201, "upload CV")
    return BenchUser(email=email, headers=headers, cv_id=str(cv["id"]))


async def create_users(
    http: httpx.AsyncClient, count: int, cv_name: str, cv_data: bytes, *, concurrency: int = 4
) -> list[BenchUser]:
    """`count` users, created a few at a time (argon2 hashing is CPU-bound in the API)."""
    tag = uuid.uuid4().hex[:8]
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> BenchUser:
        async with gate:
            return await create_user(http, f"bench-{tag}-{i:03d}@example.com", cv_name, cv_data)

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def grant_bench_plan(database_url: str, emails: list[str]) -> None:
    """The Free plan allows 3 a month: give the bench users a plan with a quota nobody reaches."""
    conn = await asyncpg.connect(**asyncpg_connect_args(database_url))
    try:
        await conn.execute(
            "INSERT INTO plans (code, name, monthly_quota, sort_order) VALUES ($1, 'Bench', 1000000000, 999) "
            "ON CONFLICT (code) DO UPDATE SET monthly_quota = EXCLUDED.monthly_quota",
            BENCH_PLAN,
        )
        updated = await conn.execute(
            "UPDATE users SET plan_code = $1 WHERE email = ANY($2::text[])", BENCH_PLAN, emails
        )
    finally:
        await conn.close()
    if updated != f"UPDATE {len(emails)}":
        raise BenchError(f"could not move the bench users to the bench plan ({updated})")


async def run_improvement(
    http: httpx.AsyncClient,
    user: BenchUser,
    target: dict[str, Any],
    *,
    phase: str,
    index: int,
    client: int,
    timeout: float,
) -> RunResult:
    """POST an improvement, then follow its events until `end`. Never raises: failures are in the result."""
    result = RunResult(phase=phase, index=index, client=client, post_start=time.perf_counter())
    try:
        async with asyncio.timeout(timeout):
            response = await http.post(f"/cvs/{user.cv_id}/improvements", headers=user.headers, json=target)
            result.post_end = time.perf_counter()
            result.status_code = response.status_code
            if response.status_code != 202:
                result.error = f"POST answered {response.status_code}: {response.text[:300]}"
                return result
            accepted = response.json()
            result.improvement_id = str(accepted["improvement_id"])
            result.workflow_id = str(accepted["workflow_id"])
            await _follow_events(http, user, str(accepted["events_url"]), result)
    except TimeoutError:
        result.error = f"no end event within {timeout:.0f} s (last: {result.events[-1] if result.events else None})"
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result


async def _follow_events(http: httpx.AsyncClient, user: BenchUser, url: str, result: RunResult) -> None:
    event = "message"
    timeout = httpx.Timeout(10.0, read=None)  # the stream is silent between stages; the caller bounds it
    async with http.stream("GET", url, headers=user.headers, timeout=timeout) as response:
        if response.status_code != 200:
            await response.aread()
            result.error = f"events answered {response.status_code}: {response.text[:300]}"
            return
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data = json.loads(line.removeprefix("data:").strip())
                data["_event"] = event
                data["_t"] = round(time.perf_counter() - result.post_start, 4)
                result.events.append(data)
                if event == "end":
                    result.end = time.perf_counter()
                    result.stage = str(data.get("stage"))
                    if result.stage != "completed":
                        last = next((e for e in reversed(result.events) if e.get("error_code")), data)
                        result.error = f"ended {result.stage}: {last.get('error_code')} {last.get('error_message')}"
                    return
                if event == "error":
                    result.error = f"error event: {data}"
                    return
            elif not line:
                event = "message"
    result.error = result.error or "the event stream closed before the end event"


async def run_sequential(
    http: httpx.AsyncClient, user: BenchUser, target: dict[str, Any], count: int, *, phase: str, timeout: float
) -> list[RunResult]:
    return [
        await run_improvement(http, user, target, phase=phase, index=i, client=0, timeout=timeout) for i in range(count)
    ]


async def run_load(
    http: httpx.AsyncClient,
    users: list[BenchUser],
    target: dict[str, Any],
    *,
    n: int,
    clients: int,
    timeout: float,
) -> list[RunResult]:
    """`clients` concurrent loops (client i signs in as users[i % len(users)]), each: POST, follow until end,
    next; `n` improvements in all."""
    tickets = itertools.count()
    results: list[RunResult] = []

    async def loop(client: int) -> None:
        user = users[client % len(users)]
        while (index := next(tickets)) < n:
            results.append(
                await run_improvement(http, user, target, phase="load", index=index, client=client, timeout=timeout)
            )

    await asyncio.gather(*(loop(c) for c in range(clients)))
    return sorted(results, key=lambda r: r.index)
