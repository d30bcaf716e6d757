"""Font stacks per CV language: DejaVu for Latin, Cyrillic and Greek; Noto CJK for Chinese, Japanese, Korean.

Every stack names every CJK face, so a Chinese name in an English CV still gets real glyphs; the language only
decides which face comes first, because Han characters are drawn differently in Japan, China and Taiwan.
"""

from __future__ import annotations

import re

_CJK_ORDER: dict[str, tuple[str, ...]] = {
    "latin": ("SC", "JP", "TC", "KR"),
    "ja": ("JP", "SC", "TC", "KR"),
    "zh-hans": ("SC", "TC", "JP", "KR"),
    "zh-hant": ("TC", "SC", "JP", "KR"),
    "ko": ("KR", "JP", "SC", "TC"),
}
_TRADITIONAL = re.compile(r"-(hant|tw|hk|mo)(-|$)")


def font_group(language: str) -> str:
    """Which stack a language tag gets: one of the keys of _CJK_ORDER."""
    tag = language.strip().lower().replace("_", "-")
    primary = tag.split("-", 1)[0]
    if primary == "zh":
        return "zh-hant" if _TRADITIONAL.search(tag) else "zh-hans"
    return primary if primary in ("ja", "ko") else "latin"


def _faces(group: str, latin: str, cjk_style: str) -> list[str]:
    cjk = [f'"Noto {cjk_style} CJK {tag}"' for tag in _CJK_ORDER[group]]
    # Chinese, Japanese and Korean CVs set Latin text in the CJK face too, as those documents usually do.
    return [f'"{latin}"', *cjk] if group == "latin" else [*cjk, f'"{latin}"']


def fonts_css(group: str) -> str:
    """The variables the themes use (`var(--font-sans)`, `var(--font-serif)`) and the page margin font."""
    sans = ", ".join([*_faces(group, "DejaVu Sans", "Sans"), "sans-serif"])
    # The sans CJK faces back up the serif ones for any glyph those lack.
    serif = ", ".join([*_faces(group, "DejaVu Serif", "Serif"), *_faces(group, "DejaVu Sans", "Sans"), "serif"])
    return f":root {{ --font-sans: {sans}; --font-serif: {serif}; }}\n@page {{ font-family: {sans}; }}\n"
