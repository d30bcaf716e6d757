"""CV -> DOCX with python-docx: the same text, order and headings as the PDF themes, in Word's own styles.

Lines read back as the PDF's do: "Position · Employer" then a right-aligned tab stop with the dates, bullets in
the List Bullet style, headings in Heading 1 (localised), the name in Title. Word users edit it from there, so
there is no theme: one plain, conventional layout.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from functools import partial
from typing import cast

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_TAB_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.text.paragraph import Paragraph

from models.resume import Basics, Resume
from models.target import PaperSize

from .html import display_url, extra, has_content, join_nonempty, link_href, phone_href, text_list
from .i18n import Labels, format_date, format_date_range, html_lang, labels_for

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

_PAPER_MM = {PaperSize.A4: (210.0, 297.0), PaperSize.LETTER: (215.9, 279.4)}
_MARGIN_MM = 18.0
_SEP = " · "  # between the parts of a title and between items on one line, as the PDF themes print them
_GREY = RGBColor(0x48, 0x48, 0x4A)


def resume_to_docx(resume: Resume, *, language: str, paper: PaperSize = PaperSize.A4) -> bytes:
    """The CV as a .docx file (headings and dates in `language`)."""
    return _DocxWriter(resume, language, PaperSize(paper)).write()


def _clean(value: str | None) -> str:
    return value.strip() if value else ""


def _texts(values: Iterable[str | None]) -> list[str]:
    return [v.strip() for v in values if v and v.strip()]


class _DocxWriter:
    def __init__(self, resume: Resume, language: str, paper: PaperSize) -> None:
        self.resume = resume
        self.t: Labels = labels_for(language)
        self.dates = partial(format_date_range, language=language)
        self.date = partial(format_date, language=language)
        self.document = Document()
        self._set_up(language, paper)

    def _set_up(self, language: str, paper: PaperSize) -> None:
        width, height = _PAPER_MM[paper]
        section = self.document.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(width), Mm(height)
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Mm(_MARGIN_MM))
        self.text_width = Mm(width - 2 * _MARGIN_MM)
        normal = self._style("Normal")
        normal.font.size = Pt(10)
        normal.paragraph_format.space_after = Pt(1)
        # Spell checking and font choice for CJK follow the CV's language.
        rpr = normal.element.get_or_add_rPr()
        lang = OxmlElement("w:lang")
        tag = html_lang(language)
        lang.set(qn("w:val"), tag)
        lang.set(qn("w:eastAsia"), tag)
        rpr.append(lang)
        heading = self._style("Heading 1")
        heading.font.size = Pt(12)
        heading.font.color.rgb = RGBColor(0x1D, 0x1D, 0x1F)
        heading.paragraph_format.space_before = Pt(10)
        heading.paragraph_format.space_after = Pt(3)
        self._style("Title").font.size = Pt(22)
        name = _clean(self.resume.basics.name)
        self.document.core_properties.title = name or "CV"
        self.document.core_properties.author = name
        self.document.core_properties.language = tag

    def _style(self, name: str) -> ParagraphStyle:
        # Normal, Title and Heading 1 are paragraph styles in python-docx's default template.
        return cast(ParagraphStyle, self.document.styles[name])

    def write(self) -> bytes:
        self._header(self.resume.basics)
        r = self.resume
        # The reading order of every PDF theme (_shared/sections.html.j2 all_sections).
        if _clean(r.basics.summary):
            self._heading(self.t.summary)
            self.document.add_paragraph(_clean(r.basics.summary))
        self._work()
        self._education()
        self._skills()
        self._projects()
        self._certificates()
        self._awards()
        self._publications()
        self._volunteer()
        self._languages()
        self._interests()
        self._references()
        out = io.BytesIO()
        self.document.save(out)
        return out.getvalue()

    # Building blocks

    def _heading(self, text: str) -> None:
        self.document.add_paragraph(text, style="Heading 1")

    def _link(self, paragraph: Paragraph, url: str | None, text: str | None = None) -> None:
        """A clickable link when the URL is one the PDF would link (http, mailto, tel), else plain text."""
        shown = text or display_url(url) or _clean(url)
        href = link_href(url)
        if href is None:
            paragraph.add_run(shown)
            return
        r_id = paragraph.part.relate_to(href, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
        hyperlink = OxmlElement("w:hyperlink")
        hyperlink.set(qn("r:id"), r_id)
        run = OxmlElement("w:r")
        text_element = OxmlElement("w:t")
        text_element.text = shown
        text_element.set(qn("xml:space"), "preserve")
        run.append(text_element)
        hyperlink.append(run)
        paragraph._p.append(hyperlink)  # python-docx has no public API for hyperlinks

    def _joined(self, paragraph: Paragraph, parts: Sequence[tuple[str, str | None]]) -> None:
        """Items on one line separated by dots; each is (kind, text), kind "url" becoming a link."""
        first = True
        for kind, value in parts:
            if not _clean(value):
                continue
            if not first:
                paragraph.add_run(_SEP)
            first = False
            if kind == "url":
                self._link(paragraph, value)
            else:
                paragraph.add_run(_clean(value))

    def _entry_head(self, title_parts: Sequence[str | None], date_text: str) -> None:
        """Title parts (the first in bold) and, after a right-aligned tab stop, the dates."""
        paragraph = self.document.add_paragraph()
        paragraph.paragraph_format.space_before = Pt(5)
        paragraph.paragraph_format.keep_with_next = True
        paragraph.paragraph_format.tab_stops.add_tab_stop(self.text_width, WD_TAB_ALIGNMENT.RIGHT)
        for index, part in enumerate(_texts(title_parts)):
            if index:
                paragraph.add_run(_SEP)
            paragraph.add_run(part).bold = index == 0
        if date_text:
            paragraph.add_run("\t" + date_text)

    def _meta(self, parts: Sequence[tuple[str, str | None]]) -> None:
        if not any(_clean(value) for _, value in parts):
            return
        paragraph = self.document.add_paragraph()
        self._joined(paragraph, parts)
        for run in paragraph.runs:
            run.italic = True
            run.font.color.rgb = _GREY

    def _body(self, summary: str | None, highlights: Sequence[str | None]) -> None:
        if _clean(summary):
            self.document.add_paragraph(_clean(summary))
        for item in _texts(highlights):
            self.document.add_paragraph(item, style="List Bullet")

    def _labelled(self, name: str | None, note: str | None, keywords: Sequence[str]) -> None:
        """A skill or interest: "Name (level): a, b"."""
        paragraph = self.document.add_paragraph()
        if _clean(name):
            paragraph.add_run(_clean(name)).bold = True
        if _clean(note):
            paragraph.add_run(f" ({_clean(note)})" if _clean(name) else f"({_clean(note)})")
        items = _texts(keywords)
        if items:
            paragraph.add_run((": " if _clean(name) or _clean(note) else "") + ", ".join(items))

    # Sections

    def _header(self, b: Basics) -> None:
        if _clean(b.name):
            self.document.add_paragraph(_clean(b.name), style="Title")
        if _clean(b.label):
            self.document.add_paragraph(_clean(b.label), style="Subtitle")
        location = b.location
        place = (
            join_nonempty(
                [
                    location.address,
                    join_nonempty([location.postalCode, location.city], " "),
                    location.region,
                    location.countryCode,
                ]
            )
            if location
            else ""
        )
        profiles = [p for p in b.profiles if has_content(p)]
        items: list[tuple[str | None, str]] = []  # (href, text)
        if _clean(b.email):
            items.append((f"mailto:{_clean(b.email)}", _clean(b.email)))
        if _clean(b.phone):
            items.append((phone_href(b.phone), _clean(b.phone)))
        if place:
            items.append((None, place))
        if _clean(b.url):
            items.append((b.url, display_url(b.url)))
        if not items and not profiles:
            return
        paragraph = self.document.add_paragraph()
        for index, (href, text) in enumerate(items):
            if index:
                paragraph.add_run(_SEP)
            if href:
                self._link(paragraph, href, text)
            else:
                paragraph.add_run(text)
        for index, p in enumerate(profiles):
            if items or index:
                paragraph.add_run(_SEP)
            if _clean(p.network):
                paragraph.add_run(f"{_clean(p.network)}: ").font.color.rgb = _GREY
            if _clean(p.url):
                self._link(paragraph, p.url)
                username = _clean(p.username)
                if username and username.lower() not in _clean(p.url).lower():
                    paragraph.add_run(f" ({username})")
            else:
                paragraph.add_run(_clean(p.username))

    def _work(self) -> None:
        entries = [w for w in self.resume.work if has_content(w)]
        if entries:
            self._heading(self.t.experience)
        for w in entries:
            self._entry_head([w.position, w.name], self.dates(w.startDate, w.endDate))
            self._meta([("text", w.location), ("text", w.description), ("url", w.url)])
            self._body(w.summary, w.highlights)

    def _volunteer(self) -> None:
        entries = [v for v in self.resume.volunteer if has_content(v)]
        if entries:
            self._heading(self.t.volunteering)
        for v in entries:
            self._entry_head([v.position, v.organization], self.dates(v.startDate, v.endDate))
            self._meta([("url", v.url)])
            self._body(v.summary, v.highlights)

    def _education(self) -> None:
        entries = [e for e in self.resume.education if has_content(e)]
        if entries:
            self._heading(self.t.education)
        for e in entries:
            self._entry_head([join_nonempty([e.studyType, e.area]), e.institution], self.dates(e.startDate, e.endDate))
            self._meta([("text", e.score), ("url", e.url)])
            courses = _texts(e.courses)
            if courses:
                paragraph = self.document.add_paragraph()
                paragraph.add_run(f"{self.t.courses}: ").italic = True
                paragraph.add_run(", ".join(courses))

    def _projects(self) -> None:
        entries = [p for p in self.resume.projects if has_content(p)]
        if entries:
            self._heading(self.t.projects)
        for p in entries:
            entity, kind = extra(p, "entity"), extra(p, "type")
            self._entry_head([p.name, entity if isinstance(entity, str) else None], self.dates(p.startDate, p.endDate))
            self._meta(
                [
                    ("text", join_nonempty(text_list(extra(p, "roles")))),
                    ("text", kind if isinstance(kind, str) else None),
                    ("text", p.description),
                    ("url", p.url),
                ]
            )
            self._body(None, p.highlights)
            keywords = text_list(extra(p, "keywords"))
            if keywords:
                self.document.add_paragraph(", ".join(keywords))

    def _certificates(self) -> None:
        entries = [c for c in self.resume.certificates if has_content(c)]
        if entries:
            self._heading(self.t.certificates)
        for c in entries:
            self._entry_head([c.name, c.issuer], self.date(c.date))
            self._meta([("url", c.url)])

    def _awards(self) -> None:
        entries = [a for a in self.resume.awards if has_content(a)]
        if entries:
            self._heading(self.t.awards)
        for a in entries:
            self._entry_head([a.title, a.awarder], self.date(a.date))
            self._body(a.summary, [])

    def _publications(self) -> None:
        entries = [p for p in self.resume.publications if has_content(p)]
        if entries:
            self._heading(self.t.publications)
        for p in entries:
            self._entry_head([p.name, p.publisher], self.date(p.releaseDate))
            self._meta([("url", p.url)])
            self._body(p.summary, [])

    def _skills(self) -> None:
        entries = [s for s in self.resume.skills if has_content(s)]
        if entries:
            self._heading(self.t.skills)
        for s in entries:
            self._labelled(s.name, s.level, s.keywords)

    def _languages(self) -> None:
        entries = [lang for lang in self.resume.languages if has_content(lang)]
        if entries:
            self._heading(self.t.languages)
        for lang in entries:
            # One per line, "English – Native", as the PDF themes print them.
            paragraph = self.document.add_paragraph()
            if _clean(lang.language):
                paragraph.add_run(_clean(lang.language)).bold = True
            if _clean(lang.fluency):
                paragraph.add_run((" – " if _clean(lang.language) else "") + _clean(lang.fluency))

    def _interests(self) -> None:
        entries = [i for i in self.resume.interests if has_content(i)]
        if entries:
            self._heading(self.t.interests)
        for i in entries:
            self._labelled(i.name, None, i.keywords)

    def _references(self) -> None:
        entries = [r for r in self.resume.references if has_content(r)]
        if entries:
            self._heading(self.t.references)
        for r in entries:
            if _clean(r.reference):
                self.document.add_paragraph().add_run(_clean(r.reference)).italic = True
            if _clean(r.name):
                self.document.add_paragraph(f"— {_clean(r.name)}")
