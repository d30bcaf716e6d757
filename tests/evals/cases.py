"""The eval's CVs and jobs, one run of engine + verifier + scorers per pair, and the table it prints.

CVs: every file of ../shared/corpus (through our extractor; the ones it refuses are listed, not hidden) and
the CVs of `tests/evals/generated.py`. Jobs: `samples/job-*.txt`, `tests/evals/jobs/*.txt` and the corpus's
JSON job. Each CV is paired with the job it already matches best (highest keyword score before any change),
so the gain measured is the gain for a job the person would apply to.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from activities.documents import DocumentError, extract_document
from activities.llm import improve_offline
from activities.scoring import score_keywords
from activities.verification import verify_rewrite
from models.improvement import ENGINE_WARNING_CODES, RewriteResult
from models.resume import Resume
from models.target import ImprovementTarget
from tests.evals.generated import JSON_CVS, MARKDOWN_CVS
from tests.evals.scorers import ALL_SCORERS, TRUTH_SCORERS, EvalCase, Scorer, Verdict, keyword_scores
from tests.fakes.corpus import CORPUS

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
EVAL_JOBS = Path(__file__).resolve().parent / "jobs"


@dataclass(frozen=True)
class CvSource:
    name: str
    resume: Resume | None
    refused: str | None = None  # why the extractor refused the file


@cache
def corpus_cvs() -> tuple[CvSource, ...]:
    sources: list[CvSource] = []
    for path in sorted(CORPUS.iterdir()):
        if path.name.endswith(".job.json") or not path.is_file():
            continue
        try:
            sources.append(CvSource(path.name, extract_document(path.read_bytes()).resume))
        except DocumentError as e:
            sources.append(CvSource(path.name, None, f"{e.code}: {e.message}"))
    return tuple(sources)


@cache
def generated_cvs() -> tuple[CvSource, ...]:
    sources = [CvSource(name, extract_document(text.encode()).resume) for name, text in MARKDOWN_CVS.items()]
    sources += [CvSource(name, Resume.model_validate(data)) for name, data in JSON_CVS.items()]
    return tuple(sources)


def all_cvs() -> tuple[CvSource, ...]:
    return corpus_cvs() + generated_cvs()


def _target(text: str) -> ImprovementTarget:
    # As the CLI does: the position is the first line of the job description.
    return ImprovementTarget(position=text.strip().splitlines()[0][:200], job_description=text)


@cache
def jobs() -> dict[str, ImprovementTarget]:
    found = {p.stem: _target(p.read_text()) for p in sorted([*SAMPLES.glob("job-*.txt"), *EVAL_JOBS.glob("*.txt")])}
    for path in sorted(CORPUS.glob("*.job.json")):
        job = json.loads(path.read_text())
        lines = [job.get("description", ""), *job.get("responsibilities", []), *job.get("qualifications", [])]
        lines += [f"{s['name']}: {', '.join(s.get('keywords', []))}" for s in job.get("skills", [])]
        found[path.name.removesuffix(".json")] = ImprovementTarget(
            position=job["title"], job_description="\n".join(line for line in lines if line)
        )
    return found


def best_job(resume: Resume) -> str:
    """The job this CV already matches best; ties go to the first name."""
    scores = {name: score_keywords(resume, t.job_description, position=t.position).score for name, t in jobs().items()}
    return max(sorted(scores), key=lambda name: scores[name])


# --- one run --------------------------------------------------------------------------------------------------


@dataclass
class EvalRow:
    cv: str
    job: str
    changes: int = 0
    reverted: int = 0
    before: float = 0.0
    after: float = 0.0
    verdicts: list[Verdict] = field(default_factory=list)
    note: str = ""
    improved: Resume | None = field(default=None, repr=False)  # the fact-checked CV the user would get
    # "pdf" / "docx": whether the improved CV's rendering extracts back to its text (tests/evals/rendered.py)
    renditions: dict[str, Verdict] = field(default_factory=dict)

    @property
    def gain(self) -> float:
        return round(self.after - self.before, 1)

    def failures(self, scorers: Sequence[Scorer] = TRUTH_SCORERS) -> list[Verdict]:
        names = {s.__name__ for s in scorers}
        return [v for v in self.verdicts if v.scorer in names and not v.passed]


def score_rewrite(cv: str, job: str, original: Resume, target: ImprovementTarget, rewrite: RewriteResult) -> EvalRow:
    """Verify a rewrite as the pipeline does, then score what the user would get."""
    checked = verify_rewrite(original, rewrite)
    case = EvalCase(original, checked.resume, checked.changes, checked.warnings, target)
    before, after = keyword_scores(case)
    edits = sum(1 for c in checked.changes if c.before != c.after)
    reverted = [w for w in checked.warnings if w.code not in ENGINE_WARNING_CODES]
    verdicts = [scorer(case) for scorer in ALL_SCORERS]
    return EvalRow(cv, job, edits, len(reverted), before, after, verdicts, improved=checked.resume)


def evaluate_offline(cv: str, original: Resume, job: str) -> EvalRow:
    target = jobs()[job]
    return score_rewrite(cv, job, original, target, improve_offline(original, target))


# --- the table ------------------------------------------------------------------------------------------------

_RENDITIONS = ("pdf", "docx")
_SHORT = {
    "no_fabricated_employers": "employer",
    "no_fabricated_titles": "title",
    "no_fabricated_education": "edu",
    "no_new_dates": "dates",
    "no_new_numbers": "numbers",
    "personal_info_unchanged": "personal",
    "sections_preserved": "sections",
    "length_sane": "length",
    "changes_explained": "changes ok",
    "keyword_coverage_gain": "no drop",
}


def format_table(title: str, rows: Sequence[EvalRow], skipped: Sequence[CvSource] = ()) -> str:
    heads = [
        "cv",
        "job",
        "changes",
        "reverted",
        "score before -> after",
        *(_SHORT[s.__name__] for s in ALL_SCORERS),
        *_RENDITIONS,
    ]
    body = [
        [
            r.cv,
            r.job,
            str(r.changes),
            str(r.reverted),
            f"{r.before:5.1f} -> {r.after:5.1f} ({r.gain:+.1f})",
            *("✓" if v.passed else "✗" for v in r.verdicts),
            *(_mark(r.renditions.get(kind)) for kind in _RENDITIONS),
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in body)) if body else len(h) for i, h in enumerate(heads)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [title, line(heads), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, body)]
    out += [f"| {s.name} | skipped: the extractor refused it ({s.refused}) |" for s in skipped]
    if rows:
        gains = [r.gain for r in rows]
        out.append(
            f"{len(rows)} CVs: mean keyword score {sum(r.before for r in rows) / len(rows):.1f} -> "
            f"{sum(r.after for r in rows) / len(rows):.1f} (mean gain {sum(gains) / len(gains):+.2f}), "
            f"gain on {sum(g > 0 for g in gains)}/{len(gains)}, drop on {sum(g < 0 for g in gains)}"
        )
    for r in rows:
        out += [f"  {r.cv} / {v.scorer}: {v.detail}" for v in r.failures(ALL_SCORERS)]
        out += [f"  {r.cv} / {v.scorer}: {v.detail}" for v in r.renditions.values() if not v.passed]
    return "\n".join(out)


def _mark(verdict: Verdict | None) -> str:
    """✓ / ✗, or "-" for a row whose CV was not rendered."""
    return "-" if verdict is None else "✓" if verdict.passed else "✗"
