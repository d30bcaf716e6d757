"""An OpenAI-compatible HTTP server for tests and the benchmark: the real openai SDK talks to it over HTTP.

By default `POST /v1/chat/completions` answers a plausible, valid rewrite of the CV it received (the JSON
document between BEGIN_DATA and END_DATA in a user message): a tightened summary and one reworded highlight,
nothing invented, placeholders copied as they came. Every request is recorded (headers and body).

Tests queue the next answers:

    with FakeOpenAI() as fake:
        fake.script(Reply.rate_limited(retry_after=1), Reply.invent_number("increased revenue by 40%"))
        client = AsyncOpenAI(base_url=fake.base_url, api_key="test", max_retries=0)

Another process (a worker under test) is driven over HTTP: `POST /_control/script` with
`{"replies": [{"kind": "rate_limited", "retry_after": 1}], "latency": 0.5}`, `GET /_control/requests`,
`POST /_control/reset`. Standalone: `python -m tests.fakes.openai_server --port P --latency SECONDS`.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import itertools
import json
import re
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.background_server import BackgroundServer

# --- scripted replies ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Build with the class methods; `kind` names the behaviour."""

    kind: str = "ok"
    seconds: float = 0.0
    retry_after: float | None = None
    retry_after_ms: int | None = None
    status: int = 200
    text: str = ""
    code: str | None = None
    content: Any = None

    @classmethod
    def ok(cls) -> Reply:
        return cls("ok")

    @classmethod
    def slow(cls, seconds: float) -> Reply:
        """The default answer after `seconds` (longer than the client's timeout makes it time out)."""
        return cls("slow", seconds=seconds)

    @classmethod
    def rate_limited(
        cls,
        retry_after: float | None = 1,
        *,
        retry_after_ms: int | None = None,
        insufficient_quota: bool = False,
    ) -> Reply:
        """429 with `Retry-After` (seconds) and/or `retry-after-ms` headers."""
        code = "insufficient_quota" if insufficient_quota else "rate_limit_exceeded"
        return cls("rate_limited", retry_after=retry_after, retry_after_ms=retry_after_ms, status=429, code=code)

    @classmethod
    def server_error(cls, status: int = 500, *, retry_after_ms: int | None = None) -> Reply:
        """`retry_after_ms`: also a `retry-after-ms` header (an outage saying when to come back)."""
        text = "The server had an error while processing your request."
        return cls("error", status=status, text=text, retry_after_ms=retry_after_ms)

    @classmethod
    def bad_request(cls, message: str = "Invalid schema for response_format.") -> Reply:
        return cls("error", status=400, text=message, code="invalid_request_error")

    @classmethod
    def http_error(cls, status: int, message: str = "Scripted error.") -> Reply:
        """Any error status: 401, 403, 404, 422, 503, ..."""
        return cls("error", status=status, text=message)

    @classmethod
    def invalid_json(cls) -> Reply:
        """200 whose content is not JSON at all."""
        return cls("content", content="Sure! Here is your improved CV: {resume: oops")

    @classmethod
    def schema_mismatch(cls) -> Reply:
        """200 whose content is JSON that does not match the schema."""
        return cls("content", content=json.dumps({"cv": "improved", "changes": "many"}))

    @classmethod
    def json_content(cls, content: Any) -> Reply:
        """200 with this exact object (JSON-encoded) as the message content."""
        return cls("content", content=json.dumps(content))

    @classmethod
    def refusal(cls, text: str = "I'm sorry, but I can't help with that request.") -> Reply:
        return cls("refusal", text=text)

    @classmethod
    def content_filter(cls) -> Reply:
        return cls("content_filter")

    @classmethod
    def truncated(cls) -> Reply:
        """finish_reason "length": the answer was cut off."""
        return cls("truncated")

    @classmethod
    def invent_employer(cls, name: str = "Acme Corp") -> Reply:
        """A valid answer that adds a highlight naming an organisation the CV never mentions."""
        return cls("invent_employer", text=name)

    @classmethod
    def invent_number(cls, text: str = "increased revenue by 40%") -> Reply:
        """A valid answer that appends a fabricated metric to the first highlight."""
        return cls("invent_number", text=text)

    @classmethod
    def edit_path(cls, path: str, value: str) -> Reply:
        """A valid answer that also sets the field at `path` (e.g. `work/0/name`) to `value`, reported as a change."""
        return cls("edit_path", text=value, content=path)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "", 0, 0.0) or k == "kind"}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


# --- the plausible rewrite ----------------------------------------------------------------------------------

_DATA_RE = re.compile(r"BEGIN_DATA\n(.*)\nEND_DATA", re.DOTALL)


def find_cv_data(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The JSON document the engine sent (target, job description, resume), if any."""
    for message in messages:
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str):
            continue
        m = _DATA_RE.search(content)
        candidates = [m.group(1)] if m else []
        if "{" in content:
            candidates.append(content[content.index("{") : content.rindex("}") + 1])
        for candidate in candidates:
            try:
                data = json.loads(candidate)
            except ValueError:
                continue
            if isinstance(data, dict) and isinstance(data.get("resume"), dict):
                return data
    return None


def _change(path: str, before: str | None, after: str | None, reason: str) -> dict[str, Any]:
    return {"path": path, "before": before, "after": after, "reason": reason}


def plausible_rewrite(resume: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A rewrite that improves wording and invents nothing: asides dropped from the summary, the first
    highlight in past tense or with consistent punctuation."""
    resume = copy.deepcopy(resume)
    changes: list[dict[str, Any]] = []
    basics = resume.setdefault("basics", {})
    summary = basics.get("summary")
    if isinstance(summary, str) and summary.strip():
        tightened = re.sub(r"\s+", " ", re.sub(r"\s*\([^()]*\)", "", summary)).strip()
        if tightened != summary:
            basics["summary"] = tightened
            changes.append(_change("basics/summary", summary, tightened, "Removed asides to keep the summary focused."))
    for i, work in enumerate(resume.get("work") or []):
        highlights = work.get("highlights") or []
        if not highlights or not isinstance(highlights[0], str):
            continue
        before = highlights[0]
        if re.match(r"Build\b", before):
            after, reason = "Built" + before[5:], "Past tense for a role that has ended."
        elif before.endswith("."):
            after, reason = before[:-1], "Bullet points read better without a trailing period."
        else:
            after, reason = before[:1].upper() + before[1:] + ".", "Consistent punctuation."
        highlights[0] = after
        changes.append(_change(f"work/{i}/highlights/0", before, after, reason))
        break
    return resume, changes


def _invent(reply: Reply, resume: dict[str, Any], changes: list[dict[str, Any]]) -> None:
    work = resume.get("work") or []
    if reply.kind == "invent_employer":
        sentence = f"Led a strategic partnership with {reply.text}"
        if work:
            highlights = work[0].setdefault("highlights", [])
            highlights.append(sentence)
            changes.append(
                _change(
                    f"work/0/highlights/{len(highlights) - 1}",
                    None,
                    sentence,
                    "Shows partnership experience.",
                )
            )
        else:
            summary = resume.setdefault("basics", {}).get("summary") or ""
            resume["basics"]["summary"] = f"{summary} {sentence}.".strip()
            changes.append(_change("basics/summary", summary, resume["basics"]["summary"], "Adds impact."))
    elif reply.kind == "invent_number":
        if work and work[0].get("highlights"):
            before = work[0]["highlights"][0]
            after = f"{before.rstrip('.')}, {reply.text}"
            work[0]["highlights"][0] = after
            changes[:] = [c for c in changes if c["path"] != "work/0/highlights/0"]
            changes.append(_change("work/0/highlights/0", before, after, "Quantifies the impact."))
        else:
            summary = resume.setdefault("basics", {}).get("summary") or ""
            resume["basics"]["summary"] = f"{summary} {reply.text}".strip()
            changes.append(_change("basics/summary", summary, resume["basics"]["summary"], "Quantifies impact."))
    elif reply.kind == "edit_path":
        *parents, last = str(reply.content).split("/")
        node: Any = resume
        for segment in parents:
            node = node[int(segment)] if isinstance(node, list) else node.setdefault(segment, {})
        key: Any = int(last) if isinstance(node, list) else last
        before = node[key] if isinstance(node, list) else node.get(key)
        node[key] = reply.text
        changes.append(_change(str(reply.content), before, reply.text, "Reads better for the target job."))


# --- the server ---------------------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float = field(default_factory=time.time)


class _State:
    def __init__(self, latency: float) -> None:
        self.lock = threading.Lock()
        self.latency = latency
        self.queue: deque[Reply] = deque()
        self.requests: list[RecordedRequest] = []
        self.ids = itertools.count(1)


def _error(
    status: int,
    message: str,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
    kind: str = "invalid_request_error",
) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def _completion(
    model: str, completion_id: int, message: dict[str, Any], finish_reason: str, prompt_chars: int
) -> JSONResponse:
    completion_tokens = len(message.get("content") or message.get("refusal") or "") // 4 + 1
    prompt_tokens = prompt_chars // 4 + 1
    return JSONResponse(
        {
            "id": f"chatcmpl-fake-{completion_id}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def create_app(state: _State) -> Starlette:
    async def chat_completions(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with state.lock:
            state.requests.append(RecordedRequest(request.method, request.url.path, dict(request.headers), body))
            reply = state.queue.popleft() if state.queue else Reply.ok()
            latency = state.latency
            completion_id = next(state.ids)
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400, "The request body must be a JSON object with 'messages'.")
        await asyncio.sleep(latency + reply.seconds)
        model = str(body.get("model") or "fake-model")
        prompt_chars = len(json.dumps(body["messages"]))

        if reply.kind == "rate_limited":
            headers: dict[str, str] = {}
            if reply.retry_after is not None:
                headers["retry-after"] = f"{reply.retry_after:g}"
            if reply.retry_after_ms is not None:
                headers["retry-after-ms"] = str(reply.retry_after_ms)
            return _error(
                429,
                "Rate limit reached for requests.",
                code=reply.code,
                headers=headers,
                kind="requests" if reply.code == "rate_limit_exceeded" else "insufficient_quota",
            )
        if reply.kind == "error":
            error_headers = {"retry-after": f"{reply.retry_after:g}"} if reply.retry_after is not None else {}
            if reply.retry_after_ms is not None:
                error_headers["retry-after-ms"] = str(reply.retry_after_ms)
            return _error(
                reply.status,
                reply.text or "Scripted error.",
                code=reply.code,
                headers=error_headers,
                kind="server_error" if reply.status >= 500 else "invalid_request_error",
            )
        if reply.kind == "refusal":
            message = {"role": "assistant", "content": None, "refusal": reply.text}
            return _completion(model, completion_id, message, "stop", prompt_chars)
        if reply.kind == "content_filter":
            message = {"role": "assistant", "content": None, "refusal": None}
            return _completion(model, completion_id, message, "content_filter", prompt_chars)
        if reply.kind == "content":
            message = {"role": "assistant", "content": reply.content, "refusal": None}
            return _completion(model, completion_id, message, "stop", prompt_chars)

        data = find_cv_data(body["messages"])
        if data is None:
            message = {"role": "assistant", "content": "OK", "refusal": None}
            return _completion(model, completion_id, message, "stop", prompt_chars)
        resume, changes = plausible_rewrite(data["resume"])
        _invent(reply, resume, changes)
        content = json.dumps({"resume": resume, "changes": changes}, ensure_ascii=False)
        if reply.kind == "truncated":
            message = {"role": "assistant", "content": content[: len(content) // 2], "refusal": None}
            return _completion(model, completion_id, message, "length", prompt_chars)
        message = {"role": "assistant", "content": content, "refusal": None}
        return _completion(model, completion_id, message, "stop", prompt_chars)

    async def models(request: Request) -> Response:
        return JSONResponse(
            {
                "object": "list",
                "data": [{"id": "fake-model", "object": "model", "created": 0, "owned_by": "tests"}],
            }
        )

    async def control_script(request: Request) -> Response:
        data = await request.json()
        items = data if isinstance(data, list) else data.get("replies", [] if "latency" in data else [data])
        replies = [Reply.from_json(item) for item in items]
        with state.lock:
            state.queue.extend(replies)
            if isinstance(data, dict) and "latency" in data:
                state.latency = float(data["latency"])
            queued = len(state.queue)
        return JSONResponse({"queued": queued})

    async def control_requests(request: Request) -> Response:
        with state.lock:
            recorded = [asdict(r) for r in state.requests]
        return JSONResponse(recorded)

    async def control_reset(request: Request) -> Response:
        with state.lock:
            state.queue.clear()
            state.requests.clear()
        return JSONResponse({"reset": True})

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/models", models, methods=["GET"]),
            Route("/_control/script", control_script, methods=["POST"]),
            Route("/_control/requests", control_requests, methods=["GET"]),
            Route("/_control/reset", control_reset, methods=["POST"]),
        ]
    )


class FakeOpenAI(BackgroundServer):
    """The server on 127.0.0.1 and a free port, in a background thread. Use as a context manager or call
    `start()` / `stop()`; `base_url` is what `AsyncOpenAI(base_url=...)` wants."""

    name = "fake OpenAI server"

    def __init__(self, *, latency: float = 0.0, host: str = "127.0.0.1", port: int = 0) -> None:
        self._state = _State(latency)
        super().__init__(create_app(self._state), host=host, port=port)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    # scripting and inspection

    def script(self, *replies: Reply) -> None:
        """Queue the next answers, in order; once the queue is empty the default rewrite comes back."""
        with self._state.lock:
            self._state.queue.extend(replies)

    def set_latency(self, seconds: float) -> None:
        with self._state.lock:
            self._state.latency = seconds

    def reset(self) -> None:
        """Forget the queued replies and the recorded requests."""
        with self._state.lock:
            self._state.queue.clear()
            self._state.requests.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def pending(self) -> int:
        with self._state.lock:
            return len(self._state.queue)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="OpenAI-compatible fake server for tests and benchmarks")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every chat completion")
    args = parser.parse_args(argv)
    state = _State(args.latency)
    print(f"fake OpenAI server on http://{args.host}:{args.port}/v1, latency {args.latency:g} s", flush=True)
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()
