"""Replaying workflow histories against the workflow code of this checkout, to tell before a deploy whether the
running workflows could carry on under it: a change that makes a workflow issue other commands than its history
recorded (an activity added, removed or reordered without `workflow.patched`) fails with a nondeterminism error.

`cvimprover ops replay` replays one history fetched from the server; `tests/replay/` replays the checked-in ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Interceptor, Replayer
from temporalio.workflow import NondeterminismError

from workflows.registry import WORKFLOWS

# Every workflow the worker runs (worker.create_worker); tests/replay checks each has recorded histories.


@dataclass(frozen=True)
class ReplayOutcome:
    workflow_id: str
    run_id: str | None
    workflow_type: str
    events: int
    error: str | None = None  # None: the code replays the history
    nondeterministic: bool = False

    @property
    def compatible(self) -> bool:
        return self.error is None

    def describe(self) -> str:
        if self.error is None:
            return f"replayed {self.events} events: compatible"
        kind = "nondeterminism error" if self.nondeterministic else "replay failed"
        return f"replayed {self.events} events: INCOMPATIBLE, {kind}: {self.error}"


def worker_interceptors(client: Client) -> list[Interceptor]:
    """The client's interceptors that a worker built from it would also use (tracing, logging context)."""
    return [i for i in client.config()["interceptors"] if isinstance(i, Interceptor)]


def _reason(failure: Exception) -> str:
    """The core's own sentence ("[TMPRL1100] Nondeterminism error: ...") out of the activation failure dump."""
    text = str(failure)
    found = re.search(r'message: "((?:[^"\\]|\\.)*)"', text)
    return found.group(1) if found else text or type(failure).__name__


async def replay_history(
    history: WorkflowHistory,
    *,
    data_converter: DataConverter,
    interceptors: Sequence[Interceptor] = (),
    workflows: Sequence[type] | None = None,
) -> ReplayOutcome:
    """Replay one history against `workflows` (default: every workflow the worker runs); never raises for an
    incompatible history, the outcome says why."""
    events = list(history.events)
    started = events[0].workflow_execution_started_event_attributes if events else None
    workflow_type = started.workflow_type.name if started else ""
    replayer = Replayer(
        workflows=list(workflows or WORKFLOWS), data_converter=data_converter, interceptors=list(interceptors)
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    failure = result.replay_failure
    return ReplayOutcome(
        workflow_id=history.workflow_id,
        run_id=history.run_id or None,
        workflow_type=workflow_type,
        events=len(events),
        error=None if failure is None else _reason(failure),
        nondeterministic=isinstance(failure, NondeterminismError),
    )


async def replay_from_server(
    client: Client, workflow_id: str, run_id: str | None = None, workflows: Sequence[type] | None = None
) -> ReplayOutcome:
    """Fetch a run's history (the latest run without `run_id`) and replay it with the client's converter."""
    history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    return await replay_history(
        history, data_converter=client.data_converter, interceptors=worker_interceptors(client), workflows=workflows
    )
