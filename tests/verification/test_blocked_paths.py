"""The allow-list of editable paths, and its enforcement by the fact check: a change outside it is reverted
with a `blocked_path` warning before any other check, whichever engine proposed it."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from openai import AsyncOpenAI

from activities.llm import OpenAIEngine, improve_offline
from activities.verification import verify_rewrite
from models.edit_paths import ALLOWED_PATHS_TEXT, blocked_reason, is_allowed, is_order_path
from models.improvement import Change, RewriteResult, VerificationResult
from models.resume import Resume
from tests.fakes.corpus import sample_resume, sample_target
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.verification.test_verification import ORIGINAL, codes, original, setter

ALLOWED = [
    "basics/summary",
    "work/0/summary",
    "work/3/highlights/12",
    "volunteer/1/summary",
    "volunteer/0/highlights/0",
    "projects/2/description",
    "projects/0/highlights/4",
    "skills/0/name",
    "skills/1/keywords/3",
    "sections/order",
    "skills",
    "skills/2/keywords",
    # other notations of the same places
    "work[0].highlights[1]",
    "/basics/summary",
    "projects.1.description",
]

BLOCKED = {
    "basics/name": "name, title and contact details",
    "basics/label": "name, title and contact details",
    "basics/email": "name, title and contact details",
    "basics/phone": "name, title and contact details",
    "basics/url": "name, title and contact details",
    "basics/image": "name, title and contact details",
    "basics/location/city": "name, title and contact details",
    "basics/profiles/0/url": "name, title and contact details",
    "basics": "name, title and contact details",
    "work/0/name": "employers",
    "volunteer/0/organization": "employers",
    "work/0/position": "job titles",
    "volunteer/1/position": "job titles",
    "projects/0/roles/0": "job titles",
    "work/0/startDate": "dates",
    "work/2/endDate": "dates",
    "projects/0/startDate": "dates",
    "awards/0/date": "dates",
    "education/0/institution": "schools, degrees",
    "education/0/area": "schools, degrees",
    "education/0/studyType": "schools, degrees",
    "education/0/score": "schools, degrees",
    "education/0/courses/1": "schools, degrees",
    "education": "schools, degrees",
    "awards/0/title": "awards, certificates",
    "certificates/0/name": "awards, certificates",
    "publications/0/summary": "awards, certificates, publications",
    "languages/0/fluency": "languages",
    "interests/0/keywords/0": "interests",
    "references/0/reference": "references",
    "work/0": "only summaries, highlights",
    "work/0/highlights": "only summaries, highlights",
    "work/0/description": "only summaries, highlights",
    "work/0/url": "only summaries, highlights",
    "work": "only summaries, highlights",
    "skills/0": "only summaries, highlights",
    "skills/0/level": "only summaries, highlights",
    "projects/0/name": "only summaries, highlights",
    "meta/version": "only summaries, highlights",
    "sections": "only summaries, highlights",
    "": "only summaries, highlights",
}


@pytest.mark.parametrize("path", ALLOWED)
def test_wording_and_order_paths_are_allowed(path: str) -> None:
    assert is_allowed(path)
    assert blocked_reason(path) is None


@pytest.mark.parametrize(("path", "reason"), BLOCKED.items())
def test_facts_and_broad_paths_are_blocked_with_a_reason(path: str, reason: str) -> None:
    assert not is_allowed(path)
    assert reason in (blocked_reason(path) or "")


def test_order_paths_are_told_apart_from_wording() -> None:
    assert [p for p in ALLOWED if is_order_path(p)] == ["sections/order", "skills", "skills/2/keywords"]


# --- enforcement in the fact check ------------------------------------------------------------------------


def reported(edits: dict[str, Any], *extra: str) -> VerificationResult:
    """Set each path to its value in a copy of the original, report one change per path (c1, c2, ... in order)
    plus changes at `extra` paths without an edit, and verify."""
    data = copy.deepcopy(ORIGINAL)
    for path, value in edits.items():
        setter(path, value)(data)
    paths = [*edits, *extra]
    changes = [Change(id=f"c{n}", path=p, before=None, after=None, reason="r") for n, p in enumerate(paths, 1)]
    return verify_rewrite(original(), RewriteResult(resume=Resume.model_validate(data), changes=changes, engine="t"))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("work/0/name", "Globex Corporation"),
        ("work/0/name", "Hooli"),
        ("work/0/position", "Principal Engineer"),
        ("work/0/startDate", "2018-01"),
        ("work/1/endDate", "2021-12"),
        ("work/1/endDate", None),
        ("education/0/institution", "University of Oxford"),
        ("education/0/studyType", "PhD"),
        ("education/0/endDate", "2015"),
        ("basics/name", "Ada King"),
        ("basics/label", "Staff Engineer"),
        ("basics/email", "ada@evil.example.com"),
        ("skills/0/level", "Expert"),
        ("projects/0/name", "Deep Blue"),
    ],
)
def test_a_reported_change_to_a_blocked_path_is_reverted_first(path: str, value: Any) -> None:
    result = reported({path: value, "work/0/highlights/1": "Maintain the billing service"})
    # Only the blocked-path warning: the value is restored before the other checks could name the fact.
    assert [w.model_dump() for w in result.warnings] == [
        {
            "change_id": "c1",
            "path": path,
            "code": "blocked_path",
            "message": f"Change c1 to {path} was reverted: {path} is not open to rewriting ({blocked_reason(path)}).",
        }
    ]
    assert result.resume.model_dump() == _with(ORIGINAL, "work/0/highlights/1", "Maintain the billing service")
    assert [c.id for c in result.changes] == ["c2"]


def _with(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    edited = copy.deepcopy(data)
    setter(path, value)(edited)
    return Resume.model_validate(edited).model_dump()


def test_an_added_blocked_field_is_removed() -> None:
    data = copy.deepcopy(ORIGINAL)
    del data["basics"]["label"]
    base = Resume.model_validate(data)
    data["basics"]["label"] = "Chief Architect"
    change = Change(id="c1", path="basics/label", before=None, after="Chief Architect", reason="r")
    result = verify_rewrite(base, RewriteResult(resume=Resume.model_validate(data), changes=[change], engine="t"))
    assert codes(result) == ["blocked_path"]
    assert result.resume.basics.label is None


def test_several_blocked_changes_each_get_a_warning_and_other_checks_still_run() -> None:
    data = copy.deepcopy(ORIGINAL)
    data["work"][0]["name"] = "Hooli"
    data["work"][1]["startDate"] = "2010-01"
    data["work"][1]["highlights"][1] = "Served 9,000 customers"  # reported, allowed, but invents a number
    data["work"][0]["position"] = "CTO"  # not reported: the document check still finds it
    changes = [
        Change(id="c1", path="work[0].name", before="Globex", after="Hooli", reason="r"),
        Change(id="c2", path="work/1/startDate", before="2016-05", after="2010-01", reason="r"),
        Change(id="c3", path="work/1/highlights/1", before=None, after=None, reason="r"),
    ]
    result = verify_rewrite(original(), RewriteResult(resume=Resume.model_validate(data), changes=changes, engine="t"))
    assert [(w.code, w.change_id, w.path) for w in result.warnings] == [
        ("blocked_path", "c1", "work/0/name"),
        ("blocked_path", "c2", "work/1/startDate"),
        ("invented_title", None, "work/0/position"),
        ("invented_number", "c3", "work/1/highlights/1"),
    ]
    assert result.resume == original()
    assert result.changes == []


def test_a_broad_blocked_change_around_allowed_ones_keeps_their_text() -> None:
    result = reported(
        {"work/0/highlights/0": "Cut build time by 30 percent"},
        "work/0",  # the engine also reported the whole entry
    )
    assert [(w.code, w.change_id) for w in result.warnings] == [("blocked_path", "c2")]
    assert result.resume.work[0].highlights[0] == "Cut build time by 30 percent"
    assert [c.id for c in result.changes] == ["c1"]


def test_a_blocked_change_inside_a_list_whose_length_changed_is_left_to_the_structure_check() -> None:
    def add(d: dict[str, Any]) -> None:
        d["work"].insert(0, {"name": "Acme", "position": "CTO"})

    data = copy.deepcopy(ORIGINAL)
    add(data)
    change = Change(id="c1", path="work/0/name", before=None, after="Acme", reason="r")
    result = verify_rewrite(original(), RewriteResult(resume=Resume.model_validate(data), changes=[change], engine="t"))
    assert codes(result) == ["blocked_path", "entry_added"]
    assert [w.name for w in result.resume.work] == ["Globex", "Initech"]


def test_allowed_order_and_wording_changes_pass() -> None:
    data = copy.deepcopy(ORIGINAL)
    data["skills"].reverse()
    data["skills"][0]["keywords"].reverse()
    data["skills"][0]["name"] = "Operations and tooling"
    changes = [
        Change(id="c1", path="sections/order", before="work, education", after="education, work", reason="r"),
        Change(id="c2", path="skills", before="Backend, Operations", after="Operations, Backend", reason="r"),
        Change(id="c3", path="skills/0/keywords", before="k8s, Docker", after="Docker, k8s", reason="r"),
        Change(id="c4", path="skills/0/name", before="Operations", after="Operations and tooling", reason="r"),
    ]
    result = verify_rewrite(original(), RewriteResult(resume=Resume.model_validate(data), changes=changes, engine="t"))
    assert result.warnings == []
    assert [c.id for c in result.changes] == ["c1", "c2", "c3", "c4"]


# --- the engines ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def engine(fake: FakeOpenAI) -> Iterator[OpenAIEngine]:
    fake.reset()
    yield OpenAIEngine(AsyncOpenAI(base_url=fake.base_url, api_key="sk-test", max_retries=0, timeout=5), "gpt-test")
    fake.reset()


@pytest.mark.parametrize(
    ("path", "value", "restored"),
    [
        ("work/0/name", "Hooli", "Pied Piper"),
        ("work/0/startDate", "2009-01-01", "2013-12-01"),
        ("work/0/position", "Chief Technology Officer", "CEO/President"),
        ("education/0/institution", "Stanford University", "University of Oklahoma"),
        ("basics/label", "Visionary", "Programmer"),
    ],
)
async def test_an_openai_answer_editing_a_blocked_path_is_reverted(
    engine: OpenAIEngine, fake: FakeOpenAI, path: str, value: str, restored: str
) -> None:
    fake.script(Reply.edit_path(path, value))
    rewrite = await engine.rewrite(sample_resume(), sample_target())
    assert [c.path for c in rewrite.changes][-1] == path  # the model did report it

    result = verify_rewrite(sample_resume(), rewrite)
    blocked = [w for w in result.warnings if w.code == "blocked_path"]
    assert len(blocked) == 1 and blocked[0].path == path and path in blocked[0].message
    assert blocked[0].change_id == rewrite.changes[-1].id
    section, *rest = path.split("/")
    node: Any = result.resume.model_dump()[section]
    for segment in rest:
        node = node[int(segment)] if segment.isdigit() else node[segment]
    assert node == restored
    assert path not in [c.path for c in result.changes]
    # the wording the model was allowed to change survives
    assert [c.path for c in result.changes] == ["basics/summary", "work/0/highlights/0"]


async def test_the_model_is_told_the_allow_list(engine: OpenAIEngine, fake: FakeOpenAI) -> None:
    await engine.rewrite(sample_resume(), sample_target())
    system = fake.requests[-1].body["messages"][0]
    assert system["role"] == "system" and ALLOWED_PATHS_TEXT in system["content"]


def test_the_offline_engine_proposes_only_allowed_paths_with_unique_ids() -> None:
    result = improve_offline(sample_resume(), sample_target())
    assert result.changes
    assert all(is_allowed(c.path) for c in result.changes), [c.path for c in result.changes]
    ids = [c.id for c in result.changes]
    assert len(set(ids)) == len(ids)
    assert "blocked_path" not in codes(verify_rewrite(sample_resume(), result))


async def test_openai_change_ids_are_unique_even_when_the_model_repeats_a_path(
    engine: OpenAIEngine, fake: FakeOpenAI
) -> None:
    resume = sample_resume().model_dump(mode="json", exclude_none=True)
    summary = resume["basics"]["summary"]
    twice = [{"path": "basics/summary", "before": summary, "after": "Programmer.", "reason": "Shorter."}] * 2
    fake.script(Reply.json_content({"resume": resume, "changes": twice}))
    result = await engine.rewrite(sample_resume(), sample_target())
    assert [c.id for c in result.changes] == ["c1", "c2"]
