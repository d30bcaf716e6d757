"""Building a version from chosen changes, and the differences between versions: the cases of the pure logic."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from activities.versions import ChangeRefused, build_version, chosen_changes
from models.improvement import Change, VerificationWarning
from models.resume import Resume
from models.versions import ChangeNotApplicable, apply_changes, diff_documents
from tests.verification.test_verification import ORIGINAL, original


def change(cid: str, path: str, before: str | None, after: str | None) -> Change:
    return Change(id=cid, path=path, before=before, after=after, reason="r")


def edited(**paths: Any) -> dict[str, Any]:
    """The original as JSON with values set at paths written `work__0__summary`."""
    data = copy.deepcopy(ORIGINAL)
    for key, value in paths.items():
        *parents, last = key.split("__")
        node: Any = data
        for segment in parents:
            node = node[int(segment)] if segment.isdigit() else node[segment]
        node[int(last) if last.isdigit() else last] = value
    return Resume.model_validate(data).model_dump(mode="json")


def test_a_change_replaces_the_value_at_its_path() -> None:
    built = apply_changes(
        original(), [change("c1", "work/1/highlights/1", "Served 1,000 customers", "Served 1000 users")]
    )
    assert built.model_dump(mode="json") == edited(work__1__highlights__1="Served 1000 users")


def test_no_changes_give_the_original_and_the_same_changes_the_same_version() -> None:
    assert apply_changes(original(), []) == original()
    chosen = [
        change("c1", "basics/summary", None, "Engineer."),
        change("c2", "skills", "Backend, Operations", "Operations, Backend"),
    ]
    assert apply_changes(original(), chosen) == apply_changes(original(), chosen)


def test_wording_finds_its_text_when_the_reordering_it_came_with_was_not_chosen() -> None:
    # The engine reordered skills first, so its path names the group where it moved to.
    keyword = change("c2", "skills/0/keywords/0", "k8s", "Kubernetes")
    alone = apply_changes(original(), [keyword])
    assert [s.keywords for s in alone.skills] == [["Python", "Postgres"], ["Kubernetes", "Docker"]]
    both = apply_changes(original(), [change("c1", "skills", "Backend, Operations", "Operations, Backend"), keyword])
    assert [s.name for s in both.skills] == ["Operations", "Backend"]
    assert both.skills[0].keywords == ["Kubernetes", "Docker"]


def test_keyword_order_follows_its_group_wherever_it_is() -> None:
    built = apply_changes(original(), [change("c1", "skills/0/keywords", "k8s, Docker", "Docker, k8s")])
    assert [s.keywords for s in built.skills] == [["Python", "Postgres"], ["Docker", "k8s"]]


def test_the_section_order_goes_to_meta() -> None:
    built = apply_changes(original(), [change("c1", "sections/order", "work, skills", "skills, projects, work")])
    assert built.model_extra == {"meta": {"version": "v1.0.0", "sectionOrder": ["skills", "projects", "work"]}}


@pytest.mark.parametrize(
    "bad",
    [
        change("c1", "sections/order", None, "skills, hobbies"),
        change("c1", "sections/order", None, "work, work"),
        change("c1", "skills", None, "Operations, Frontend"),
        change("c1", "skills", None, "Operations"),
        change("c1", "skills/0/keywords", "Rust, Go", "Go, Rust"),
        change("c1", "work/7/highlights/0", "Led", "Led a team"),
    ],
)
def test_changes_that_do_not_fit_the_cv_are_refused(bad: Change) -> None:
    with pytest.raises(ChangeNotApplicable) as info:
        apply_changes(original(), [bad])
    assert info.value.change_id == "c1" and "c1" in str(info.value)


def test_a_highlight_can_be_added_or_emptied() -> None:
    added = apply_changes(original(), [change("c1", "work/0/highlights/2", None, "Mentored two engineers")])
    assert added.work[0].highlights[-1] == "Mentored two engineers"
    emptied = apply_changes(
        original(),
        [
            change("c1", "work/1/highlights/0", "Built internal tools in Python", None),
            change("c2", "work/1/highlights/2", "Cut costs to $1.2M", ""),
        ],
    )
    assert emptied.work[1].highlights == ["Served 1,000 customers"]


def test_a_version_is_fact_checked_again_whatever_the_engine_claimed() -> None:
    # The engine's resume may have been clean while its change's `after` invents a number.
    lying = change(
        "c3", "work/0/highlights/1", "Maintained the billing service", "Maintained the billing service for 40 teams"
    )
    with pytest.raises(ChangeRefused) as info:
        build_version(original(), [lying])
    assert info.value.code == "change_rejected" and info.value.change_ids == ["c3"]
    assert '"40"' in info.value.message
    order = change("c1", "sections/order", None, "skills, work")
    assert build_version(original(), [order]).model_extra["meta"]["sectionOrder"] == ["skills", "work"]  # type: ignore[index]


def test_chosen_changes_keep_the_improvement_order_and_refuse_unknown_or_reverted_ids() -> None:
    changes = [change("c1", "basics/summary", None, "A"), change("c2", "work/0/summary", None, "B")]
    warnings = [VerificationWarning(change_id="c3", path="work/0/name", code="blocked_path", message="m")]
    assert [c.id for c in chosen_changes(changes, warnings, ["c2", "c1", "c2"])] == ["c1", "c2"]
    with pytest.raises(ChangeRefused) as unknown:
        chosen_changes(changes, warnings, ["c1", "c9", "c3"])
    assert (unknown.value.code, unknown.value.change_ids) == ("unknown_change", ["c9"])
    with pytest.raises(ChangeRefused) as reverted:
        chosen_changes(changes, warnings, ["c3"])
    assert (reverted.value.code, reverted.value.change_ids) == ("change_reverted", ["c3"])


def test_differences_are_listed_path_by_path_in_reading_order() -> None:
    after = copy.deepcopy(ORIGINAL)
    after["work"][1]["highlights"].pop()
    after["skills"][0]["keywords"][0] = "Python 3"
    after["basics"]["summary"] = "Engineer."
    after["awards"] = [{"title": "Hackathon winner"}]
    # Storage may hand keys back in any order: the differences follow JSON Resume's.
    shuffled = dict(reversed(list(after.items())))
    assert [(d.path, d.before, d.after) for d in diff_documents(ORIGINAL, shuffled)] == [
        ("basics/summary", ORIGINAL["basics"]["summary"], "Engineer."),
        ("work/1/highlights/2", "Cut costs to $1.2M", None),
        ("awards/0", None, {"title": "Hackathon winner"}),  # awards come before skills in JSON Resume
        ("skills/0/keywords/0", "Python", "Python 3"),
    ]
    assert diff_documents(ORIGINAL, ORIGINAL) == []
