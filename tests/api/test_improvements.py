"""The whole path through the public API: upload, improve, follow, download, re-render, cancel, quota."""

from __future__ import annotations

import asyncio
import io
import json
import uuid

from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.testing import WorkflowEnvironment

from models.settings import Settings
from models.workflow_io import ImprovementProgress
from tests.conftest import SAMPLES, Stack, open_stack
from worker import create_worker

JOB = (SAMPLES / "job-senior-backend.txt").read_text()
TARGET = {
    "position": "Senior Backend Engineer",
    "industry": "Fintech",
    "experience_level": "6+",
    "company_size": "201-1000",
    "location": "London",
    "application_timeline": "within_1_month",
    "job_description": JOB,
    "output_language": "en",
    "theme": "classic",
    "paper": "A4",
}


async def _start(stack: Stack, headers: dict[str, str], target: dict[str, object] | None = None) -> dict[str, str]:
    cv = await stack.upload(headers, "jane.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
    r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json=target or TARGET)
    assert r.status_code == 202, r.text
    return dict(r.json())


async def test_improve_end_to_end(stack: Stack) -> None:
    headers = await stack.user()
    accepted = await _start(stack, headers)
    assert accepted["workflow_id"] == f"cv-improvement-{accepted['improvement_id']}"
    assert accepted["run_id"] and accepted["status_url"] == f"/improvements/{accepted['improvement_id']}"

    result = await stack.wait_finished(headers, accepted["improvement_id"])
    assert result["stage"] == "completed", result
    assert result["percent"] == 100 and result["error"] is None
    assert result["engine"] == "offline"
    assert result["changes"], "the offline engine should improve the sample CV"
    assert result["scores"]["after"]["score"] >= result["scores"]["before"]["score"]
    # Facts survive: same person, same employers, same dates.
    improved = result["result"]
    assert improved["basics"]["name"] == "Jane Doe"
    assert improved["basics"]["email"] == "jane.doe@example.com"
    assert [w["name"] for w in improved["work"]] == ["Brightwave Payments", "Northfield Analytics"]

    pdf = await stack.http.get(f"/improvements/{accepted['improvement_id']}/pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    pdf_text = " ".join(page.extract_text() for page in reader.pages)
    assert "Jane Doe" in pdf_text and "Brightwave Payments" in pdf_text
    assert round(float(reader.pages[0].mediabox.width)) == 595  # A4

    resume = await stack.http.get(f"/improvements/{accepted['improvement_id']}/resume.json", headers=headers)
    assert resume.json() == improved

    me = (await stack.http.get("/me", headers=headers)).json()
    assert me["quota"]["used"] == 1
    listed = (await stack.http.get("/improvements", headers=headers)).json()
    assert [i["id"] for i in listed] == [accepted["improvement_id"]]


async def test_progress_is_streamed_as_server_sent_events(stack: Stack) -> None:
    headers = await stack.user()
    accepted = await _start(stack, headers)
    stages = await stack.progress_stages(headers, accepted["improvement_id"])
    assert stages[-1] == "completed"
    order = [
        "queued",
        "reserving",
        "extracting",
        "rewriting",
        "verifying",
        "scoring",
        "rendering",
        "storing",
        "completed",
    ]
    assert [order.index(s) for s in stages] == sorted(order.index(s) for s in stages), stages


async def test_render_in_another_theme_uses_no_quota(stack: Stack) -> None:
    headers = await stack.user()
    accepted = await _start(stack, headers)
    iid = accepted["improvement_id"]
    await stack.wait_finished(headers, iid)
    r = await stack.http.post(
        f"/improvements/{iid}/render", headers=headers, json={"theme": "modern", "paper": "Letter"}
    )
    assert r.status_code == 202, r.text
    handle = stack.client.get_workflow_handle(r.json()["workflow_id"])
    await handle.result()
    me = (await stack.http.get("/me", headers=headers)).json()
    attrs = {p.key.name: p.value for p in (await handle.describe()).typed_search_attributes}
    assert attrs["CvUserId"] == me["id"]  # so operators and account deletion find re-renders
    pdf = await stack.http.get(r.json()["pdf_url"], headers=headers)
    assert pdf.status_code == 200
    assert round(float(PdfReader(io.BytesIO(pdf.content)).pages[0].mediabox.width)) == 612  # Letter
    again = await stack.http.post(
        f"/improvements/{iid}/render", headers=headers, json={"theme": "modern", "paper": "Letter"}
    )
    assert again.status_code == 200 and again.json()["status"] == "ready"
    body = (await stack.http.get(f"/improvements/{iid}", headers=headers)).json()
    assert {(p["theme"], p["paper"]) for p in body["pdfs"]} == {("classic", "A4"), ("modern", "Letter")}
    assert (await stack.http.get("/me", headers=headers)).json()["quota"]["used"] == 1


async def test_bad_targets_are_refused(stack: Stack) -> None:
    headers = await stack.user()
    cv = await stack.upload(headers, "jane.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
    url = f"/cvs/{cv['id']}/improvements"
    r = await stack.http.post(url, headers=headers, json={**TARGET, "job_description": "x" * 10_001})
    assert r.status_code == 422 and "job_description" in r.json()["detail"]
    r = await stack.http.post(url, headers=headers, json={**TARGET, "theme": "neon"})
    assert r.status_code == 422 and r.json()["code"] == "unknown_theme" and "classic" in r.json()["detail"]
    r = await stack.http.post(url, headers=headers, json={**TARGET, "output_language": "xx"})
    assert r.status_code == 422 and r.json()["code"] == "unsupported_language"
    r = await stack.http.post(url, headers=headers, json={**TARGET, "experience_level": "ten"})
    assert r.status_code == 422
    assert (await stack.http.get("/improvements", headers=headers)).json() == []


async def test_quota_exhausted_with_limit_and_reset_date(stack: Stack) -> None:
    headers = await stack.user()
    for _ in range(3):
        accepted = await _start(stack, headers)
        await stack.wait_finished(headers, accepted["improvement_id"])
    cv = (await stack.http.get("/cvs", headers=headers)).json()[0]
    r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json=TARGET)
    assert r.status_code == 402, r.text
    body = r.json()
    assert body["code"] == "quota_exhausted" and body["limit"] == 3 and body["plan"] == "Free"
    assert body["resets_on"] in body["detail"] and "3" in body["detail"]


async def test_quota_is_enforced_by_the_workflow_too(
    temporal_env: WorkflowEnvironment, base_settings: Settings
) -> None:
    """Two runs accepted while one unit is left (no worker yet): the reservation lets exactly one through."""
    settings = base_settings.model_copy(update={"temporal_task_queue": "cv-improver-quota-race"})
    async with open_stack(temporal_env, settings, worker=False) as stack:
        headers = await stack.user()
        me = (await stack.http.get("/me", headers=headers)).json()
        engine = create_async_engine(stack.settings.database_url)
        async with engine.begin() as conn:  # two units already used this month
            for _ in range(2):
                await conn.execute(
                    text(
                        "insert into usage (user_id, improvement_id, period_start, status) "
                        "values (:u, :i, date_trunc('month', now() at time zone 'utc')::date, 'consumed')"
                    ),
                    {"u": me["id"], "i": uuid.uuid4()},
                )
        await engine.dispose()
        first, second = await _start(stack, headers), await _start(stack, headers)
        async with create_worker(stack.client, settings, stack.resources):
            results = [await stack.wait_finished(headers, a["improvement_id"]) for a in (first, second)]
        assert sorted(r["stage"] for r in results) == ["completed", "failed"]
        failed = next(r for r in results if r["stage"] == "failed")
        assert failed["error"]["code"] == "QuotaExhausted" and "resets on" in failed["error"]["message"]
        assert (await stack.http.get("/me", headers=headers)).json()["quota"]["used"] == 3


async def test_another_users_improvement_is_not_found(stack: Stack) -> None:
    owner, other = await stack.user(), await stack.user()
    accepted = await _start(stack, owner)
    iid = accepted["improvement_id"]
    await stack.wait_finished(owner, iid)
    for method, path, body in (
        ("GET", f"/improvements/{iid}", None),
        ("GET", f"/improvements/{iid}/events", None),
        ("GET", f"/improvements/{iid}/pdf", None),
        ("GET", f"/improvements/{iid}/resume.json", None),
        ("POST", f"/improvements/{iid}/render", {"theme": "modern"}),
        ("DELETE", f"/improvements/{iid}", None),
    ):
        r = await stack.http.request(method, path, headers=other, json=body)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["code"] == "not_found"
    assert (await stack.http.get("/improvements", headers=other)).json() == []


async def test_delete_finished_improvement(stack: Stack) -> None:
    headers = await stack.user()
    accepted = await _start(stack, headers)
    iid = accepted["improvement_id"]
    await stack.wait_finished(headers, iid)
    assert (await stack.http.delete(f"/improvements/{iid}", headers=headers)).status_code == 204
    assert (await stack.http.get(f"/improvements/{iid}", headers=headers)).status_code == 404
    assert (await stack.http.get(f"/improvements/{iid}/pdf", headers=headers)).status_code == 404
    # The unit it used stays used.
    assert (await stack.http.get("/me", headers=headers)).json()["quota"]["used"] == 1


async def test_operations_endpoints(stack: Stack) -> None:
    assert (await stack.http.get("/healthz")).json() == {"status": "ok"}
    ready = await stack.http.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok", "temporal": "ok"}
    themes = {t["name"] for t in (await stack.http.get("/themes")).json()}
    assert {"classic", "modern"} <= themes
    schema = (await stack.http.get("/openapi.json")).json()
    assert "create_improvement" in json.dumps(schema)


async def test_operators_can_find_and_read_the_run_in_temporal(stack: Stack) -> None:
    headers = await stack.user()
    me = (await stack.http.get("/me", headers=headers)).json()
    accepted = await _start(stack, headers)
    await stack.wait_finished(headers, accepted["improvement_id"])
    handle = stack.client.get_workflow_handle(accepted["workflow_id"])
    progress = await handle.query("progress", result_type=ImprovementProgress)
    assert progress.stage == "completed" and progress.percent == 100
    desc = await handle.describe()
    attrs = {key.name: value for key, value in ((p.key, p.value) for p in desc.typed_search_attributes)}
    assert attrs["CvUserId"] == me["id"] and attrs["CvStage"] == "completed" and attrs["CvPlan"] == "free"
    summary = await desc.static_summary()
    assert summary is not None and "theme classic" in summary and "Jane" not in summary
    found = [w.id async for w in stack.client.list_workflows(f"CvUserId = '{me['id']}'")]
    for _ in range(50):  # visibility is eventually consistent
        if accepted["workflow_id"] in found:
            break
        await asyncio.sleep(0.1)
        found = [w.id async for w in stack.client.list_workflows(f"CvUserId = '{me['id']}'")]
    assert found == [accepted["workflow_id"]]
    history = await handle.fetch_history()
    summaries = [
        e.user_metadata.summary for e in history.events if e.HasField("user_metadata") and e.user_metadata.summary.data
    ]
    assert len(summaries) >= 7, "each activity carries a readable summary"


async def test_temporal_unreachable_answers_503_and_leaves_nothing_behind(
    temporal_env: WorkflowEnvironment, base_settings: Settings
) -> None:
    settings = base_settings.model_copy(
        update={"temporal_task_queue": "cv-improver-nowhere", "temporal_address": "127.0.0.1:9"}
    )
    async with open_stack(temporal_env, settings, worker=False) as stack:
        stack.services.temporal = None  # connect to the configured (unreachable) address
        headers = await stack.user()
        cv = await stack.upload(headers, "jane.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
        r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json=TARGET)
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "5" and r.json()["code"] == "temporarily_unavailable"
        assert (await stack.http.get("/improvements", headers=headers)).json() == []
        assert (await stack.http.get("/me", headers=headers)).json()["quota"]["used"] == 0
        ready = await stack.http.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["temporal"].startswith("failed")
