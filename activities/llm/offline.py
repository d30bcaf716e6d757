"""The offline engine: a deterministic, rule-based improver that never invents content.

It only rewords free text (summaries, highlights, project descriptions) and orders skills; names, employers,
titles, dates, schools and degrees are never touched. Rules, in the order they run on a bullet point:
clean-up (spaces, bullet symbols, capital first letter), first-person pronoun removal, weak openers
("Responsible for managing X" -> "Managed X", only when a known verb follows), filler adverbs
("Successfully won" -> "Won"), tense (past for ended roles, present for the current one, for a table of
verbs), the job description's wording for what the CV already says, and one trailing-period style for all
bullets. Bullets without a number get a hint, never a number. Summaries lose "I am" and self-praise
("results-driven", "hard-working") before the noun it praises.

The job's wording, the only rules that raise the keyword score: a skill the CV shows under a curated synonym
takes the job's name ("k8s" -> "Kubernetes"; a skills-list entry keeps its full name and gains the job's
abbreviation, "Machine Learning (ML)"); a word the job spells the other way takes the job's spelling
("optimised" -> "optimized", "modeling" -> "modelling"); a compound the job hyphenates is hyphenated ("event
driven services" -> "event-driven services"). A narrower skill never takes a wider name ("continuous
integration" stays, it is not CI/CD), and a plural the sentence cannot take is left alone ("an LLM").
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from activities.documents.language import stored_language
from activities.scoring import TERMS, cv_vocabulary, extract_keywords, find_terms, keyword_credit
from activities.verification import find_contacts
from models.edit_paths import ORDERABLE_SECTIONS
from models.improvement import NOT_TRANSLATED, WORDING_NOT_IMPROVED, Change, RewriteResult, VerificationWarning
from models.resume import Resume, resume_to_text
from models.target import SUPPORTED_LANGUAGES, ImprovementTarget

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
    work partner coach onboard secure save lower raise fix clean update add remove replace track measure
    schedule audit assess ensure provide gather collect compile draft edit translate respond answer
    prioritize prioritise visualize visualise
""".split()  # noqa: SIM905
_DOUBLING = frozenset({"plan", "ship", "scan", "stop", "drop", "commit", "control", "transfer", "run", "win"})
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
# Base forms that as often open a noun phrase ("Design systems", "Secure payments"): converted only before a
# determiner, like the gerunds above. Other base forms ("Implement", "Migrate") are read as verbs.
_NOUN_LIKE_BASES = frozenset(
    """
        design test plan lead support review research report build help work use launch guide document
        engineer partner coach prototype scale ship secure lower raise direct own mentor present train
        model record release process transfer control drop stop scan commit handle monitor produce hire
        save serve plan spend run win update track measure schedule audit draft answer edit
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
    r"^(?:I\s+was\s+|Was\s+|I\s+am\s+|I'm\s+|Am\s+|Is\s+)?(?P<opener>Responsible for|Tasked with|In charge of"
    r"|(?:My )?[Dd]uties included|(?:My )?[Rr]esponsibilities included|My role (?:involved|included)|Worked on"
    r"|Helped(?: with)?|Involved in|Participated in|Assisted (?:with|in)|Took part in)"
    r"\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
_FILLER_RE = re.compile(r"^(Successfully|Effectively|Efficiently|Actively)\s+([A-Za-z]+)\b(.*)$", re.DOTALL)
_CHAINED_VERB_RE = re.compile(r"^(\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)([A-Za-z]+)\b")
_LATER_GERUND_RE = re.compile(r"(,\s*(?:and\s+)?|\s+and\s+)([a-z]+ing)\b")
_SUMMARY_PRONOUN_RE = re.compile(r"(^|(?<=[.!?]\s))(?:I am|I'm)\s+(?:an?\s+)?(\w)")
_SUMMARY_I_VERB_RE = re.compile(r"(^|(?<=[.!?]\s))I\s+([a-z]+)\b")
# Self-praise every CV carries; only words with no factual sense ("dedicated team", "dynamic programming").
_PUFFERY = (
    r"(?:highly[ -]motivated|self-motivated|results[ -](?:driven|oriented)|hard[ -]?working|detail[ -]oriented"
    r"|enthusiastic|passionate)"
)
_PUFFERY_RE = re.compile(
    rf"\b(?:(?P<article>an?)\s+)?(?P<words>{_PUFFERY}(?:(?:,\s*|\s+and\s+|\s+){_PUFFERY})*)"
    r"(?:,\s*|\s+and\s+|\s+)(?P<next>[a-z][\w-]*)",
    re.IGNORECASE,
)
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


def _drop_puffery(text: str, reasons: list[str]) -> str:
    """ "A results-driven, passionate manager" -> "A manager": only before the noun they praise."""
    out: list[str] = []
    pos = 0
    for m in _PUFFERY_RE.finditer(text):
        following = m.group("next")
        article = m.group("article")
        if following.lower() in _PREPOSITIONS or (not article and not _opens_sentence(text, m.start())):
            continue  # "passionate about", "is hard-working": a statement, not a word before a noun
        if article:
            head = _match_case("an" if following[0].lower() in "aeiou" else "a", article) + " " + following
        else:
            head = _capitalise(following)
        out += [text[pos : m.start()], head]
        pos = m.end()
        reasons.append(f'Removed "{m.group("words")}": every CV says it; your experience shows it better.')
    return "".join(out) + text[pos:] if out else text


def _next_word(rest: str) -> str:
    m = re.match(r"\s*([\w'’-]+)", rest)
    return m.group(1) if m else ""


def _safe_to_convert(word: str, rest: str) -> bool:
    """Whether the first word is used as a verb: noun-like words only before a determiner or a skill."""
    form = _VERBS.get(word.lower())
    if form is None:
        return False
    ambiguous = word.lower() in _NOUN_LIKE or (form.kind in ("base", "third") and form.base in _NOUN_LIKE_BASES)
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
        quoted = text[: m.start("rest")].strip()  # with its "I was" / "Is", which goes too
        first = _next_word(rest)
        form = _VERBS.get(first.lower())
        tense = self.tense or "past"
        # Helping is all these openers claim: the verb that replaces them says no more than "helped".
        if opener.lower().startswith(("helped", "involved", "participated", "assisted", "took part")):
            if form is not None and form.kind in ("gerund", "base"):
                after_verb = rest[rest.index(first) + len(first) :]
                helped = "Helped" if tense == "past" else "Help"
                reasons.append(f'Replaced the weak opener "{quoted}" with "{helped} {form.base}".')
                return f"{helped} {form.base}{_convert_chain(after_verb, 'present', form.kind)}"
            if opener.lower() == "helped with" and first:
                verb = "Contributed to" if tense == "past" else "Contribute to"
                reasons.append(f'Replaced the weak opener "{quoted}" with "{verb}".')
                return f"{verb} {rest}"
            hints.append(_VERB_HINT)
            return text
        if form is not None and form.kind == "gerund":
            after_verb = rest[rest.index(first) + len(first) :]
            verb = _match_case(_past(form.base) if tense == "past" else form.base, "X")
            reasons.append(f'Replaced the weak opener "{quoted}" with the action verb "{verb}".')
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
        if self.tense == "present" and form.kind == "third" and _safe_to_convert(first, rest):
            converted = _verb_in_tense(first, "present")
            if converted:
                reasons.append(f'Wrote "{converted}" instead of "{first}", the form bullet points use.')
                return converted + _convert_chain(rest, "present", form.kind)
        if self.tense == "present" and form.kind in ("past", "gerund") and not re.search(r"\d", text):
            if form.kind == "gerund" and not _safe_to_convert(first, rest):
                return text
            converted = _verb_in_tense(first, "present")
            if converted:
                reasons.append(f"Present tense, because this is your current {self.noun}.")
                return converted + _convert_chain(rest, "present", form.kind)
        return text


# --- the job's wording ------------------------------------------------------------------------------------

# Surfaces that name only part of the skill they are filed under ("continuous integration" is half of CI/CD):
# never replaced by the wider name, which would claim the other half.
_NARROWER_SURFACES = frozenset({"continuous integration", "continuous delivery", "continuous deployment"})
_ARTICLES = frozenset({"a", "an"})
# Skills that are common nouns, not names: lower case in a sentence that wrote them so ("the front end").
_COMMON_NOUN_TERMS = frozenset(
    {
        "back end",
        "front end",
        "full stack",
        "microservices",
        "machine learning",
        "deep learning",
        "artificial intelligence",
        "natural language processing",
        "large language models",
        "data science",
        "data engineering",
        "web development",
        "unit testing",
        "test-driven development",
        "object-oriented programming",
        "project management",
        "product management",
        "computer science",
        "database management",
        "cloud computing",
    }
)
_PREPOSITIONS = frozenset(
    "about across after and as at by for from in into of on or over the to under with within".split()  # noqa: SIM905
)

# British and American spellings of one word: (American stem, British stem, the endings both take). Only
# British -> American for "programme": a computer program is a "program" in Britain too.
_IZE_ENDINGS = ("e", "ed", "es", "ing", "er", "ers", "ation", "ations")
_SPELLING_STEMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    *(
        (f"{stem}iz", f"{stem}is", _IZE_ENDINGS)
        for stem in """
            optim organ priorit standard util minim maxim custom visual normal container virtual recogn special
            summar synchron monet categor author initial serial parallel token local digit central capital
            character emphas modern final stabil mobil commercial operational industrial quant
        """.split()  # noqa: SIM905
    ),
    ("analyz", "analys", ("e", "ed", "es", "ing", "er", "ers")),
    ("behavior", "behaviour", ("", "s", "al")),
    ("color", "colour", ("", "s", "ed", "ful")),
    ("favor", "favour", ("", "s", "ed", "ite", "ites", "able")),
    ("labor", "labour", ("", "s")),
    ("honor", "honour", ("", "s", "ed")),
    ("endeavor", "endeavour", ("", "s")),
    ("center", "centre", ("", "s")),
    ("catalog", "catalogue", ("", "s")),
    ("judgment", "judgement", ("", "s")),
    ("model", "modell", ("ing", "ed", "er", "ers")),
    ("label", "labell", ("ing", "ed")),
    ("travel", "travell", ("ing", "ed", "er", "ers")),
    ("cancel", "cancell", ("ing", "ed")),
    ("signal", "signall", ("ing", "ed")),
    ("level", "levell", ("ing", "ed")),
    ("program", "programme", ("", "s")),
)
_TO_AMERICAN = {uk + end: us + end for us, uk, ends in _SPELLING_STEMS for end in ends}
_TO_BRITISH = {us + end: uk + end for us, uk, ends in _SPELLING_STEMS for end in ends}
_WORD_RE = re.compile(r"(?<![\w-])[A-Za-z]+(?![\w])")
_COMPOUND_RE = re.compile(r"(?<![\w-])([A-Za-z]+(?:-[A-Za-z]+)+)(?![\w-])")


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


def _surfaces(text: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for term in find_terms(text):
        found.setdefault(term.key, set()).add(term.text.lower())
    return found


def _spelling_targets(job_description: str) -> dict[str, str]:
    """CV spelling -> the job's, for words the job writes in one variety of English only."""
    american = {w for w in map(str.lower, _WORD_RE.findall(job_description)) if w in _TO_BRITISH}
    british = {w for w in map(str.lower, _WORD_RE.findall(job_description)) if w in _TO_AMERICAN}
    stems_us = {_stem_of(w) for w in american}
    stems_uk = {_stem_of(_TO_AMERICAN[w]) for w in british}
    targets: dict[str, str] = {}
    for us, uk, ends in _SPELLING_STEMS:
        if (us in stems_us) == (us in stems_uk):
            continue  # not used, or used both ways
        for end in ends:
            if us in stems_us:
                targets[uk + end] = us + end
            elif us != "program":
                targets[us + end] = uk + end
    return targets


def _stem_of(american: str) -> str:
    return next(us for us, _, ends in _SPELLING_STEMS for end in ends if us + end == american)


def _opens_sentence(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in ".!?:;•(-–"


def _next_word_after(text: str, end: int) -> str:
    m = re.match(r"\s+([A-Za-z][\w-]*)", text[end:])
    return m.group(1) if m else ""


def _previous_word(text: str, start: int) -> str:
    m = re.search(r"([A-Za-z]+)\s+$", text[:start])
    return m.group(1).lower() if m else ""


class _Aligner:
    """The job's wording for what the CV already says: a known skill under the job's name (curated synonyms
    only), the job's variety of English, and the job's hyphenated compounds. Nothing the CV does not say."""

    def __init__(self, resume: Resume, job_description: str) -> None:
        self.targets = _alignment_targets(job_description)
        self.job_surfaces = _surfaces(job_description)
        self.cv_surfaces = _surfaces(resume_to_text(resume))
        self.spellings = _spelling_targets(job_description)
        compounds = {m.group(1).lower() for m in _COMPOUND_RE.finditer(job_description)}
        # Compounds that are skill names are aligned as skills.
        self.compounds = sorted(c for c in compounds if not find_terms(c) and len(c) <= 40)
        self.named_both: set[str] = set()  # skills written "full name (abbreviation)" once already

    def align(self, text: str, reasons: list[str], *, in_list: bool = False) -> str:
        spans = find_contacts(text)
        if spans:
            # An address or a link is written as it must be typed: only the text around it is aligned.
            cuts = [0, *(i for span in spans for i in (span.start, span.end)), len(text)]
            parts = [text[a:b] for a, b in itertools.pairwise(cuts)]
            return "".join(p if i % 2 else self.align(p, reasons, in_list=in_list) for i, p in enumerate(parts))
        text = self._terms(text, reasons, in_list=in_list)
        text = self._spelling(text, reasons)
        return self._compounds(text, reasons)

    def _terms(self, text: str, reasons: list[str], *, in_list: bool) -> str:
        out: list[str] = []
        pos = 0
        for term in find_terms(text):
            target = self.targets.get(term.key)
            if target is None or term.text == target or term.text.lower() in _NARROWER_SURFACES:
                continue
            display = TERMS[term.key].display
            replacement = target
            reason = f'Used the job description\'s wording "{target}" for "{term.text}".'
            if term.text.lower() == target.lower():
                if term.text.islower() and target[1:].islower():
                    continue  # "backend" is a common noun, not a misspelt "Backend"
            elif term.text == display and target != display:
                # Never trade the full name for the job's abbreviation: a skills list names both, once.
                if (
                    not in_list
                    or text.strip() != term.text
                    or term.key in self.named_both
                    or self.cv_surfaces.get(term.key, set()) & self.job_surfaces.get(term.key, set())
                ):
                    continue
                self.named_both.add(term.key)
                replacement = f"{term.text} ({target})"
                reason = f'Added the job description\'s abbreviation "{target}" to "{term.text}".'
            elif not in_list and target.endswith("s") and not term.text.endswith("s"):
                following = _next_word_after(text, term.end)
                if _previous_word(text, term.start) in _ARTICLES or (following and following[0].islower()):
                    continue  # "an LLM", "LLM inference": the job's plural would not read
            if term.key in _COMMON_NOUN_TERMS and term.text[0].islower() and not replacement.isupper():
                replacement = replacement.lower()
            out += [text[pos : term.start], replacement]
            pos = term.end
            reasons.append(reason)
        return "".join(out) + text[pos:] if out else text

    def _spelling(self, text: str, reasons: list[str]) -> str:
        def respell(m: re.Match[str]) -> str:
            word = m.group(0)
            target = self.spellings.get(word.lower())
            if target is None or (word.isupper() and len(word) > 1):
                return word
            if word[0].isupper():
                if not _opens_sentence(text, m.start()):
                    return word  # "Centre for ...": a name keeps its spelling
                target = target[0].upper() + target[1:]
            reasons.append(f'Used the job description\'s spelling "{target}" for "{word}".')
            return target

        return _WORD_RE.sub(respell, text)

    def _compounds(self, text: str, reasons: list[str]) -> str:
        for compound in self.compounds:
            parts = compound.split("-")
            spaced = r"\s+".join(map(re.escape, parts))
            pattern = re.compile(rf"(?<![\w-])(?:{spaced}|{re.escape(''.join(parts))})(?![\w-])", re.IGNORECASE)

            def hyphenate(m: re.Match[str], compound: str = compound, source: str = text) -> str:
                written = m.group(0)
                if any(c.isupper() for c in written[1:]):
                    return written  # "Real Time Systems": a name
                following = _next_word_after(source, m.end())
                if " " in written and (not following or following.lower() in _PREPOSITIONS):
                    return written  # "in real time.": only a compound before a noun takes the hyphen
                new = compound[0].upper() + compound[1:] if written[0].isupper() else compound
                reasons.append(f'Used the job description\'s spelling "{new}" for "{written}".')
                return new

            text = pattern.sub(hyphenate, text)
        return text


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
        self.aligner = _Aligner(resume, target.job_description)
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
        text = _drop_puffery(text, reasons)
        text = self.aligner.align(text, reasons)
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
            text = self.aligner.align(text, reasons)
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
                name = self.aligner.align(skill.name, reasons, in_list=True)
                self.record(f"skills/{i}/name", skill.name, name, reasons)
                skill.name = name
            seen = {k.lower() for k in skill.keywords}
            for j, keyword in enumerate(skill.keywords):
                reasons = []
                aligned = self.aligner.align(keyword, reasons, in_list=True)
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


_SECTION_ORDER = ("basics", *ORDERABLE_SECTIONS)  # the JSON Resume order


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
    written_in = stored_language(resume)
    if written_in is not None and written_in != "en":
        # Its rules (verbs, tenses, openers, spelling) are English: on another language they would do harm.
        language = SUPPORTED_LANGUAGES.get(written_in, written_in)
        result = RewriteResult(resume=resume.model_copy(deep=True), changes=[], engine=ENGINE_NAME)
        result.warnings.append(
            VerificationWarning(
                change_id=None,
                path="",
                code=WORDING_NOT_IMPROVED,
                message=f"The offline engine's wording rules are for English; this CV is in {language}, so its "
                "wording was left as it is. Configure an LLM to improve it.",
            )
        )
    else:
        result = _Improver(resume, target).run()
    result.warnings.extend(_not_translated(resume, target))
    return result


def _not_translated(resume: Resume, target: ImprovementTarget) -> list[VerificationWarning]:
    """Translating needs a model: say so when the CV is not written in the language asked for."""
    written_in = stored_language(resume)
    if written_in is None or written_in == target.output_language:
        return []
    content = SUPPORTED_LANGUAGES.get(written_in, written_in)
    headings = SUPPORTED_LANGUAGES.get(target.output_language, target.output_language)
    message = (
        f"The offline engine does not translate: the content stays in {content}; headings are in {headings}. "
        "Configure an LLM to translate."
    )
    return [VerificationWarning(change_id=None, path="", code=NOT_TRANSLATED, message=message)]


class OfflineEngine:
    """Rewrite engine without a model: deterministic and free, used when no LLM is configured."""

    name: str = ENGINE_NAME

    async def rewrite(self, resume: Resume, target: ImprovementTarget) -> RewriteResult:
        return improve_offline(resume, target)


__all__ = ["ENGINE_NAME", "OfflineEngine", "improve_offline"]
