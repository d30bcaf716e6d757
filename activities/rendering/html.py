"""Resume -> HTML through the theme's Jinja2 template. Every CV string is escaped: CV text is never markup."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import cache, partial
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from pydantic import BaseModel

from models.resume import Resume
from models.target import PaperSize

from .fonts import font_group, fonts_css
from .i18n import format_date, format_date_range, html_lang, labels_for, primary_language
from .themes import THEMES_DIR, theme_css, validate_theme

# Only these become clickable links in the PDF; anything else (javascript:, file:, data:) is printed as text.
_LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})


def link_href(url: str | None) -> str | None:
    """The URL to put in a PDF link annotation, or None when it should stay plain text."""
    if not url or not url.strip():
        return None
    url = url.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if scheme in _LINK_SCHEMES:
        return url
    if not scheme and "." in url.split("/", 1)[0] and " " not in url:
        return "https://" + url  # "github.com/jane" as written on most CVs
    return None


def display_url(url: str | None) -> str:
    """How a URL reads on paper: "https://www.github.com/jane/" -> "github.com/jane"."""
    if not url:
        return ""
    text = url.strip()
    for prefix in ("https://", "http://"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
            break
    if text.lower().startswith("www."):
        text = text[4:]
    return text.rstrip("/") or url.strip()


def phone_href(phone: str | None) -> str | None:
    digits = "".join(c for c in (phone or "") if c.isdigit() or c == "+")
    return f"tel:{digits}" if len(digits) >= 3 else None


def date_width(text: str) -> str:
    """A width for the date column that fits `text` on one line (wide CJK characters count double)."""
    ems = sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.62 for c in text)
    return f"{min(ems, 18.0) + 1.4:.1f}em"


def has_content(value: object) -> bool:
    """True when a value holds any non-blank text, at any depth (empty entries and sections are hidden)."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, BaseModel):
        return has_content(value.model_dump(exclude_none=True))
    if isinstance(value, dict):
        return any(has_content(v) for v in value.values())
    if isinstance(value, Iterable):
        return any(has_content(v) for v in value)
    return True  # numbers, booleans


def extra(model: BaseModel, key: str) -> object:
    """A field kept in the model's extras: a project's `keywords` is in the schema but not in Resume."""
    return (model.model_extra or {}).get(key)


def text_list(value: object) -> list[str]:
    """An extra that should be a list of strings, tolerating a single string or junk."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [str(v) for v in value if has_content(v)]
    return []


def join_nonempty(parts: Iterable[str | None], sep: str = ", ") -> str:
    return sep.join(p.strip() for p in parts if p and p.strip())


# What recruiters look for first comes first; a person's own order (an applied reorder) overrides it.
DEFAULT_SECTION_ORDER = (
    "work",
    "education",
    "skills",
    "projects",
    "certificates",
    "awards",
    "publications",
    "volunteer",
    "languages",
    "interests",
    "references",
)


def section_order(resume: Resume) -> list[str]:
    """`meta.sectionOrder` (the sections it names, in its order), then the others in the default order."""
    meta = extra(resume, "meta")
    chosen = meta.get("sectionOrder") if isinstance(meta, dict) else None
    named = [n for n in chosen if n in DEFAULT_SECTION_ORDER] if isinstance(chosen, list) else []
    ordered = list(dict.fromkeys(named))
    return ordered + [n for n in DEFAULT_SECTION_ORDER if n not in ordered]


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(THEMES_DIR),
        autoescape=True,  # for every template, whatever its file name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals.update(
        link_href=link_href,
        display_url=display_url,
        date_width=date_width,
        phone_href=phone_href,
        has_content=has_content,
        extra=extra,
        text_list=text_list,
        join_nonempty=join_nonempty,
        section_order=section_order,
    )
    env.tests["has_content"] = has_content
    return env


def build_html(resume: Resume, *, theme: str, paper: PaperSize, language: str, inline_css: bool) -> str:
    """The HTML of a CV. Without `inline_css` the caller supplies the theme's stylesheets (pre-parsed)."""
    validate_theme(theme)
    paper = PaperSize(paper)
    template = _environment().get_template(f"{theme}/resume.html.j2")
    return template.render(
        resume=resume,
        t=labels_for(language),
        lang=html_lang(language),
        script_language=primary_language(language),
        paper=paper.value,
        dates=partial(format_date_range, language=language),
        date=partial(format_date, language=language),
        # The stylesheet is a file of this package, never user input: it goes in unescaped.
        inline_css=Markup(page_css(paper, font_group(language)) + theme_css(theme)) if inline_css else None,  # noqa: S704
    )


# Paper sizes in PDF points, for pages laid out larger and scaled down on output (`page_css(scale=...)`).
_PAPER_POINTS = {PaperSize.A4: (595.2756, 841.8898), PaperSize.LETTER: (612.0, 792.0)}


def page_css(paper: PaperSize, fonts: str, scale: float = 1.0) -> str:
    """The stylesheet's parts that depend on the request: paper size and font stacks (a `font_group`).

    With `scale` < 1 the page is laid out `1 / scale` times larger, for a PDF written with `zoom=scale`: the
    output is the same paper with everything (type, spacing, margins) shrunk evenly, whatever the theme.
    """
    paper = PaperSize(paper)
    if scale == 1.0:
        return f"@page {{ size: {paper.value}; }}\n" + fonts_css(fonts)
    width, height = (side / scale for side in _PAPER_POINTS[paper])
    return f"@page {{ size: {width:.3f}pt {height:.3f}pt; }}\n" + fonts_css(fonts)


def render_html(resume: Resume, *, theme: str, paper: PaperSize, language: str) -> str:
    """A standalone HTML page of the CV (stylesheet inlined): for previews and for `html_to_pdf`."""
    return build_html(resume, theme=theme, paper=paper, language=language, inline_css=True)
