"""CvRenderWorkflow: render a finished improvement in another theme or paper size. No LLM call, no quota."""

from __future__ import annotations

from temporalio import workflow

from workflows.retry_policies import RENDER_RETRY, RENDER_TIMEOUT

with workflow.unsafe.imports_passed_through():
    from activities.pipeline import CvPipelineActivities
    from models.workflow_io import CV_RENDER_WORKFLOW, RenderInput, RenderSummary


@workflow.defn(name=CV_RENDER_WORKFLOW)
class CvRenderWorkflow:
    @workflow.run
    async def run(self, data: RenderInput) -> RenderSummary:
        workflow.set_current_details(f"Rendering theme {data.theme} on {data.paper}")
        return await workflow.execute_activity_method(
            CvPipelineActivities.render_pdf,
            RenderInput(data.improvement_id, data.theme, data.paper, data.language, report_progress=False),
            start_to_close_timeout=RENDER_TIMEOUT,
            retry_policy=RENDER_RETRY,
            summary=f"Render the PDF ({data.theme}, {data.paper})",
        )
