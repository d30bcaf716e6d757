"""Cyrillic, Greek, accented Latin, Chinese and Japanese CVs print real glyphs that read back exactly."""

from __future__ import annotations

import pytest

from activities.rendering import LABELS, list_themes, render_pdf
from models.resume import Resume
from models.target import PaperSize
from tests.rendering.pdf_text import missing, pdffonts, pdftotext

THEMES = [t.name for t in list_themes()]

# language -> (name, position, employer, highlight): what a CV in that language would carry.
CVS: dict[str, tuple[str, str, str, str]] = {
    "uk": (
        "Олена Коваленко",
        "Старша інженерка з даних",
        "ТОВ «Київстар»",
        "Побудувала конвеєр даних, що щодня обробляє 3 млн подій; ґрунтовно переписала звітність.",
    ),
    "el": (
        "Γιώργος Παπαδόπουλος",
        "Ανώτερος μηχανικός λογισμικού",
        "Τράπεζα Πειραιώς",
        "Μείωσε τον χρόνο απόκρισης του συστήματος πληρωμών κατά 40%.",
    ),
    "pl": (
        "Zoë Françoise Müller-Łukasiewicz",
        "Główna inżynierka oprogramowania",
        "Żabka Polska sp. z o.o. (Łódź)",
        "Wdrożyła system płatności w São Paulo, Ærøskøbing i Ñuñoa; zespół: Øystein, Ægir, Ðorđe.",
    ),
    "zh": (
        "王小明",
        "高级软件工程师",
        "阿里巴巴集团",
        "负责支付系统的架构设计，将交易延迟降低了百分之四十。",
    ),
    "ja": (
        "山田太郎",
        "シニアソフトウェアエンジニア",
        "株式会社メルカリ",
        "決済システムの設計を担当し、処理時間を四割短縮しました。",
    ),
}


def _resume(name: str, position: str, employer: str, highlight: str) -> Resume:
    return Resume.model_validate(
        {
            "basics": {"name": name, "label": position, "summary": highlight},
            "work": [{"name": employer, "position": position, "startDate": "2019-04", "highlights": [highlight]}],
        }
    )


def _used_cjk_faces(fonts: str) -> set[str]:
    return {tag for tag in ("SC", "TC", "JP", "KR") if f"CJK-{tag}" in fonts}


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("language", sorted(CVS))
def test_text_in_every_script_reads_back_exactly(theme: str, language: str) -> None:
    strings = CVS[language]
    pdf = render_pdf(_resume(*strings), theme=theme, paper=PaperSize.A4, language=language).pdf
    text = pdftotext(pdf)
    assert missing([*strings, LABELS[language].experience], text) == []
    assert "\ufffd" not in text  # no glyph fell back to "missing"
    for line in pdffonts(pdf).splitlines()[2:]:
        assert " yes yes " in line, f"font not embedded and subset: {line}"


@pytest.mark.parametrize("theme", THEMES)
def test_japanese_cv_uses_japanese_glyph_shapes(theme: str) -> None:
    pdf = render_pdf(_resume(*CVS["ja"]), theme=theme, paper=PaperSize.A4, language="ja").pdf
    assert _used_cjk_faces(pdffonts(pdf)) == {"JP"}


@pytest.mark.parametrize("theme", THEMES)
def test_chinese_cv_uses_simplified_chinese_glyph_shapes(theme: str) -> None:
    pdf = render_pdf(_resume(*CVS["zh"]), theme=theme, paper=PaperSize.A4, language="zh").pdf
    assert _used_cjk_faces(pdffonts(pdf)) == {"SC"}


@pytest.mark.parametrize("theme", THEMES)
def test_cjk_name_in_an_english_cv_still_has_glyphs(theme: str) -> None:
    resume = _resume("Jane Doe (王小明)", "Engineer", "Acme 株式会社", "Shipped the 決済 service.")
    pdf = render_pdf(resume, theme=theme, paper=PaperSize.A4, language="en").pdf
    assert missing(["Jane Doe (王小明)", "Acme 株式会社", "Shipped the 決済 service."], pdftotext(pdf)) == []
    fonts = pdffonts(pdf)
    assert "DejaVu" in fonts
    assert _used_cjk_faces(fonts)


@pytest.mark.parametrize("theme", THEMES)
def test_a_long_japanese_cv_keeps_japanese_glyphs_in_the_page_footer(theme: str) -> None:
    name, position, employer, highlight = CVS["ja"]
    resume = _resume(name, position, employer, highlight)
    resume.work[0].highlights = [f"{highlight}（{i}）" for i in range(80)]
    result = render_pdf(resume, theme=theme, paper=PaperSize.A4, language="ja")
    assert result.pages >= 2
    assert _used_cjk_faces(pdffonts(result.pdf)) == {"JP"}
    assert missing([f"{name} · 2 / {result.pages}"], pdftotext(result.pdf)) == []
