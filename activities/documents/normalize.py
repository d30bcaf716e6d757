"""Text clean-up shared by every reader, and the line type readers hand to the parser."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One line of a document in reading order. `heading` is a layout hint (bigger font, heading style,
    Markdown `#`) that lets the parser accept section titles it does not know by name. An empty text is a
    paragraph break."""

    text: str
    heading: bool = False


# Compatibility forms that are only typography (ligatures, full-width letters, odd spaces): NFKC is safe
# there, while NFKC everywhere would turn "m²" into "m2" and "™" into "TM".
_SAFE_NFKC = re.compile("[\ufb00-\ufb4f\uff01-\uffee\u2000-\u200a\u202f\u205f\u3000\u2024-\u2026]")
# Icon fonts (Font Awesome and friends) live in the private-use areas: glyphs, not text.
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff\ufffd\ufffc]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_HSPACE_RUN = re.compile("[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_BLANKS = re.compile(r"\n{3,}")


def _wide_or_single(match: re.Match[str]) -> str:
    # A tab or a run of spaces separates fields ("2019 – 2021<TAB>Acme"); keep that as two spaces.
    run = match.group(0)
    return "  " if "\t" in run or len(run) > 1 else " "


def clean_inline(text: str) -> str:
    """Normalise one line: Unicode forms, icon glyphs, invisible characters and whitespace."""
    text = unicodedata.normalize("NFC", text)
    text = _SAFE_NFKC.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
    text = _PRIVATE_USE.sub(" ", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    return _HSPACE_RUN.sub(_wide_or_single, text).strip()


# No CV line is this long; longer ones (a pasted blob, a hostile file) are cut at spaces so that the line-level
# heuristics downstream stay fast.
_MAX_LINE = 1000


def _short_lines(text: str) -> list[str]:
    pieces: list[str] = []
    while len(text) > _MAX_LINE:
        cut = text.rfind(" ", 0, _MAX_LINE)
        cut = cut if cut > 0 else _MAX_LINE
        pieces.append(text[:cut])
        text = text[cut:].lstrip()
    return [*pieces, text]


def tidy_lines(lines: Iterable[SourceLine]) -> list[SourceLine]:
    """Clean every line, keep at most one blank line in a row, none at the start or the end."""
    out: list[SourceLine] = []
    for line in lines:
        *long_line, text = _short_lines(clean_inline(line.text))
        out.extend(SourceLine(piece) for piece in long_line)
        if not text:
            if out and out[-1].text:
                out.append(SourceLine(""))
            continue
        out.append(SourceLine(text, line.heading))
    while out and not out[-1].text:
        out.pop()
    return out


def lines_to_text(lines: Iterable[SourceLine]) -> str:
    return _BLANKS.sub("\n\n", "\n".join(line.text for line in lines)).strip()


_DANGLING = re.compile(r"(?:\s[–—-]|[,&/(]|\s(?:and|of|to|at|in|for|the|und|et|y|de|da|do|i|w|z))$", re.I)


def unfinished(line: str) -> bool:
    """The line stops mid-phrase ("2014 –", "Acme Corp,", "Head of"): a wrapped line goes on after it."""
    return _DANGLING.search(line.rstrip()) is not None


def meaningful_length(text: str) -> int:
    """Letters and digits only: what an 'empty' document lacks, whatever its whitespace or punctuation."""
    return sum(1 for ch in text if ch.isalnum())
