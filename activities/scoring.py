"""Keyword / ATS match between a CV and a job description: deterministic, no I/O.

How the score works
- Keywords come from the job description: known skills and tech terms from a curated vocabulary (multi-word
  and special-character terms such as "machine learning", "c++", "node.js", "ci/cd" included) and the other
  words that remain after dropping English and job-ad stop words.
- A keyword's weight is how often it appears, doubled in requirement lines ("must have", "experience with",
  "3+ years", a "Requirements" heading, ...), times 1.5 for known skills. The target position's words count
  as requirement words.
- The CV matches a keyword when it contains the same word (case, plurals and common verb endings ignored).
  A known skill written differently (the CV says "k8s", the job says "Kubernetes") earns half the credit:
  many applicant tracking systems read literally, so aligning the wording to the job's raises the score.
- Score = 100 x weighted share of the top keywords (at most `MAX_SCORED_KEYWORDS`) the CV covers.
- An empty job description scores the CV against the position's words only; with no position either, the
  score is 0 with empty lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from models.improvement import KeywordScore
from models.resume import Resume, resume_to_text

MAX_SCORED_KEYWORDS = 50
MAX_LISTED_KEYWORDS = 30
SYNONYM_CREDIT = 0.5
REQUIREMENT_FACTOR = 2.0
KNOWN_TERM_FACTOR = 1.5
POSITION_WEIGHT = 2.0

# The curated vocabulary shared with the offline engine: display form first, then every surface form
# (lower case) that means the same skill. Only these synonyms are ever aligned or credited.
_VOCABULARY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("JavaScript", ("javascript", "js", "ecmascript")),
    ("TypeScript", ("typescript",)),
    ("Node.js", ("node.js", "nodejs")),
    ("React", ("react", "react.js", "reactjs")),
    ("React Native", ("react native",)),
    ("Vue.js", ("vue.js", "vuejs", "vue")),
    ("Angular", ("angular",)),
    ("Next.js", ("next.js", "nextjs")),
    ("HTML", ("html", "html5")),
    ("CSS", ("css", "css3")),
    ("Sass", ("sass", "scss")),
    ("Kubernetes", ("kubernetes", "k8s")),
    ("Docker", ("docker",)),
    ("Terraform", ("terraform",)),
    ("PostgreSQL", ("postgresql", "postgres", "psql")),
    ("MySQL", ("mysql",)),
    ("SQL", ("sql",)),
    ("NoSQL", ("nosql",)),
    ("MongoDB", ("mongodb", "mongo")),
    ("Redis", ("redis",)),
    ("Elasticsearch", ("elasticsearch", "elastic search")),
    ("Kafka", ("kafka", "apache kafka")),
    ("Spark", ("spark", "apache spark")),
    ("RabbitMQ", ("rabbitmq",)),
    ("GraphQL", ("graphql",)),
    ("REST API", ("rest api", "rest apis", "restful", "restful api", "restful apis")),
    ("API", ("api", "apis")),
    ("Python", ("python",)),
    ("Java", ("java",)),
    ("Go", ("golang",)),
    ("Rust", ("rust",)),
    ("Ruby", ("ruby",)),
    ("Ruby on Rails", ("ruby on rails", "rails", "ror")),
    ("PHP", ("php",)),
    ("C++", ("c++", "cpp")),
    ("C#", ("c#", "csharp")),
    (".NET", (".net", "dotnet")),
    ("Objective-C", ("objective-c", "objc")),
    ("Swift", ("swift",)),
    ("Kotlin", ("kotlin",)),
    ("Scala", ("scala",)),
    ("Android", ("android",)),
    ("iOS", ("ios",)),
    ("Flutter", ("flutter",)),
    ("Django", ("django",)),
    ("Flask", ("flask",)),
    ("FastAPI", ("fastapi",)),
    ("Spring Boot", ("spring boot",)),
    ("AWS", ("aws", "amazon web services")),
    ("Google Cloud", ("google cloud", "google cloud platform", "gcp")),
    ("Azure", ("azure", "microsoft azure")),
    ("CI/CD", ("ci/cd", "cicd", "continuous integration", "continuous delivery", "continuous deployment")),
    ("DevOps", ("devops",)),
    ("SRE", ("sre", "site reliability engineering")),
    ("Linux", ("linux",)),
    ("Git", ("git",)),
    ("GitHub Actions", ("github actions",)),
    ("Jenkins", ("jenkins",)),
    ("Ansible", ("ansible",)),
    ("Microservices", ("microservices", "microservice", "micro-services")),
    ("Machine Learning", ("machine learning", "ml")),
    ("Deep Learning", ("deep learning",)),
    ("Artificial Intelligence", ("artificial intelligence", "ai")),
    ("Natural Language Processing", ("natural language processing", "nlp")),
    ("Large Language Models", ("large language models", "large language model", "llm", "llms")),
    ("Data Science", ("data science",)),
    ("Data Engineering", ("data engineering",)),
    ("ETL", ("etl",)),
    ("TensorFlow", ("tensorflow",)),
    ("PyTorch", ("pytorch",)),
    ("pandas", ("pandas",)),
    ("NumPy", ("numpy",)),
    ("scikit-learn", ("scikit-learn", "sklearn")),
    ("Tableau", ("tableau",)),
    ("Power BI", ("power bi", "powerbi")),
    ("Excel", ("excel", "microsoft excel", "ms excel")),
    ("Salesforce", ("salesforce",)),
    ("Jira", ("jira",)),
    ("Figma", ("figma",)),
    ("UI/UX", ("ui/ux", "ux/ui", "ui ux")),
    ("Web Development", ("web development", "web dev")),
    ("Full Stack", ("full stack", "full-stack", "fullstack")),
    ("Front End", ("front end", "front-end", "frontend")),
    ("Back End", ("back end", "back-end", "backend")),
    ("Agile", ("agile",)),
    ("Scrum", ("scrum",)),
    ("Unit Testing", ("unit testing", "unit tests")),
    ("Test-Driven Development", ("test-driven development", "test driven development", "tdd")),
    ("Object-Oriented Programming", ("object-oriented programming", "object oriented programming", "oop")),
    ("SEO", ("seo", "search engine optimization", "search engine optimisation")),
    ("CRM", ("crm", "customer relationship management")),
    ("KPI", ("kpi", "kpis", "key performance indicators")),
    ("SaaS", ("saas", "software as a service")),
    ("Project Management", ("project management",)),
    ("Product Management", ("product management",)),
    ("Computer Science", ("computer science",)),
    ("Database Management", ("database management",)),
    ("Cloud Computing", ("cloud computing",)),
)


@dataclass(frozen=True)
class Term:
    """A known skill: its key (the display form in lower case), how to write it, and every surface form."""

    key: str
    display: str
    surfaces: frozenset[str]


TERMS: dict[str, Term] = {
    display.lower(): Term(display.lower(), display, frozenset(surfaces)) for display, surfaces in _VOCABULARY
}
# Surfaces that are also ordinary English words ("excel at", "react to") count only when capitalised.
_CASE_SENSITIVE = frozenset(
    {
        "excel",
        "swift",
        "spark",
        "rust",
        "ruby",
        "rails",
        "flask",
        "react",
        "angular",
        "vue",
        "go",
        "agile",
        "scrum",
        "git",
        "jenkins",
        "java",
        "scala",
    }
)
_SURFACE_TO_KEY: dict[str, str] = {s: t.key for t in TERMS.values() for s in t.surfaces}
# Longest first, so "react native" wins over "react" and "node.js" over "js".
_TERM_RE = re.compile(
    r"(?<![\w+#.])("
    + "|".join(re.escape(s) for s in sorted(_SURFACE_TO_KEY, key=len, reverse=True))
    + r")(?![\w+#]|\.\w)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class TermMatch:
    key: str
    text: str
    start: int
    end: int


def find_terms(text: str) -> list[TermMatch]:
    """Every known skill written in `text`, with its exact spelling and position."""
    return [
        TermMatch(_SURFACE_TO_KEY[m.group(1).lower()], m.group(1), m.start(1), m.end(1))
        for m in _TERM_RE.finditer(text)
        if not (m.group(1).lower() in _CASE_SENSITIVE and m.group(1)[0].islower())
    ]


_STOP_WORDS = frozenset(
    """
        a about above after again against all also am an and any are aren't as at be because been before
        being below between both but by can cannot could couldn't did didn't do does doesn't doing don't
        down during each etc few for from further had hadn't has hasn't have haven't having he her here hers
        herself him himself his how i i'm if in into is isn't it it's its itself just let's me more most
        must my myself no nor not of off on once only or other ought our ours ourselves out over own same
        shall she should shouldn't so some such than that that's the their theirs them themselves then there
        there's these they they're this those through to too under until up very was wasn't we we're we've
        were weren't what what's when where which while who whom why will with won't would wouldn't you
        you'll you're you've your yours yourself yourselves per via within across among upon using use used
        like well new able e.g i.e eg ie plus including include includes various other others every many
        much one two three four five six seven eight nine ten looking look join joining role roles position
        positions job jobs candidate candidates ideal company companies team teams opportunity opportunities
        responsibility responsibilities requirement requirements qualification qualifications preferred
        required require requires nice bonus strong excellent good great solid proven ability abilities
        skill skills experience experiences experienced year years knowledge understanding related field
        fields work working works day days environment apply applicant salary benefit benefits offer offers
        hire hiring seeking seek want wants need needs involve involves involving make sure least minimum
        equivalent similar preferably highly relevant who's you'd we'd we'll us
    """.split()  # noqa: SIM905
)

_WORD_RE = re.compile(r"[a-z][a-z0-9]*(?:['’][a-z]+)?(?:[-/][a-z0-9]+)*", re.IGNORECASE)
_SEGMENT_SPLIT_RE = re.compile(r"\n+|(?<=[.!?;])\s+")
_REQUIREMENT_RE = re.compile(
    r"\b(requir\w*|must|qualif\w*|proficien\w*|experience (with|in)|knowledge of|understanding of|familiar\w*"
    r"|expertise|hands-on|\d+\+? years?|degree|you have|you bring|ability to)\b",
    re.IGNORECASE,
)
_HEADING_RE = re.compile(r"^\s*(?:#+\s*)?\**\s*([A-Za-z'’ ]{3,40}?)\s*\**\s*(:)?\s*\**\s*$")
_KNOWN_HEADING_RE = re.compile(
    r"^(requirements?|qualifications?|must[- ]haves?|nice[- ]to[- ]haves?|skills|responsibilities"
    r"|benefits|perks"
    r"|about (us|you|the role|the team)|what you('|’)?ll (do|bring)|what we offer|who you are|your profile"
    r"|the role|tasks|duties)$",
    re.IGNORECASE,
)
_REQUIREMENT_HEADING_RE = re.compile(
    r"requirement|qualification|must[- ]have|skills|what you('|’)?ll bring|who you are|about you|profile",
    re.IGNORECASE,
)

_IRREGULAR = {
    "built": "build",
    "led": "lead",
    "ran": "run",
    "wrote": "write",
    "written": "write",
    "grew": "grow",
    "grown": "grow",
    "drove": "drive",
    "driven": "drive",
    "made": "make",
    "began": "begin",
    "begun": "begin",
    "brought": "bring",
    "taught": "teach",
    "won": "win",
    "sold": "sell",
    "held": "hold",
    "kept": "keep",
    "thought": "think",
    "found": "find",
    "gave": "give",
    "given": "give",
    "took": "take",
    "taken": "take",
    "oversaw": "oversee",
    "overseen": "oversee",
    "spoke": "speak",
    "spoken": "speak",
    "chose": "choose",
    "met": "meet",
    "sent": "send",
    "spent": "spend",
    "understood": "understand",
}


def normalize_word(word: str) -> str:
    """Case, possessives, plurals and regular verb endings folded: "Optimized" equals "optimize"."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if "-" in w or "/" in w:
        return "-".join(normalize_word(p) for p in re.split(r"[-/]", w) if p)
    if len(w) <= 3:
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "shes", "ches", "xes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("ing") and len(w) > 5:
        w = w[:-3]
    elif w.endswith("ed") and len(w) > 4:
        w = w[:-2]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
        w = w[:-1]  # "planned" -> "plann" -> "plan"
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return w


_STOP_KEYS = frozenset(normalize_word(w) for w in _STOP_WORDS)


@dataclass
class Keyword:
    """A job-description keyword with its weight. `surfaces` are the spellings the job uses (lower case)."""

    key: str
    display: str
    weight: float
    known: bool
    surfaces: set[str] = field(default_factory=set)
    first_seen: int = 0


def _segments(text: str) -> Iterator[tuple[str, bool]]:
    """The job description in lines and sentences, each with whether it states a requirement."""
    under_requirements = False
    for line in text.splitlines():
        heading = _HEADING_RE.match(line)
        if heading and (heading.group(2) or line.lstrip().startswith("#") or _KNOWN_HEADING_RE.match(heading.group(1))):
            under_requirements = bool(_REQUIREMENT_HEADING_RE.search(heading.group(1)))
            yield line, under_requirements
            continue
        for segment in _SEGMENT_SPLIT_RE.split(line):
            if segment.strip():
                yield segment, under_requirements or bool(_REQUIREMENT_RE.search(segment))


def _words(text: str, *, skip_terms: bool = True) -> Iterator[tuple[str, str]]:
    """(normalised key, surface) for each meaningful word in text, by default outside known terms."""
    cleaned = _TERM_RE.sub(" ", text) if skip_terms else text
    for m in _WORD_RE.finditer(cleaned):
        surface = m.group(0)
        lower = surface.lower().replace("’", "'")
        if len(lower) < 2 or lower in _STOP_WORDS:
            continue
        key = normalize_word(surface)
        if key not in _STOP_KEYS:
            yield key, surface


def extract_keywords(job_description: str, *, position: str = "") -> list[Keyword]:
    """The job's keywords, heaviest first (ties keep the order of first appearance)."""
    found: dict[str, Keyword] = {}
    order = 0

    def add(key: str, display: str, surface: str, weight: float, known: bool) -> None:
        nonlocal order
        kw = found.get(key)
        if kw is None:
            kw = found[key] = Keyword(key, display, 0.0, known, first_seen=order)
            order += 1
        kw.weight += weight * (KNOWN_TERM_FACTOR if known else 1.0)
        kw.surfaces.add(surface.lower())

    lines: list[tuple[str, float]] = [(position, POSITION_WEIGHT)] if position.strip() else []
    lines += [(seg, REQUIREMENT_FACTOR if req else 1.0) for seg, req in _segments(job_description)]
    for text, weight in lines:
        for term in find_terms(text):
            add(term.key, TERMS[term.key].display, term.text, weight, True)
        for key, surface in _words(text):
            add(key, surface if surface.isupper() else surface.lower(), surface, weight, False)
    return sorted(found.values(), key=lambda k: (-k.weight, k.first_seen))


@dataclass(frozen=True)
class CvVocabulary:
    """What a CV says, folded for matching: word keys, known-skill keys and the exact skill spellings used."""

    words: frozenset[str]
    term_keys: frozenset[str]
    term_surfaces: frozenset[str]


def cv_vocabulary(texts: Iterable[str]) -> CvVocabulary:
    words: set[str] = set()
    keys: set[str] = set()
    surfaces: set[str] = set()
    for text in texts:
        for term in find_terms(text):
            keys.add(term.key)
            surfaces.add(term.text.lower())
        words.update(key for key, _ in _words(text, skip_terms=False))
    return CvVocabulary(frozenset(words), frozenset(keys), frozenset(surfaces))


def keyword_credit(keyword: Keyword, cv: CvVocabulary) -> float:
    """1 for the job's own wording, `SYNONYM_CREDIT` for a curated synonym of it, else 0."""
    if not keyword.known:
        return 1.0 if keyword.key in cv.words else 0.0
    if keyword.key not in cv.term_keys:
        return 0.0
    return 1.0 if keyword.surfaces & cv.term_surfaces else SYNONYM_CREDIT


def _resume_texts(resume: Resume) -> list[str]:
    texts = [resume_to_text(resume)]
    # Extra keys JSON Resume documents often carry (projects' keywords, roles) also prove skills.
    for project in resume.projects:
        for value in (project.model_extra or {}).values():
            if isinstance(value, list):
                texts += [v for v in value if isinstance(v, str)]
    return texts


def score_keywords(resume: Resume, job_description: str, *, position: str = "") -> KeywordScore:
    """How well the CV covers the job's keywords, 0-100, with matched and missing keywords heaviest first."""
    keywords = extract_keywords(job_description, position=position)[:MAX_SCORED_KEYWORDS]
    if not keywords:
        return KeywordScore(score=0.0, matched=[], missing=[])
    cv = cv_vocabulary(_resume_texts(resume))
    total = sum(k.weight for k in keywords)
    earned = 0.0
    matched: list[str] = []
    missing: list[str] = []
    for kw in keywords:
        credit = keyword_credit(kw, cv)
        earned += credit * kw.weight
        (matched if credit > 0 else missing).append(kw.display)
    score = round(min(100.0, 100.0 * earned / total), 1)
    return KeywordScore(score=score, matched=matched[:MAX_LISTED_KEYWORDS], missing=missing[:MAX_LISTED_KEYWORDS])
