"""What the workflow histories tell after the runs: the render activity's own time (RenderSummary.render_ms),
the size of each history, and where a run's time went (queueing vs running, activity by activity)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History, HistoryEvent
from temporalio.client import Client

from bench.stats import summary
from models.workflow_io import RenderSummary

RENDER_ACTIVITY = "render_pdf"
WORKFLOW_TASK = "(workflow task)"
FIRST_WORKFLOW_TASK = "(first workflow task)"  # where the SDK builds the workflow instance (sandbox imports)


@dataclass
class RunHistory:
    workflow_id: str
    events: int
    bytes: int
    json_bytes: int
    duration_ms: float
    render: RenderSummary | None
    # activity type (or WORKFLOW_TASK) -> list of (schedule-to-start ms, start-to-close ms)
    steps: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def _ms(event: HistoryEvent) -> float:
    return float(event.event_time.ToNanoseconds()) / 1e6


async def read_history(client: Client, workflow_id: str) -> RunHistory:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    events = list(history.events)
    scheduled: dict[int, tuple[str, float]] = {}
    started: dict[int, float] = {}
    steps: dict[str, list[tuple[float, float]]] = defaultdict(list)
    render: RenderSummary | None = None
    for event in events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            scheduled[event.event_id] = (name, _ms(event))
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            scheduled[event.event_id] = (WORKFLOW_TASK, _ms(event))
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started[event.activity_task_started_event_attributes.scheduled_event_id] = _ms(event)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            started[event.workflow_task_started_event_attributes.scheduled_event_id] = _ms(event)
        elif kind in (EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED):
            if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                attrs: Any = event.activity_task_completed_event_attributes
            else:
                attrs = event.workflow_task_completed_event_attributes
            name, at = scheduled.get(attrs.scheduled_event_id, ("?", _ms(event)))
            start = started.get(attrs.scheduled_event_id, at)
            if name == WORKFLOW_TASK and WORKFLOW_TASK not in steps and FIRST_WORKFLOW_TASK not in steps:
                name = FIRST_WORKFLOW_TASK
            steps[name].append((start - at, _ms(event) - start))
            if name == RENDER_ACTIVITY and kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                payloads = list(attrs.result.payloads)
                if payloads:
                    decoded = await client.data_converter.decode(payloads, [RenderSummary])
                    render = decoded[0] if isinstance(decoded[0], RenderSummary) else None
    return RunHistory(
        workflow_id=workflow_id,
        events=len(events),
        bytes=History(events=events).ByteSize(),
        json_bytes=len(history.to_json().encode()),
        duration_ms=_ms(events[-1]) - _ms(events[0]) if events else 0.0,
        render=render,
        steps=dict(steps),
    )


async def read_histories(client: Client, workflow_ids: Sequence[str], *, concurrency: int = 16) -> list[RunHistory]:
    gate = asyncio.Semaphore(concurrency)

    async def one(workflow_id: str) -> RunHistory:
        async with gate:
            return await read_history(client, workflow_id)

    return list(await asyncio.gather(*(one(w) for w in workflow_ids)))


def analyse(histories: Sequence[RunHistory]) -> dict[str, Any]:
    """Figures over many runs: render_ms, pages, history size, and per step queueing and running times."""
    renders = [h.render for h in histories if h.render is not None]
    queued: dict[str, list[float]] = defaultdict(list)
    running: dict[str, list[float]] = defaultdict(list)
    per_run_total: dict[str, list[float]] = defaultdict(list)
    for h in histories:
        for name, pairs in h.steps.items():
            queued[name].extend(q for q, _ in pairs)
            running[name].extend(r for _, r in pairs)
            per_run_total[name].append(sum(q + r for q, r in pairs))
    order = sorted(running, key=lambda n: (n.startswith("("), n))
    return {
        "runs": len(histories),
        "render_ms": summary([r.render_ms for r in renders], 1),
        "render_pages": summary([float(r.pages) for r in renders], 1),
        "history_bytes": summary([float(h.bytes) for h in histories], 0),
        "history_json_bytes": summary([float(h.json_bytes) for h in histories], 0),
        "history_events": summary([float(h.events) for h in histories], 0),
        "workflow_duration_ms": summary([h.duration_ms for h in histories], 1),
        "steps": {
            name: {
                "schedule_to_start_ms": summary(queued[name], 1),
                "start_to_close_ms": summary(running[name], 1),
                "per_run_total_ms": summary(per_run_total[name], 1),
            }
            for name in order
        },
    }
