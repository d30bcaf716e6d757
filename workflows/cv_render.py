"""CvRenderWorkflow: render a finished improvement in another theme or paper size. No LLM call, no quota."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.retry_policies import RENDER_HEARTBEAT, RENDER_RETRY, RENDER_TIMEOUT

with workflow.unsafe.imports_passed_through():
    from activities.pipeline import CvPipelineActivities
    from models.improvement import Stage
    from models.workflow_io import CV_RENDER_WORKFLOW, RenderInput, RenderSummary
    from workflows.search_attributes import CV_STAGE

# Renders show their stage (CvStage) like improvements do. Runs started before that have no upsert in their
# history: `workflow.patched` is False while they replay, so they carry on without it (README: "Changing a
# running workflow"). Once no such run is open, `workflow.deprecate_patch` and then nothing replaces it.
STAGE_PATCH = "render-stage-search-attribute"


@workflow.defn(name=CV_RENDER_WORKFLOW)
class CvRenderWorkflow:
    @workflow.run
    async def run(self, data: RenderInput) -> RenderSummary:
        workflow.set_current_details(f"Rendering theme {data.theme} on {data.paper}")
        show_stage = workflow.patched(STAGE_PATCH)
        if show_stage:
            workflow.upsert_search_attributes([CV_STAGE.value_set(Stage.RENDERING.value)])
        try:
            summary: RenderSummary = await workflow.execute_activity_method(
                CvPipelineActivities.render_pdf,
                RenderInput(data.improvement_id, data.theme, data.paper, data.language, report_progress=False),
                start_to_close_timeout=RENDER_TIMEOUT,
                heartbeat_timeout=RENDER_HEARTBEAT,
                retry_policy=RENDER_RETRY,
                summary=f"Render the PDF ({data.theme}, {data.paper})",
            )
        except ActivityError:
            if show_stage:
                workflow.upsert_search_attributes([CV_STAGE.value_set(Stage.FAILED.value)])
            raise
        if show_stage:
            workflow.upsert_search_attributes([CV_STAGE.value_set(Stage.COMPLETED.value)])
        return summary
