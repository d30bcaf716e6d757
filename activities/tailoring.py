"""Tailoring a CV to a job description, and how ready it is for applicant tracking systems: deterministic, no I/O.

The job's skills
- The job description is read line by line. Headings (Markdown, bold, "Heading:" or a known heading alone on its
  line, also "Nice to have: Go, Rust" inline) open sections: requirements ("Requirements", "Must have",
  "What you bring", "Qualifications", "About you", "Skills", ...), nice-to-haves ("Nice to have", "Bonus",
  "Preferred", "Plus", ...), duties ("Responsibilities", "What you'll do", ...), ignored ones ("Benefits",
  "What we offer", "How to apply", ...) and any other (the introduction, "About us", "Our stack", ...).
- Inside a line, "is a plus", "preferred", "ideally", "bonus", ... make a sentence (or the parenthesis holding
  them) nice-to-have; "must", "required", "experience with", "3+ years of", ... make it a requirement.
- Skills are the curated vocabulary's terms anywhere in the job (`scoring.TERMS`), plus short phrases (at most
  four words, lead-ins such as "5+ years of experience with" removed) from the items of requirement and
  nice-to-have lists and of sentences stating a requirement: "event-driven architectures", "data modelling".
- Lists are split at commas, "and", "or" and colons; "Python, Go or Rust" is one requirement with alternatives,
  proven by any of them. "Kafka or similar" is Kafka.
- A skill the job states as a requirement anywhere is required; else one stated as a plus is nice-to-have;
  a skill only named elsewhere (the title, the duties, the introduction) is required: the job names it.

Against the CV
- `proven`: the CV writes the skill as the job does (case ignored; for a phrase, every word of it in one entry).
- `worded_differently`: the CV writes a curated synonym ("k8s" for "Kubernetes"); `change_id` names the
  improvement's change that writes the job's wording instead, when there is one.
- `missing`: advice to add where and how the skill was used if it was, else to learn it; never to claim it.

ATS readiness, 0-100: the weighted mean of keyword coverage (40; required skills count twice, a synonym half),
bullet quality (20), readable dates on every job (15), standard sections (15) and contact details (10). A part
that cannot apply (no job description, no jobs) has weight 0 and says why. Layout (tables, columns) is the
renderer's matter and is not scored.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache

from activities.documents.dates import find_dates
from activities.scoring import SYNONYM_CREDIT, TERMS, TermMatch, cv_vocabulary, find_terms, normalize_word
from models.improvement import Change
from models.resume import Resume
from models.tailoring import (
    AtsPart,
    AtsScore,
    Importance,
    MatchStatus,
    SkillMatch,
    SkillRequirement,
    StatusCounts,
    TailoringReport,
)

MAX_REQUIRED = 30
MAX_NICE_TO_HAVE = 20
MAX_PHRASE_WORDS = 4
EXCERPT_CHARS = 120

# --- known skills, with "Go" -------------------------------------------------------------------------------

# The vocabulary only knows "Golang": "Go" is an English verb, so it counts when capitalised and not a
# sentence's opening verb ("Go to market").
_GO_RE = re.compile(r"(?<![\w.+#-])Go(?![\w+#-])")
_SENTENCE_START_RE = re.compile(r"(?:^|[.!?:;]\s*|\n\s*)$")
_VERB_CONTEXT_RE = re.compile(
    r"\s+(?!(?:and|or|is|are|was|were|as|plus|services?|microservices|programming|code|developers?|engineers?"
    r"|experience|knowledge|skills?|backend|modules?|runtime|language|apps?|applications?|preferred)\b)[a-z]"
)


def _skill_terms(text: str) -> list[TermMatch]:
    """Known skills written in `text`, including a capitalised "Go"."""
    terms = find_terms(text)
    taken = [(t.start, t.end) for t in terms]
    for m in _GO_RE.finditer(text):
        opening_verb = _SENTENCE_START_RE.search(text[: m.start()]) and _VERB_CONTEXT_RE.match(text, m.end())
        if not opening_verb and not any(s < m.end() and m.start() < e for s, e in taken):
            terms.append(TermMatch("go", "Go", m.start(), m.end()))
    return sorted(terms, key=lambda t: t.start)


# --- sections and cues of a job description ----------------------------------------------------------------


class _Section(IntEnum):
    OTHER = 0
    DUTIES = 1
    REQUIRED = 2
    NICE = 3
    IGNORED = 4


class _Level(IntEnum):
    """How a mention states a skill; a higher level wins when a skill is mentioned more than once."""

    NAMED = 0
    NICE = 1
    REQUIRED = 2


_HEADINGS: tuple[tuple[_Section, re.Pattern[str]], ...] = tuple(
    (section, re.compile(pattern))
    for section, pattern in (
        (
            _Section.IGNORED,
            r"(?:our |the )?(?:benefits?|perks?)(?: (?:and|&) (?:benefits|perks))?|(?:what )?we offer(?: you)?"
            r"|our offer|why (?:join us|us|work with us|you'll love (?:it|us|working here))|compensation(?: \w+){0,2}"
            r"|salary(?: \w+){0,2}|how to apply|to apply|equal (?:opportunity|employment)(?: \w+){0,2}"
            r"|what's in it for you|what you get|location|contract",
        ),
        (
            _Section.NICE,
            r"nice[- ]to[- ]haves?(?: skills| qualifications)?|(?:it's |it is |would be )?(?:also )?nice to have"
            r"|bonus(?:es)?(?: points| skills)?(?: if you (?:have|are|know|bring))?|preferred(?: \w+){0,3}"
            r"|(?:big |a )?(?:plus|pluses)"
            r"|(?:it's |it is |would be |also )*a (?:big )?plus(?: if you (?:have|are|know))?"
            r"|desirable(?: \w+){0,2}|good[- ]to[- ]haves?|extra credit|optional(?: \w+){0,2}"
            r"|(?:what )?(?:would |will )?makes? you stand out|(?:ways to |how to |to )?stand out"
            r"|even better if you (?:have|are|know)|nice if you (?:have|are|know)"
            r"|it would be (?:great|nice) if you (?:have|are|know)|not required(?: but \w+)?"
            r"|additional (?:skills|qualifications)",
        ),
        (
            _Section.REQUIRED,
            r"(?:\w+ ){0,2}requirements?|required(?: \w+){0,2}|(?:\w+ )?must[- ]haves?(?: \w+){0,2}"
            r"|what you(?:'ll| will)? bring(?: to the (?:table|team|role))?|you bring"
            r"|(?:what|who) we(?:'re| are) looking for(?: in you)?|what you(?:'ll| will)? need(?: to succeed| to have)?"
            r"|who you are|about you|your profile|(?:the )?ideal candidate|candidate profile|you have|you should have"
            r"|(?:minimum |basic |key |essential |required )?qualifications?"
            r"|(?:key |core |technical |essential |required |your |desired )?skills"
            r"(?: (?:and|&) (?:experience|qualifications|knowledge))?|experience|essential(?: \w+){0,2}"
            r"|what we expect(?: from you)?|we expect|expectations|your (?:background|experience)",
        ),
        (
            _Section.DUTIES,
            r"(?:key |your |main |core )?(?:responsibilities|duties|tasks)"
            r"|what you(?:'ll| will) (?:do|be doing|work on)"
            r"|(?:the|your|about the) (?:role|job|position)|role|day[- ]to[- ]day(?: \w+){0,2}"
            r"|in this role(?: you will)?|your mission|job description|what the job involves|your impact"
            r"|the opportunity|what you'll achieve",
        ),
    )
)
_HEADING_MARKS = " \t#*_=>|:"
_BULLET_RE = re.compile(r"^\s*(?:[-•*·–—▪◦►‣○●>+]|\d{1,2}[.)])\s+")
_INLINE_HEADING_RE = re.compile(r"^\s*[#*_]*\s*([A-Za-z][A-Za-z'’ /&-]{1,45}?)\s*[*_]*\s*:\s*[*_]*\s*(\S.*)$")

_NICE_CUE_RE = re.compile(
    r"\b(?:(?:is|are|would be|will be|be|as|considered|a|an)\s+(?:a\s+|an\s+)?(?:big\s+|huge\s+|strong\s+|real\s+)?"
    r"(?:plus|bonus|advantage|asset)|nice[- ]to[- ]have|preferred|preferably|ideally|desirable|advantageous"
    r"|bonus|not required|optional|good to have|would be (?:great|nice|helpful)|even better|extra credit)\b"
    r"|\bplus\s*[.!]?\s*$",
    re.IGNORECASE,
)
_REQUIRED_CUE_RE = re.compile(
    r"\b(?:must|required|requires?|mandatory|essential|need to|needs to|you(?:'ll| will)? need|you have|you bring"
    r"|we expect|proficien\w*|experience (?:with|in|of|using|building)|knowledge of|understanding of"
    r"|familiar\w* with|expertise (?:in|with)|background in|skilled in|fluen\w* in|\d+\+?\s*(?:-\s*\d+\s*)?years?)\b",
    re.IGNORECASE,
)
# What comes before the skill itself in a requirement: the last match in an item is cut with all before it.
_LEAD_IN_RE = re.compile(
    r"(?:^|\b)(?:(?:at least|minimum(?: of)?|over|more than)\s+)?\d+\+?\s*(?:-\s*\d+\s*)?\+?\s*years?'?\s*(?:of\s+)?"
    r"(?:[a-z-]+\s+){0,3}?(?:experience|work)?\s*(?:with|in|of|using|on|as)?\s+"
    r"|\b(?:experience|knowledge|understanding|familiarity|proficiency|expertise|background|fluency|exposure"
    r"|command|grasp|track record|competence|skills?)\s+(?:of|with|in|using|on|building|designing|developing"
    r"|writing|running|operating|working with)\s+"
    r"|\b(?:proficient|familiar|experienced|skilled|fluent|comfortable|confident|versed|expert|competent)"
    r"\s+(?:in|with|using|on|at)\s+"
    r"|\b(?:knows?|hands-on)\s+"
    r"|\b(?:bachelor|master|phd|doctorate|bsc|msc|ba|ma|degree)(?:'s|’s)?\s+(?:degree\s+)?(?:in|of)\s+",
    re.IGNORECASE,
)
_LEADING_FILLER = frozenset(
    """
        a an the strong solid proven deep good excellent extensive hands-on professional demonstrated working
        practical basic advanced some previous prior relevant commercial modern great sound thorough in-depth
        outstanding exceptional very with in of on using for to and or also any both either expert expertise
        experience knowledge understanding familiarity proficiency skills skill exposure production real-world
        significant substantial considerable eg ie such as like including incl example
    """.split()  # noqa: SIM905
)
_TRAILING_FILLER = frozenset(
    """
        skills skill experience knowledge expertise background proficiency etc a plus is are preferred required
        with in on using for of to and or at via from by as
    """.split()  # noqa: SIM905
)
_TAIL_RE = re.compile(r"\s+(?:in|at|on)\s+(?:a\s+)?(?:production|scale)(?:\s+environments?)?$", re.IGNORECASE)
_FILLER_ITEMS = re.compile(
    r"^(?:similar|equivalent|the like|comparable|alike|others?|etc|related(?: fields?| technologies)?"
    r"|(?:a |any )?(?:similar|related|equivalent|comparable|other) \w+(?: \w+)?|same|so on|more|alternatives?)$",
    re.IGNORECASE,
)
_GENERIC_WORDS = frozenset(
    normalize_word(w)
    for w in """
        pipelines pipeline services service applications application apps app development tools tooling
        frameworks framework systems system environments environment platforms platform stack technologies
        technology tech ecosystem concepts concept principles languages language programming libraries library
        solutions solution products product practices practice field fields area areas domain tasks projects
        project code things stuff
    """.split()  # noqa: SIM905
)
# Pronouns start sentences, not skills; "ability to ..." states a trait a CV cannot show word for word.
_NOT_A_SKILL_START = frozenset(
    """you we our your they it this that who which there ability able willingness desire passion eagerness""".split()  # noqa: SIM905
)
_PAST_LEAD_RE = re.compile(r"^(?:built|led|ran|wrote|grew|drove|made|won|sold|held|kept|took|gave|worked|shipped)$")
_ABBREVIATIONS_RE = re.compile(r"\b(e\.g|i\.e|etc|incl|approx|vs)\.", re.IGNORECASE)
_SENTENCE_RE = re.compile(r"(?<=[.!?;])\s+")
_SEPARATOR_RE = re.compile(r"\s*(?:,|;|:|\band/or\b|\bas well as\b|\band\b|&|\bor\b|\bplus\b(?!\s*[.!]?\s*$))\s*", re.I)
_PAREN_RE = re.compile(r"\(([^()]*)\)")
_PLACEHOLDER_RE = re.compile(r"\x00(\d+)\x00")
_ALTERNATIVE_SEPARATORS = frozenset({"or", "and/or"})


@dataclass
class _Skill:
    """A skill of the job: a known term (key = the vocabulary key) or a phrase (key = its folded words)."""

    key: str
    known: bool
    display: str
    spellings: Counter[str] = field(default_factory=Counter)
    words: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Mention:
    keys: tuple[str, ...]  # more than one: alternatives ("Python, Go or Rust")
    level: _Level
    order: int


@dataclass(frozen=True)
class JobRequirement:
    """One requirement of the job, proven by any of its options."""

    importance: Importance
    options: tuple[_Skill, ...]

    def model(self) -> SkillRequirement:
        first, *rest = self.options
        return SkillRequirement(skill=first.display, importance=self.importance, alternatives=[o.display for o in rest])


def _heading_section(text: str) -> _Section | None:
    cleaned = " ".join(text.replace("’", "'").strip(_HEADING_MARKS).lower().split())
    cleaned = re.sub(r"\s*\((?:optional|required|must|nice to have)\)$", "", cleaned)
    if not cleaned or len(cleaned) > 60:
        return None
    for section, pattern in _HEADINGS:
        if pattern.fullmatch(cleaned):
            return section
    return None


def _marked_as_heading(text: str) -> bool:
    """Markdown, bold, a colon at the end or capitals: how job ads mark headings."""
    letters = [c for c in text if c.isalpha()]
    return (
        text.startswith("#")
        or text.endswith(":")
        or (text.startswith("**") and text.endswith("**"))
        or (len(letters) >= 3 and all(c.isupper() for c in letters))
    )


def _line_heading(line: str) -> _Section | None:
    """The section a whole line opens as a known heading; an unmarked line naming a skill is content."""
    text = line.strip()
    words = text.strip(_HEADING_MARKS).split()
    if not words or len(words) > 8 or text.endswith((".", ",", ";")) or _BULLET_RE.match(text):
        return None
    if not _marked_as_heading(text) and (len(words) > 6 or _skill_terms(text)):
        return None
    return _heading_section(text)


def _looks_like_heading(line: str) -> bool:
    """An unknown heading: short, and marked as one."""
    text = line.strip()
    words = text.strip(_HEADING_MARKS).split()
    if not words or len(words) > 7 or _BULLET_RE.match(text) or text.endswith((".", ",", ";")):
        return False
    return _marked_as_heading(text)


def _sentences(line: str) -> list[str]:
    protected = _ABBREVIATIONS_RE.sub(lambda m: m.group(1).replace(".", ""), line)
    return [s for s in _SENTENCE_RE.split(protected) if s.strip()]


def _clean_phrase(text: str) -> str:
    """A list item reduced to the skill it names: lead-ins, qualifiers and trailing filler removed."""
    leads = list(_LEAD_IN_RE.finditer(text))
    if leads:
        text = text[leads[-1].end() :]
    text = _TAIL_RE.sub("", _NICE_CUE_RE.sub(" ", text).strip(" \t.,;:!?"))
    words = text.strip(" \t.,;:!?\"'“”‘’()[]").split()
    while words and words[0].lower().strip("'\"") in _LEADING_FILLER:
        words = words[1:]
    while words and words[-1].lower().strip(".,;:!?") in _TRAILING_FILLER:
        words = words[:-1]
    return " ".join(words).strip(" \t.,;:!?\"'“”‘’")


def _is_known_heading(text: str) -> bool:
    inline = _INLINE_HEADING_RE.match(text)
    return _line_heading(text) is not None or (inline is not None and _heading_section(inline.group(1)) is not None)


def _unwrapped(lines: list[str]) -> list[str]:
    """Lines with hard-wrapped sentences joined: a line starting in lower case, or an indented line under a
    bullet, continues the one before."""
    out: list[str] = []
    for line in lines:
        previous = out[-1] if out else ""
        text = line.strip()
        continues = text[:1].islower() or (line[:1].isspace() and bool(_BULLET_RE.match(previous)))
        if (
            previous.strip()
            and text
            and continues
            and not _BULLET_RE.match(line)
            and not _is_known_heading(text)
            and not previous.rstrip().endswith(":")
        ):
            out[-1] = f"{previous.rstrip()} {text}"
        else:
            out.append(line)
    return out


def _pieces(text: str) -> list[tuple[str, str]]:
    """A list split at its separators: (the separator before the item, the item)."""
    pieces: list[tuple[str, str]] = []
    pos, sep = 0, ""
    for m in _SEPARATOR_RE.finditer(text):
        pieces.append((sep, text[pos : m.start()]))
        sep, pos = m.group(0).strip().lower(), m.end()
    pieces.append((sep, text[pos:]))
    return pieces


def _joins_previous(pieces: list[tuple[str, str]], n: int) -> bool:
    """Whether item n is an alternative to the one before: after "or", or in a comma run that "or" ends."""
    sep = pieces[n][0]
    if sep == ",":
        sep = next((s for s, _ in pieces[n + 1 :] if s != ","), "")
    return sep in _ALTERNATIVE_SEPARATORS


def _phrase_skill(text: str) -> _Skill | None:
    """A short phrase as a skill, or None when it is not one (too long, generic, a number, a sentence)."""
    words = text.split()
    if not words or len(words) > MAX_PHRASE_WORDS or len(text) > 40 or re.search(r"\d", text):
        return None
    if _FILLER_ITEMS.match(text) or _PAST_LEAD_RE.match(words[0].lower()):
        return None
    if words[0].lower() in _NOT_A_SKILL_START:
        return None
    keys = cv_vocabulary([text]).words
    if not keys or keys <= _GENERIC_WORDS:
        return None
    return _Skill("phrase:" + " ".join(sorted(keys)), False, text, words=keys)


class _JobReader:
    def __init__(self) -> None:
        self.skills: dict[str, _Skill] = {}
        self.mentions: list[_Mention] = []
        self.has_sections = False

    def _known(self, term: TermMatch) -> str:
        skill = self.skills.get(term.key)
        if skill is None:
            skill = self.skills[term.key] = _Skill(term.key, True, TERMS[term.key].display)
        skill.spellings[term.text] += 1
        return term.key

    def _phrase(self, phrase: _Skill) -> str:
        return self.skills.setdefault(phrase.key, phrase).key

    def _mention(self, keys: list[str], level: _Level) -> None:
        unique = tuple(dict.fromkeys(keys))
        if unique:
            self.mentions.append(_Mention(unique, level, len(self.mentions)))

    def read(self, job_description: str) -> None:
        section = _Section.OTHER
        lines = _unwrapped(job_description.splitlines())
        self.has_sections = any(self._heading(line) is not None for line in lines)
        for line in lines:
            heading = self._heading(line)
            if heading is not None:
                section, rest = heading
                if not rest:
                    continue
                line = rest
            if section is _Section.IGNORED:
                continue
            bullet = bool(_BULLET_RE.match(line))
            line = _BULLET_RE.sub("", line)
            for sentence in _sentences(line):
                self._sentence(sentence, section, bullet=bullet)

    def _heading(self, line: str) -> tuple[_Section, str] | None:
        """The section a heading line opens and what follows it on the line ("Nice to have: Go")."""
        if not line.strip() or _BULLET_RE.match(line):
            return None
        inline = _INLINE_HEADING_RE.match(line)
        if inline and (known := _heading_section(inline.group(1))) is not None:
            return known, inline.group(2)
        if (known := _line_heading(line)) is not None:
            return known, ""
        if _looks_like_heading(line):
            return _Section.OTHER, ""
        return None

    def _sentence(self, sentence: str, section: _Section, *, bullet: bool) -> None:
        nice_parts: list[str] = []
        examples: list[str] = []

        def outer(m: re.Match[str]) -> str:
            if _NICE_CUE_RE.search(m.group(1)):
                nice_parts.append(m.group(1))
                return " "
            examples.append(m.group(1))
            return f" \x00{len(examples) - 1}\x00 "

        main = _PAREN_RE.sub(outer, sentence)
        level = self._level(_PLACEHOLDER_RE.sub(lambda m: examples[int(m.group(1))], main), section)
        stated = section in (_Section.REQUIRED, _Section.NICE) or level is not _Level.NAMED
        phrases = stated or (bullet and not self.has_sections)
        self._items(main, level if stated else self._default_level(section), phrases=phrases, examples=examples)
        for part in nice_parts:
            self._items(part, _Level.NICE, phrases=True, examples=[])

    def _default_level(self, section: _Section) -> _Level:
        return _Level.REQUIRED if not self.has_sections else _Level.NAMED

    @staticmethod
    def _level(text: str, section: _Section) -> _Level:
        if _NICE_CUE_RE.search(text) or section is _Section.NICE:
            return _Level.NICE
        if section is _Section.REQUIRED or _REQUIRED_CUE_RE.search(text):
            return _Level.REQUIRED
        return _Level.NAMED

    def _items(self, text: str, level: _Level, *, phrases: bool, examples: list[str]) -> None:
        """Split a sentence into list items; items joined by "or" are alternatives of one requirement, and so
        are an item and the examples in its parenthesis ("Kubernetes (EKS or GKE)")."""
        groups: list[list[str]] = []
        pieces = _pieces(text)
        for n, (_, item) in enumerate(pieces):
            keys, together = self._item_keys(item, phrases=phrases, examples=examples)
            if not keys:
                continue
            if groups and _joins_previous(pieces, n):
                groups[-1] += keys
            elif together:
                groups.append(keys)
            else:
                groups += [[k] for k in keys]
        for group in groups:
            self._mention(group, level)

    def _item_keys(self, item: str, *, phrases: bool, examples: list[str]) -> tuple[list[str], bool]:
        """The skills an item names, and whether they form one requirement (the item has examples)."""
        refs = [int(i) for i in _PLACEHOLDER_RE.findall(item)]
        item = _PLACEHOLDER_RE.sub(" , ", item)
        terms = _skill_terms(item)
        keys = [self._known(t) for t in terms]
        if phrases:
            rest = item
            for t in reversed(terms):
                rest = rest[: t.start] + " , " + rest[t.end :]
            for chunk in rest.split(" , "):
                cleaned = _clean_phrase(chunk)
                # A word beside a known skill qualifies it ("Linux administration", "Python scripting").
                if terms and len(cleaned.split()) < 2:
                    continue
                phrase = _phrase_skill(cleaned)
                if phrase is not None:
                    keys.append(self._phrase(phrase))
        example_keys = [
            k
            for i in refs
            for _, piece in _pieces(examples[i])
            for k in self._item_keys(piece, phrases=phrases, examples=[])[0]
        ]
        # Examples in a parenthesis stand for the item only where the job states a requirement, not in a title.
        return list(dict.fromkeys(keys + example_keys)), phrases and bool(example_keys)

    def requirements(self) -> list[JobRequirement]:
        # The strongest statement of each skill, and the first place it appears.
        level: dict[str, _Level] = {}
        first: dict[str, int] = {}
        for m in self.mentions:
            if len(m.keys) == 1:
                key = m.keys[0]
                level[key] = max(level.get(key, _Level.NAMED), m.level)
                first.setdefault(key, m.order)
        groups: list[tuple[tuple[str, ...], _Level, int]] = []
        grouped: set[str] = set()
        for m in self.mentions:
            if len(m.keys) < 2:
                continue
            # A group member required on its own already satisfies the group; one stated more weakly on its
            # own stays an alternative at the group's level.
            if any(k in level and level[k] >= m.level for k in m.keys):
                continue
            keys = tuple(k for k in m.keys if k not in grouped)
            for k in keys:
                level.pop(k, None)
                first.pop(k, None)
            if len(keys) == 1:
                level[keys[0]] = m.level
                first[keys[0]] = m.order
            elif keys:
                groups.append((keys, m.level, m.order))
                grouped.update(keys)
        entries = [((k,), lv, first[k]) for k, lv in level.items() if k not in grouped]
        out: list[JobRequirement] = []
        for keys, lv, _ in sorted([*entries, *groups], key=lambda e: e[2]):
            importance = Importance.NICE_TO_HAVE if lv is _Level.NICE else Importance.REQUIRED
            out.append(JobRequirement(importance, tuple(self._finish(self.skills[k]) for k in keys)))
        required = [r for r in out if r.importance is Importance.REQUIRED][:MAX_REQUIRED]
        nice = [r for r in out if r.importance is Importance.NICE_TO_HAVE][:MAX_NICE_TO_HAVE]
        return required + nice

    @staticmethod
    def _finish(skill: _Skill) -> _Skill:
        """A known skill is shown as the job writes it most often (the vocabulary's casing if only case differs)."""
        if skill.known and skill.spellings:
            written = skill.spellings.most_common(1)[0][0]
            if written.lower() != TERMS[skill.key].display.lower():
                skill.display = written
        return skill


@lru_cache(maxsize=64)
def job_requirements(job_description: str) -> tuple[JobRequirement, ...]:
    """The job's skills in the order the job names them, required ones first."""
    reader = _JobReader()
    reader.read(job_description)
    return tuple(reader.requirements())


def split_job_description(job_description: str) -> list[SkillRequirement]:
    """The job's required and nice-to-have skills."""
    return [r.model() for r in job_requirements(job_description)]


# --- the CV -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    """One entry of a CV that can prove a skill: a bullet, a summary, a skill keyword, ..."""

    path: str
    text: str


def _cv_units(resume: Resume) -> list[_Unit]:
    """The CV's entries, strongest evidence first: what was done, then skills and schooling, then titles."""
    units: list[tuple[str, str | None]] = []
    for i, w in enumerate(resume.work):
        units += [
            (f"work/{i}/summary", w.summary),
            *((f"work/{i}/highlights/{j}", h) for j, h in enumerate(w.highlights)),
        ]
    for i, p in enumerate(resume.projects):
        units += [(f"projects/{i}/description", p.description)]
        units += [(f"projects/{i}/highlights/{j}", h) for j, h in enumerate(p.highlights)]
        for extra, value in (p.model_extra or {}).items():
            if isinstance(value, list):
                units += [(f"projects/{i}/{extra}/{j}", v) for j, v in enumerate(value) if isinstance(v, str)]
    for i, v in enumerate(resume.volunteer):
        units += [(f"volunteer/{i}/summary", v.summary)]
        units += [(f"volunteer/{i}/highlights/{j}", h) for j, h in enumerate(v.highlights)]
    units.append(("basics/summary", resume.basics.summary))
    for i, s in enumerate(resume.skills):
        units.append((f"skills/{i}/name", s.name))
        units += [(f"skills/{i}/keywords/{j}", k) for j, k in enumerate(s.keywords)]
    for i, e in enumerate(resume.education):
        units.append((f"education/{i}", " ".join(x for x in (e.studyType, e.area, e.institution) if x)))
        units += [(f"education/{i}/courses/{j}", c) for j, c in enumerate(e.courses)]
    units += [(f"certificates/{i}/name", c.name) for i, c in enumerate(resume.certificates)]
    for i, a in enumerate(resume.awards):
        units += [(f"awards/{i}/title", a.title), (f"awards/{i}/summary", a.summary)]
    for i, pub in enumerate(resume.publications):
        units += [(f"publications/{i}/name", pub.name), (f"publications/{i}/summary", pub.summary)]
    units += [(f"languages/{i}/language", lang.language) for i, lang in enumerate(resume.languages)]
    units.append(("basics/label", resume.basics.label))
    units += [(f"work/{i}/{key}", getattr(w, key)) for i, w in enumerate(resume.work) for key in ("position", "name")]
    units += [(f"volunteer/{i}/position", v.position) for i, v in enumerate(resume.volunteer)]
    units += [(f"projects/{i}/name", p.name) for i, p in enumerate(resume.projects)]
    return [_Unit(path, text) for path, text in units if text and text.strip()]


def _excerpt(text: str, start: int = 0, end: int = 0) -> str:
    text = " ".join(text.split()) if len(text) <= EXCERPT_CHARS else text
    if len(text) <= EXCERPT_CHARS:
        return text
    half = (EXCERPT_CHARS - (end - start)) // 2
    lo = max(0, start - half)
    hi = min(len(text), lo + EXCERPT_CHARS)
    lo = max(0, hi - EXCERPT_CHARS)
    snippet = " ".join(text[lo:hi].split())
    return ("…" if lo > 0 else "") + snippet + ("…" if hi < len(text) else "")


@dataclass(frozen=True)
class _Found:
    status: MatchStatus
    unit: _Unit | None = None
    cv_wording: str | None = None
    start: int = 0
    end: int = 0


class _CvIndex:
    def __init__(self, resume: Resume) -> None:
        self.units = _cv_units(resume)
        self.terms = [_skill_terms(u.text) for u in self.units]
        self.words = [cv_vocabulary([u.text]).words for u in self.units]

    def find(self, skill: _Skill) -> _Found:
        if not skill.known:
            for unit, words in zip(self.units, self.words, strict=True):
                if skill.words <= words:
                    return _Found(MatchStatus.PROVEN, unit)
            return _Found(MatchStatus.MISSING)
        job_spellings = {s.lower() for s in skill.spellings}
        synonym: _Found | None = None
        for unit, terms in zip(self.units, self.terms, strict=True):
            for t in terms:
                if t.key != skill.key:
                    continue
                if t.text.lower() in job_spellings:
                    return _Found(MatchStatus.PROVEN, unit, None, t.start, t.end)
                synonym = synonym or _Found(MatchStatus.WORDED_DIFFERENTLY, unit, t.text, t.start, t.end)
        return synonym or _Found(MatchStatus.MISSING)

    def best(self, requirement: JobRequirement) -> tuple[_Skill, _Found]:
        rank = {MatchStatus.PROVEN: 0, MatchStatus.WORDED_DIFFERENTLY: 1, MatchStatus.MISSING: 2}
        found = [(o, self.find(o)) for o in requirement.options]
        return min(found, key=lambda f: rank[f[1].status])


def _surfacing_change(skill: _Skill, found: _Found, changes: Sequence[Change]) -> str | None:
    """The change that replaces the CV's wording of `skill` with the job's, preferring the evidence's entry."""
    job_spellings = {s.lower() for s in skill.spellings}

    def surfaces(change: Change) -> bool:
        before = [t for t in _skill_terms(change.before or "") if t.key == skill.key]
        after = [t for t in _skill_terms(change.after or "") if t.key == skill.key]
        return any(t.text.lower() not in job_spellings for t in before) and any(
            t.text.lower() in job_spellings for t in after
        )

    candidates = [c for c in changes if surfaces(c)]
    chosen = [c for c in candidates if found.unit is not None and c.path == found.unit.path] or candidates
    return chosen[0].id if chosen else None


def _join_or(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _missing_advice(requirement: JobRequirement) -> str:
    why = (
        "it is required for this role"
        if requirement.importance is Importance.REQUIRED
        else "it is a plus for this role, not a requirement"
    )
    names = [o.display for o in requirement.options]
    if len(names) > 1:
        return (
            f"If you have used {_join_or(names)}, add where and how (project, scale, result); otherwise consider "
            f"learning one of them — the job asks for one, and {why}."
        )
    skill = requirement.options[0]
    if skill.known:
        return (
            f"If you have used {skill.display}, add where and how (project, scale, result); otherwise consider "
            f"learning it — {why}."
        )
    words = skill.display.split()
    if words[0][:1].isupper() and words[0][1:].islower():
        words[0] = words[0].lower()  # "Mentoring engineers" inside a sentence; "CKA" stays
    return (
        f"If you have experience with {' '.join(words)}, add where and how (project, "
        f"scale, result); otherwise consider building it up — {why}."
    )


def _match(requirement: JobRequirement, cv: _CvIndex, changes: Sequence[Change]) -> SkillMatch:
    skill, found = cv.best(requirement)
    alternatives = [o.display for o in requirement.options if o is not skill]
    change_id = advice = None
    if found.status is MatchStatus.MISSING:
        advice = _missing_advice(requirement)
    elif found.status is MatchStatus.WORDED_DIFFERENTLY:
        change_id = _surfacing_change(skill, found, changes)
        if change_id is None:
            advice = (
                f'Your CV writes "{found.cv_wording}"; consider writing "{skill.display}" as the job does: many '
                "applicant tracking systems match words literally."
            )
    return SkillMatch(
        skill=skill.display,
        importance=requirement.importance,
        status=found.status,
        alternatives=alternatives,
        evidence=_excerpt(found.unit.text, found.start, found.end) if found.unit else None,
        evidence_path=found.unit.path if found.unit else None,
        cv_wording=found.cv_wording,
        change_id=change_id,
        advice=advice,
    )


def _counts(matches: Sequence[SkillMatch]) -> StatusCounts:
    count = Counter(m.status for m in matches)
    return StatusCounts(
        proven=count[MatchStatus.PROVEN],
        worded_differently=count[MatchStatus.WORDED_DIFFERENTLY],
        missing=count[MatchStatus.MISSING],
    )


def classify_skills(resume: Resume, job_description: str, changes: Sequence[Change] = ()) -> list[SkillMatch]:
    """Each of the job's skills against `resume`; `changes` are searched for the edit that surfaces a synonym."""
    cv = _CvIndex(resume)
    return [_match(r, cv, changes) for r in job_requirements(job_description)]


def tailor(original: Resume, changes: Sequence[Change], job_description: str) -> TailoringReport:
    """The tailoring report: the job's skills against the original CV, with the improvement's surfacing edits."""
    matches = classify_skills(original, job_description, changes)
    required = [m for m in matches if m.importance is Importance.REQUIRED]
    nice = [m for m in matches if m.importance is Importance.NICE_TO_HAVE]
    return TailoringReport(
        required=required,
        nice_to_have=nice,
        required_counts=_counts(required),
        nice_to_have_counts=_counts(nice),
    )


# --- ATS readiness -----------------------------------------------------------------------------------------

ATS_WEIGHTS = {"keyword_coverage": 40.0, "bullets": 20.0, "dates": 15.0, "sections": 15.0, "contact": 10.0}
REQUIRED_SKILL_WEIGHT = 2.0
NICE_SKILL_WEIGHT = 1.0
QUANTIFIED_TARGET = 0.5
BULLET_WORDS = (4, 40)

_ACTION_VERB_BASES = """
        accelerate achieve administer advise align analyse analyze architect audit author automate boost build
        champion coach collaborate conduct configure consolidate contribute coordinate create cut debug decrease
        define deliver deploy design develop direct document drive earn educate eliminate enable engineer enhance
        establish evaluate execute expand facilitate forecast found generate grow guide halve hire identify
        implement improve increase initiate install instrument integrate introduce invent launch lead lower
        maintain manage map mentor migrate model modernise modernize monitor negotiate onboard operate optimise
        optimize orchestrate organise organize overhaul oversee own partner perform pilot pioneer plan prepare
        present prioritise prioritize produce program prototype publish raise rebuild recruit redesign reduce
        refactor release remove replace research resolve restructure review rewrite run save scale secure sell
        serve set ship simplify solve spearhead standardise standardize start streamline strengthen supervise
        support teach test train transform translate triple double troubleshoot tune unify upgrade validate win
        write
    """.split()  # noqa: SIM905
# Folded forms ("optimis") and base forms: irregular pasts fold to their base ("wrote" -> "write").
_ACTION_VERBS = frozenset(_ACTION_VERB_BASES) | {normalize_word(v) for v in _ACTION_VERB_BASES}
_WEAK_OPENER_RE = re.compile(
    r"^(?:responsible for|tasked with|in charge of|(?:my )?duties|(?:my )?responsibilities|worked on|helped"
    r"|involved in|participated in|assisted|was |were |i |my |we |our )",
    re.IGNORECASE,
)
_ISO_DATE_RE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
_PRESENT_RE = re.compile(r"^(?:present|current(?:ly)?|now|today|ongoing)$", re.IGNORECASE)
_NUMBER_RE = re.compile(r"\b\d")  # "40 jobs", "$2M", "5GB"; not the 8 of "k8s"
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _part(name: str, label: str, score: float, explanation: str, *, applies: bool = True) -> AtsPart:
    weight = ATS_WEIGHTS[name] if applies else 0.0
    return AtsPart(name=name, label=label, score=round(score, 1), weight=weight, explanation=explanation)


def _coverage_part(matches: Sequence[SkillMatch]) -> AtsPart:
    label = "Keyword coverage"
    if not matches:
        return _part(
            "keyword_coverage",
            label,
            0,
            "No job description with skills was given, so coverage is not scored.",
            applies=False,
        )
    credit = {MatchStatus.PROVEN: 1.0, MatchStatus.WORDED_DIFFERENTLY: SYNONYM_CREDIT, MatchStatus.MISSING: 0.0}
    weight = {Importance.REQUIRED: REQUIRED_SKILL_WEIGHT, Importance.NICE_TO_HAVE: NICE_SKILL_WEIGHT}
    total = sum(weight[m.importance] for m in matches)
    earned = sum(weight[m.importance] * credit[m.status] for m in matches)
    required = [m for m in matches if m.importance is Importance.REQUIRED]
    nice = [m for m in matches if m.importance is Importance.NICE_TO_HAVE]

    def proven(ms: Sequence[SkillMatch]) -> int:
        return sum(m.status is MatchStatus.PROVEN for m in ms)

    parts = [f"Your CV shows {proven(required)} of {len(required)} required skills"]
    if nice:
        parts[0] += f" and {proven(nice)} of {len(nice)} nice-to-haves"
    parts[0] += " in the job's own words (required skills count twice)."
    worded = [m for m in matches if m.status is MatchStatus.WORDED_DIFFERENTLY]
    if worded:
        examples = ", ".join(f'"{m.cv_wording}" for "{m.skill}"' for m in worded[:3])
        parts.append(
            f"{len(worded)} more written differently ({examples}) earn half credit: many ATS match words literally."
        )
    missing = [m.skill for m in required if m.status is MatchStatus.MISSING]
    if missing:
        parts.append(f"Required but not shown: {', '.join(missing[:5])}{', …' if len(missing) > 5 else ''}.")
    return _part("keyword_coverage", label, 100 * earned / total, " ".join(parts))


def _sections_part(resume: Resume) -> AtsPart:
    present = {
        "Experience": bool(resume.work),
        "Education": bool(resume.education),
        "Skills": bool(resume.skills and any(s.name or s.keywords for s in resume.skills)),
    }
    missing = [name for name, ok in present.items() if not ok]
    score = 100 * (len(present) - len(missing)) / len(present)
    if not missing:
        explanation = "Experience, Education and Skills sections are all there: ATS look for these standard headings."
    else:
        explanation = (
            f"No {_join_and(missing)} section. ATS look for the standard Experience, Education and Skills headings;"
            " add the missing ones if you have something true to put in them."
        )
    return _part("sections", "Standard sections", score, explanation)


def _join_and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _contact_part(resume: Resume) -> AtsPart:
    email = bool(resume.basics.email and _EMAIL_RE.match(resume.basics.email.strip()))
    phone = len(re.sub(r"\D", "", resume.basics.phone or "")) >= 7
    if email and phone:
        explanation = "An e-mail address and a phone number are there, so a recruiter can reach you."
    elif email or phone:
        has, lacks = ("an e-mail address", "a phone number") if email else ("a phone number", "an e-mail address")
        explanation = f"Your CV has {has} but no {lacks.split(' ', 1)[1]}; ATS read both into the candidate profile."
    else:
        explanation = "No e-mail address or phone number: an ATS cannot fill in how to reach you."
    return _part("contact", "Contact details", 50.0 * email + 50.0 * phone, explanation)


def _readable_date(value: str | None, *, end: bool) -> bool:
    if value is None or not value.strip():
        return end  # no end date: the job is current
    value = value.strip()
    return bool(_ISO_DATE_RE.match(value) or (end and _PRESENT_RE.match(value)) or find_dates(value))


def _dates_part(resume: Resume) -> AtsPart:
    label = "Dates on every job"
    if not resume.work:
        return _part("dates", label, 0, "No jobs listed, so there are no dates to read.", applies=False)
    unreadable = [
        w for w in resume.work if not (_readable_date(w.startDate, end=False) and _readable_date(w.endDate, end=True))
    ]
    n = len(resume.work)
    if not unreadable:
        subject = "Your job has" if n == 1 else "Both jobs have" if n == 2 else f"All {n} jobs have"
        explanation = f"{subject} dates an ATS can read (month and year are best)."
    else:
        names = ", ".join(" at ".join(x for x in (w.position, w.name) if x) or "a job" for w in unreadable[:3])
        explanation = (
            f"{len(unreadable)} of {_count(n, 'job')} {_verb(len(unreadable), 'lack')} a readable start or end date "
            f"({names}); ATS compute your years of experience from them."
        )
    return _part("dates", label, 100 * (n - len(unreadable)) / n, explanation)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _verb(n: int, plural: str, singular: str | None = None) -> str:
    """The verb agreeing with a count: "1 starts", "2 start"."""
    return plural if n != 1 else singular or plural + "s"


def _starts_with_verb(bullet: str) -> bool:
    text = bullet.strip().lstrip("-•*·–▪◦> ").strip()
    if not text or _WEAK_OPENER_RE.match(text):
        return False
    first = re.split(r"[\s,;:]+", text, maxsplit=1)[0].lower()
    return normalize_word(first) in _ACTION_VERBS or (len(first) > 4 and first.endswith("ed"))


def _bullets(resume: Resume) -> Iterator[str]:
    lists = [w.highlights for w in resume.work] + [v.highlights for v in resume.volunteer]
    for highlights in lists + [p.highlights for p in resume.projects]:
        yield from (h for h in highlights if h.strip())


def _bullets_part(resume: Resume) -> AtsPart:
    label = "Bullet points"
    bullets = list(_bullets(resume))
    if not bullets:
        applies = bool(resume.work or resume.projects or resume.volunteer)
        return _part(
            "bullets",
            label,
            0,
            "No bullet points under your jobs or projects: ATS and recruiters look for achievements listed as bullets.",
            applies=applies,
        )
    lo, hi = BULLET_WORDS
    n = len(bullets)
    verbs = sum(_starts_with_verb(b) for b in bullets)
    sized = sum(lo <= len(b.split()) <= hi for b in bullets)
    numbers = sum(bool(_NUMBER_RE.search(b)) for b in bullets)
    score = 100 * (0.4 * verbs / n + 0.3 * sized / n + 0.3 * min(1.0, numbers / n / QUANTIFIED_TARGET))
    explanation = (
        f"{_count(n, 'bullet point')}: {verbs} {_verb(verbs, 'start')} with an action verb, {sized} "
        f"{_verb(sized, 'have', 'has')} a readable length ({lo}-{hi} words), {numbers} {_verb(numbers, 'contain')} a "
        "number (aim for at least half, with results you can stand behind)."
    )
    return _part("bullets", label, score, explanation)


def ats_score(resume: Resume, job_description: str) -> AtsScore:
    """The CV's ATS readiness for the job, 0-100, with every part explained."""
    parts = [
        _coverage_part(classify_skills(resume, job_description)),
        _bullets_part(resume),
        _dates_part(resume),
        _sections_part(resume),
        _contact_part(resume),
    ]
    total = sum(p.weight for p in parts)
    score = sum(p.score * p.weight for p in parts) / total if total else 0.0
    return AtsScore(score=round(score, 1), parts=parts)


__all__ = [
    "JobRequirement",
    "ats_score",
    "classify_skills",
    "job_requirements",
    "split_job_description",
    "tailor",
]
