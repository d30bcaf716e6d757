"""What a log line is about: the request, user, workflow, run and activity of the running task.

The API binds the request id (and, once authenticated, the user id); `ContextPropagationInterceptor` carries both
through a Temporal header from every client call into the workflow, from the workflow into its activities and
child workflows, and binds them there, with the workflow id, run id and activity type, for that task's logs."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NoReturn

import temporalio.activity
import temporalio.api.common.v1
import temporalio.client
import temporalio.converter
import temporalio.worker
import temporalio.workflow

# The Temporal header holding {"request_id": ..., "user_id": ...}; never anything secret.
HEADER_KEY = "cvimprover-context"
# The fields of a log line that say who and what it is about, in the order they are rendered.
FIELDS = ("request_id", "user_id", "workflow_id", "run_id", "activity")

Headers = Mapping[str, temporalio.api.common.v1.Payload]


@dataclasses.dataclass
class LogContext:
    """Mutable on purpose: the user id bound by an API dependency is seen by the middleware's closing line."""

    request_id: str | None = None
    user_id: str | None = None
    workflow_id: str | None = None
    run_id: str | None = None
    activity: str | None = None

    def fields(self) -> dict[str, str]:
        return {name: value for name in FIELDS if (value := getattr(self, name)) is not None}


_current: ContextVar[LogContext | None] = ContextVar("cvimprover_log_context", default=None)


def current_context() -> LogContext | None:
    return _current.get()


@contextmanager
def log_context(**fields: str | None) -> Iterator[LogContext]:
    """Binds a context for the block; fields not given are inherited from the enclosing one."""
    parent = _current.get()
    context = dataclasses.replace(parent, **fields) if parent else LogContext(**fields)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def bind_user(user_id: object) -> None:
    """Records the signed-in user on the current context (the request's, when called from the API)."""
    context = _current.get()
    if context is None:
        _current.set(LogContext(user_id=str(user_id)))
    else:
        context.user_id = str(user_id)


def _bind_task(context: LogContext) -> None:
    # Each workflow handler and each activity runs in its own asyncio task (so its own context copy): setting
    # without resetting cannot leak into another task, and a reset on workflow eviction could fail.
    _current.set(context)


_converter = temporalio.converter.PayloadConverter.default


def _with_header(headers: Headers) -> Headers:
    """The headers plus ours, when the current task knows a request or user."""
    context = _current.get()
    if context is None or (context.request_id is None and context.user_id is None):
        return headers
    carried = {"request_id": context.request_id, "user_id": context.user_id}
    return {**headers, HEADER_KEY: _converter.to_payloads([carried])[0]}


def _from_header(headers: Headers) -> tuple[str | None, str | None]:
    payload = headers.get(HEADER_KEY)
    if payload is None:
        return None, None
    try:
        carried = _converter.from_payloads([payload])[0]
    except Exception:  # a malformed header must never fail a workflow task or an activity
        return None, None
    if not isinstance(carried, dict):
        return None, None
    request_id, user_id = carried.get("request_id"), carried.get("user_id")
    return (
        request_id if isinstance(request_id, str) else None,
        user_id if isinstance(user_id, str) else None,
    )


class ContextPropagationInterceptor(temporalio.client.Interceptor, temporalio.worker.Interceptor):
    """On the client, so workers built from it get it too (their activities, workflows and outbound calls)."""

    def intercept_client(self, next: temporalio.client.OutboundInterceptor) -> temporalio.client.OutboundInterceptor:
        return _ClientOutbound(next)

    def intercept_activity(
        self, next: temporalio.worker.ActivityInboundInterceptor
    ) -> temporalio.worker.ActivityInboundInterceptor:
        return _ActivityInbound(next)

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor]:
        return _WorkflowInbound


class _ClientOutbound(temporalio.client.OutboundInterceptor):
    async def start_workflow(
        self, input: temporalio.client.StartWorkflowInput
    ) -> temporalio.client.WorkflowHandle[Any, Any]:
        # Signal-with-start comes here too (`input.start_signal`).
        input.headers = _with_header(input.headers)
        return await super().start_workflow(input)

    async def signal_workflow(self, input: temporalio.client.SignalWorkflowInput) -> None:
        input.headers = _with_header(input.headers)
        await super().signal_workflow(input)

    async def query_workflow(self, input: temporalio.client.QueryWorkflowInput) -> Any:
        input.headers = _with_header(input.headers)
        return await super().query_workflow(input)

    async def start_workflow_update(
        self, input: temporalio.client.StartWorkflowUpdateInput
    ) -> temporalio.client.WorkflowUpdateHandle[Any]:
        input.headers = _with_header(input.headers)
        return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(
        self, input: temporalio.client.StartWorkflowUpdateWithStartInput
    ) -> temporalio.client.WorkflowUpdateHandle[Any]:
        input.start_workflow_input.headers = _with_header(input.start_workflow_input.headers)
        input.update_workflow_input.headers = _with_header(input.update_workflow_input.headers)
        return await super().start_update_with_start_workflow(input)


class _ActivityInbound(temporalio.worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: temporalio.worker.ExecuteActivityInput) -> Any:
        request_id, user_id = _from_header(input.headers)
        info = temporalio.activity.info()
        _bind_task(
            LogContext(
                request_id=request_id,
                user_id=user_id,
                workflow_id=info.workflow_id,
                run_id=info.workflow_run_id,
                activity=info.activity_type,
            )
        )
        return await super().execute_activity(input)


class _WorkflowInbound(temporalio.worker.WorkflowInboundInterceptor):
    """Runs inside the workflow sandbox but is defined here, so it binds this module's context variable, the one
    the log formatter reads. Binding a context variable has no effect on the workflow's commands."""

    def init(self, outbound: temporalio.worker.WorkflowOutboundInterceptor) -> None:
        super().init(_WorkflowOutbound(outbound))

    @staticmethod
    def _bind(headers: Headers) -> None:
        request_id, user_id = _from_header(headers)
        info = temporalio.workflow.info()
        _bind_task(LogContext(request_id=request_id, user_id=user_id, workflow_id=info.workflow_id, run_id=info.run_id))

    async def execute_workflow(self, input: temporalio.worker.ExecuteWorkflowInput) -> Any:
        self._bind(input.headers)
        return await super().execute_workflow(input)

    async def handle_signal(self, input: temporalio.worker.HandleSignalInput) -> None:
        self._bind(input.headers)
        await super().handle_signal(input)

    async def handle_query(self, input: temporalio.worker.HandleQueryInput) -> Any:
        self._bind(input.headers)
        return await super().handle_query(input)

    def handle_update_validator(self, input: temporalio.worker.HandleUpdateInput) -> None:
        # Validators run outside any task of their own: binding here would outlive the call.
        super().handle_update_validator(input)

    async def handle_update_handler(self, input: temporalio.worker.HandleUpdateInput) -> Any:
        self._bind(input.headers)
        return await super().handle_update_handler(input)


class _WorkflowOutbound(temporalio.worker.WorkflowOutboundInterceptor):
    def start_activity(self, input: temporalio.worker.StartActivityInput) -> temporalio.workflow.ActivityHandle[Any]:
        input.headers = _with_header(input.headers)
        return super().start_activity(input)

    def start_local_activity(
        self, input: temporalio.worker.StartLocalActivityInput
    ) -> temporalio.workflow.ActivityHandle[Any]:
        input.headers = _with_header(input.headers)
        return super().start_local_activity(input)

    async def start_child_workflow(
        self, input: temporalio.worker.StartChildWorkflowInput
    ) -> temporalio.workflow.ChildWorkflowHandle[Any, Any]:
        input.headers = _with_header(input.headers)
        return await super().start_child_workflow(input)

    async def signal_child_workflow(self, input: temporalio.worker.SignalChildWorkflowInput) -> None:
        input.headers = _with_header(input.headers)
        await super().signal_child_workflow(input)

    async def signal_external_workflow(self, input: temporalio.worker.SignalExternalWorkflowInput) -> None:
        input.headers = _with_header(input.headers)
        await super().signal_external_workflow(input)

    def continue_as_new(self, input: temporalio.worker.ContinueAsNewInput) -> NoReturn:
        # Deliberately not carried: a long-lived workflow's next run was not caused by the request that started
        # the first one.
        super().continue_as_new(input)
