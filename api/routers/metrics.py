"""`GET /metrics`: the API's Prometheus metrics (requests by route, latencies, 5xx, webhook events)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ops.metrics import EXPOSITION_CONTENT_TYPE, ApiMetrics

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """The text exposition format; route templates and counts only, never ids or personal data."""
    api_metrics: ApiMetrics = request.app.state.metrics
    return Response(api_metrics.exposition(), media_type=EXPOSITION_CONTENT_TYPE)
