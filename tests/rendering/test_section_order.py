"""A section order a person chose (an applied `sections/order` change) is the order every theme prints."""

from __future__ import annotations

import pytest

from activities.rendering.html import render_html, section_order
from activities.rendering.themes import list_themes
from models.resume import Resume
from models.target import PaperSize

CV = {
    "basics": {"name": "Ada Example", "summary": "Engineer."},
    "work": [{"name": "Acme", "position": "Engineer", "highlights": ["Built the billing service."]}],
    "education": [{"institution": "Example University", "studyType": "BSc", "area": "Physics"}],
    "skills": [{"name": "Backend", "keywords": ["Python"]}],
}


def test_the_default_order_puts_experience_first() -> None:
    assert section_order(Resume.model_validate(CV))[:3] == ["work", "education", "skills"]


def test_a_chosen_order_comes_first_and_unknown_names_are_ignored() -> None:
    resume = Resume.model_validate({**CV, "meta": {"sectionOrder": ["skills", "bogus", "education", "skills"]}})
    order = section_order(resume)
    assert order[:3] == ["skills", "education", "work"]
    assert sorted(order) == sorted(section_order(Resume.model_validate(CV)))


@pytest.mark.parametrize("theme", [t.name for t in list_themes() if t.name != "compact"])
def test_every_single_column_theme_prints_the_chosen_order(theme: str) -> None:
    chosen = Resume.model_validate({**CV, "meta": {"sectionOrder": ["skills", "education", "work"]}})
    html = render_html(chosen, theme=theme, paper=PaperSize.A4, language="en")
    assert html.index("Python") < html.index("Example University") < html.index("Acme")
    default = render_html(Resume.model_validate(CV), theme=theme, paper=PaperSize.A4, language="en")
    assert default.index("Acme") < default.index("Example University") < default.index("Python")
