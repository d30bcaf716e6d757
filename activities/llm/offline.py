"""The offline engine: a deterministic, rule-based improver that never invents content.

It only rewords free text (summaries, highlights, project descriptions) and orders skills; names, employers,
titles, dates, schools and degrees are never touched. Rules, in the order they run on a bullet point:
clean-up (spaces, bullet symbols, capital first letter), first-person pronoun removal, weak openers
("Responsible for managing X" -> "Managed X", only when a known verb follows), filler adverbs
("Successfully won" -> "Won"), tense (past for ended roles, present for the current one, for a table of
verbs), the job description's wording for a skill the CV already shows (curated synonyms only), and one
trailing-period style for all bullets. Bullets without a number get a hint, never a number.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from activities.scoring import TERMS, cv_vocabulary, extract_keywords, find_terms, keyword_credit
from models.improvement import Change, RewriteResult
from models.resume import Resume
from models.target import ImprovementTarget

ENGINE_NAME = "offline"
_T = TypeVar("_T")

# --- verbs ------------------------------------------------------------------------------------------------

_IRREGULAR_PAST = {
    "build": "built",
    "lead": "led",
    "run": "ran",
    "write": "wrote",
    "grow": "grew",
    "drive": "drove",
    "make": "made",
    "teach": "taught",
    "win": "won",
    "sell": "sold",
    "hold": "held",
    "oversee": "oversaw",
    "begin": "began",
    "bring": "brought",
    "keep": "kept",
    "speak": "spoke",
    "give": "gave",
    "take": "took",
    "find": "found",
    "meet": "met",
    "send": "sent",
    "spend": "spent",
    "buy": "bought",
    "rebuild": "rebuilt",
    "rewrite": "rewrote",
    "undertake": "undertook",
    "represent": "represented",
}
_REGULAR = """
    manage develop design create implement maintain optimize optimise improve reduce increase launch
    deliver own mentor train coordinate analyze analyse test deploy migrate automate architect collaborate
    support establish negotiate plan organize organise present research handle monitor review streamline
    scale integrate refactor document communicate resolve troubleshoot configure administer prepare
    conduct achieve earn contribute spearhead supervise hire recruit define produce direct guide publish
    serve assist ship prototype engineer modernize modernise consolidate accelerate boost introduce
    enhance expand facilitate oversee generate evaluate identify initiate install invent operate
    orchestrate perform redesign restructure simplify standardize standardise transform upgrade use help
    work partner coach onboard secure save lower raise
""".split()  # noqa: SIM905
_DOUBLING = frozenset({"plan", "ship", "scan", "stop", "drop", "commit", "control", "transfer"})
# Gerunds that are often nouns ("Training programme for ..."): converted only before a determiner.
_NOUN_LIKE = frozenset(
    """
        training testing planning building engineering programming networking recruiting hiring
        monitoring reporting scheduling marketing meeting consulting modelling modeling budgeting
        mentoring onboarding processing handling design designs test tests plan plans lead leads
        support supports review reviews research researches report reports build builds help helps
        work works use uses launch launches
    """.split()  # noqa: SIM905
)
_DETERMINERS = frozenset(
    """
        a an the our their its his her my multiple several new all and over more up key various two
        three
    """.split()  # noqa: SIM905
)


def _past(base: str) -> str:
    if base in _IRREGULAR_PAST:
        return _IRREGULAR_PAST[base]
    if base.endswith("e"):
        return base + "d"
    if base.endswith("y") and base[-2:-1] not in tuple("aeiou"):
        return base[:-1] + "ied"
    if base in _DOUBLING:
        return base + base[-1] + "ed"
    return base + "ed"


def _third(base: str) -> str:
    if base.endswith(("s", "sh", "ch", "x", "z")):
        return base + "es"
    if base.endswith("y") and base[-2:-1] not in tuple("aeiou"):
        return base[:-1] + "ies"
    return base + "s"


def _gerund(base: str) -> str:
    if base.endswith("e") and not base.endswith("ee"):
        return base[:-1] + "ing"
    if base in _DOUBLING:
        return base + base[-1] + "ing"
    return base + "ing"


@dataclass(frozen=True)
class _VerbForm:
    base: str
    kind: str  # base, past, third or gerund


_VERBS: dict[str, _VerbForm] = {}
for _base in sorted({*_REGULAR, *_IRREGULAR_PAST}):
    for _kind, _form in (("gerund", _gerund(_base)), ("third", _third(_base)), ("past", _past(_base))):
        _VERBS.setdefault(_form, _VerbForm(_base, _kind))
    _VERBS[_base] = _VerbForm(_base, "base")


def _match_case(word: str, like: str) -> str:
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def _verb_in_tense(word: str, tense: str) -> str | None:
    form = _VERBS.get(word.lower())
    if form is None:
        return None
    target = _past(form.base) if tense == "past" else form.base
    return None if target == word.lower() else _match_case(target, word)


# --- text rules -------------------------------------------------------------------------------------------

_SPACES_RE = re.compile(r"[ \t\u00a0]+")
_BULLET_RE = re.compile(r"^\s*(?:[-•*·–▪◦>]|\d+[.)])\s+")
_PRONOUN_RE = re.compile(r"^I\s+([A-Za-z]+)\b")
_WEAK_OPENER_RE = re.compile(
    r"^(?:I\s+was\s+|Was\s+)?(?P<opener>Responsible for|Tasked with|In charge of|(?:My )?[Dd]uties included"
    r"|(?:My )?[Rr]esponsibilities included|My role (?:involved|included)|Worked on|Helped(?: with)?)"
    r"\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
_FILLER_RE = re.compile(r"^(Successfully|Effectively|Efficiently|Actively)\s+([A-Za-z]+)\b(.*)$", re.DOTALL)
_CHAINED_VERB_RE = re.compile(r"^(\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)([A-Za-z]+)\b")
_LATER_GERUND_RE = re.compile(r"(,\s*(?:and\s+)?|\s+and\s+)([a-z]+ing)\b")
_SUMMARY_PRONOUN_RE = re.compile(r"(^|(?<=[.!?]\s))(?:I am|I'm)\s+(?:an?\s+)?(\w)")
_SUMMARY_I_VERB_RE = re.compile(r"(^|(?<=[.!?]\s))I\s+([a-z]+)\b")
_ABBREVIATIONS = ("etc.", "inc.", "ltd.", "corp.", "co.", "e.g.", "i.e.", "jr.", "sr.", "...")
_CURRENT_END_DATES = frozenset({"", "present", "current", "now", "today", "ongoing"})

_METRIC_HINT = (
    "Tip: if you can, add a number that shows the result (how much, how many, how fast); nothing was invented here."
)
_VERB_HINT = "Tip: start with a verb that says what you did, such as built, led or improved."


@dataclass
class _Edit:
    before: str
    after: str
    reasons: list[str] = field(default_factory=list)


def _capitalise(text: str) -> str:
    if not text or not text[0].islower():
        return text
    first_word = text.split(" ", 1)[0]
    if any(c.isupper() for c in first_word[1:]):
        return text  # "iOS", "eBay": the brand's own spelling
    return text[0].upper() + text[1:]


def _next_word(rest: str) -> str:
    m = re.match(r"\s*([\w'’-]+)", rest)
    return m.group(1) if m else ""


def _safe_to_convert(word: str, rest: str) -> bool:
    """Whether the first word is used as a verb: noun-like words only before a determiner or a skill."""
    form = _VERBS.get(word.lower())
    if form is None:
        return False
    ambiguous = form.kind in ("base", "third") or word.lower() in _NOUN_LIKE
    if not ambiguous:
        return True
    chained = _CHAINED_VERB_RE.match(rest)
    next_form = _VERBS.get(chained.group(2).lower()) if chained else None
    if next_form is not None and next_form.kind == form.kind:
        return True  # "Design, build and test ...": a list of verbs
    following = _next_word(rest)
    return following.lower() in _DETERMINERS or following.isdigit() or bool(find_terms(following))


def _convert_chain(rest: str, tense: str, kind: str) -> str:
    """Verbs chained to the first one ("Design, build and test X") follow it into the same tense."""
    out = ""
    while True:
        m = _CHAINED_VERB_RE.match(rest)
        form = _VERBS.get(m.group(2).lower()) if m else None
        if m is None or form is None or form.kind != kind:
            break
        converted = _verb_in_tense(m.group(2), tense) or m.group(2)
        out += m.group(1) + converted
        rest = rest[m.end() :]
    if kind == "gerund":

        def later(m: re.Match[str]) -> str:
            form = _VERBS.get(m.group(2))
            if form is None or form.kind != "gerund":
                return m.group(0)
            return m.group(1) + (_verb_in_tense(m.group(2), tense) or m.group(2))

        rest = _LATER_GERUND_RE.sub(later, rest)
    return out + rest


class _BulletRules:
    def __init__(self, tense: str | None, noun: str) -> None:
        self.tense = tense  # "past", "present" or None when the dates do not say
        self.noun = noun  # "role" or "project", for the reasons

    def clean(self, text: str, reasons: list[str]) -> str:
        cleaned = _SPACES_RE.sub(" ", _BULLET_RE.sub("", text.replace("\n", " "))).strip()
        if cleaned != text:
            reasons.append("Removed extra spaces and bullet symbols.")
        capitalised = _capitalise(cleaned)
        if capitalised != cleaned:
            reasons.append("Capitalised the first letter.")
        return capitalised

    def pronoun(self, text: str, reasons: list[str]) -> str:
        m = _PRONOUN_RE.match(text)
        if m and (m.group(1).lower() in _VERBS or m.group(1).lower() == "was"):
            reasons.append('Removed "I": a CV reads better without the first-person pronoun.')
            return _capitalise(text[m.start(1) :])
        return text

    def weak_opener(self, text: str, reasons: list[str], hints: list[str]) -> str:
        m = _WEAK_OPENER_RE.match(text)
        if m is None:
            return text
        opener, rest = m.group("opener"), m.group("rest")
        first = _next_word(rest)
        form = _VERBS.get(first.lower())
        tense = self.tense or "past"
        if opener.lower().startswith("helped"):
            if form is not None and form.kind in ("gerund", "base"):
                after_verb = rest[rest.index(first) + len(first) :]
                helped = "Helped" if tense == "past" else "Help"
                reasons.append(f'Replaced the weak opener "{opener}" with "{helped} {form.base}".')
                return f"{helped} {form.base}{_convert_chain(after_verb, 'present', form.kind)}"
            if opener.lower() == "helped with" and first:
                verb = "Contributed to" if tense == "past" else "Contribute to"
                reasons.append(f'Replaced the weak opener "Helped with" with "{verb}".')
                return f"{verb} {rest}"
            return text
        if form is not None and form.kind == "gerund":
            after_verb = rest[rest.index(first) + len(first) :]
            verb = _match_case(_past(form.base) if tense == "past" else form.base, "X")
            reasons.append(f'Replaced the weak opener "{opener}" with the action verb "{verb}".')
            return verb + _convert_chain(after_verb, tense, "gerund")
        hints.append(_VERB_HINT)
        return text

    def filler(self, text: str, reasons: list[str]) -> str:
        m = _FILLER_RE.match(text)
        if m and m.group(2).lower() in _VERBS:
            reasons.append(f'Removed the filler word "{m.group(1)}": the verb says it.')
            return _capitalise(m.group(2) + m.group(3))
        return text

    def tense_(self, text: str, reasons: list[str]) -> str:
        if self.tense is None:
            return text
        first = _next_word(text)
        form = _VERBS.get(first.lower())
        if form is None or not text.startswith(first):
            return text
        rest = text[len(first) :]
        if self.tense == "past" and form.kind in ("base", "third", "gerund") and _safe_to_convert(first, rest):
            converted = _verb_in_tense(first, "past")
            if converted:
                reasons.append(f"Past tense, because this {self.noun} has ended.")
                return converted + _convert_chain(rest, "past", form.kind)
        if self.tense == "present" and form.kind in ("past", "gerund") and not re.search(r"\d", text):
            if form.kind == "gerund" and not _safe_to_convert(first, rest):
                return text
            converted = _verb_in_tense(first, "present")
            if converted:
                reasons.append(f"Present tense, because this is your current {self.noun}.")
                return converted + _convert_chain(rest, "present", form.kind)
        return text


# --- keyword alignment ------------------------------------------------------------------------------------


def _alignment_targets(job_description: str) -> dict[str, str]:
    """For each known skill in the job description, how the job writes it (the most common spelling, in the
    vocabulary's casing when only the case differs)."""
    spellings: dict[str, Counter[str]] = {}
    for term in find_terms(job_description):
        spellings.setdefault(term.key, Counter())[term.text] += 1
    targets: dict[str, str] = {}
    for key, counter in spellings.items():
        written = counter.most_common(1)[0][0]
        display = TERMS[key].display
        targets[key] = display if written.lower() == display.lower() else written
    return targets


def _align_text(text: str, targets: dict[str, str], reasons: list[str]) -> str:
    out: list[str] = []
    pos = 0
    for term in find_terms(text):
        target = targets.get(term.key)
        display = TERMS[term.key].display
        if target is None or term.text == target or (term.text == display and target != display):
            continue  # never trade the full name for the job's abbreviation
        out += [text[pos : term.start], target]
        pos = term.end
        reasons.append(f'Used the job description\'s wording "{target}" for "{term.text}".')
    return "".join(out) + text[pos:] if out else text


# --- the engine -------------------------------------------------------------------------------------------


def _tense_for(start: str | None, end: str | None) -> str | None:
    if end and end.strip().lower() not in _CURRENT_END_DATES:
        return "past"
    if start and start.strip():
        return "present"
    return None


def _ends_with_period(text: str) -> bool:
    return text.endswith(".") and not text.lower().endswith(_ABBREVIATIONS)


class _Improver:
    def __init__(self, resume: Resume, target: ImprovementTarget) -> None:
        self.resume = resume.model_copy(deep=True)
        self.keywords = extract_keywords(target.job_description, position=target.position)
        self.targets = _alignment_targets(target.job_description)
        self.edits: dict[str, _Edit] = {}
        self.hints: dict[str, list[str]] = {}
        self.bullets: list[tuple[str, list[str], int]] = []  # (path, the list holding it, index)

    def record(self, path: str, before: str, after: str, reasons: list[str]) -> None:
        if after == before:
            return
        edit = self.edits.setdefault(path, _Edit(before, after))
        edit.after = after
        edit.reasons += [r for r in reasons if r not in edit.reasons]

    def text(self, path: str, value: str | None) -> str | None:
        """A summary or description: spacing, first-person openings, the job's wording."""
        if not value:
            return value
        reasons: list[str] = []
        # A single line break inside a paragraph is an extraction artefact; a blank line is a paragraph.
        paragraphs = re.split(r"\n\s*\n", value)
        text = "\n\n".join(p for p in (" ".join(p.split()) for p in paragraphs) if p)
        if text != value:
            reasons.append("Removed extra spaces.")
        without_i = _SUMMARY_PRONOUN_RE.sub(lambda m: m.group(1) + m.group(2).upper(), text)
        without_i = _SUMMARY_I_VERB_RE.sub(
            lambda m: m.group(1) + _capitalise(m.group(2)) if m.group(2) in _VERBS else m.group(0), without_i
        )
        if without_i != text:
            reasons.append('Removed "I am" / "I": a CV reads better without the first-person pronoun.')
            text = without_i
        text = _align_text(text, self.targets, reasons)
        self.record(path, value, text, reasons)
        return text

    def highlights(self, path: str, items: list[str], tense: str | None, *, hint_metrics: bool) -> None:
        rules = _BulletRules(tense, "project" if path.startswith("projects") else "role")
        for i, original in enumerate(items):
            reasons: list[str] = []
            hints: list[str] = []
            text = rules.clean(original, reasons)
            text = rules.pronoun(text, reasons)
            text = rules.weak_opener(text, reasons, hints)
            text = rules.filler(text, reasons)
            text = rules.tense_(text, reasons)
            text = _align_text(text, self.targets, reasons)
            items[i] = text
            self.record(f"{path}/{i}", original, text, reasons)
            if hint_metrics and not re.search(r"\d", text):
                hints.append(_METRIC_HINT)
            if hints:
                self.hints[f"{path}/{i}"] = hints
            self.bullets.append((f"{path}/{i}", items, i))

    def periods(self) -> None:
        # Bullets ending in an abbreviation ("etc.") have no say: their period is not a style.
        texts = [t for _, items, i in self.bullets if (t := items[i]) and not t.lower().endswith(_ABBREVIATIONS)]
        with_period = sum(_ends_with_period(t) for t in texts)
        use_period = with_period * 2 > len(texts)
        for path, items, i in self.bullets:
            text = items[i]
            if not text or text.endswith(("...", "…", "!", "?", ":")):
                continue
            if use_period and not text.endswith(".") and (text[-1].isalnum() or text[-1] in "\")'”’"):
                items[i] = text + "."
            elif not use_period and _ends_with_period(text):
                items[i] = text[:-1]
            if items[i] != text:
                before = self.edits[path].before if path in self.edits else text
                self.record(path, before, items[i], ["Made the trailing period match your other bullet points."])

    def skills(self) -> None:
        def relevance(texts: Sequence[str]) -> float:
            vocabulary = cv_vocabulary(texts)
            return sum(k.weight for k in self.keywords if keyword_credit(k, vocabulary) > 0)

        skills = self.resume.skills
        ordered = _stable_sort(skills, lambda s: relevance([s.name or "", *s.keywords]))
        if ordered != skills:
            before = ", ".join(s.name or "?" for s in skills)
            self.resume.skills = skills = ordered
            after = ", ".join(s.name or "?" for s in skills)
            self.record("skills", before, after, ["Put the skills the job asks for first."])
        for i, skill in enumerate(skills):
            keywords = _stable_sort(skill.keywords, lambda k: relevance([k]))
            if keywords != skill.keywords:
                before, skill.keywords = ", ".join(skill.keywords), keywords
                self.record(f"skills/{i}/keywords", before, ", ".join(keywords), ["Put the job's keywords first."])
            if skill.name:
                reasons: list[str] = []
                name = _align_text(skill.name, self.targets, reasons)
                self.record(f"skills/{i}/name", skill.name, name, reasons)
                skill.name = name
            seen = {k.lower() for k in skill.keywords}
            for j, keyword in enumerate(skill.keywords):
                reasons = []
                aligned = _align_text(keyword, self.targets, reasons)
                if aligned != keyword and (aligned.lower() == keyword.lower() or aligned.lower() not in seen):
                    self.record(f"skills/{i}/keywords/{j}", keyword, aligned, reasons)
                    skill.keywords[j] = aligned
                    seen.add(aligned.lower())

    def run(self) -> RewriteResult:
        r = self.resume
        r.basics.summary = self.text("basics/summary", r.basics.summary)
        for i, work in enumerate(r.work):
            tense = _tense_for(work.startDate, work.endDate)
            work.summary = self.text(f"work/{i}/summary", work.summary)
            self.highlights(f"work/{i}/highlights", work.highlights, tense, hint_metrics=True)
        for i, volunteer in enumerate(r.volunteer):
            tense = _tense_for(volunteer.startDate, volunteer.endDate)
            volunteer.summary = self.text(f"volunteer/{i}/summary", volunteer.summary)
            self.highlights(f"volunteer/{i}/highlights", volunteer.highlights, tense, hint_metrics=False)
        for i, project in enumerate(r.projects):
            tense = _tense_for(project.startDate, project.endDate)
            project.description = self.text(f"projects/{i}/description", project.description)
            self.highlights(f"projects/{i}/highlights", project.highlights, tense, hint_metrics=False)
        self.periods()
        self.skills()
        return RewriteResult(resume=r, changes=self.changes(), engine=ENGINE_NAME)

    def changes(self) -> list[Change]:
        paths = sorted([*self.edits, *(p for p in self.hints if p not in self.edits)], key=_document_order)
        changes: list[Change] = []
        for n, path in enumerate(paths, start=1):
            hints = self.hints.get(path, [])
            if path in self.edits:
                edit = self.edits[path]
                changes.append(
                    Change(
                        id=f"c{n}",
                        path=path,
                        before=edit.before,
                        after=edit.after,
                        reason=" ".join(edit.reasons + hints),
                    )
                )
            else:
                text = _value_at(self.resume, path)
                changes.append(Change(id=f"c{n}", path=path, before=text, after=text, reason=" ".join(hints)))
        return changes


_SECTION_ORDER = (
    "basics",
    "work",
    "volunteer",
    "education",
    "awards",
    "certificates",
    "publications",
    "skills",
    "languages",
    "interests",
    "references",
    "projects",
)


_FIELD_ORDER = ("name", "summary", "description", "highlights", "keywords")


def _document_order(path: str) -> tuple[tuple[int, int], ...]:
    """Sort key that puts paths in reading order: sections as in JSON Resume, then entries, then fields."""
    section, *rest = path.split("/")
    key = [(0, _SECTION_ORDER.index(section) if section in _SECTION_ORDER else len(_SECTION_ORDER))]
    for segment in rest:
        if segment.isdigit():
            key.append((0, int(segment)))
        else:
            key.append((1, _FIELD_ORDER.index(segment) if segment in _FIELD_ORDER else len(_FIELD_ORDER)))
    return tuple(key)


def _value_at(resume: Resume, path: str) -> str | None:
    node: object = resume.model_dump(mode="json")
    for segment in path.split("/"):
        if isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
            node = node[int(segment)]
        elif isinstance(node, dict):
            node = node.get(segment)
        else:
            return None
    return node if isinstance(node, str) else None


def _stable_sort(items: list[_T], score: Callable[[_T], float]) -> list[_T]:
    return [item for _, _, item in sorted(((-score(x), i, x) for i, x in enumerate(items)), key=lambda t: t[:2])]


def improve_offline(resume: Resume, target: ImprovementTarget) -> RewriteResult:
    """The offline rewrite: same CV, better wording for the target job, and the list of edits."""
    return _Improver(resume, target).run()


class OfflineEngine:
    """Rewrite engine without a model: deterministic and free, used when no LLM is configured."""

    name: str = ENGINE_NAME

    async def rewrite(self, resume: Resume, target: ImprovementTarget) -> RewriteResult:
        return improve_offline(resume, target)


__all__ = ["ENGINE_NAME", "OfflineEngine", "improve_offline"]
