"""Plain CV text to a `Resume`, by heuristics. It never invents: every string it sets is a piece of the text
(dates excepted: they are normalised to ISO 8601). Text it cannot place goes to the summary rather than being
lost."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from activities.documents.contacts import URL_RE, Contacts, is_location, profile_for, scan_contact_line
from activities.documents.dates import find_dates, strip_span
from activities.documents.entries import (
    RawEntry,
    bullet_text,
    education_fields,
    is_title,
    split_entries,
    titled_fields,
    work_fields,
)
from activities.documents.normalize import SourceLine, tidy_lines
from activities.documents.sections import Section, section_of
from activities.documents.text import read_plain_text
from models.resume import (
    Award,
    Basics,
    Certificate,
    Education,
    Interest,
    Language,
    Location,
    Profile,
    Project,
    Publication,
    Reference,
    Resume,
    Skill,
    Volunteer,
    Work,
)

_BOILERPLATE = re.compile(
    r"^(?:curriculum vitae|resume|résumé|cv|lebenslauf|currículum(?: vitae)?|curriculo|currículo|życiorys)$", re.I
)
_NAME_PARTICLES = frozenset(
    ("von", "van", "der", "den", "de", "da", "di", "del", "della", "la", "le", "du", "dos", "das", "bin", "ibn", "al")
)
_ITEM_SPLIT = re.compile(r"\s*[,;|•·▪]\s*(?![^()]*\))|\s+/\s+|\s{2,}")
_CATEGORY = re.compile(r"^([^:]{1,40}):\s*(.+)$")
_FLUENCY = re.compile(
    r"^(.+?)\s+((?:[ABC][12]\+?|native|fluent|mother tongue|bilingual|professional|conversational|basic|"
    r"intermediate|advanced|beginner|elementary|proficient|muttersprache|fließend|verhandlungssicher|"
    r"grundkenntnisse|gute kenntnisse|langue maternelle|courant|natif|nativo|nativa|fluido|fluida|"
    r"ojczysty|biegły|podstawowy)\b.*)$",
    re.I,
)


def parse_resume_text(text: str) -> Resume:
    """A `Resume` from the plain text of a CV."""
    return parse_lines(read_plain_text(text))


def parse_lines(lines: Sequence[SourceLine]) -> Resume:
    """A `Resume` from lines in reading order; `SourceLine.heading` hints let unknown section titles through."""
    tidy = tidy_lines(lines)
    name_index = _find_name(tidy)
    header, sections = _split_sections(tidy, name_index)
    builder = _Builder()
    builder.read_header(header, name_index)
    if name_index is not None and name_index >= len(header):
        builder.read_name_line(tidy[name_index].text)
    for section, title, body in sections:
        builder.read_section(section, title, body)
    return builder.build()


@dataclass(slots=True)
class _Block:
    section: Section
    title: str
    lines: list[str] = field(default_factory=list)


def _find_name(lines: list[SourceLine]) -> int | None:
    """The name is the first name-like line before any section; failing that (a sidebar first), a name-like
    line set as a title or in a big font near the top."""
    for index, line in enumerate(lines[:12]):
        if not line.text or _BOILERPLATE.match(line.text.strip(" :")):
            continue
        if section_of(line.text) is not None:
            break
        if not is_location(line.text) and _is_name(_first_part(line.text)):
            return index
    for index, line in enumerate(lines[:25]):
        if line.heading and section_of(line.text) is None and _is_name(_first_part(line.text)):
            return index
    return None


def _first_part(text: str) -> str:
    return re.split(r"\s*(?:\||•|·|–|—|,)\s*|\s{2,}", text)[0]


def _is_name(text: str) -> bool:
    text = text.strip()
    if not text or len(text) > 60 or any(ch.isdigit() or ch in "@/:()" for ch in text):
        return False
    if (
        all(ch.isalpha() for ch in text)
        and 2 <= len(text) <= 8
        and not any(ch.isupper() or ch.islower() for ch in text)
    ):
        return True  # a name in a script without letter case (Chinese, Japanese, Korean), written without spaces
    words = text.split()
    if not 2 <= len(words) <= 5 or is_title(text) or section_of(text) is not None:
        return False
    for word in words:
        bare = word.replace(".", "").replace("-", "").replace("'", "").replace("’", "")
        if not bare.isalpha():
            return False
        # Capitalised, a particle ("van", "de"), or a script without letter case.
        if not (word[0].isupper() or word.lower() in _NAME_PARTICLES or not word[0].islower()):
            return False
    return True


def _split_sections(
    lines: list[SourceLine], name_index: int | None
) -> tuple[list[str], list[tuple[Section, str, list[str]]]]:
    """The header (everything before the first section heading) and each section with its lines."""
    caps_style = _caps_style(lines)
    header: list[str] = []
    blocks: list[_Block] = []
    contact_seen = False
    for index, line in enumerate(lines):
        text = line.text
        section = None if index == name_index or not text else section_of(text)
        if section is None and text and index != name_index and (blocks or contact_seen):
            previous_blank = index == 0 or not lines[index - 1].text
            if (line.heading and _heading_shaped(text)) or (caps_style and previous_blank and _caps_heading(text)):
                section = Section.OTHER
        if section is not None:
            blocks.append(_Block(section, text))
            continue
        if blocks and index == name_index:
            continue  # the name, found inside a sidebar section, is read on its own
        if blocks:
            blocks[-1].lines.append(text)
        else:
            header.append(text)
            if text and index != name_index and scan_contact_line(text, Contacts()):
                contact_seen = True
    return header, [(b.section, b.title, b.lines) for b in blocks]


def _caps_style(lines: list[SourceLine]) -> bool:
    known = [line.text for line in lines if line.text and section_of(line.text) is not None]
    return bool(known) and sum(1 for t in known if t.isupper()) > len(known) / 2


def _caps_heading(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return (
        text.isupper()
        and len(letters) >= 4
        and len(text.split()) <= 3
        and not any(ch.isdigit() or ch in "@|:,." for ch in text)
        and bullet_text(text) is None
    )


def _heading_shaped(text: str) -> bool:
    words = text.split()
    return (
        0 < len(words) <= 5
        and not any(ch.isdigit() or ch == "@" for ch in text)
        and bullet_text(text) is None
        and not URL_RE.search(text)
    )


class _Builder:
    """Collects what each part of the CV says, then builds the Resume."""

    def __init__(self) -> None:
        self.resume = Resume()
        self.contacts = Contacts()
        self.name: str | None = None
        self.label: str | None = None
        self.summary: list[str] = []

    # Header ---------------------------------------------------------------------------------------------

    def read_header(self, lines: list[str], name_index: int | None) -> None:
        # The header is the document's first lines, so the name keeps its index.
        name_line = name_index if name_index is not None and name_index < len(lines) else None
        leftovers: list[str] = []
        label_open = name_line is not None
        for index, text in enumerate(lines):
            if text and not self._header_line(text, index, name_line, label_open):
                leftovers.append(text)
            elif leftovers and leftovers[-1]:
                leftovers.append("")  # lines apart in the CV stay apart in the summary
            label_open = index == name_line or (label_open and not text)
        if any(leftovers):
            self.summary.append(_paragraphs(leftovers))

    def _header_line(self, text: str, index: int, name_line: int | None, label_open: bool) -> bool:
        """Take what a header line says; False when it is none of name, label, contact or place."""
        if index == name_line:
            self.read_name_line(text)
            return True
        if _BOILERPLATE.match(text.strip(" :")) or text == self.name:
            return True
        known = len(self.contacts.leftovers)
        if scan_contact_line(text, self.contacts):
            found = self.contacts.leftovers[known:]
            if label_open and self.label is None and found and _is_label(found[0]) and text.startswith(found[0]):
                # "Data Scientist · priya@example.in · ...": the title opens the contact line.
                self.label = self.contacts.leftovers.pop(known)
            return True
        if is_location(text):
            self.contacts.locations.append(text)
            return True
        if label_open and self.label is None and _is_label(text):
            self.label = text
            return True
        return False

    def read_name_line(self, text: str) -> None:
        parts = [p for p in re.split(r"\s*(?:\||•|·|–|—)\s*|\s{2,}", text) if p.strip()]
        if len(parts) == 1 and "," in text and _is_name(text.split(",")[0]):
            parts = [p.strip() for p in text.split(",", 1)]
        self.name = parts[0].strip()
        for part in parts[1:]:
            if _BOILERPLATE.match(part) or scan_contact_line(part, self.contacts):
                continue
            if is_location(part):
                self.contacts.locations.append(part)
            elif self.label is None and _is_label(part):
                self.label = part
            else:
                self.summary.append(part)

    # Sections -------------------------------------------------------------------------------------------

    def read_section(self, section: Section, title: str, lines: list[str]) -> None:
        lines = self._take_profile_lines(lines)
        if not any(lines):
            if section is Section.OTHER:
                self.summary.append(title)
            return
        match section:
            case Section.SUMMARY:
                self.summary.append(_paragraphs(lines))
            case Section.WORK:
                self._read_work(lines)
            case Section.VOLUNTEER:
                self._read_volunteer(lines)
            case Section.EDUCATION:
                self._read_education(lines)
            case Section.PROJECTS:
                self._read_projects(lines)
            case Section.SKILLS:
                self.resume.skills.extend(_skills(lines))
            case Section.LANGUAGES:
                self.resume.languages.extend(_languages(lines))
            case Section.INTERESTS:
                self.resume.interests.extend(_interests(lines))
            case Section.AWARDS:
                self._read_awards(lines)
            case Section.CERTIFICATES:
                self._read_certificates(lines)
            case Section.PUBLICATIONS:
                self._read_publications(lines)
            case Section.REFERENCES:
                self._read_references(lines)
            case Section.CONTACT:
                self._read_contact(lines)
            case Section.OTHER:
                self.summary.append(title + "\n" + _paragraphs(lines))

    def _take_profile_lines(self, lines: list[str]) -> list[str]:
        """Lines that are only a link to the person's own profile (LinkedIn, GitHub user page) are contacts."""
        kept: list[str] = []
        for line in lines:
            match = URL_RE.fullmatch(line.strip())
            profile = profile_for(match.group(0)) if match else None
            if match and profile is not None and profile.username and _is_personal_profile(match.group(0)):
                self.contacts.add_url(match.group(0))
                continue
            kept.append(line)
        return kept

    def _read_contact(self, lines: list[str]) -> None:
        leftovers: list[str] = []
        for line in lines:
            if not line or scan_contact_line(line, self.contacts):
                taken = True
            elif is_location(line):
                self.contacts.locations.append(line)
                taken = True
            else:
                leftovers.append(line)
                taken = False
            if taken and leftovers and leftovers[-1]:
                leftovers.append("")  # lines apart in the CV stay apart in the summary
        if any(leftovers):
            self.summary.append(_paragraphs(leftovers))

    def _read_work(self, lines: list[str]) -> None:
        for entry in split_entries(lines):
            if not entry.head and self.resume.work:
                self.resume.work[-1].highlights.extend(entry.bullets)
                continue
            f = work_fields(entry)
            self.resume.work.append(
                Work(
                    name=f.organisation,
                    position=f.position,
                    location=f.location,
                    url=f.url,
                    startDate=f.start,
                    endDate=f.end,
                    summary="\n".join(f.summary) or None,
                    highlights=entry.bullets,
                )
            )

    def _read_volunteer(self, lines: list[str]) -> None:
        for entry in split_entries(lines):
            if not entry.head and self.resume.volunteer:
                self.resume.volunteer[-1].highlights.extend(entry.bullets)
                continue
            f = work_fields(entry)
            summary = ([f.location] if f.location else []) + f.summary
            self.resume.volunteer.append(
                Volunteer(
                    organization=f.organisation,
                    position=f.position,
                    url=f.url,
                    startDate=f.start,
                    endDate=f.end,
                    summary="\n".join(summary) or None,
                    highlights=entry.bullets,
                )
            )

    def _read_education(self, lines: list[str]) -> None:
        for entry in split_entries(lines, degrees=True):
            if not entry.head and self.resume.education:
                self.resume.education[-1].courses.extend(entry.bullets)
                continue
            f = education_fields(entry)
            values: dict[str, object] = {
                "institution": f.institution,
                "studyType": f.study_type,
                "area": f.area,
                "url": f.url,
                "startDate": f.start,
                "endDate": f.end,
                "score": f.score,
                "courses": f.courses,
            }
            if f.location:
                values["location"] = f.location  # not in JSON Resume 1.0.0's education, allowed as an extra
            self.resume.education.append(Education.model_validate(values))

    def _read_projects(self, lines: list[str]) -> None:
        for entry in split_entries(lines):
            if not entry.head and self.resume.projects:
                self.resume.projects[-1].highlights.extend(entry.bullets)
                continue
            f = titled_fields(entry)
            description = [f.detail] if f.detail else []
            self.resume.projects.append(
                Project(
                    name=f.title,
                    description="\n".join(description + f.lines) or None,
                    startDate=f.start,
                    endDate=f.end,
                    url=f.url,
                    highlights=entry.bullets,
                )
            )

    def _read_publications(self, lines: list[str]) -> None:
        for entry in _titled_entries(lines):
            f = titled_fields(entry)
            self.resume.publications.append(
                Publication(
                    name=f.title,
                    publisher=f.detail,
                    releaseDate=f.start,
                    url=f.url,
                    summary="\n".join(f.lines + entry.bullets) or None,
                )
            )

    def _read_awards(self, lines: list[str]) -> None:
        for entry in _item_entries(lines):
            f = titled_fields(entry)
            self.resume.awards.append(
                Award(title=f.title, awarder=f.detail, date=f.start, summary="\n".join(f.lines + entry.bullets) or None)
            )

    def _read_certificates(self, lines: list[str]) -> None:
        for entry in _item_entries(lines):
            f = titled_fields(entry)
            certificate = Certificate(name=f.title, issuer=f.detail, date=f.start, url=f.url)
            self.resume.certificates.append(certificate)
            if f.lines or entry.bullets:
                self.summary.append(_paragraphs([f.title or "", *f.lines, *entry.bullets]))

    def _read_references(self, lines: list[str]) -> None:
        for entry in split_entries(lines):
            head = entry.head or entry.bullets[:1]
            rest = entry.head[1:] + (entry.bullets if entry.head else entry.bullets[1:])
            if len(head) == 1 and not rest and len(head[0].split()) > 5:
                self.resume.references.append(Reference(reference=head[0]))
            else:
                self.resume.references.append(Reference(name=head[0], reference="\n".join(rest) or None))

    # Result ---------------------------------------------------------------------------------------------

    def build(self) -> Resume:
        contacts = self.contacts
        basics = Basics(name=self.name, label=self.label)
        if contacts.emails:
            basics.email = contacts.emails[0]
        if contacts.phones:
            basics.phone = contacts.phones[0]
        if contacts.urls:
            basics.url = contacts.urls[0]
        if contacts.locations:
            basics.location = _location(contacts.locations[0])
        basics.profiles = [Profile(network=p.network, username=p.username, url=p.url) for p in contacts.profiles]
        extras = contacts.emails[1:] + contacts.phones[1:] + contacts.urls[1:] + contacts.locations[1:]
        # A bare user name next to an icon is the text of a profile link found later: not a leftover.
        usernames = {p.username.lower() for p in contacts.profiles if p.username}
        leftovers = [t for t in contacts.leftovers if not all(w.lower() in usernames for w in t.split())]
        chunks = [*self.summary, *leftovers, *extras]
        basics.summary = "\n".join(c for c in chunks if c.strip()) or None
        self.resume.basics = basics
        return self.resume


def _is_personal_profile(url: str) -> bool:
    bare = re.sub(r"^(?:https?://)?(?:www\.)?", "", url.lower()).rstrip("/")
    path = bare.split("/")[1:]
    return len(path) == 1 or (len(path) == 2 and path[0] in ("in", "pub"))


def _is_label(text: str) -> bool:
    words = text.split()
    return (
        0 < len(words) <= 10
        and not text.endswith(".")
        and not URL_RE.search(text)
        and not any(ch.isdigit() for ch in text)
        and section_of(text) is None
    )


def _paragraphs(lines: list[str]) -> str:
    """Wrapped lines joined into paragraphs; list items and blank lines start new lines."""
    out: list[str] = []
    joinable = False
    for line in lines:
        if not line:
            joinable = False
            continue
        item = bullet_text(line)
        if item is not None:
            out.append(line)
            joinable = False
        elif joinable:
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
            joinable = True
    return "\n".join(out)


def _location(text: str) -> Location:
    if ", " in text:
        city, region = text.split(", ", 1)
        return Location(city=city.strip(), region=region.strip())
    return Location(address=text)


def _items(text: str) -> list[str]:
    return [item.strip(" .") for item in _ITEM_SPLIT.split(text) if item.strip(" .")]


def _plain(line: str) -> str:
    item = bullet_text(line)
    return item if item is not None else line


def _skills(lines: list[str]) -> list[Skill]:
    skills: list[Skill] = []
    for line in filter(None, lines):
        text = _plain(line)
        category = _CATEGORY.match(text)
        if category and len(category.group(1).split()) <= 5:
            skills.append(Skill(name=category.group(1).strip(), keywords=_items(category.group(2))))
            continue
        items = _items(text)
        skills.extend(Skill(name=item) for item in items)
    return skills


def _interests(lines: list[str]) -> list[Interest]:
    interests: list[Interest] = []
    for line in filter(None, lines):
        text = _plain(line)
        category = _CATEGORY.match(text)
        if category and len(category.group(1).split()) <= 5:
            interests.append(Interest(name=category.group(1).strip(), keywords=_items(category.group(2))))
            continue
        interests.extend(Interest(name=item) for item in _items(text))
    return interests


def _languages(lines: list[str]) -> list[Language]:
    languages: list[Language] = []
    for line in filter(None, lines):
        text = _plain(line)
        category = _CATEGORY.match(text)
        if category and "," in category.group(2):
            text = category.group(2)  # "Languages: English (native), German (B2)"
        # "German – Native · English – Fluent" is how our own themes print them: a dot or bar lists too.
        listed = "(" in text or "," in text or "  " in text or any(mark in text for mark in ";|•·▪")
        for item in _items(text) if listed else [text]:
            languages.append(_language(item))
    return languages


def _language(item: str) -> Language:
    if match := re.match(r"^(.+?)\s*[(\[]\s*(.+?)\s*[)\]]$", item):
        return Language(language=match.group(1), fluency=match.group(2))
    if match := re.match(r"^(.+?)\s*(?::|\s[–—-])\s*(.+)$", item):
        return Language(language=match.group(1), fluency=match.group(2))
    if match := _FLUENCY.match(item):
        return Language(language=match.group(1), fluency=match.group(2))
    return Language(language=item)


def _item_entries(lines: list[str]) -> list[RawEntry]:
    """One entry per line or list item in list-like sections (awards, certificates): a lower-case line
    continues the item before it, a lone date line dates it."""
    entries: list[RawEntry] = []
    for line in filter(None, lines):
        text = _plain(line)
        if entries and (text[0].islower() or _is_date_only(text)) and bullet_text(line) is None:
            previous = entries[-1]
            if _is_date_only(text) and find_dates(" ".join(previous.head)) is None:
                previous.head.append(text)
            else:
                previous.bullets.append(text)
            continue
        entries.append(RawEntry(head=[text]))
    return entries


def _titled_entries(lines: list[str]) -> list[RawEntry]:
    """Publications: entries split like jobs; a list of single-line items is one publication per item."""
    entries = split_entries(lines)
    result: list[RawEntry] = []
    for entry in entries:
        if not entry.head:
            result.extend(RawEntry(head=[item]) for item in entry.bullets)
        else:
            result.append(entry)
    return result


def _is_date_only(text: str) -> bool:
    span = find_dates(text)
    return span is not None and not strip_span(text, span)
