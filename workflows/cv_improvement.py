"""CvImprovementWorkflow: reserve, extract, rewrite, verify, score, render, store; refund on failure or cancel."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    FailureError,
    RetryState,
    TimeoutError,
    is_cancelled_exception,
)

from workflows.retry_policies import (
    LLM_HEARTBEAT,
    LLM_RETRY,
    LLM_SCHEDULE_TO_CLOSE,
    LLM_TIMEOUT,
    RENDER_HEARTBEAT,
    RENDER_RETRY,
    RENDER_TIMEOUT,
    STORAGE_RETRY,
    STORAGE_TIMEOUT,
)

# Passed through the sandbox: loaded once per worker, not re-imported for every run (pydantic models are costly
# to build, and these modules are deterministic).
with workflow.unsafe.imports_passed_through():
    from activities.pipeline import CvPipelineActivities
    from models.improvement import STAGE_PERCENT, Stage
    from models.workflow_io import (
        CV_IMPROVEMENT_WORKFLOW,
        FailureInput,
        ImprovementInput,
        ImprovementProgress,
        ImprovementRef,
        RenderInput,
        ReserveQuotaInput,
    )
    from ops import metrics
    from workflows.search_attributes import CV_PLAN, CV_STAGE

# Error types whose message is written for the user; anything else gets a generic sentence.
USER_FACING_ERRORS = ("QuotaExhausted", "Document:", "Llm", "UnknownTheme", "ImprovementGone")


def user_error(err: BaseException, stage: Stage) -> tuple[str, str]:
    """(code, message) to show the user for an activity failure."""
    cause = err.cause if isinstance(err, ActivityError) else err
    if isinstance(cause, ApplicationError) and cause.type == "QuotaExhausted":
        return cause.type, cause.message
    exhausted = isinstance(err, ActivityError) and err.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED
    if exhausted and isinstance(cause, ApplicationError) and cause.type in ("LlmUnavailable", "LlmRateLimited"):
        # Its message says "will be retried": true of each attempt, not of the last one.
        return cause.type, (
            "The AI service stayed unavailable through every retry (about 10 minutes); please try again later. "
            "Your quota unit was refunded."
        )
    if isinstance(cause, ApplicationError) and cause.type and cause.type.startswith(USER_FACING_ERRORS):
        return cause.type, f"{cause.message} Your quota unit was refunded."
    if isinstance(cause, TimeoutError):
        return "timeout", f"The improvement timed out while {stage.value}. Your quota unit was refunded."
    return (
        "internal_error",
        f"An internal error stopped the improvement while {stage.value}. "
        "Your quota unit was refunded; please try again.",
    )


@workflow.defn(name=CV_IMPROVEMENT_WORKFLOW)
class CvImprovementWorkflow:
    def __init__(self) -> None:
        self._stage = Stage.QUEUED
        self._error_code: str | None = None
        self._error_message: str | None = None
        self._improvement_id = uuid.UUID(int=0)

    @workflow.query
    def progress(self) -> ImprovementProgress:
        return ImprovementProgress(
            stage=self._stage.value,
            percent=STAGE_PERCENT[self._stage],
            error_code=self._error_code,
            error_message=self._error_message,
        )

    def _enter(self, stage: Stage) -> None:
        self._stage = stage
        workflow.upsert_search_attributes([CV_STAGE.value_set(stage.value)])
        workflow.set_current_details(f"**Stage:** {stage.value} ({STAGE_PERCENT[stage]}%)")

    async def _step(self, stage: Stage, activity: Any, arg: Any, summary: str) -> Any:
        """A short database step: a local activity, run by this worker without a round trip through the
        server's task queues (it still records its result and retries in the history)."""
        self._enter(stage)
        return await workflow.execute_local_activity_method(
            activity, arg, start_to_close_timeout=STORAGE_TIMEOUT, retry_policy=STORAGE_RETRY, summary=summary
        )

    async def _long_step(
        self, stage: Stage, activity: Any, arg: Any, summary: str, *, timeout: timedelta, **options: Any
    ) -> Any:
        """A long step (LLM call, rendering): a regular activity, heartbeating where it waits on others."""
        self._enter(stage)
        return await workflow.execute_activity_method(
            activity, arg, start_to_close_timeout=timeout, summary=summary, **options
        )

    @workflow.run
    async def run(self, data: ImprovementInput) -> ImprovementProgress:
        self._improvement_id = data.improvement_id
        # workflow.logger stays silent during replay and adds the workflow and run ids to each line.
        workflow.logger.info("improvement %s started (theme %s, %s)", data.improvement_id, data.theme, data.paper)
        # The SDK's workflow meter skips replays: each run is counted once, on the worker's /metrics.
        metrics.count_improvement_started(workflow.metric_meter())
        ref = ImprovementRef(data.improvement_id)
        acts = CvPipelineActivities
        try:
            reservation = await self._step(
                Stage.RESERVING,
                acts.reserve_quota,
                ReserveQuotaInput(data.improvement_id, data.user_id),
                "Reserve one unit of the monthly quota",
            )
            workflow.upsert_search_attributes([CV_PLAN.value_set(reservation.plan)])
            extracted = await self._step(Stage.EXTRACTING, acts.extract_cv, ref, "Read the uploaded CV")
            rewrite = await self._long_step(
                Stage.REWRITING,
                acts.rewrite_cv,
                ref,
                f"Rewrite the {extracted.pages}-page CV for the target job",
                timeout=LLM_TIMEOUT,
                schedule_to_close_timeout=LLM_SCHEDULE_TO_CLOSE,
                heartbeat_timeout=LLM_HEARTBEAT,
                retry_policy=LLM_RETRY,
            )
            checked = await self._step(
                Stage.VERIFYING, acts.verify_rewrite, ref, f"Check the {rewrite.changes} changes for invented facts"
            )
            scores = await self._step(Stage.SCORING, acts.score_cv, ref, "Score keywords before and after")
            await self._long_step(
                Stage.RENDERING,
                acts.render_pdf,
                RenderInput(data.improvement_id, data.theme, data.paper, data.language),
                f"Render the PDF ({data.theme}, {data.paper})",
                timeout=RENDER_TIMEOUT,
                heartbeat_timeout=RENDER_HEARTBEAT,
                retry_policy=RENDER_RETRY,
            )
            await self._step(Stage.STORING, acts.complete_improvement, ref, "Mark the improvement ready")
        except asyncio.CancelledError:
            await self._finish_canceled()
            raise
        except FailureError as err:
            # An activity's failure: ActivityError for regular activities, the cause itself for local ones.
            # A cancel request reaches a running activity first and comes back as its failure.
            if is_cancelled_exception(err):
                await self._finish_canceled()
                raise
            code, message = user_error(err, self._stage)
            await self._finish_unsuccessfully(code, message)
            raise ApplicationError(message, type=code, non_retryable=True) from err
        self._enter(Stage.COMPLETED)
        workflow.logger.info("improvement %s completed: %s changes kept", self._improvement_id, checked.kept)
        metrics.count_improvement_completed(workflow.metric_meter(), engine=rewrite.engine)
        workflow.set_current_details(
            f"**Completed** with {rewrite.engine}: {checked.kept} changes kept, {checked.reverted} reverted; "
            f"keyword score {scores.before:.0f} → {scores.after:.0f}."
        )
        return self.progress()

    async def _finish_canceled(self) -> None:
        message = "The improvement was canceled. Your quota unit was refunded."
        await self._finish_unsuccessfully("canceled", message, canceled=True)

    async def _finish_unsuccessfully(self, code: str, message: str, *, canceled: bool = False) -> None:
        failed_at = self._stage
        self._error_code, self._error_message = code, message
        workflow.logger.info("improvement %s ended while %s: %s", self._improvement_id, failed_at.value, code)
        await workflow.execute_local_activity_method(
            CvPipelineActivities.fail_improvement,
            FailureInput(self._improvement_id, failed_at.value, code, message, canceled),
            start_to_close_timeout=STORAGE_TIMEOUT,
            retry_policy=STORAGE_RETRY,
            summary="Record the error and refund the quota unit",
        )
        self._enter(Stage.CANCELED if canceled else Stage.FAILED)
        metrics.count_improvement_ended(workflow.metric_meter(), code=code, canceled=canceled)
