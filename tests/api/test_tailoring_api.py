"""Tailoring through the public API: a real improvement with a job description reports the job's skills, how the
CV proves each (with the edit that surfaces a differently worded one), honest gap advice, and the ATS score."""

from __future__ import annotations

from tests.conftest import SAMPLES, Stack

JOB = (SAMPLES / "job-senior-backend.txt").read_text()


async def test_an_improvement_reports_tailoring_and_ats_readiness(stack: Stack) -> None:
    headers = await stack.user()
    cv = await stack.upload(headers, "jane.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
    target = {"position": "Senior Backend Engineer", "job_description": JOB}
    r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json=target)
    assert r.status_code == 202, r.text
    result = await stack.wait_finished(headers, r.json()["improvement_id"])
    assert result["stage"] == "completed", result

    scores = result["scores"]
    report = scores["tailoring"]
    required = {m["skill"]: m for m in report["required"]}
    nice = {m["skill"]: m for m in report["nice_to_have"]}
    assert {"Python", "PostgreSQL", "Kubernetes", "Docker", "CI/CD"} <= set(required)
    assert {"Go", "Terraform", "AWS"} <= set(nice)
    assert all(m["importance"] == "required" for m in report["required"])

    python = required["Python"]
    assert python["status"] == "proven" and python["evidence"] and python["evidence_path"]

    # The CV says "k8s"; the improvement's own change writes the job's "Kubernetes".
    changes = {c["id"]: c for c in result["changes"]}
    kubernetes = required["Kubernetes"]
    assert kubernetes["status"] == "worded_differently" and kubernetes["cv_wording"] == "k8s"
    surfacing = changes[kubernetes["change_id"]]
    assert "k8s" in surfacing["before"] and "Kubernetes" in surfacing["after"]

    gap = required["CI/CD"]
    assert gap["status"] == "missing" and gap["evidence"] is None
    assert gap["advice"].startswith("If you have used CI/CD") and "required for this role" in gap["advice"]
    counts = report["required_counts"]
    assert sum(counts.values()) == len(report["required"]) and counts["missing"] >= 1

    before, after = scores["ats_before"], scores["ats_after"]
    assert [p["name"] for p in before["parts"]] == ["keyword_coverage", "bullets", "dates", "sections", "contact"]
    assert all(p["explanation"] for p in before["parts"] + after["parts"])
    assert after["score"] > before["score"]
    coverage_before, coverage_after = before["parts"][0], after["parts"][0]
    assert '"k8s" for "Kubernetes"' in coverage_before["explanation"]
    assert coverage_after["score"] > coverage_before["score"]


async def test_without_a_job_description_the_report_is_empty_and_coverage_does_not_count(stack: Stack) -> None:
    headers = await stack.user()
    cv = await stack.upload(headers, "jane.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
    r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json={"position": "Engineer"})
    assert r.status_code == 202, r.text
    result = await stack.wait_finished(headers, r.json()["improvement_id"])
    assert result["stage"] == "completed", result
    scores = result["scores"]
    assert scores["tailoring"]["required"] == [] and scores["tailoring"]["nice_to_have"] == []
    coverage = scores["ats_after"]["parts"][0]
    assert coverage["name"] == "keyword_coverage" and coverage["weight"] == 0
    assert scores["ats_after"]["score"] > 0


async def test_the_openapi_schema_documents_the_report(stack: Stack) -> None:
    schemas = (await stack.http.get("/openapi.json")).json()["components"]["schemas"]
    assert {"TailoringReport", "SkillMatch", "AtsScore", "AtsPart"} <= set(schemas)
    assert {"ats_before", "ats_after", "tailoring"} <= set(schemas["Scores"]["properties"])
