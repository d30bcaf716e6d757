"""Dates and date ranges as CVs write them, normalised to ISO 8601 (`YYYY-MM`, `YYYY`, or `YYYY-MM-DD` when the
CV itself is that precise). English, German, French, Spanish, Portuguese and Polish month names."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Month names and abbreviations: English, German, French, Spanish, Portuguese, Polish.
_MONTH_NAMES: dict[int, str] = {
    1: "january jan januar jänner janvier janv enero ene janeiro styczeń stycznia sty",
    2: "february feb februar février fevrier févr fevr fév fev febrero fevereiro luty lutego lut",
    3: "march mar märz maerz mär mars marzo março marco marzec marca",
    4: "april apr avril avr abril abr kwiecień kwietnia kwi",
    5: "may mai mayo maio maj maja",
    6: "june jun juni juin junio junho czerwiec czerwca cze",
    7: "july jul juli juillet juil julio julho lipiec lipca lip",
    8: "august aug août aout agosto ago sierpień sierpnia sie",
    9: "september sept sep septembre septiembre setiembre setembro set wrzesień września wrz",
    10: "october oct oktober okt octobre octubre outubro out październik października paź paz",
    11: "november nov novembre noviembre novembro listopad listopada lis",
    12: "december dec dezember dez décembre decembre déc diciembre dic dezembro grudzień grudnia gru",
}
_MONTHS: dict[str, int] = {name: number for number, names in _MONTH_NAMES.items() for name in names.split(" ")}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_YEAR = r"(?:19|20)\d{2}"

# One date. Named groups say which parts the CV wrote.
_DATE = (
    rf"(?:(?P<mname>{_MONTH})\.?(?:\s+\d{{1,2}},?)?[\s\-/.']*(?:de\s+|of\s+)?(?P<myear>{_YEAR})"
    rf"|\d{{1,2}}\.?\s+(?P<dmname>{_MONTH})\.?\s+(?:de\s+)?(?P<dmyear>{_YEAR})"
    rf"|(?P<iyear>{_YEAR})[-/.](?P<imonth>0[1-9]|1[0-2])(?:[-/.](?P<iday>0[1-9]|[12]\d|3[01]))?(?!\d)"
    rf"|(?P<d1>\d{{1,2}})[/.](?P<d2>\d{{1,2}})[/.](?P<dyear>{_YEAR})"
    rf"|(?P<nmonth>0?[1-9]|1[0-2])\s*[/.\-]\s*(?P<nyear>{_YEAR})"
    rf"|(?P<year>{_YEAR}))"
)
_PRESENT = (
    r"present|current(?:ly)?|now|today|ongoing|to date|date|heute|jetzt|aktuell|derzeit|laufend|dato|"
    r"actuel(?:lement)?|aujourd['’]hui|présent|en cours|actualidad|presente|actual(?:mente)?|hoy|"
    r"atual(?:mente)?|o momento|hoje|obecnie|teraz|nadal|dziś|obecna"
)
_RANGE_SEP = r"\s*(?:–|—|−|-|~|→|to|until|till|bis|au|à|a|al|hasta|até|ate|do|da)\s*"
_SINCE = r"(?:since|seit|depuis|desde|od|from|ab)\s+"
_BOUNDARY_BEFORE = r"(?<![\w.,/])"
_BOUNDARY_AFTER = r"(?![\w/])"

_DATE_RE = re.compile(_BOUNDARY_BEFORE + _DATE + _BOUNDARY_AFTER, re.I)


@dataclass(frozen=True, slots=True)
class DateSpan:
    """Dates found in a piece of text and where they were: `start` and `end` are ISO strings or None
    (None as end with `ongoing` means "until now")."""

    start: str | None
    end: str | None
    ongoing: bool
    is_range: bool
    begin: int
    stop: int
    precise: bool  # a month, or a range: strong enough to mark the header of an entry


def _prefixed(pattern: str, prefix: str) -> str:
    # The same date pattern appears twice in a range; group names must differ.
    return re.sub(r"\(\?P<(\w+)>", rf"(?P<{prefix}\1>", pattern)


def _compile_range() -> re.Pattern[str]:
    start, end = _prefixed(_DATE, "s_"), _prefixed(_DATE, "e_")
    return re.compile(
        rf"{_BOUNDARY_BEFORE}(?P<start>{start}){_RANGE_SEP}(?P<end>{end}|(?P<present>{_PRESENT})){_BOUNDARY_AFTER}",
        re.I,
    )


_RANGE_RE = _compile_range()
_YEAR_HINT = re.compile(_YEAR)
_SINCE_RE = re.compile(rf"{_BOUNDARY_BEFORE}{_SINCE}(?P<start>{_prefixed(_DATE, 's_')}){_BOUNDARY_AFTER}", re.I)


def _month_number(name: str) -> int:
    key = unicodedata.normalize("NFC", name.lower().rstrip("."))
    return _MONTHS[key]


def _iso(groups: dict[str, str | None], prefix: str) -> tuple[str, bool]:
    """ISO form of one matched date and whether it names a month."""

    def g(name: str) -> str | None:
        return groups.get(prefix + name)

    if (mname := g("mname")) and (year := g("myear")):
        return f"{year}-{_month_number(mname):02d}", True
    if (mname := g("dmname")) and (year := g("dmyear")):
        return f"{year}-{_month_number(mname):02d}", True
    if year := g("iyear"):
        day = g("iday")
        return f"{year}-{g('imonth')}" + (f"-{day}" if day else ""), True
    if year := g("dyear"):
        first, second = int(g("d1") or 0), int(g("d2") or 0)
        # 15/03/2018 or 03/15/2018: only a day over 12 tells which is the month.
        if first > 12 and 1 <= second <= 12:
            return f"{year}-{second:02d}", True
        if second > 12 and 1 <= first <= 12:
            return f"{year}-{first:02d}", True
        return year, False
    if year := g("nyear"):
        return f"{year}-{int(g('nmonth') or 0):02d}", True
    return g("year") or "", False


@lru_cache(maxsize=4096)  # the parser asks about the same header lines several times
def find_dates(text: str) -> DateSpan | None:
    """The first date range in `text`, else an open range ("since 2020"), else the last single date."""
    if _YEAR_HINT.search(text) is None:
        return None  # every date pattern has a year: most lines of a CV are out after this cheap check
    if match := _RANGE_RE.search(text):
        groups = match.groupdict()
        start, _ = _iso(groups, "s_")
        if groups.get("present"):
            return DateSpan(start, None, True, True, match.start(), match.end(), True)
        end, _ = _iso(groups, "e_")
        return DateSpan(start, end, False, True, match.start(), match.end(), True)
    if match := _SINCE_RE.search(text):
        start, _ = _iso(match.groupdict(), "s_")
        return DateSpan(start, None, True, True, match.start(), match.end(), True)
    singles = list(_DATE_RE.finditer(text))
    if not singles:
        return None
    match = singles[-1]
    value, has_month = _iso(match.groupdict(), "")
    return DateSpan(value, value, False, False, match.start(), match.end(), has_month)


def strip_span(text: str, span: DateSpan) -> str:
    """`text` without the dates, and without the brackets or separators that only framed them."""
    rest = text[: span.begin] + " " + text[span.stop :]
    rest = re.sub(r"\(\s*\)|\[\s*\]", " ", rest)
    rest = re.sub(r"\s{2,}", "  ", rest)
    return rest.strip(" \t,;|•·–—-:()")
