"""Output languages: what the OpenAI engine asks the model for, what the offline engine says when it cannot
translate, and the whole path through the API (detected language, default output language, localised PDF)."""

from __future__ import annotations

from typing import Any

from activities.documents import extract_document
from activities.documents.language import META_KEY, with_detected_language
from activities.llm import OfflineEngine, OpenAIEngine
from models.resume import Resume
from models.target import ImprovementTarget
from tests.conftest import SAMPLES, Stack
from tests.fakes.openai_server import FakeOpenAI
from tests.rendering.pdf_text import missing, pdftotext

GERMAN_CV = """# Jürgen Weiß

Senior Softwareentwickler
juergen.weiss@example.de | +49 30 1234567

## Profil

Softwareentwickler mit zehn Jahren Erfahrung in der Entwicklung von Zahlungssystemen für den Handel.

## Berufserfahrung

### Teamleiter Backend, Müller & Söhne GmbH
März 2019 – heute

- Aufbau und Leitung eines Teams von fünf Entwicklern für die Routenplanung
- Einführung von Kubernetes und Terraform sowie Migration der Datenbanken ohne Ausfallzeit

### Softwareentwickler, Contoso Logistik AG
Jan. 2015 – Feb. 2019

- Entwicklung der Schnittstellen für die Sendungsverfolgung mit Python und PostgreSQL

## Ausbildung

### M.Sc. Informatik, Technische Universität München
2010 – 2014

## Kenntnisse

Python, Go, PostgreSQL, Kubernetes, Terraform
""".encode()

NOT_TRANSLATED_DE_FR = (
    "The offline engine does not translate: the content stays in German; headings are in French. "
    "Configure an LLM to translate."
)


def german_resume() -> Resume:
    """The German CV as an improvement snapshots it: parsed, with its detected language in `meta`."""
    doc = extract_document(GERMAN_CV)
    return Resume.model_validate(with_detected_language(doc.resume.model_dump(mode="json"), doc.text))


def target(**values: Any) -> ImprovementTarget:
    return ImprovementTarget.model_validate({"position": "Backend Lead", "job_description": "Go, Kubernetes", **values})


def system_prompt(fake: FakeOpenAI) -> str:
    [request] = [r for r in fake.requests if r.path.endswith("/chat/completions")]
    [message] = [m for m in request.body["messages"] if m["role"] == "system"]
    return str(message["content"])


# --- the OpenAI engine ----------------------------------------------------------------------------------


async def test_the_model_is_asked_to_translate_into_the_output_language(engine: OpenAIEngine, fake: FakeOpenAI) -> None:
    await engine.rewrite(german_resume(), target(output_language="fr"))
    prompt = system_prompt(fake)
    assert "The result must be in French; the CV is written in German" in prompt
    assert "translate every summary, highlight and description into French" in prompt
    assert "Do not translate names of people, employers, schools" in prompt
    # The target in the data names the output language too.
    [request] = [r for r in fake.requests if r.path.endswith("/chat/completions")]
    assert '"output_language": "fr"' in request.body["messages"][-1]["content"]


async def test_a_cv_kept_in_its_language_is_not_translated(engine: OpenAIEngine, fake: FakeOpenAI) -> None:
    await engine.rewrite(german_resume(), target(output_language="de"))
    prompt = system_prompt(fake)
    assert "The CV is written in German: write every text you change in German." in prompt
    assert "translate" not in prompt.lower().replace("do not translate", "")


async def test_a_cv_of_unknown_language_gets_whatever_is_foreign_translated(
    engine: OpenAIEngine, fake: FakeOpenAI
) -> None:
    resume = Resume.model_validate({**german_resume().model_dump(mode="json"), "meta": {}})
    await engine.rewrite(resume, target(output_language="ja"))
    prompt = system_prompt(fake)
    assert "The result must be in Japanese; translate into Japanese every summary" in prompt
    assert "written in another language" in prompt
    assert "The CV is written in" not in prompt


async def test_the_detected_language_survives_the_model(engine: OpenAIEngine) -> None:
    result = await engine.rewrite(german_resume(), target(output_language="fr"))
    assert result.resume.model_dump(mode="json")["meta"][META_KEY]["code"] == "de"
    assert result.warnings == []  # a model translates: no caveat


# --- the offline engine ---------------------------------------------------------------------------------


async def test_the_offline_engine_says_it_did_not_translate() -> None:
    original = german_resume()
    result = await OfflineEngine().rewrite(original, target(output_language="fr"))
    warning = next(w for w in result.warnings if w.code == "not_translated")
    assert (warning.path, warning.change_id) == ("", None)
    assert warning.message == NOT_TRANSLATED_DE_FR
    assert result.resume.work[0].highlights[0].startswith("Aufbau und Leitung")


async def test_the_offline_engine_leaves_a_cv_in_another_language_as_it_is_and_says_why() -> None:
    """Its rules are English: tense, openers and spelling rules would garble German."""
    original = german_resume()
    result = await OfflineEngine().rewrite(original, target(output_language="de"))
    assert result.changes == []
    assert result.resume.model_dump() == original.model_dump()
    [warning] = result.warnings
    assert warning.code == "wording_not_improved" and "in German" in warning.message


async def test_the_offline_engine_only_reports_translation_for_an_unknown_language() -> None:
    unknown = Resume.model_validate({**german_resume().model_dump(mode="json"), "meta": {}})
    assert (await OfflineEngine().rewrite(unknown, target(output_language="fr"))).warnings == []


# --- through the API ------------------------------------------------------------------------------------


async def _improve(stack: Stack, headers: dict[str, str], cv_id: str, **values: Any) -> dict[str, Any]:
    body = {"position": "Backend Lead", "job_description": "Go, Kubernetes, Terraform", **values}
    r = await stack.http.post(f"/cvs/{cv_id}/improvements", headers=headers, json=body)
    assert r.status_code == 202, r.text
    result = await stack.wait_finished(headers, r.json()["improvement_id"])
    assert result["stage"] == "completed", result
    return result


async def _pdf_text(stack: Stack, headers: dict[str, str], improvement_id: str) -> str:
    r = await stack.http.get(f"/improvements/{improvement_id}/pdf", headers=headers)
    assert r.status_code == 200, r.text
    return pdftotext(r.content)


async def test_the_cv_language_is_detected_at_upload(stack: Stack) -> None:
    headers = await stack.user()
    cv = await stack.upload(headers, "weiss.md", GERMAN_CV)
    assert cv["language"] == "de"
    got = (await stack.http.get(f"/cvs/{cv['id']}", headers=headers)).json()
    assert got["language"] == "de" and got["language_confidence"] >= 0.8
    assert got["resume"]["meta"][META_KEY] == {"code": "de", "confidence": got["language_confidence"]}


async def test_offline_output_in_another_language_keeps_the_content_and_localises_the_headings(stack: Stack) -> None:
    headers = await stack.user()
    cv = await stack.upload(headers, "weiss.md", GERMAN_CV)
    result = await _improve(stack, headers, cv["id"], output_language="fr")
    assert result["engine"] == "offline"
    assert result["target"]["output_language"] == "fr"
    assert result["input_language"] == "de"
    notes = [w for w in result["warnings"] if w["code"] == "not_translated"]
    assert notes == [{"change_id": None, "path": "", "code": "not_translated", "message": NOT_TRANSLATED_DE_FR}]
    assert [w["code"] for w in result["warnings"]].count("wording_not_improved") == 1

    text = await _pdf_text(stack, headers, result["id"])
    assert missing(["Expérience professionnelle", "Formation", "Compétences", "mars 2019 – aujourd’hui"], text) == []
    assert missing(["Jürgen Weiß", "Müller & Söhne GmbH", "Aufbau und Leitung eines Teams"], text) == []
    assert "Berufserfahrung" not in text


async def test_without_an_output_language_the_result_stays_in_the_cv_language(stack: Stack) -> None:
    headers = await stack.user()
    cv = await stack.upload(headers, "weiss.md", GERMAN_CV)
    result = await _improve(stack, headers, cv["id"])
    assert result["target"]["output_language"] == "de"
    assert result["input_language"] == "de"
    assert not [w for w in result["warnings"] if w["code"] == "not_translated"]
    text = await _pdf_text(stack, headers, result["id"])
    assert missing(["Berufserfahrung", "Ausbildung", "Kenntnisse", "März 2019 – heute"], text) == []


async def test_without_an_output_language_an_english_or_undecided_cv_gets_english(stack: Stack) -> None:
    headers = await stack.user()
    english = await stack.upload(headers, "jane.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
    undecided = await stack.upload(headers, "tools.txt", b"Jane Doe\nPython, Go, Kubernetes, PostgreSQL, Terraform\n")
    assert (english["language"], undecided["language"]) == ("en", None)
    for cv in (english, undecided):
        r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json={"position": "Engineer"})
        assert r.status_code == 202, r.text
        result = await stack.wait_finished(headers, r.json()["improvement_id"])
        assert result["target"]["output_language"] == "en"
        assert result["input_language"] == english["language"] if cv is english else result["input_language"] is None


async def test_an_unsupported_output_language_names_the_choices(stack: Stack) -> None:
    headers = await stack.user()
    cv = await stack.upload(headers, "weiss.md", GERMAN_CV)
    r = await stack.http.post(
        f"/cvs/{cv['id']}/improvements", headers=headers, json={"position": "Engineer", "output_language": "tlh"}
    )
    assert r.status_code == 422
    problem = r.json()
    assert problem["code"] == "unsupported_language"
    assert "'tlh'" in problem["detail"]
    for code in ("en", "de", "fr", "es", "pt", "pl", "zh", "ja", "ko", "ru"):
        assert code in problem["detail"]
