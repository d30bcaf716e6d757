"""Every checked-in history replays against the workflow code of this checkout: a change that would break
running workflows fails here, in CI, before it is deployed. Histories come from real runs
(`python -m tests.replay.record`); see README, "Changing a running workflow"."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType

from models.settings import Environment, Settings
from ops.replay import replay_history
from ops.temporal import data_converter
from tests.replay.record import HISTORIES, load
from workflows.registry import WORKFLOWS

HISTORY_FILES = sorted(HISTORIES.glob("*.json"))
SETTINGS = Settings(env=Environment.TEST, _env_file=None)


def _types(path: Path) -> str:
    events = load(path).events
    return events[0].workflow_execution_started_event_attributes.workflow_type.name


@pytest.mark.parametrize("path", HISTORY_FILES, ids=[p.stem for p in HISTORY_FILES])
async def test_history_replays_against_the_current_code(path: Path) -> None:
    outcome = await replay_history(load(path), data_converter=data_converter(SETTINGS))
    assert outcome.compatible, f"{path.name}: {outcome.describe()}"
    assert outcome.events > 5


def test_every_workflow_has_recorded_histories() -> None:
    recorded = {_types(path) for path in HISTORY_FILES}
    registered = {w.__temporal_workflow_definition.name for w in WORKFLOWS}  # type: ignore[attr-defined]
    assert (
        recorded
        == registered
        == {
            "CvImprovementWorkflow",
            "CvRenderWorkflow",
            "AccountDeletionWorkflow",
            "SubscriptionWorkflow",
        }
    )
    names = {path.stem for path in HISTORY_FILES}
    assert {"CvImprovementWorkflow-completed", "CvImprovementWorkflow-failed"} <= names


def test_the_subscription_histories_cross_continue_as_new() -> None:
    """One run that ends in continue-as-new after a checkout and a renewal, and the run it continued as."""
    first = load(HISTORIES / "SubscriptionWorkflow-checkout-renewal-continue-as-new.json")
    second = load(HISTORIES / "SubscriptionWorkflow-renewal-cancel-after-continue-as-new.json")
    assert first.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    updates = [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for e in first.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]
    assert updates == ["start_checkout"]
    started = second.events[0].workflow_execution_started_event_attributes
    assert started.continued_execution_run_id == first.run_id
    assert any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED for e in second.events)


def test_the_failed_improvement_history_holds_a_retried_then_failed_rewrite() -> None:
    events = load(HISTORIES / "CvImprovementWorkflow-failed.json").events
    assert events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED
    started = [
        e.activity_task_started_event_attributes for e in events if e.HasField("activity_task_started_event_attributes")
    ]
    assert [s.attempt for s in started] == [2]
