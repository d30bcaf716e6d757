"""Choosing an improvement's changes and the versions of a CV, through the public API: version 1 at upload,
a version made of exactly the chosen changes with its PDFs rendered again (no LLM call, no quota), the same
choice answered with the same version, refusals, differences, restore, and other users kept out."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from pypdf import PdfReader
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from models.settings import Settings
from tests.conftest import CORPUS, SAMPLES, Stack, llm_settings, open_stack
from tests.fakes.openai_server import FakeOpenAI, Reply

CV = (SAMPLES / "jane-doe-cv.md").read_bytes()
TARGET = {
    "position": "Senior Backend Engineer",
    "job_description": (SAMPLES / "job-senior-backend.txt").read_text(),
    "theme": "classic",
    "paper": "A4",
}

Headers = dict[str, str]


async def _improved(stack: Stack, headers: Headers, data: bytes = CV) -> tuple[dict[str, Any], dict[str, Any]]:
    """A CV and a completed improvement of it."""
    cv = await stack.upload(headers, "cv", data)
    r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json=TARGET)
    assert r.status_code == 202, r.text
    improvement = await stack.wait_finished(headers, r.json()["improvement_id"], timeout=90)
    assert improvement["stage"] == "completed", improvement
    return cv, improvement


def _change(improvement: dict[str, Any], path: str | None = None, before: str | None = None) -> dict[str, Any]:
    change = next(
        c
        for c in improvement["changes"]
        if (path is None or c["path"] == path) and (before is None or c["before"] == before)
    )
    assert change["before"] != change["after"], change
    return dict(change)


async def _apply(stack: Stack, headers: Headers, improvement_id: str, accepted: list[str]) -> dict[str, Any]:
    r = await stack.http.post(f"/improvements/{improvement_id}/apply", headers=headers, json={"accepted": accepted})
    assert r.status_code in (200, 202), r.text
    body = dict(r.json())
    assert (r.status_code == 202) == (body["status"] == "rendering")
    return body


async def _pdf(stack: Stack, headers: Headers, url: str, timeout: float = 30) -> bytes:
    """The PDF at `url`, once rendered (409 while it renders)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        r = await stack.http.get(url, headers=headers)
        if r.status_code == 200:
            return r.content
        assert r.status_code == 409 and r.json()["code"] == "rendering", r.text
        assert asyncio.get_running_loop().time() < deadline, "the PDF was not rendered again"
        await asyncio.sleep(0.1)


def _text(pdf: bytes) -> str:
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages)


async def _versions(stack: Stack, headers: Headers, cv_id: str) -> list[dict[str, Any]]:
    r = await stack.http.get(f"/cvs/{cv_id}/versions", headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json())


async def _version(stack: Stack, headers: Headers, cv_id: str, number: int) -> dict[str, Any]:
    r = await stack.http.get(f"/cvs/{cv_id}/versions/{number}", headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _activities_run(stack: Stack, workflow_id: str) -> list[str]:
    history = await stack.client.get_workflow_handle(workflow_id).fetch_history()
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


# --- the offline engine -----------------------------------------------------------------------------------


async def test_applying_chosen_changes_makes_a_version_of_exactly_those_and_renders_it(stack: Stack) -> None:
    headers = await stack.user()
    cv, improvement = await _improved(stack, headers)
    iid, original = improvement["id"], cv["resume"]
    assert [(v["number"], v["source"]) for v in await _versions(stack, headers, cv["id"])] == [(1, "original")]
    assert await _version(stack, headers, cv["id"], 1) == original

    # A second PDF variant, to see every PDF of the improvement rendered again.
    r = await stack.http.post(
        f"/improvements/{iid}/render", headers=headers, json={"theme": "modern", "paper": "Letter"}
    )
    await stack.client.get_workflow_handle(r.json()["workflow_id"]).result()
    classic_url = f"/improvements/{iid}/pdf?theme=classic&paper=A4"
    modern_url = f"/improvements/{iid}/pdf?theme=modern&paper=Letter"
    old_classic, old_modern = await _pdf(stack, headers, classic_url), await _pdf(stack, headers, modern_url)
    assert "I am a backend engineer" not in _text(old_classic)  # the proposal rewrote the summary

    # The summary, one highlight, and a skill's wording without the reordering of skills that came with it.
    chosen = [
        _change(improvement, "basics/summary"),
        _change(improvement, "work/0/highlights/1"),
        _change(improvement, before="k8s"),
    ]
    assert any(c["path"] == "skills" for c in improvement["changes"])
    applied = await _apply(stack, headers, iid, [c["id"] for c in reversed(chosen)])
    assert applied["version"] == 2 and applied["created"] is True and applied["status"] == "rendering"
    assert applied["accepted_change_ids"] == [c["id"] for c in chosen]  # in the improvement's order
    assert len(applied["render_workflow_ids"]) == 2 and applied["pdf_url"] == classic_url

    versions = await _versions(stack, headers, cv["id"])
    assert [(v["number"], v["source"], v["improvement_id"], v["accepted_count"]) for v in versions] == [
        (1, "original", None, None),
        (2, "applied", iid, 3),
    ]
    version = await _version(stack, headers, cv["id"], 2)
    r = await stack.http.get(f"/cvs/{cv['id']}/versions/diff", params={"from": 1, "to": 2}, headers=headers)
    assert r.status_code == 200, r.text
    assert [(d["before"], d["after"]) for d in r.json()] == [(c["before"], c["after"]) for c in chosen]
    assert [d["path"] for d in r.json()][:2] == ["basics/summary", "work/0/highlights/1"]
    # Everything not chosen is as uploaded: the other highlights, the order of the skills.
    assert version["work"][0]["highlights"][0] == original["work"][0]["highlights"][0]
    assert [s["name"] for s in version["skills"]] == [s["name"] for s in original["skills"]]
    resume = await stack.http.get(f"/improvements/{iid}/resume.json", headers=headers)
    assert resume.json() == version

    new_classic, new_modern = await _pdf(stack, headers, classic_url), await _pdf(stack, headers, modern_url)
    assert new_classic != old_classic and new_modern != old_modern
    text = _text(new_classic)
    assert chosen[0]["after"][:40] in text and original["work"][0]["highlights"][0][:40] in text
    body = (await stack.http.get(f"/improvements/{iid}", headers=headers)).json()
    assert {(p["theme"], p["paper"]) for p in body["pdfs"]} == {("classic", "A4"), ("modern", "Letter")}

    # No model, no quota: one improvement run, renders only.
    assert (await stack.http.get("/me", headers=headers)).json()["quota"]["used"] == 1
    runs = [w async for w in stack.client.list_workflows(f"WorkflowId = '{improvement['workflow_id']}'")]
    assert len(runs) == 1
    for workflow_id in applied["render_workflow_ids"]:
        assert await _activities_run(stack, workflow_id) == ["render_pdf"]


async def test_the_same_choice_answers_the_same_version(stack: Stack) -> None:
    headers = await stack.user()
    cv, improvement = await _improved(stack, headers)
    iid = improvement["id"]
    some = [_change(improvement, "basics/summary")["id"], _change(improvement, "work/0/highlights/0")["id"]]
    first = await _apply(stack, headers, iid, some)
    assert first["version"] == 2
    await _pdf(stack, headers, first["pdf_url"])

    again = await _apply(stack, headers, iid, [*reversed(some), some[0]])
    assert (again["version"], again["created"], again["status"], again["render_workflow_ids"]) == (
        2,
        False,
        "ready",
        [],
    )

    every = await _apply(stack, headers, iid, [c["id"] for c in improvement["changes"]])
    assert every["version"] == 3 and every["status"] == "rendering"
    # Every change applied is the improvement's proposal itself.
    assert await _version(stack, headers, cv["id"], 3) == improvement["result"]

    back = await _apply(stack, headers, iid, some)
    assert (back["version"], back["created"], back["status"]) == (2, False, "rendering")
    assert len(await _versions(stack, headers, cv["id"])) == 3
    resume = (await stack.http.get(f"/improvements/{iid}/resume.json", headers=headers)).json()
    assert resume == await _version(stack, headers, cv["id"], 2)
    await _pdf(stack, headers, back["pdf_url"])


async def test_unknown_changes_and_unfinished_improvements_are_refused(stack: Stack) -> None:
    headers = await stack.user()
    cv, improvement = await _improved(stack, headers)
    iid = improvement["id"]
    known = improvement["changes"][0]["id"]
    r = await stack.http.post(f"/improvements/{iid}/apply", headers=headers, json={"accepted": [known, "c999", "x"]})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == "unknown_change" and problem["change_ids"] == ["c999", "x"]
    assert "c999" in problem["detail"] and "x" in problem["detail"]
    r = await stack.http.post(f"/improvements/{iid}/apply", headers=headers, json={"accepted": "c1"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert len(await _versions(stack, headers, cv["id"])) == 1  # nothing was stored

    # Nothing chosen: a version equal to the upload, and the PDF of the upload.
    none = await _apply(stack, headers, iid, [])
    assert await _version(stack, headers, cv["id"], none["version"]) == cv["resume"]
    assert "I am a backend engineer" in _text(await _pdf(stack, headers, none["pdf_url"]))

    r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json=TARGET)
    running = r.json()["improvement_id"]
    r = await stack.http.post(f"/improvements/{running}/apply", headers=headers, json={"accepted": []})
    if r.status_code != 202:  # unless the offline run was already done
        assert r.status_code == 409 and r.json()["code"] == "conflict", r.text
    await stack.wait_finished(headers, running)


async def test_differences_and_restore(stack: Stack) -> None:
    headers = await stack.user()
    cv, improvement = await _improved(stack, headers)
    url = f"/cvs/{cv['id']}/versions"
    summary = _change(improvement, "basics/summary")
    await _apply(stack, headers, improvement["id"], [summary["id"]])

    r = await stack.http.get(f"{url}/diff", headers=headers)  # by default: the original to the latest
    assert r.json() == [{"path": "basics/summary", "before": summary["before"], "after": summary["after"]}]

    r = await stack.http.post(f"{url}/1/restore", headers=headers)
    assert r.status_code == 201, r.text
    restored = r.json()
    assert (restored["number"], restored["source"], restored["note"]) == (3, "restored", "Restored from version 1")
    assert r.headers["location"] == restored["url"] == f"{url}/3"
    assert await _version(stack, headers, cv["id"], 3) == cv["resume"]
    r = await stack.http.get(f"{url}/diff", params={"from": 2, "to": 3}, headers=headers)
    assert r.json() == [{"path": "basics/summary", "before": summary["after"], "after": summary["before"]}]
    assert (await stack.http.get(f"{url}/diff", headers=headers)).json() == []
    assert [v["source"] for v in await _versions(stack, headers, cv["id"])] == ["original", "applied", "restored"]

    for method, path in [("GET", f"{url}/9"), ("POST", f"{url}/9/restore"), ("GET", f"{url}/diff?from=9")]:
        r = await stack.http.request(method, path, headers=headers)
        assert r.status_code == 404 and "version 9" in r.json()["detail"], (path, r.text)
    assert (await stack.http.get(f"{url}/0", headers=headers)).status_code == 422


async def test_another_user_gets_404_and_deleting_the_cv_deletes_its_versions(stack: Stack) -> None:
    owner = await stack.user()
    cv, improvement = await _improved(stack, owner)
    await _apply(stack, owner, improvement["id"], [improvement["changes"][0]["id"]])
    intruder = await stack.user()
    url = f"/cvs/{cv['id']}/versions"
    for method, path, body in [
        ("GET", url, None),
        ("GET", f"{url}/1", None),
        ("GET", f"{url}/diff?from=1&to=2", None),
        ("POST", f"{url}/1/restore", None),
        ("POST", f"/improvements/{improvement['id']}/apply", {"accepted": [improvement["changes"][0]["id"]]}),
    ]:
        r = await stack.http.request(method, path, headers=intruder, json=body)
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert len(await _versions(stack, owner, cv["id"])) == 2

    assert (await stack.http.delete(f"/cvs/{cv['id']}", headers=owner)).status_code == 204
    assert (await stack.http.get(url, headers=owner)).status_code == 404


# --- the OpenAI engine: reverted changes, and no model call to apply ------------------------------------


@pytest_asyncio.fixture(scope="module")
async def llm_stack(
    temporal_env: WorkflowEnvironment, base_settings: Settings, fake_llm: FakeOpenAI
) -> AsyncIterator[Stack]:
    settings = llm_settings(base_settings, "cv-improver-versions-llm", fake_llm.base_url)
    async with open_stack(temporal_env, settings) as s:
        yield s


@pytest.mark.parametrize(
    ("reply", "code"),
    [(Reply.invent_number(), "invented_number"), (Reply.edit_path("work/0/name", "Hooli Inc"), "blocked_path")],
)
async def test_reverted_changes_cannot_be_applied_and_applying_asks_no_model(
    llm_stack: Stack, fake_llm: FakeOpenAI, reply: Reply, code: str
) -> None:
    fake_llm.reset()
    fake_llm.script(reply)
    headers = await llm_stack.user()
    # Its summary has an aside the test server's rewrite removes: a change that survives the fact check.
    cv, improvement = await _improved(llm_stack, headers, (CORPUS / "jsonresume-sample.resume.json").read_bytes())
    reverted = next(w for w in improvement["warnings"] if w["code"] == code)
    assert reverted["change_id"] and reverted["change_id"] not in [c["id"] for c in improvement["changes"]]
    calls = len(fake_llm.requests)

    r = await llm_stack.http.post(
        f"/improvements/{improvement['id']}/apply", headers=headers, json={"accepted": [reverted["change_id"]]}
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "change_reverted" and r.json()["change_ids"] == [reverted["change_id"]]

    summary = _change(improvement, "basics/summary")
    applied = await _apply(llm_stack, headers, improvement["id"], [summary["id"]])
    assert applied["version"] == 2
    version = await _version(llm_stack, headers, cv["id"], 2)
    assert version["basics"]["summary"] == summary["after"]
    assert version["work"][0] == cv["resume"]["work"][0]  # neither the invented number nor the employer
    await _pdf(llm_stack, headers, applied["pdf_url"])
    assert len(fake_llm.requests) == calls
    assert (await llm_stack.http.get("/me", headers=headers)).json()["quota"]["used"] == 1
