"""What `cvimprover ops` does, apart from printing: a user's runs, one run's steps read from its history, a retry
of a failed run, quota grants and resets, a subscription's projection against its workflow, a reconcile, and a
replay. Temporal through `ops.temporal.connect` (so the payload codec applies); PostgreSQL through activities."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType, PendingActivityState, WorkflowTaskFailedCause
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    RawValue,
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.admin import AdminStore, ImprovementSummary, QuotaReport, UserSummary
from activities.billing.store import BillingStore, SubscriptionRecord
from activities.database import create_engine, create_sessions
from activities.errors import DomainError
from models.billing import (
    SUBSCRIPTION_WORKFLOW,
    SubscriptionState,
    subscription_input,
    subscription_workflow_id,
)
from models.settings import Settings
from models.workflow_io import SA_CV_STAGE, SA_CV_USER_ID, SEARCH_ATTRIBUTES
from ops.replay import ReplayOutcome, replay_from_server
from ops.temporal import connect

CV_STAGE = SearchAttributeKey.for_keyword(SA_CV_STAGE)
# A new run may follow these; a completed run is done, and a canceled one was stopped on purpose.
RETRYABLE = (WorkflowExecutionStatus.FAILED, WorkflowExecutionStatus.TERMINATED, WorkflowExecutionStatus.TIMED_OUT)
QUERY_TIMEOUT = timedelta(seconds=5)


class Refused(Exception):
    """The operator asked for something that cannot be done; the message says why, for a person."""


def status_name(status: WorkflowExecutionStatus | None) -> str:
    return status.name.lower().replace("_", " ") if status is not None else "unknown"


@dataclass
class Ops:
    """What one command needs: settings, PostgreSQL through activities, Temporal connected on first use."""

    settings: Settings
    admin: AdminStore
    billing: BillingStore
    _client: Client | None = None

    async def temporal(self) -> Client:
        if self._client is None:
            self._client = await connect(self.settings)
        return self._client

    async def user(self, who: str) -> UserSummary:
        try:
            return await self.admin.find_user(who)
        except DomainError as exc:
            raise Refused(exc.message) from None


@asynccontextmanager
async def open_ops(settings: Settings) -> AsyncIterator[Ops]:
    engine = create_engine(settings.database_url, pool_size=2)
    sessions = create_sessions(engine)
    try:
        yield Ops(settings, AdminStore(sessions), BillingStore(sessions, settings.stripe_price_overrides()))
    finally:
        await engine.dispose()


# --- runs ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRow:
    workflow_type: str
    workflow_id: str
    run_id: str
    status: str
    stage: str | None
    start_time: datetime | None
    close_time: datetime | None


@dataclass(frozen=True)
class RunsReport:
    user_id: uuid.UUID
    email: str | None
    workflows: list[RunRow]
    improvements: list[ImprovementSummary]


async def list_runs(ops: Ops, who: str, limit: int = 100) -> RunsReport:
    """The user's workflows (by the CvUserId search attribute; every run, newest first) and improvements."""
    try:
        user: UserSummary | None = await ops.admin.find_user(who)
    except DomainError:
        user = None
    if user is None:
        try:  # a deleted account still has workflows to look at
            user_id = uuid.UUID(who)
        except ValueError:
            raise Refused(f"No user {who}.") from None
    else:
        user_id = user.id
    client = await ops.temporal()
    rows = [
        RunRow(
            workflow_type=execution.workflow_type,
            workflow_id=execution.id,
            run_id=execution.run_id,
            status=status_name(execution.status),
            stage=execution.typed_search_attributes.get(CV_STAGE),
            start_time=execution.start_time,
            close_time=execution.close_time,
        )
        async for execution in client.list_workflows(f"{SA_CV_USER_ID} = '{user_id}'", limit=limit)
    ]
    rows.sort(key=lambda r: r.start_time or datetime.min, reverse=True)
    improvements = await ops.admin.improvements(user_id) if user is not None else []
    return RunsReport(user_id, user.email if user else None, rows, improvements)


# --- one run ------------------------------------------------------------------------------------------------


@dataclass
class Step:
    """One thing the workflow did, read from its history."""

    event_id: int
    kind: str  # activity, local activity, timer, signal, update, patch, workflow task
    name: str
    summary: str = ""
    status: str = "scheduled"
    attempts: int = 1
    failure: str | None = None  # the last failure, or the one before a retry that then succeeded
    started_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass
class RunReport:
    workflow_id: str
    run_id: str
    workflow_type: str
    status: str
    task_queue: str
    start_time: datetime | None
    close_time: datetime | None
    history_length: int
    search_attributes: dict[str, str]
    static_summary: str | None
    current_details: str | None
    steps: list[Step] = field(default_factory=list)
    result: Any = None
    failure: str | None = None
    continued_as: str | None = None  # the next run's id after continue-as-new


def _time(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime().astimezone()


class _HistoryReader:
    """Turns history events into steps, decoding summaries and failures with the client's converter."""

    def __init__(self, client: Client) -> None:
        self._converter = client.data_converter

    async def text(self, payload: Payload) -> str:
        try:
            [value] = await self._converter.decode([payload], [str])
        except Exception:  # an undecodable summary must not hide the rest
            return "(undecodable)"
        return str(value)

    async def value(self, payloads: list[Payload]) -> Any:
        if not payloads:
            return None
        try:
            values = await self._converter.decode(payloads)
        except Exception:
            return "(undecodable)"
        return values[0] if len(values) == 1 else values

    async def failure(self, failure: Failure) -> str:
        try:
            error: BaseException | None = await self._converter.decode_failure(failure)
        except Exception:
            return failure.message or "(undecodable failure)"
        parts: list[str] = []
        while error is not None and len(parts) < 4:
            if isinstance(error, ApplicationError) and error.type:
                parts.append(f"{error.type}: {error.message}")
            elif not isinstance(error, ActivityError):  # "activity error" says nothing its cause does not
                parts.append(str(error) or type(error).__name__)
            error = error.__cause__
        return " ← ".join(parts) or "(no message)"

    async def summary(self, event: HistoryEvent) -> str:
        if event.HasField("user_metadata") and event.user_metadata.HasField("summary"):
            return await self.text(event.user_metadata.summary)
        return ""

    async def steps(
        self, events: list[HistoryEvent], report: RunReport, pending: Sequence[PendingActivityInfo] = ()
    ) -> list[Step]:
        steps: list[Step] = []
        by_scheduled: dict[int, Step] = {}
        by_activity_id: dict[str, Step] = {}
        timers: dict[str, Step] = {}
        updates: dict[str, Step] = {}
        t = EventType
        for event in events:
            kind = event.event_type
            if kind == t.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                a = event.activity_task_scheduled_event_attributes
                step = Step(event.event_id, "activity", a.activity_type.name, await self.summary(event))
                step.started_at = _time(event)
                by_scheduled[event.event_id] = by_activity_id[a.activity_id] = step
                steps.append(step)
            elif kind == t.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                s = event.activity_task_started_event_attributes
                step = by_scheduled[s.scheduled_event_id]
                step.status, step.attempts = "started", s.attempt
                if s.HasField("last_failure"):
                    step.failure = await self.failure(s.last_failure)
            elif kind == t.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                step = by_scheduled[event.activity_task_completed_event_attributes.scheduled_event_id]
                step.status, step.ended_at = "completed", _time(event)
            elif kind == t.EVENT_TYPE_ACTIVITY_TASK_FAILED:
                f = event.activity_task_failed_event_attributes
                step = by_scheduled[f.scheduled_event_id]
                step.status, step.ended_at, step.failure = "failed", _time(event), await self.failure(f.failure)
            elif kind == t.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
                o = event.activity_task_timed_out_event_attributes
                step = by_scheduled[o.scheduled_event_id]
                step.status, step.ended_at, step.failure = "timed out", _time(event), await self.failure(o.failure)
            elif kind == t.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
                step = by_scheduled[event.activity_task_canceled_event_attributes.scheduled_event_id]
                step.status, step.ended_at = "canceled", _time(event)
            elif kind == t.EVENT_TYPE_MARKER_RECORDED:
                steps.append(await self._marker(event))
            elif kind == t.EVENT_TYPE_TIMER_STARTED:
                a2 = event.timer_started_event_attributes
                seconds = a2.start_to_fire_timeout.ToTimedelta().total_seconds()
                step = Step(event.event_id, "timer", f"{_duration(seconds)}", await self.summary(event))
                step.status, step.started_at = "started", _time(event)
                timers[a2.timer_id] = step
                steps.append(step)
            elif kind == t.EVENT_TYPE_TIMER_FIRED:
                step = timers[event.timer_fired_event_attributes.timer_id]
                step.status, step.ended_at = "fired", _time(event)
            elif kind == t.EVENT_TYPE_TIMER_CANCELED:
                step = timers[event.timer_canceled_event_attributes.timer_id]
                step.status, step.ended_at = "canceled", _time(event)
            elif kind == t.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                name = event.workflow_execution_signaled_event_attributes.signal_name
                steps.append(Step(event.event_id, "signal", name, status="received", started_at=_time(event)))
            elif kind == t.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                request = event.workflow_execution_update_accepted_event_attributes.accepted_request
                step = Step(event.event_id, "update", request.input.name, status="accepted", started_at=_time(event))
                updates[request.meta.update_id] = step
                steps.append(step)
            elif kind == t.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
                done = event.workflow_execution_update_completed_event_attributes
                step = updates.get(done.meta.update_id) or Step(event.event_id, "update", done.meta.update_id)
                step.ended_at = _time(event)
                if done.outcome.HasField("failure"):
                    step.status, step.failure = "failed", await self.failure(done.outcome.failure)
                else:
                    step.status = "completed"
            elif kind == t.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                w = event.workflow_task_failed_event_attributes
                cause = _enum_name(w.cause, "WORKFLOW_TASK_FAILED_CAUSE_", WorkflowTaskFailedCause)
                step = Step(event.event_id, "workflow task", cause)
                step.status, step.started_at, step.failure = "failed", _time(event), await self.failure(w.failure)
                steps.append(step)
            elif kind == t.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
                report.result = await self.value(
                    list(event.workflow_execution_completed_event_attributes.result.payloads)
                )
            elif kind == t.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
                report.failure = await self.failure(event.workflow_execution_failed_event_attributes.failure)
            elif kind == t.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
                report.failure = f"terminated: {event.workflow_execution_terminated_event_attributes.reason}"
            elif kind == t.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
                report.failure = "timed out"
            elif kind == t.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
                report.failure = "canceled"
            elif kind == t.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                report.continued_as = event.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
        for info in pending:
            # The history records an attempt only when it ends: a running one (or one waiting out its retry
            # interval) is known from the server's pending activities.
            if info.activity_id not in by_activity_id or by_activity_id[info.activity_id].ended_at is not None:
                continue
            step = by_activity_id[info.activity_id]
            step.status = _enum_name(info.state, "PENDING_ACTIVITY_STATE_", PendingActivityState).replace("_", " ")
            step.attempts = info.attempt
            if info.HasField("last_failure"):
                step.failure = await self.failure(info.last_failure)
        return steps

    async def _marker(self, event: HistoryEvent) -> Step:
        m = event.marker_recorded_event_attributes
        details = {key: list(value.payloads) for key, value in m.details.items()}
        if m.marker_name == "core_patch":
            data = _json(details.get("patch-data"))
            return Step(event.event_id, "patch", str(data.get("id", "?")), status="applied", started_at=_time(event))
        if m.marker_name != "core_local_activity":
            return Step(event.event_id, "marker", m.marker_name, status="recorded", started_at=_time(event))
        data = _json(details.get("data"))
        step = Step(event.event_id, "local activity", str(data.get("activity_type", "?")), await self.summary(event))
        step.attempts, step.ended_at = int(data.get("attempt", 1)), _time(event)
        if m.HasField("failure"):
            step.status, step.failure = "failed", await self.failure(m.failure)
        else:
            step.status = "completed"
        return step


def _json(payloads: list[Payload] | None) -> dict[str, Any]:
    """Markers' own data is plain JSON written by the SDK core, never through the codec."""
    if not payloads:
        return {}
    try:
        value = json.loads(payloads[0].data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _enum_name(value: int, prefix: str, enum: Any) -> str:
    return str(enum.Name(value)).removeprefix(prefix).lower()


def _duration(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds:.0f} s"


def _search_attributes(desc: WorkflowExecutionDescription) -> dict[str, str]:
    found = {}
    for name in SEARCH_ATTRIBUTES:
        value = desc.typed_search_attributes.get(SearchAttributeKey.for_keyword(name))
        if value is not None:
            found[name] = value
    return found


async def _current_details(handle: WorkflowHandle[Any, Any]) -> str | None:
    """What the workflow shows as current details in the UI; only a running one answers without a replay."""
    try:
        metadata: WorkflowMetadata = await handle.query(
            "__temporal_workflow_metadata", result_type=WorkflowMetadata, rpc_timeout=QUERY_TIMEOUT
        )
    except Exception:  # no worker polling, or an old SDK: the details are a nicety
        return None
    return metadata.current_details or None


async def describe_run(ops: Ops, workflow_id: str, run_id: str | None = None) -> RunReport:
    client = await ops.temporal()
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    try:
        desc = await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Refused(f"No workflow {workflow_id}" + (f" run {run_id}" if run_id else "") + ".") from None
        raise
    handle = client.get_workflow_handle(workflow_id, run_id=desc.run_id)
    report = RunReport(
        workflow_id=workflow_id,
        run_id=desc.run_id,
        workflow_type=desc.workflow_type,
        status=status_name(desc.status),
        task_queue=desc.task_queue,
        start_time=desc.start_time,
        close_time=desc.close_time,
        history_length=desc.history_length,
        search_attributes=_search_attributes(desc),
        static_summary=await desc.static_summary(),
        current_details=await _current_details(handle) if desc.status == WorkflowExecutionStatus.RUNNING else None,
    )
    history = await handle.fetch_history()
    pending = desc.raw_description.pending_activities
    report.steps = await _HistoryReader(client).steps(list(history.events), report, list(pending))
    return report


# --- retry --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryResult:
    workflow_id: str
    workflow_type: str
    previous_run_id: str
    previous_status: str
    run_id: str
    improvement: ImprovementSummary | None


async def retry(ops: Ops, target: str) -> RetryResult:
    """A new run, with the same workflow id and the same input, of a failed, terminated or timed-out workflow.
    `target` is an improvement id or any workflow id. The id stays the same so the API, the UI and the user's
    status page follow the new run; the reuse policy lets Temporal start it only after a run that did not
    complete, so two operators retrying at once start one run."""
    improvement_id: uuid.UUID | None
    try:
        improvement_id = uuid.UUID(target)
    except ValueError:
        improvement_id = None
    improvement = None
    if improvement_id is not None:
        try:
            improvement = await ops.admin.improvement(improvement_id)
        except DomainError as exc:
            raise Refused(exc.message) from None
    workflow_id = improvement.workflow_id if improvement else target
    client = await ops.temporal()
    try:
        desc = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Refused(f"No workflow {workflow_id}.") from None
        raise
    if desc.status not in RETRYABLE:
        raise Refused(_not_retryable(workflow_id, desc.status))
    history = await client.get_workflow_handle(workflow_id, run_id=desc.run_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    payloads: list[Payload] = list(started.input.payloads)
    codec = client.data_converter.payload_codec
    if codec is not None:  # start_workflow encodes again: hand it the plain payloads
        payloads = await codec.decode(payloads)
    if improvement is not None:
        try:
            improvement = await ops.admin.prepare_retry(improvement.id, workflow_closed=True)
        except DomainError as exc:
            raise Refused(exc.message) from None
    attributes = [
        SearchAttributePair(SearchAttributeKey.for_keyword(name), "queued" if name == SA_CV_STAGE else value)
        for name, value in _search_attributes(desc).items()
    ]
    try:
        handle = await client.start_workflow(
            desc.workflow_type,
            args=[RawValue(p) for p in payloads],
            id=workflow_id,
            task_queue=desc.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            search_attributes=TypedSearchAttributes(attributes),
            static_summary=await desc.static_summary(),
            static_details=await desc.static_details(),
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.ALREADY_EXISTS:
            raise Refused(f"{workflow_id} was started again meanwhile (another retry?).") from None
        raise
    return RetryResult(
        workflow_id=workflow_id,
        workflow_type=desc.workflow_type,
        previous_run_id=desc.run_id,
        previous_status=status_name(desc.status),
        run_id=handle.result_run_id or "",
        improvement=improvement,
    )


def _not_retryable(workflow_id: str, status: WorkflowExecutionStatus | None) -> str:
    if status == WorkflowExecutionStatus.RUNNING:
        return f"{workflow_id} is still running: nothing to retry."
    if status == WorkflowExecutionStatus.COMPLETED:
        return f"{workflow_id} completed: nothing to retry."
    if status == WorkflowExecutionStatus.CANCELED:
        return f"{workflow_id} was canceled on purpose (by its user or an account deletion): not retried."
    return f"{workflow_id} is {status_name(status)}: only a failed, terminated or timed-out run is retried."


# --- quota --------------------------------------------------------------------------------------------------


async def quota(ops: Ops, who: str) -> tuple[UserSummary, QuotaReport]:
    user = await ops.user(who)
    return user, await ops.admin.quota(user.id)


async def grant_quota(ops: Ops, who: str, units: int, reason: str) -> tuple[UserSummary, QuotaReport]:
    user = await ops.user(who)
    try:
        return user, await ops.admin.grant_quota(user.id, units, reason)
    except DomainError as exc:
        raise Refused(exc.message) from None


async def reset_quota(ops: Ops, who: str) -> tuple[UserSummary, QuotaReport]:
    user = await ops.user(who)
    return user, await ops.admin.reset_quota(user.id)


# --- subscriptions ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionReport:
    user: UserSummary
    projection: SubscriptionRecord | None  # the `subscriptions` row the workflow writes
    workflow_id: str
    workflow_status: str | None  # None: no workflow was ever started
    state: SubscriptionState | None  # the running workflow's `state` query


async def subscription(ops: Ops, who: str) -> SubscriptionReport:
    user = await ops.user(who)
    projection = await ops.billing.subscription(user.id)
    client = await ops.temporal()
    workflow_id = subscription_workflow_id(user.id)
    handle = client.get_workflow_handle(workflow_id)
    status: str | None = None
    state: SubscriptionState | None = None
    try:
        desc = await handle.describe()
        status = status_name(desc.status)
        if desc.status == WorkflowExecutionStatus.RUNNING:
            state = await handle.query("state", result_type=SubscriptionState, rpc_timeout=QUERY_TIMEOUT)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
    return SubscriptionReport(user, projection, workflow_id, status, state)


async def reconcile_subscription(ops: Ops, who: str) -> tuple[UserSummary, SubscriptionState]:
    """Ask the user's SubscriptionWorkflow to read Stripe now and apply it; a workflow that is not running (an
    operator terminated it) is started again for this, from the projection, as a webhook would."""
    user = await ops.user(who)
    projection = await ops.billing.subscription(user.id)
    if projection is None or (projection.customer_id is None and projection.subscription_id is None):
        raise Refused(f"{user.email} has no Stripe customer or subscription: nothing to reconcile.")
    client = await ops.temporal()
    start: WithStartWorkflowOperation[Any, SubscriptionState] = WithStartWorkflowOperation(
        SUBSCRIPTION_WORKFLOW,
        subscription_input(ops.settings, user.id),
        id=subscription_workflow_id(user.id),
        task_queue=ops.settings.temporal_task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(SearchAttributeKey.for_keyword(SA_CV_USER_ID), str(user.id))]
        ),
        static_summary=f"Subscription of user {user.id}: Stripe checkout, renewals, payment failures, cancel",
        result_type=SubscriptionState,
    )
    try:
        state: SubscriptionState = await client.execute_update_with_start_workflow(
            "reconcile", start_workflow_operation=start, id=f"reconcile-{uuid.uuid4()}", result_type=SubscriptionState
        )
    except WorkflowUpdateFailedError as exc:
        cause: BaseException | None = exc.cause
        if isinstance(cause, ActivityError):
            cause = cause.cause
        raise Refused(f"The workflow refused to reconcile: {cause}") from None
    return user, state


# --- replay -------------------------------------------------------------------------------------------------


async def replay(ops: Ops, workflow_id: str, run_id: str | None = None) -> ReplayOutcome:
    client = await ops.temporal()
    try:
        return await replay_from_server(client, workflow_id, run_id)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Refused(f"No workflow {workflow_id}" + (f" run {run_id}" if run_id else "") + ".") from None
        raise
