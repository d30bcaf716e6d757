"""Reading order of positioned text on a page: rows, columns and side notes.

PDF content streams draw text in whatever order their generator liked, so order comes from geometry:
1. segments (runs of words, cut where the gap is wider than a word space) are grouped into visual rows;
2. a gutter is a vertical strip that no segment crosses over a run of rows, with text on both sides;
3. a run with a gutter is either two real columns (read the left one to the end, then the right one) or a
   narrow column of side notes such as dates and places on the baselines of the entries, on either side (each
   block of notes is read with the line it starts on, so an entry's dates stay with its title).
Coordinates are PDF points with y growing downwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from statistics import median

# Share of side segments that must sit exactly on a main-column baseline for the run to be side notes.
_SIDE_NOTE_ALIGNMENT = 0.8


@dataclass(slots=True)
class Segment:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 0.1)


@dataclass(slots=True)
class Row:
    """Segments that share a visual line, left to right."""

    segments: list[Segment] = field(default_factory=list)

    @property
    def top(self) -> float:
        return min(s.top for s in self.segments)

    @property
    def bottom(self) -> float:
        return max(s.bottom for s in self.segments)

    @property
    def x0(self) -> float:
        return min(s.x0 for s in self.segments)

    @property
    def size(self) -> float:
        return max(s.size for s in self.segments)

    @property
    def text(self) -> str:
        parts: list[str] = []
        previous: Segment | None = None
        for seg in self.segments:
            if previous is not None:
                gap = seg.x0 - previous.x1
                height = min(seg.height, previous.height)
                # Two spaces mark a gap wider than a word space: a separate field on the same line.
                parts.append("  " if gap > height else (" " if gap > 0.12 * height else ""))
            parts.append(seg.text)
            previous = seg
        return "".join(parts)


def reading_order(segments: list[Segment]) -> list[Row]:
    """Rows of a page in the order a person reads them."""
    rows = group_rows(segments)
    if not rows:
        return []
    min_gutter = max(10.0, 1.5 * median(s.height for s in segments))
    return _order(rows, min_gutter)


def group_rows(segments: list[Segment]) -> list[Row]:
    """Segments whose vertical extents mostly overlap form one row; rows come top to bottom."""
    rows: list[tuple[Segment, Row]] = []  # (anchor, row): the anchor keeps rows from chaining downwards
    for seg in sorted(segments, key=lambda s: (s.top, s.x0)):
        home: Row | None = None
        for anchor, row in reversed(rows):
            if anchor.bottom < seg.top:
                break
            overlap = min(anchor.bottom, seg.bottom) - max(anchor.top, seg.top)
            if overlap >= 0.5 * min(anchor.height, seg.height):
                home = row
                break
        if home is None:
            rows.append((seg, Row([seg])))
        elif not any(_duplicate(seg, other) for other in home.segments):
            home.segments.append(seg)
    ordered = [row for _, row in rows]
    for row in ordered:
        row.segments.sort(key=lambda s: s.x0)
    ordered.sort(key=lambda r: r.top)
    return ordered


def _duplicate(seg: Segment, other: Segment) -> bool:
    """Fake bold: the same text drawn twice a hair apart."""
    return seg.text == other.text and abs(seg.x0 - other.x0) < 0.5 * seg.height


@dataclass(frozen=True, slots=True)
class _Gutter:
    start: int  # first row of the run
    end: int  # one past the last row
    x0: float
    x1: float


def _order(rows: list[Row], min_gutter: float) -> list[Row]:
    gutter = _find_gutter(rows, min_gutter)
    if gutter is None:
        return rows
    before, inside, after = rows[: gutter.start], rows[gutter.start : gutter.end], rows[gutter.end :]
    middle = (gutter.x0 + gutter.x1) / 2
    lefts = [Row([s for s in row.segments if s.x1 <= middle]) for row in inside]
    rights = [Row([s for s in row.segments if s.x1 > middle]) for row in inside]
    if _is_side_notes(lefts, rights):
        ordered = _attach_side_notes(lefts, rights, notes_first=False)
    elif _is_side_notes(rights, lefts):
        ordered = _attach_side_notes(rights, lefts, notes_first=True)
    else:
        ordered = _order([r for r in lefts if r.segments], min_gutter)
        ordered += _order([r for r in rights if r.segments], min_gutter)
    return _order(before, min_gutter) + ordered + _order(after, min_gutter)


def _find_gutter(rows: list[Row], min_gutter: float) -> _Gutter | None:
    """The longest run of rows that a vertical strip at least `min_gutter` wide separates into two sides."""
    best: _Gutter | None = None
    for start in range(len(rows)):
        if best is not None and len(rows) - start <= best.end - best.start:
            break
        occupied: list[tuple[float, float]] = []
        found: _Gutter | None = None
        for end in range(start, len(rows)):
            occupied = _merge(occupied, [(s.x0, s.x1) for s in rows[end].segments])
            gap = _widest_gap(occupied, min_gutter)
            if gap is None:
                break
            found = _Gutter(start, end + 1, gap[0], gap[1])
        longer = found is not None and (best is None or found.end - found.start > best.end - best.start)
        if found is not None and longer and _has_two_sides(rows[found.start : found.end], found):
            best = found
    return best


def _merge(intervals: list[tuple[float, float]], new: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for lo, hi in sorted(intervals + new):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _widest_gap(intervals: list[tuple[float, float]], min_width: float) -> tuple[float, float] | None:
    best: tuple[float, float] | None = None
    for (_, hi), (lo, _) in pairwise(intervals):
        if lo - hi >= min_width and (best is None or lo - hi > best[1] - best[0]):
            best = (hi, lo)
    return best


def _has_two_sides(rows: list[Row], gutter: _Gutter) -> bool:
    left = sum(1 for row in rows if any(s.x1 <= gutter.x0 for s in row.segments))
    right = sum(1 for row in rows if any(s.x0 >= gutter.x1 for s in row.segments))
    return len(rows) >= 3 and left >= 2 and right >= 2


def _is_side_notes(main: list[Row], notes: list[Row]) -> bool:
    """Side notes sit on the baselines of the main column; a real second column has its own line grid."""
    side = [(seg, row) for row, note in zip(main, notes, strict=True) for seg in note.segments]
    if not side:
        return False
    aligned = sum(
        1
        for seg, row in side
        if any(abs(seg.bottom - other.bottom) <= 0.2 * min(seg.height, other.height) for other in row.segments)
    )
    return aligned >= _SIDE_NOTE_ALIGNMENT * len(side)


def _close_below(notes: list[Row], index: int) -> bool:
    """The note of row `index + 1` continues the block of row `index`."""
    if index + 1 >= len(notes) or not notes[index + 1].segments or not notes[index].segments:
        return False
    below, above = notes[index + 1], notes[index]
    return below.top - above.bottom < 0.6 * below.segments[0].height


def _single_row_block(notes: list[Row], index: int) -> bool:
    return not _close_below(notes, index) and not (index > 0 and _close_below(notes, index - 1))


def _attach_side_notes(main: list[Row], notes: list[Row], *, notes_first: bool) -> list[Row]:
    """Main rows in order, each block of notes with the main row it starts on: after it for notes on the right
    (dates after a title), before it for notes on the left (a date column in front of the entries). A single
    note on the row of a main line stays on that row."""
    ordered: list[Row] = []
    index = 0
    while index < len(main):
        row, note = main[index], notes[index]
        if note.segments and row.segments and _single_row_block(notes, index):
            ordered.append(Row(sorted(row.segments + note.segments, key=lambda s: s.x0)))
        elif note.segments:
            block_end = index + 1
            while _close_below(notes, block_end - 1):
                block_end += 1
            block = notes[index:block_end]
            head = [row] if row.segments else []
            rest = [r for r in main[index + 1 : block_end] if r.segments]
            ordered.extend(block + head + rest if notes_first else head + block + rest)
            index = block_end
            continue
        elif row.segments:
            ordered.append(row)
        index += 1
    return ordered
