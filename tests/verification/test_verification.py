"""The fact check: every way a rewrite can add a fact, and the edits it must let through."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from activities.verification import find_numbers, normalize_path, verify_rewrite
from models.improvement import Change, RewriteResult, VerificationResult
from models.resume import Resume

ORIGINAL: dict[str, Any] = {
    "basics": {
        "name": "Ada Lovelace",
        "label": "Software Engineer",
        "email": "ada@example.com",
        "phone": "+44 20 7946 0958",
        "url": "https://ada.example.dev",
        "summary": "Engineer with 7 years of experience in Python and k8s.",
        "location": {"address": "1 Main St", "postalCode": "N1 1AA", "city": "London"},
        "profiles": [{"network": "GitHub", "username": "ada", "url": "https://github.com/ada"}],
    },
    "work": [
        {
            "name": "Globex",
            "position": "Software Engineer",
            "startDate": "2020-01",
            "summary": "Payments platform team.",
            "highlights": ["Reduced build time by 30%", "Maintained the billing service"],
        },
        {
            "name": "Initech",
            "position": "Junior Developer",
            "startDate": "2016-05",
            "endDate": "2019-12",
            "highlights": ["Built internal tools in Python", "Served 1,000 customers", "Cut costs to $1.2M"],
        },
    ],
    "education": [
        {
            "institution": "University of Leeds",
            "area": "Computer Science",
            "studyType": "BSc",
            "startDate": "2012",
            "endDate": "2016",
        }
    ],
    "skills": [
        {"name": "Backend", "level": "Advanced", "keywords": ["Python", "Postgres"]},
        {"name": "Operations", "keywords": ["k8s", "Docker"]},
    ],
    "projects": [{"name": "Chess bot", "description": "A chess engine", "highlights": ["Won a hackathon"]}],
    "meta": {"version": "v1.0.0"},
}


def original() -> Resume:
    return Resume.model_validate(ORIGINAL)


def check(edit: Callable[[dict[str, Any]], None], *changes: tuple[str, str]) -> VerificationResult:
    """Apply `edit` to a copy of the original, report `changes` as (id, path), and verify."""
    data = copy.deepcopy(ORIGINAL)
    edit(data)
    reported = [Change(id=cid, path=path, before=None, after=None, reason="r") for cid, path in changes]
    return verify_rewrite(original(), RewriteResult(resume=Resume.model_validate(data), changes=reported, engine="t"))


def codes(result: VerificationResult) -> list[str]:
    return [w.code for w in result.warnings]


def setter(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = data
        for segment in parents:
            node = node[int(segment)] if isinstance(node, list) else node[segment]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return edit


# --- nothing to revert ----------------------------------------------------------------------------------


def test_an_unchanged_rewrite_passes_untouched() -> None:
    result = check(lambda d: None, ("c1", "work/0/highlights/0"))
    assert result.warnings == []
    assert result.resume == original()
    assert [c.id for c in result.changes] == ["c1"]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("basics/summary", "Python engineer with 7 years of experience, at home with Kubernetes."),
        ("work/0/highlights/0", "Cut build time by 30 percent"),
        ("work/0/highlights/1", "Maintain the billing service"),
        ("work/1/highlights/1", "Served 1000 customers"),
        ("work/1/highlights/2", "Reduced costs to $1,200,000"),
        ("work/1/highlights/0", "Built internal tools in Python at Initech"),
        ("work/0/summary", "Member of the payments platform team at Globex."),
        ("projects/0/description", "A chess engine that won a hackathon"),
        ("skills/1/keywords/0", "Kubernetes"),
    ],
)
def test_rewording_without_new_facts_is_kept(path: str, value: str) -> None:
    result = check(setter(path, value), ("c1", path))
    assert result.warnings == []
    assert [c.id for c in result.changes] == ["c1"]


# --- numbers and dates ----------------------------------------------------------------------------------


def test_an_invented_percentage_is_reverted_with_a_clear_message() -> None:
    result = check(
        setter("work/0/highlights/1", "Maintained the billing service, cutting incidents by 40%"),
        ("c3", "work/0/highlights/1"),
    )
    assert result.warnings[0].model_dump() == {
        "change_id": "c3",
        "path": "work/0/highlights/1",
        "code": "invented_number",
        "message": 'Change c3 to work/0/highlights/1 was reverted: it adds the number "40%" which is not in your CV.',
    }
    assert result.resume.work[0].highlights[1] == "Maintained the billing service"
    assert result.changes == []


@pytest.mark.parametrize(
    "text",
    [
        "Reduced build time by 35%",
        "Reduced build time by 30",  # a share is not a count
        "Reduced build time x10",
        "Reduced build time 10x",
        "Saved $2M in build costs",
        "Reduced build time for 12 teams",
        "Ranked 1st in build speed",
        "Reduced build time by 30% for 2.5k engineers",
    ],
)
def test_invented_numbers_are_reverted(text: str) -> None:
    result = check(setter("work/0/highlights/0", text))
    assert codes(result) == ["invented_number"]
    assert result.resume.work[0].highlights[0] == "Reduced build time by 30%"


def test_a_number_must_come_from_the_same_entry() -> None:
    # "30%" is Globex's; claiming it at Initech is a new fact.
    result = check(setter("work/1/highlights/0", "Built internal tools in Python, cutting build time by 30%"))
    assert codes(result) == ["invented_number"]


def test_the_summary_may_use_numbers_from_anywhere_in_the_cv() -> None:
    result = check(setter("basics/summary", "Engineer with 7 years in Python who served 1,000 customers."))
    assert result.warnings == []


@pytest.mark.parametrize("text", ["Reduced build time by 30% in 2023", "Since March 2021, reduced build time by 30%"])
def test_an_invented_year_is_an_invented_date(text: str) -> None:
    result = check(setter("work/0/highlights/0", text))
    assert codes(result) == ["invented_date"]
    assert "which is not in your CV" in result.warnings[0].message


def test_a_year_from_the_entry_itself_is_fine() -> None:
    result = check(setter("work/1/highlights/0", "Built internal tools in Python from 2016"))
    assert result.warnings == []


# --- names, titles, schools, contacts, skills in free text ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "quoted"),
    [
        ("Maintained the billing service for Acme Corp", "invented_employer", "Acme Corp"),
        ("Maintained the billing service with Google", "invented_employer", "Google"),
        ("Maintained the billing service, then joined Hooli XYZ", "invented_employer", "Hooli XYZ"),
        (
            "Promoted to Staff Engineer after maintaining the billing service",
            "invented_title",
            "Staff Engineer",
        ),
        ("Senior Engineer who maintained the billing service", "invented_title", "Senior Engineer"),
        ("Maintained the billing service while completing an MBA", "invented_education", "MBA"),
        (
            "Maintained the billing service (guest lecturer, Stanford University)",
            "invented_education",
            "Stanford University",
        ),
        ("Maintained the billing service; contact ada.l@corp.example.com", "contact_changed", "ada.l@corp"),
        ("Maintained the billing service, see https://billing.example.org/ada", "contact_changed", "billing"),
        ("Maintained the billing service, call +1 415 555 2671", "contact_changed", "+1 415 555 2671"),
        ("Maintained the billing service in React", "invented_skill", "React"),
        ("Maintained the billing service on AWS", "invented_skill", "AWS"),
    ],
)
def test_new_facts_in_free_text_are_reverted(text: str, code: str, quoted: str) -> None:
    result = check(setter("work/0/highlights/1", text), ("c1", "work/0/highlights/1"))
    assert codes(result) == [code]
    assert quoted in result.warnings[0].message
    assert result.warnings[0].message.startswith("Change c1 to work/0/highlights/1 was reverted: it ")
    assert result.resume.work[0].highlights[1] == "Maintained the billing service"


@pytest.mark.parametrize(
    "text",
    [
        "Maintained the billing service with Docker",  # a skill the CV shows
        "Maintained the billing service with the Initech tools",  # an employer the CV names
        "Maintained the billing service at Globex",
        "Maintained the billing service using Kubernetes",  # "k8s" in the CV: a synonym, not a new skill
        "Maintained the billing service for the Payments team",
    ],
)
def test_names_already_in_the_cv_are_fine(text: str) -> None:
    result = check(setter("work/0/highlights/1", text))
    assert result.warnings == []
    assert result.resume.work[0].highlights[1] == text


def test_an_unknown_placeholder_is_a_contact_change() -> None:
    result = check(setter("basics/summary", "Engineer with 7 years of experience. Mail {{EMAIL_9}}."))
    assert codes(result) == ["contact_changed"]


# --- identity and protected fields ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "code"),
    [
        ("basics/name", "Ada King", "identity_changed"),
        ("basics/email", "someone@else.com", "contact_changed"),
        ("basics/phone", "+1 555 0100 000", "contact_changed"),
        ("basics/url", "https://evil.example.com", "contact_changed"),
        ("basics/location", {"city": "Paris"}, "contact_changed"),
        ("basics/profiles", [], "contact_changed"),
    ],
)
def test_identity_fields_come_back_from_the_original(path: str, value: Any, code: str) -> None:
    result = check(setter(path, value))
    assert codes(result) == [code]
    assert result.resume.basics == original().basics
    assert result.warnings[0].change_id is None
    assert result.warnings[0].message.startswith(f"An unlisted edit to {path} was reverted")


@pytest.mark.parametrize(
    ("path", "value", "code", "restored"),
    [
        ("work/0/name", "Globex Corporation", "invented_employer", "Globex"),
        ("work/0/position", "Senior Software Engineer", "invented_title", "Software Engineer"),
        ("work/0/startDate", "2019-01", "invented_date", "2020-01"),
        ("work/1/endDate", None, "invented_date", "2019-12"),
        ("education/0/studyType", "MSc", "invented_education", "BSc"),
        ("education/0/institution", "University of Oxford", "invented_education", "University of Leeds"),
        ("education/0/area", "Mathematics", "invented_education", "Computer Science"),
        ("projects/0/name", "Chess AI", "fact_changed", "Chess bot"),
    ],
)
def test_protected_fields_are_restored(path: str, value: Any, code: str, restored: str) -> None:
    # Unlisted, the document check names the fact; reported, the change is refused first as a blocked path.
    unlisted = check(setter(path, value))
    assert codes(unlisted) == [code]
    reported = check(setter(path, value), ("c1", path))
    assert codes(reported) == ["blocked_path"]
    assert reported.warnings[0].change_id == "c1"
    section, index, name = path.split("/")
    for result in (unlisted, reported):
        assert getattr(getattr(result.resume, section)[int(index)], name) == restored
        assert result.changes == []


def test_adding_an_end_date_to_the_current_role_is_reverted() -> None:
    result = check(setter("work/0/endDate", "2024-06"))
    assert codes(result) == ["invented_date"]
    assert result.resume.work[0].endDate is None
    assert 'adds the end date "2024-06"' in result.warnings[0].message


# --- structure --------------------------------------------------------------------------------------------


def test_an_added_work_entry_is_removed() -> None:
    def add(d: dict[str, Any]) -> None:
        d["work"].insert(1, {"name": "Acme", "position": "CTO", "highlights": ["Led everything"]})
        d["work"][2]["highlights"][0] = "Built internal tools with Python"

    result = check(add, ("c1", "work/1"), ("c2", "work/2/highlights/0"))
    assert codes(result) == ["blocked_path", "entry_added"]  # a whole entry is not an editable path
    assert [w.name for w in result.resume.work] == ["Globex", "Initech"]
    assert result.warnings[0].change_id == "c1"
    # the kept change now points where its text is in the result
    assert [(c.id, c.path) for c in result.changes] == [("c2", "work/1/highlights/0")]
    assert result.resume.work[1].highlights[0] == "Built internal tools with Python"


def test_a_removed_work_entry_is_restored() -> None:
    result = check(lambda d: d["work"].pop(0))
    assert codes(result) == ["entry_removed"]
    assert [w.name for w in result.resume.work] == ["Globex", "Initech"]
    assert '"Globex"' in result.warnings[0].message


def test_reordered_entries_come_back_in_order_with_their_own_highlights() -> None:
    def swap(d: dict[str, Any]) -> None:
        d["work"].reverse()
        d["work"][0]["highlights"][0] = "Built internal tools with Python"

    result = check(swap, ("c1", "work/0/highlights/0"))
    assert codes(result) == ["entry_moved"]
    assert [w.name for w in result.resume.work] == ["Globex", "Initech"]
    assert result.resume.work[1].highlights[0] == "Built internal tools with Python"
    assert result.resume.work[0].highlights == ORIGINAL["work"][0]["highlights"]
    assert [(c.id, c.path) for c in result.changes] == [("c1", "work/1/highlights/0")]


@pytest.mark.parametrize("section", ["work", "education", "projects", "skills"])
def test_a_dropped_section_is_restored(section: str) -> None:
    result = check(setter(section, []))
    assert codes(result) == ["section_dropped"]
    assert getattr(result.resume, section) == getattr(original(), section)
    assert section in result.warnings[0].message


def test_a_dropped_summary_is_restored() -> None:
    result = check(setter("basics/summary", ""))
    assert codes(result) == ["section_dropped"]
    assert result.resume.basics.summary == ORIGINAL["basics"]["summary"]


def test_all_highlights_of_an_entry_dropped_are_restored() -> None:
    result = check(setter("work/1/highlights", []))
    assert codes(result) == ["section_dropped"]
    assert result.resume.work[1].highlights == ORIGINAL["work"][1]["highlights"]


def test_dropping_one_highlight_is_allowed_and_later_paths_follow() -> None:
    def drop(d: dict[str, Any]) -> None:
        d["work"][1]["highlights"] = ["Served 1,000 customers", "Cut costs to $1.2M in 2040"]

    result = check(drop, ("c1", "work/1/highlights/1"))
    assert codes(result) == ["invented_date"]
    # the invented text goes back to the original it reworded, not to whatever sat at its index
    assert result.resume.work[1].highlights == ["Served 1,000 customers", "Cut costs to $1.2M"]


def test_an_added_highlight_with_a_new_fact_is_removed() -> None:
    def add(d: dict[str, Any]) -> None:
        d["work"][0]["highlights"] += ["Partnered with Acme Corp", "Kept the billing service reliable"]

    result = check(add, ("c1", "work/0/highlights/2"), ("c2", "work/0/highlights/3"))
    assert codes(result) == ["invented_employer"]
    assert result.resume.work[0].highlights[2:] == ["Kept the billing service reliable"]
    assert [(c.id, c.path) for c in result.changes] == [("c2", "work/0/highlights/2")]


def test_a_new_top_level_section_is_dropped_and_extras_restored() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["awards"] = [{"title": "Engineer of the Year", "date": "2022"}]
        d["meta"] = {"version": "v9"}

    result = check(edit)
    assert codes(result) == ["entry_added"]
    assert result.resume.awards == []
    assert result.resume.model_extra == {"meta": {"version": "v1.0.0"}}


# --- skills ---------------------------------------------------------------------------------------------


def test_skills_may_be_reordered_and_aligned() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["skills"].reverse()
        d["skills"][0]["keywords"] = ["Docker", "Kubernetes"]
        d["skills"][1]["keywords"] = ["PostgreSQL", "Python"]

    result = check(edit, ("c1", "skills"), ("c2", "skills/0/keywords/1"))
    assert result.warnings == []
    assert [s.name for s in result.resume.skills] == ["Operations", "Backend"]
    assert result.resume.skills[0].keywords == ["Docker", "Kubernetes"]
    assert [c.id for c in result.changes] == ["c1", "c2"]


@pytest.mark.parametrize("keyword", ["React", "Team leadership", "10 years of Go"])
def test_an_unproven_skill_is_removed(keyword: str) -> None:
    result = check(lambda d: d["skills"][0]["keywords"].append(keyword), ("c1", "skills/0/keywords/2"))
    assert len(result.warnings) == 1
    assert result.warnings[0].code in ("invented_skill", "invented_number")
    assert result.resume.skills[0].keywords == ["Python", "Postgres"]


def test_a_skill_level_cannot_be_raised() -> None:
    result = check(setter("skills/0/level", "Expert"))
    assert codes(result) == ["fact_changed"]
    assert result.resume.skills[0].level == "Advanced"


def test_a_new_skill_group_named_after_an_unproven_skill_is_removed() -> None:
    def add(d: dict[str, Any]) -> None:
        d["skills"].append({"name": "Frontend", "keywords": ["React", "Python"]})

    result = check(add)
    assert codes(result) == ["invented_skill"]
    assert [s.name for s in result.resume.skills] == ["Backend", "Operations"]


def test_a_new_skill_group_keeps_only_proven_keywords() -> None:
    def add(d: dict[str, Any]) -> None:
        d["skills"].append({"name": "Tools", "keywords": ["React", "Python", "Docker"]})

    result = check(add, ("c1", "skills/2"))
    assert codes(result) == ["blocked_path", "invented_skill"]  # a whole group is not an editable path
    assert result.warnings[1].path == "skills/2/keywords/0"
    assert result.resume.skills[2].model_dump(exclude_none=True) == {
        "name": "Tools",
        "keywords": ["Python", "Docker"],
    }


# --- changes and paths ----------------------------------------------------------------------------------


def test_changes_with_other_path_notations_still_match() -> None:
    result = check(
        setter("work/0/highlights/1", "Maintained the billing service for 9 teams"),
        ("c1", "work[0].highlights[1]"),
    )
    assert result.warnings[0].change_id == "c1"
    assert result.changes == []


def test_a_broad_change_to_a_whole_entry_is_blocked_and_reverted() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["work"][0]["highlights"][0] = "Reduced build time by 30% across teams"
        d["work"][0]["highlights"][1] = "Maintained the billing service for 9 teams"

    result = check(edit, ("c1", "work/0"))
    assert codes(result) == ["blocked_path"]
    assert result.warnings[0].change_id == "c1"
    assert result.changes == []
    assert result.resume.work[0].highlights == ORIGINAL["work"][0]["highlights"]


def test_several_findings_each_get_a_warning() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["basics"]["name"] = "Ada"
        d["work"][0]["position"] = "CTO"
        d["work"][1]["highlights"][1] = "Served 5,000 customers"

    result = check(edit, ("c1", "work/1/highlights/1"))
    assert codes(result) == ["identity_changed", "invented_title", "invented_number"]
    assert [w.change_id for w in result.warnings] == [None, None, "c1"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("work/0/highlights/1", "work/0/highlights/1"),
        ("/work/0/highlights/1", "work/0/highlights/1"),
        ("work[0].highlights[1]", "work/0/highlights/1"),
        ("work.0.highlights.1", "work/0/highlights/1"),
        ("$.basics.summary", "basics/summary"),
        ("#/skills/2", "skills/2"),
    ],
)
def test_normalize_path(path: str, expected: str) -> None:
    assert normalize_path(path) == expected


@pytest.mark.parametrize(
    ("text", "forms"),
    [
        ("1,000 users", [{"1000"}]),
        ("1000 users", [{"1000"}]),
        ("40%", [{"40%"}]),
        ("40 percent", [{"40%"}]),
        ("$1.2M", [{"1.2m", "1200000"}]),
        ("3.50", [{"3.5"}]),
        ("x10 faster", [{"10x"}]),
        ("10x faster", [{"10x"}]),
        ("2019-03-01", [{"2019"}]),
        ("from 03/2021 to 2022-11", [{"2021"}, {"2022"}]),
        ("1.5 years", [{"1.5"}]),
        ("MP4 and DB1101 and EMAIL_1", []),
    ],
)
def test_find_numbers(text: str, forms: list[set[str]]) -> None:
    assert [set(t.forms) for t in find_numbers(text)] == forms


@pytest.mark.parametrize(
    "text",
    [
        "Maintained the billing service's Distributed Systems",
        "Maintained the billing service, Platform Solutions and Software",
    ],
)
def test_title_case_nouns_are_not_organisations(text: str) -> None:
    assert check(setter("work/0/highlights/1", text)).warnings == []


@pytest.mark.parametrize("name", ["Vandelay Industries Inc.", "Umbrella GmbH", "Wayne Company", "Globex Acme Corp"])
def test_legal_entity_names_are_organisations(name: str) -> None:
    result = check(setter("work/0/highlights/1", f"Maintained the billing service of {name}"))
    assert codes(result) == ["invented_employer"]


def test_an_employer_of_the_cv_with_its_legal_suffix_is_fine() -> None:
    result = check(setter("work/1/highlights/0", "Built internal tools in Python for Initech LLC"))
    assert result.warnings == []
