"""Changing a running workflow: an incompatible change fails the replay of recorded histories, and the same change
guarded by `workflow.patched` replays them. Shown on copies of the workflow modules, and on the real change
CvRenderWorkflow made (the CvStage search attribute), with a history recorded before it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.common import SearchAttributeKey

from models.settings import Environment, Settings
from models.workflow_io import SA_CV_STAGE
from ops.replay import replay_from_server, replay_history
from ops.temporal import data_converter
from tests.conftest import SAMPLES, Stack
from tests.replay.changes import SCORE_FIRST, SCORE_FIRST_PATCHED, changed_copy
from tests.replay.record import HISTORIES, load
from workflows.cv_render import STAGE_PATCH

CONVERTER = data_converter(Settings(env=Environment.TEST, _env_file=None))
BEFORE_STAGE_PATCH = HISTORIES / "CvRenderWorkflow-before-stage-patch.json"


def _patches(history: WorkflowHistory) -> list[str]:
    """The ids of the patches a run recorded (the SDK core writes them as plain JSON markers)."""
    markers = [
        e.marker_recorded_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_patch"
    ]
    return [json.loads(m.details["patch-data"].payloads[0].data)["id"] for m in markers]


def _stages(history: WorkflowHistory) -> list[str]:
    """The CvStage values a run upserted, in order."""
    fields = [
        e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    ]
    return [json.loads(f[SA_CV_STAGE].data) for f in fields if SA_CV_STAGE in f]


@pytest.fixture
def where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("case", ["completed", "failed"])
async def test_an_extra_activity_without_a_patch_breaks_recorded_improvements(where: Path, case: str) -> None:
    history = load(HISTORIES / f"CvImprovementWorkflow-{case}.json")
    changed = changed_copy("cv_improvement", SCORE_FIRST, where)
    outcome = await replay_history(history, data_converter=CONVERTER, workflows=[changed.CvImprovementWorkflow])
    assert not outcome.compatible and outcome.nondeterministic, outcome
    assert "Nondeterminism" in (outcome.error or "")
    assert "INCOMPATIBLE" in outcome.describe()


@pytest.mark.parametrize("case", ["completed", "failed"])
async def test_the_same_activity_behind_workflow_patched_replays_them(where: Path, case: str) -> None:
    history = load(HISTORIES / f"CvImprovementWorkflow-{case}.json")
    patched = changed_copy("cv_improvement", SCORE_FIRST_PATCHED, where)
    outcome = await replay_history(history, data_converter=CONVERTER, workflows=[patched.CvImprovementWorkflow])
    assert outcome.compatible, outcome.describe()


async def test_a_render_recorded_before_the_stage_patch_still_replays() -> None:
    history = load(BEFORE_STAGE_PATCH)
    assert _patches(history) == [] and _stages(history) == [], "this history must predate the patch"
    outcome = await replay_history(history, data_converter=CONVERTER)
    assert outcome.compatible, outcome.describe()


async def test_the_stage_change_without_its_patch_would_break_that_render(where: Path) -> None:
    unguarded = changed_copy("cv_render", [("workflow.patched(STAGE_PATCH)", "True")], where)
    outcome = await replay_history(
        load(BEFORE_STAGE_PATCH), data_converter=CONVERTER, workflows=[unguarded.CvRenderWorkflow]
    )
    assert outcome.nondeterministic, outcome.describe()
    assert "UpsertWorkflowSearchAttributes" in (outcome.error or "")


async def test_a_new_render_takes_the_patched_branch(stack: Stack) -> None:
    headers = await stack.user()
    cv = await stack.upload(headers, "cv.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
    r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json={"position": "Backend Engineer"})
    assert r.status_code == 202, r.text
    iid = r.json()["improvement_id"]
    assert (await stack.wait_finished(headers, iid))["stage"] == "completed"
    r = await stack.http.post(f"/improvements/{iid}/render", headers=headers, json={"theme": "ats", "paper": "Letter"})
    assert r.status_code == 202, r.text
    handle = stack.client.get_workflow_handle(r.json()["workflow_id"])
    await handle.result()

    description = await handle.describe()
    assert description.typed_search_attributes.get(SearchAttributeKey.for_keyword(SA_CV_STAGE)) == "completed"
    history = await handle.fetch_history()
    assert _patches(history) == [STAGE_PATCH]
    assert _stages(history) == ["rendering", "completed"]
    assert (await replay_from_server(stack.client, handle.id)).compatible
