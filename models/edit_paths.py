"""Where a rewrite may edit a CV: an allow-list of paths into the JSON Resume, everything else blocked.

Allowed are wording (summaries, highlights, project descriptions, skill names and keywords) and order (of
the sections, of the skill groups, of the keywords in a group). Identity, contact details, employers, titles,
dates, schools, degrees, awards, certificates, languages and the rest are facts: blocked, whatever the text.
Paths are written like `work/0/highlights/2`; `sections/order` is a pseudo-path for the order of sections.
"""

from __future__ import annotations

import re

SECTIONS_ORDER_PATH = "sections/order"
SKILLS_ORDER_PATH = "skills"

# Wording: the value at the path is text that may be reworded.
_TEXT_PATTERNS = (
    r"basics/summary",
    r"work/\d+/summary",
    r"work/\d+/highlights/\d+",
    r"volunteer/\d+/summary",
    r"volunteer/\d+/highlights/\d+",
    r"projects/\d+/description",
    r"projects/\d+/highlights/\d+",
    r"skills/\d+/name",
    r"skills/\d+/keywords/\d+",
)
# Order: `before` and `after` list the items, separated by ", ".
_ORDER_PATTERNS = (re.escape(SECTIONS_ORDER_PATH), re.escape(SKILLS_ORDER_PATH), r"skills/\d+/keywords")

_TEXT_RE = re.compile("|".join(f"(?:{p})" for p in _TEXT_PATTERNS))
_ORDER_RE = re.compile("|".join(f"(?:{p})" for p in _ORDER_PATTERNS))

# Sections whose order `sections/order` may change (JSON Resume's list sections).
ORDERABLE_SECTIONS = (
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

# For the model's instructions: the same list, readable.
ALLOWED_PATHS_TEXT = (
    "basics/summary, work/N/summary, work/N/highlights/M, volunteer/N/summary, volunteer/N/highlights/M, "
    "projects/N/description, projects/N/highlights/M, skills/N/name, skills/N/keywords/M (wording); "
    "sections/order (the order of the sections), skills (the order of the skill groups) and skills/N/keywords "
    "(the order of a group's keywords), whose before and after list the names separated by ', '"
)

_BLOCKED_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), reason)
    for pattern, reason in (
        (r"basics(/.*)?", "your name, title and contact details stay as you wrote them"),
        (r"(work|volunteer)/\d+/(name|organization)", "employers stay as you wrote them"),
        (r"[a-z]+/\d+/(position|roles(/.*)?)", "job titles stay as you wrote them"),
        (r"[a-z]+/\d+/(startDate|endDate|date|releaseDate)", "dates stay as you wrote them"),
        (r"education(/.*)?", "schools, degrees, grades and dates stay as you wrote them"),
        (
            r"(awards|certificates|publications|languages|interests|references)(/.*)?",
            "awards, certificates, publications, languages, interests and references stay as you wrote them",
        ),
    )
)
_DEFAULT_REASON = (
    "only summaries, highlights, project descriptions, skill wording and the order of sections and skills may change"
)


def normalize_path(path: str) -> str:
    """`work[0].highlights[1]`, `/work/0/highlights/1` and `work.0.highlights.1` all become
    `work/0/highlights/1`."""
    p = re.sub(r"\[(\d+)\]", r"/\1", path.strip().lstrip("$#"))
    p = p.replace(".", "/")
    return "/".join(s for s in p.split("/") if s)


def is_order_path(path: str) -> bool:
    """Whether the change reorders items (sections, skill groups, keywords) instead of rewording a text."""
    return _ORDER_RE.fullmatch(normalize_path(path)) is not None


def is_allowed(path: str) -> bool:
    """Whether a change at `path` (any common notation) is one a rewrite may propose."""
    normalized = normalize_path(path)
    return _TEXT_RE.fullmatch(normalized) is not None or _ORDER_RE.fullmatch(normalized) is not None


def blocked_reason(path: str) -> str | None:
    """Why a change at `path` is refused, for the CV's owner; None when the path is allowed."""
    if is_allowed(path):
        return None
    normalized = normalize_path(path)
    for pattern, reason in _BLOCKED_REASONS:
        if pattern.fullmatch(normalized):
            return reason
    return _DEFAULT_REASON
