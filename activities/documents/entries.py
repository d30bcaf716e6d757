"""Entries of a CV section (a job, a degree, a project...): where one ends and the next begins, and which part
of an entry's header is the title, the organisation, the place and the dates.

Every value is a piece of the CV's own text; only dates are rewritten (to ISO 8601). Header text that fits no
field goes to the entry's summary (or courses, for education): nothing is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from activities.documents.contacts import EMAIL_RE, SEPARATORS_RE, URL_RE, is_location
from activities.documents.dates import DateSpan, find_dates, strip_span
from activities.documents.normalize import unfinished

BULLET_RE = re.compile(
    r"^(?:[•◦▪▫■□●○◆◇►▸‣⁃∙·✓✔✗➢➤→❖★☆♦]\s*|[-–—*+](?:\s+|(?=[A-ZÀ-Þ]))|\(?\d{1,2}[.)]\s+|\(?[a-z][.)]\s+)"
)
_DURATION_RE = re.compile(
    r"^\(?\s*(?:\d+\+?\s*(?:years?|yrs?|months?|mos?|jahre?|monate?|ans?|mois|años?|meses|anos?|lat|miesięcy|"
    r"miesiące|mies\.)\s*(?:,|and|und|et|y|e|i)?\s*){1,2}\)?$",
    re.I,
)
_TITLE_WORDS = (
    "engineer|developer|programmer|manager|director|intern|internship|analyst|consultant|designer|scientist|"
    "researcher|lead|leader|head|officer|cto|ceo|cfo|coo|cio|cpo|vp|vice president|president|founder|co-founder|"
    "cofounder|architect|specialist|assistant|associate|administrator|coordinator|teacher|lecturer|professor|tutor|"
    "student|technician|nurse|accountant|representative|owner|editor|writer|author|freelancer|freelance|"
    "contractor|advisor|adviser|partner|executive|supervisor|trainee|apprentice|fellow|postdoc|postdoctoral|"
    "candidate|sde|swe|devops|sre|operator|clerk|agent|strategist|marketer|recruiter|chef|photographer|translator|"
    "copywriter|mentor|instructor|volunteer|member|chair|secretary|treasurer|maintainer|creator|principal|staff|"
    "product owner|scrum master|entwickler(?:in)?|ingenieur(?:in)?|leiter(?:in)?|berater(?:in)?|"
    "werkstudent(?:in)?|praktikant(?:in)?|geschäftsführer(?:in)?|mitarbeiter(?:in)?|referent(?:in)?|"
    "sachbearbeiter(?:in)?|développeur|développeuse|ingénieur|chef de projet|responsable|stagiaire|directeur|"
    "directrice|chargée?|alternante?|desarrollador(?:a)?|ingenier[oa]|jefe|gerente|becari[oa]|director(?:a)?|"
    "analista|consultor(?:a)?|desenvolvedor(?:a)?|engenheir[oa]|estagiári[oa]|coordenador(?:a)?|programista|"
    "programistka|inżynier|kierownik|specjalista|specjalistka|stażyst(?:a|ka)|praktykant(?:ka)?|dyrektor|analityk|"
    "konsultant|tester"
)
_TITLE_RE = re.compile(
    rf"(?<![\w])(?:{_TITLE_WORDS})s?(?![\w])|\w+(?:entwickler|ingenieur|leiter|berater)(?:in)?\b", re.I
)
_COMPANY_RE = re.compile(
    r"(?<![\w])(?:inc|llc|ltd|gmbh|ag|se|sa|sas|sarl|s\.a\.|corp|corporation|company|co\.|plc|bv|b\.v\.|oy|ab|kg|"
    r"limited|group|labs?|technologies|solutions|systems|software|studios?|agency|bank|hospital|ministry|"
    r"foundation|consulting|partners|capital|ventures|holdings|services|research|ai|sp\. z o\.o\.|s\.l\.|ltda)"
    r"(?![\w])\.?",
    re.I,
)
_INSTITUTION_RE = re.compile(
    r"universit|hochschule|college|institut|school|academy|akademie|academia|polytechn|politecn|politechnika|"
    r"école|ecole|escuela|escola|gymnasium|lycée|liceo|liceum|faculdade|facultad|fakultät|campus|\bTU\b|\bETH\b|"
    r"\bEPFL\b|\bMIT\b|\bUC\b|\bUCLA\b",
    re.I,
)
_DEGREE_RE = re.compile(
    r"(?:Ph\.?\s?D\.?|D\.?Phil\.?|Doctor(?:ate)?(?: of [A-Z][a-z]+(?: [A-Z][a-z]+)?)?|M\.?B\.?A\.?|M\.?Sc\.?|"
    r"B\.?Sc\.?|M\.?Eng\.?|B\.?Eng\.?|B\.?Tech\.?|M\.?Tech\.?|B\.?A\.?|M\.?A\.?|B\.?S\.?|M\.?S\.?|LL\.?[BM]\.?|"
    r"J\.?D\.?|M\.?D\.?|A\.?A\.?S\.?|"
    r"(?:Bachelor|Master)(?:'s|’s)?(?: of [A-Z][a-z]+(?: (?:and|&) [A-Z][a-z]+| [A-Z][a-z]+)?)?(?: degree)?|"
    r"Associate(?:'s|’s)? (?:degree|of [A-Z][a-z]+)|High School Diploma|Diploma|Diplom(?:-[A-Z][a-z]+)?|Abitur|"
    r"Licence|Licenciatura|Licenciad[oa]|Grado|Máster|Magister|Mgr\.?|Inż\.?|Bacharelado|Mestrado|Doutorado|"
    r"Doutoramento|Staatsexamen|Baccalauréat|BTS|DUT|Ingénieur|Ingenier[oa]|Doctorado|Doktor|Dr\.)(?![\w])"
)
_AREA_PREFIX_RE = re.compile(r"^(?:in|of|en|em|im|w zakresie|de)\s+", re.I)
_GPA_RE = re.compile(
    r"\b(?:GPA|CGPA|Grade|Note|Nota|Moyenne|Ocena|Final grade)\s*[:\-]?\s*(\d+(?:[.,]\d+)?(?:\s*/\s*\d+(?:[.,]\d+)?)?)",
    re.I,
)
_AT_RE = re.compile(r"\s+(?:at|@|bei|chez)\s+", re.I)


@dataclass(slots=True)
class RawEntry:
    head: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    dated: bool = False  # a header line carries an entry date
    notes_only: bool = True  # every header line is only dates, a place or a duration
    degree: bool = False  # a header line starts with a degree

    def replace_last_head(self, line: str) -> None:
        self.head.pop()
        self.add_head(line)

    def add_head(self, line: str) -> None:
        self.head.append(line)
        self.dated = self.dated or _has_entry_date(line)
        self.notes_only = self.notes_only and (_is_date_line(line) or is_location(line) or _is_duration(line))
        self.degree = self.degree or _starts_with_degree(line)


@dataclass(slots=True)
class Header:
    """What an entry's header says, each field a piece of the CV's text."""

    dates: DateSpan | None = None
    location: str | None = None
    url: str | None = None
    parts: list[str] = field(default_factory=list)  # the rest, split at separators, in reading order
    sentences: list[str] = field(default_factory=list)  # prose found among the header lines


def bullet_text(line: str) -> str | None:
    """The text of a list item, without its bullet or number; None when the line is not a list item."""
    match = BULLET_RE.match(line)
    if match is None:
        return None
    rest = line[match.end() :].strip()
    return rest or None


def is_title(text: str) -> bool:
    return _TITLE_RE.search(text) is not None


def _is_duration(line: str) -> bool:
    return _DURATION_RE.match(line.strip()) is not None


def _is_date_line(line: str) -> bool:
    span = find_dates(line)
    if span is None:
        return False
    rest = strip_span(line, span)
    return not rest or is_location(rest) or _is_duration(rest)


def _has_entry_date(line: str) -> bool:
    """A date strong enough to mark an entry's header: a range, a month, or a year standing apart."""
    span = find_dates(line)
    if span is None:
        return False
    if span.precise or _is_date_line(line):
        return True
    # A year closing the line counts, unless it sits in brackets with other words: "(NeurIPS 2023)".
    at_end = span.stop >= len(line.rstrip(" )]"))
    opened = line.rfind("(", 0, span.begin)
    in_words = opened > line.rfind(")", 0, span.begin) and line[opened + 1 : span.begin].strip() != ""
    return at_end and not in_words


def _is_sentence(line: str) -> bool:
    words = line.split()
    return len(words) > 12 or (len(words) > 6 and line.rstrip().endswith("."))


def split_entries(lines: list[str], *, degrees: bool = False) -> list[RawEntry]:
    """Group a section's lines into entries. A new entry starts at a header line after list items or a blank
    line, at a second dated header, or at a date line when the current entry already has dates. Lines of dates,
    places or durations with no dates yet belong to the current entry: layouts put them in a side column.
    With `degrees`, a line that starts with a degree opens a new entry when the current one has a degree."""
    entries: list[RawEntry] = []
    current: RawEntry | None = None
    blank = False
    for line in lines:
        if not line:
            blank = True
            continue
        item = bullet_text(line)
        if item is not None:
            if current is None:
                current = RawEntry()
                entries.append(current)
            current.bullets.append(item)
            blank = False
            continue
        if current is not None and current.bullets and not blank and _continues(current.bullets[-1], line):
            current.bullets[-1] = f"{current.bullets[-1]} {line}"
            continue
        if current is not None and current.head and not current.bullets and not blank and unfinished(current.head[-1]):
            current.replace_last_head(f"{current.head[-1]} {line}")
            blank = False
            continue
        if degrees and current is not None and current.degree and _starts_with_degree(line):
            current = None
        if current is None or _starts_entry(current, line, blank):
            current = RawEntry()
            entries.append(current)
        current.add_head(line)
        blank = False
    return entries


def _starts_with_degree(line: str) -> bool:
    return _DEGREE_RE.match(line) is not None


def _continues(previous: str, line: str) -> bool:
    """A wrapped list item: the line goes on in lower case after an item that did not end its sentence."""
    return line[0].islower() and not previous.rstrip().endswith((".", "!", "?")) and not _has_entry_date(line)


def _starts_entry(current: RawEntry, line: str, blank: bool) -> bool:
    if _is_date_line(line):
        return current.dated
    if is_location(line) or _is_duration(line):
        return False
    if current.bullets:
        return True
    if blank:
        # Dates, places and durations alone are no entry yet: the title after them belongs to them.
        return not current.notes_only
    return current.dated and _has_entry_date(line)


def read_header(lines: list[str], *, split_commas: bool = True) -> Header:
    """Dates, place, link and the remaining parts of an entry's header lines."""
    header = Header()
    for raw in lines:
        line = raw
        if header.dates is None and (span := find_dates(line)) is not None:
            header.dates = span
            line = strip_span(line, span)
        for match in list(URL_RE.finditer(line)):
            if EMAIL_RE.search(match.group(0)) is None and header.url is None:
                header.url = match.group(0).rstrip(".,;:")
                line = line.replace(match.group(0), "  ")
        line = line.strip(" ,;|•·–—-:")
        if not line or _is_duration(line):
            continue
        if _is_sentence(line):
            header.sentences.append(line)
            continue
        if header.location is None and is_location(line):
            header.location = line
            continue
        at = _AT_RE.split(line, maxsplit=1)
        pieces = at if len(at) == 2 and is_title(at[0]) else SEPARATORS_RE.split(line)
        for piece in pieces:
            piece = piece.strip(" ,;|•·–—-:")
            if not piece:
                continue
            if header.location is None and is_location(piece) and (header.parts or len(pieces) > 1):
                header.location = piece
                continue
            header.parts.extend(_comma_parts(piece) if split_commas else [piece])
    return header


def _comma_parts(piece: str) -> list[str]:
    """'Nexus AI, Co-Founder & CTO' is two parts; 'San Francisco, CA' or 'Research, Development' stay one when
    they are a place or when splitting would leave a fragment."""
    if ", " not in piece or is_location(piece):
        return [piece]
    head, tail = piece.split(", ", 1)
    if is_location(tail):
        return [head, tail]
    if len(head.split()) <= 6 and len(tail.split()) <= 8:
        return [head, *_comma_parts(tail)]
    return [piece]


@dataclass(slots=True)
class WorkFields:
    position: str | None
    organisation: str | None
    location: str | None
    url: str | None
    start: str | None
    end: str | None
    summary: list[str]


def work_fields(entry: RawEntry) -> WorkFields:
    header = read_header(entry.head)
    parts = list(header.parts)
    position = next((p for p in parts if is_title(p)), None)
    rest = [p for p in parts if p is not position]
    organisation = next((p for p in rest if _COMPANY_RE.search(p)), None)
    if organisation is None and rest:
        if position is None and len(rest) >= 2:
            position = rest[0]
            rest = rest[1:]
        organisation = rest[0]
    elif position is None and rest:
        candidates = [p for p in rest if p is not organisation]
        position = candidates[0] if candidates else None
    leftovers = [p for p in parts if p is not position and p is not organisation]
    leftovers = [p for p in leftovers if p != header.location]
    start, end = _range(header.dates)
    return WorkFields(position, organisation, header.location, header.url, start, end, leftovers + header.sentences)


def _range(span: DateSpan | None) -> tuple[str | None, str | None]:
    if span is None:
        return None, None
    return span.start, span.end


@dataclass(slots=True)
class EducationFields:
    institution: str | None
    study_type: str | None
    area: str | None
    location: str | None
    url: str | None
    start: str | None
    end: str | None
    score: str | None
    courses: list[str]


def education_fields(entry: RawEntry) -> EducationFields:
    header = read_header(entry.head)
    study_type: str | None = None
    area: str | None = None
    institution: str | None = None
    others: list[str] = []
    for part in header.parts:
        degree = _DEGREE_RE.match(part)
        if degree is not None and (study_type is None or part[degree.end() :].strip()):
            study_type = study_type or degree.group(0)
            rest = _AREA_PREFIX_RE.sub("", part[degree.end() :].strip(" ,:-–—"))
            if rest and area is None:
                if _INSTITUTION_RE.search(rest) and institution is None:
                    institution = rest
                else:
                    area = rest
            continue
        if institution is None and _INSTITUTION_RE.search(part):
            institution = part
            continue
        others.append(part)
    if institution is None and others:
        institution = others.pop(0)
    if area is None and others:
        area = others.pop(0)
    score = None
    for text in [*entry.head, *entry.bullets]:
        if (gpa := _GPA_RE.search(text)) is not None:
            score = gpa.group(1)
            break
    start, end = _range(header.dates)
    if header.dates is not None and not header.dates.is_range:
        start = None  # a single date on a degree is when it was awarded
    return EducationFields(
        institution,
        study_type,
        area,
        header.location,
        header.url,
        start,
        end,
        score,
        others + header.sentences + entry.bullets,
    )


@dataclass(slots=True)
class TitledFields:
    """Projects, publications, awards, certificates: a title, dates, a link and the text that follows."""

    title: str | None
    detail: str | None  # the second part of the header: awarder, issuer, a project's one-line description
    url: str | None
    start: str | None
    end: str | None
    lines: list[str]  # header lines after the first, list items excluded


def titled_fields(entry: RawEntry) -> TitledFields:
    first = entry.head[:1]
    later = entry.head[1:]
    header = read_header(first, split_commas=False)
    dates = header.dates
    extra: list[str] = []
    for line in later:
        if dates is None and _is_date_line(line):
            dates = find_dates(line)
            rest = strip_span(line, dates) if dates else ""
            if rest:
                extra.append(rest)
            continue
        if header.url is None and (match := URL_RE.fullmatch(line.strip())) is not None:
            header.url = match.group(0)
            continue
        extra.append(line)
    parts = header.parts
    title = parts[0] if parts else None
    detail = parts[1] if len(parts) > 1 else None
    extra[:0] = parts[2:]
    if header.location:
        extra.insert(0, header.location)
    start, end = _range(dates)
    return TitledFields(title, detail, header.url, start, end, header.sentences + extra)
