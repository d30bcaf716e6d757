"""Starting, cancelling and asking workflows, from the API. Workflow input is IDs and options only."""

from __future__ import annotations

import logging
import uuid

from temporalio.client import WorkflowExecutionStatus
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from activities.accounts import Account
from activities.improvements import ImprovementRecord
from api.problems import Problem
from api.services import Services
from models.target import ImprovementTarget
from models.workflow_io import (
    CV_IMPROVEMENT_WORKFLOW,
    CV_RENDER_WORKFLOW,
    SA_CV_PLAN,
    SA_CV_STAGE,
    SA_CV_USER_ID,
    ImprovementInput,
    RenderInput,
    render_workflow_id,
)

log = logging.getLogger("cvimprover.api")


def temporal_unavailable() -> Problem:
    return Problem(
        503,
        "temporarily_unavailable",
        "Service temporarily unavailable",
        "The job scheduler is not reachable right now; nothing was lost, please try again shortly.",
        retry_after=5,
    )


async def start_improvement(
    services: Services, user: Account, record: ImprovementRecord, target: ImprovementTarget
) -> str | None:
    """Start the workflow for a committed improvement row; returns the run id."""
    try:
        client = await services.connect_temporal()
        handle = await client.start_workflow(
            CV_IMPROVEMENT_WORKFLOW,
            ImprovementInput(
                improvement_id=record.id,
                user_id=user.id,
                theme=target.theme,
                paper=target.paper.value,
                language=target.output_language,
            ),
            id=record.workflow_id,
            task_queue=services.settings.temporal_task_queue,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(SearchAttributeKey.for_keyword(SA_CV_USER_ID), str(user.id)),
                    SearchAttributePair(SearchAttributeKey.for_keyword(SA_CV_PLAN), user.plan_code),
                    SearchAttributePair(SearchAttributeKey.for_keyword(SA_CV_STAGE), "queued"),
                ]
            ),
            static_summary=(
                f"Improve CV {record.cv_id} for user {user.id}: theme {target.theme}, {target.paper.value}, "
                f"language {target.output_language}"
            ),
        )
    except (RPCError, RuntimeError, OSError) as exc:
        log.error("could not start %s: %s", record.workflow_id, type(exc).__name__)
        raise temporal_unavailable() from None
    return handle.result_run_id


async def cancel_workflows(services: Services, workflow_ids: list[str]) -> None:
    if not workflow_ids:
        return
    try:
        client = await services.connect_temporal()
        for workflow_id in workflow_ids:
            try:
                await client.get_workflow_handle(workflow_id).cancel()
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
    except (RPCError, RuntimeError, OSError):
        raise temporal_unavailable() from None


async def start_render(
    services: Services,
    user: Account,
    improvement_id: uuid.UUID,
    theme: str,
    paper: str,
    language: str,
    *,
    replace_running: bool = False,
) -> str:
    workflow_id = render_workflow_id(improvement_id, theme, paper)
    # A render still running may have read the result before it changed: a new result replaces it.
    conflict = WorkflowIDConflictPolicy.TERMINATE_EXISTING if replace_running else WorkflowIDConflictPolicy.USE_EXISTING
    try:
        client = await services.connect_temporal()
        await client.start_workflow(
            CV_RENDER_WORKFLOW,
            RenderInput(improvement_id, theme, paper, language, report_progress=False),
            id=workflow_id,
            task_queue=services.settings.temporal_task_queue,
            id_conflict_policy=conflict,
            # Lets operators, and account deletion, find a user's re-renders.
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(SearchAttributeKey.for_keyword(SA_CV_USER_ID), str(user.id))]
            ),
            static_summary=f"Render improvement {improvement_id} in theme {theme} on {paper}",
        )
    except (RPCError, RuntimeError, OSError):
        raise temporal_unavailable() from None
    return workflow_id


async def render_status(services: Services, improvement_id: uuid.UUID, theme: str, paper: str) -> str | None:
    """'running', 'failed' or None (never started / finished) for a re-render."""
    try:
        client = await services.connect_temporal()
        desc = await client.get_workflow_handle(render_workflow_id(improvement_id, theme, paper)).describe()
    except RPCError:
        return None
    if desc.status == WorkflowExecutionStatus.RUNNING:
        return "running"
    if desc.status in (
        WorkflowExecutionStatus.FAILED,
        WorkflowExecutionStatus.TERMINATED,
        WorkflowExecutionStatus.TIMED_OUT,
    ):
        return "failed"
    return None
