"""Each improved CV as the user downloads it: the classic PDF and the DOCX, each read back by our own extractor
(the upload path, `extract_document`) and checked with `scorers.extracts_back`.

The PDF is rendered in this process by `render_pdf`, the function the render processes run, with the job's
paper size and page limit and the language the API would choose; the DOCX as the export endpoint writes it.
"""

from __future__ import annotations

from dataclasses import replace

from activities.documents import extract_document
from activities.documents.language import stored_language
from activities.rendering import render_pdf
from activities.rendering.docx_export import resume_to_docx
from models.resume import Resume
from models.target import ImprovementTarget, default_output_language
from tests.evals.cases import EvalRow, jobs
from tests.evals.scorers import Verdict, extracts_back

THEME = "classic"


def output_language(resume: Resume, target: ImprovementTarget) -> str:
    """The target's language when it names one, else the CV's own when supported, else English (as the API)."""
    if "output_language" in target.model_fields_set:
        return target.output_language
    return default_output_language(stored_language(resume))


def rendered_texts(resume: Resume, target: ImprovementTarget) -> dict[str, str]:
    """{"pdf": text, "docx": text}: what our extractor reads from each rendering of `resume`."""
    language = output_language(resume, target)
    pdf = render_pdf(resume, theme=THEME, paper=target.paper, language=language, max_pages=target.max_pages).pdf
    docx = resume_to_docx(resume, language=language, paper=target.paper)
    return {"pdf": extract_document(pdf).text, "docx": extract_document(docx).text}


def check_renditions(row: EvalRow) -> EvalRow:
    """The row with a verdict per rendition of its improved CV."""
    assert row.improved is not None, f"{row.cv}: the row holds no improved CV"
    texts = rendered_texts(row.improved, jobs()[row.job])
    renditions: dict[str, Verdict] = {
        kind: replace(extracts_back(row.improved, text), scorer=kind) for kind, text in texts.items()
    }
    return replace(row, renditions=renditions)
