"""The structured CV: JSON Resume v1.0.0 (https://jsonresume.org/schema), field names as in the schema."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    # Unknown keys survive a round trip: JSON Resume documents often carry extras.
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Location(_Section):
    address: str | None = None
    postalCode: str | None = None
    city: str | None = None
    countryCode: str | None = None
    region: str | None = None


class Profile(_Section):
    network: str | None = None
    username: str | None = None
    url: str | None = None


class Basics(_Section):
    name: str | None = None
    label: str | None = None
    image: str | None = None
    email: str | None = None
    phone: str | None = None
    url: str | None = None
    summary: str | None = None
    location: Location | None = None
    profiles: list[Profile] = Field(default_factory=list)


class Work(_Section):
    name: str | None = None
    location: str | None = None
    description: str | None = None
    position: str | None = None
    url: str | None = None
    startDate: str | None = None
    endDate: str | None = None
    summary: str | None = None
    highlights: list[str] = Field(default_factory=list)


class Volunteer(_Section):
    organization: str | None = None
    position: str | None = None
    url: str | None = None
    startDate: str | None = None
    endDate: str | None = None
    summary: str | None = None
    highlights: list[str] = Field(default_factory=list)


class Education(_Section):
    institution: str | None = None
    url: str | None = None
    area: str | None = None
    studyType: str | None = None
    startDate: str | None = None
    endDate: str | None = None
    score: str | None = None
    courses: list[str] = Field(default_factory=list)


class Award(_Section):
    title: str | None = None
    date: str | None = None
    awarder: str | None = None
    summary: str | None = None


class Certificate(_Section):
    name: str | None = None
    date: str | None = None
    url: str | None = None
    issuer: str | None = None


class Publication(_Section):
    name: str | None = None
    publisher: str | None = None
    releaseDate: str | None = None
    url: str | None = None
    summary: str | None = None


class Skill(_Section):
    name: str | None = None
    level: str | None = None
    keywords: list[str] = Field(default_factory=list)


class Language(_Section):
    language: str | None = None
    fluency: str | None = None


class Interest(_Section):
    name: str | None = None
    keywords: list[str] = Field(default_factory=list)


class Reference(_Section):
    name: str | None = None
    reference: str | None = None


class Project(_Section):
    name: str | None = None
    startDate: str | None = None
    endDate: str | None = None
    description: str | None = None
    highlights: list[str] = Field(default_factory=list)
    url: str | None = None


class Resume(_Section):
    """A whole CV. Sections keep the order of the JSON Resume schema; empty sections are empty lists."""

    basics: Basics = Field(default_factory=Basics)
    work: list[Work] = Field(default_factory=list)
    volunteer: list[Volunteer] = Field(default_factory=list)
    education: list[Education] = Field(default_factory=list)
    awards: list[Award] = Field(default_factory=list)
    certificates: list[Certificate] = Field(default_factory=list)
    publications: list[Publication] = Field(default_factory=list)
    skills: list[Skill] = Field(default_factory=list)
    languages: list[Language] = Field(default_factory=list)
    interests: list[Interest] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    projects: list[Project] = Field(default_factory=list)

    def to_json_resume(self) -> dict[str, object]:
        """The document as JSON Resume, without empty values (valid against the v1.0.0 schema)."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def _join(*parts: str | None, sep: str = " ") -> str:
    return sep.join(p for p in parts if p)


def resume_to_text(resume: Resume) -> str:
    """Plain text of a Resume in reading order: what scoring, caching and round-trip checks compare."""
    b = resume.basics
    lines: list[str] = [_join(b.name), _join(b.label)]
    loc = b.location
    lines.append(_join(b.email, b.phone, b.url, loc.city if loc else None, loc.region if loc else None, sep=" | "))
    lines += [_join(p.network, p.username, p.url) for p in b.profiles]
    lines.append(_join(b.summary))
    for w in resume.work:
        lines.append(_join(w.position, w.name, w.location, w.startDate, w.endDate, sep=" | "))
        lines += [_join(w.summary), *w.highlights]
    for v in resume.volunteer:
        lines.append(_join(v.position, v.organization, v.startDate, v.endDate, sep=" | "))
        lines += [_join(v.summary), *v.highlights]
    for e in resume.education:
        lines.append(_join(e.studyType, e.area, e.institution, e.startDate, e.endDate, e.score, sep=" | "))
        lines += e.courses
    for a in resume.awards:
        lines.append(_join(a.title, a.awarder, a.date, a.summary, sep=" | "))
    for c in resume.certificates:
        lines.append(_join(c.name, c.issuer, c.date, sep=" | "))
    for p in resume.publications:
        lines.append(_join(p.name, p.publisher, p.releaseDate, p.summary, sep=" | "))
    for s in resume.skills:
        lines.append(_join(s.name, s.level, ", ".join(s.keywords), sep=": "))
    for lang in resume.languages:
        lines.append(_join(lang.language, lang.fluency, sep=": "))
    for i in resume.interests:
        lines.append(_join(i.name, ", ".join(i.keywords), sep=": "))
    for proj in resume.projects:
        lines.append(_join(proj.name, proj.startDate, proj.endDate, sep=" | "))
        lines += [_join(proj.description), *proj.highlights]
    for r in resume.references:
        lines.append(_join(r.name, r.reference, sep=": "))
    return "\n".join(line for line in lines if line.strip())
