"""The themes shipped as package data: `themes/<name>/` holds theme.json, resume.html.j2 and style.css."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

THEMES_DIR = Path(__file__).with_name("themes")
# Shared by every theme: the font stacks per script and language, and a small reset.
BASE_CSS = THEMES_DIR / "_shared" / "base.css"


@dataclass(frozen=True)
class ThemeInfo:
    name: str
    title: str
    description: str
    # What a client may want to know before choosing, e.g. {"columns": 1, "accent_color": False}.
    supports: dict[str, int | str | bool] = field(default_factory=dict, hash=False)

    @property
    def two_column(self) -> bool:
        return self.supports.get("columns") == 2

    @property
    def ats_friendly(self) -> bool:
        """Designed for applicant tracking systems (theme.json `supports.ats_friendly`)."""
        return self.supports.get("ats_friendly") is True


class UnknownTheme(ValueError):
    """A theme name that is not shipped; the message lists the valid ones and is safe to show users."""

    def __init__(self, name: str, valid: tuple[str, ...]) -> None:
        self.name = name
        self.valid = valid
        super().__init__(f"Unknown theme {name!r}. Choose one of: {', '.join(valid)}.")

    def __reduce__(self) -> tuple[type[UnknownTheme], tuple[str, tuple[str, ...]]]:
        # Exceptions pickle their message by default, which this __init__ would not accept.
        return (UnknownTheme, (self.name, self.valid))


def _read_theme(directory: Path) -> ThemeInfo:
    meta = json.loads((directory / "theme.json").read_text(encoding="utf-8"))
    return ThemeInfo(
        name=directory.name,
        title=str(meta["title"]),
        description=str(meta["description"]),
        supports=dict(meta.get("supports", {})),
    )


@cache
def _themes() -> dict[str, ThemeInfo]:
    directories = sorted(
        d for d in THEMES_DIR.iterdir() if d.is_dir() and not d.name.startswith("_") and (d / "theme.json").is_file()
    )
    return {d.name: _read_theme(d) for d in directories}


def list_themes() -> list[ThemeInfo]:
    return list(_themes().values())


def validate_theme(name: str) -> None:
    if name not in _themes():
        raise UnknownTheme(name, tuple(_themes()))


@cache
def theme_css(name: str) -> str:
    """The theme's whole stylesheet (shared base first), as text."""
    validate_theme(name)
    own = (THEMES_DIR / name / "style.css").read_text(encoding="utf-8")
    return BASE_CSS.read_text(encoding="utf-8") + "\n" + own
