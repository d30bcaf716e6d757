"""PDF to lines in reading order, with pypdfium2 (PDFium): fast, tolerant of damaged files, and it gives every
character with its box and font size, which `layout` turns into reading order.

pdfplumber gives the same positions at 10-20x the cost (pure Python), and pypdf's content-stream order is only
right when the generator wrote text in reading order.
"""

from __future__ import annotations

import ctypes
import re
import threading
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from activities.documents.errors import CorruptDocument, EncryptedDocument, NoTextLayer, TooManyPages
from activities.documents.layout import Row, Segment, reading_order
from activities.documents.normalize import SourceLine, clean_inline, meaningful_length, unfinished

# PDFium is not thread-safe, not even across documents, and extraction runs in worker threads.
_PDFIUM_LOCK = threading.Lock()
# PDFium inflates a content stream whole (about twice its size at peak): a 1 MB upload can unpack to 1 GB.
_MAX_INFLATED = 64 * 1024 * 1024
_INFLATE_INPUT = 64 * 1024
_INFLATE_OUTPUT = 1024 * 1024
_STREAM_START = re.compile(rb"(?<!end)stream\r?\n")
_ZLIB_HEADERS = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda")
_BOMB = (
    "This PDF unpacks to an unreasonable size (over 64 MB of compressed content), so it is refused. Export your CV "
    "again from your editor and upload the new file."
)

_SOFT_HYPHEN = "\x02"  # what PDFium reports for a hyphen it believes splits a word at the end of a line
_BULLETS = "•◦▪▫■□●○◆◇►▸‣⁃-–—*·✓✔➢➤→"
# "3", "Page 3 of 4", "Seite 3/4", "- 3 -": small numbers only, a year on its own line is content.
_PAGE_NUMBER = re.compile(
    r"^(?:page|seite|página|pagina|page n°|strona|p\.)?\s*\d{1,3}\s*(?:(?:of|/|von|de|sur|z|di)\s*\d{1,3})?$"
    r"|^[-–—]\s*\d{1,3}\s*[-–—]$"
)
# Second halves of compounds that keep their hyphen when split across lines ("community-/driven").
_COMPOUND_TAILS_TEXT = (
    "based driven oriented focused facing level scale end time term first native aware friendly specific "
    "related made source side free like class wide ready led owned centric critical intensive heavy "
    "solving making building functional disciplinary platform stack"
)
_COMPOUND_TAILS = frozenset(_COMPOUND_TAILS_TEXT.split())
_URI_ACTION = 3  # PDFACTION_URI
_PROFILE_HOSTS = (
    "linkedin.com/",
    "github.com/",
    "gitlab.com/",
    "twitter.com/",
    "x.com/",
    "stackoverflow.com/",
    "medium.com/",
    "behance.net/",
    "dribbble.com/",
    "kaggle.com/",
    "orcid.org/",
    "xing.com/",
    "bitbucket.org/",
    "huggingface.co/",
    "scholar.google.",
)


@dataclass(frozen=True, slots=True)
class PdfContent:
    lines: list[SourceLine]
    pages: int


_Link = tuple[str, float, float]  # url, x and y of the link's centre


@dataclass(slots=True)
class _Page:
    rows: list[Row]
    links: list[_Link]


def read_pdf(data: bytes, *, max_pages: int) -> PdfContent:
    """Lines of a PDF in reading order. Raises EncryptedDocument, CorruptDocument, TooManyPages, NoTextLayer."""
    with _PDFIUM_LOCK:
        raw_pages = _read_pages(data, max_pages)
    # Layout is plain Python: done outside the lock.
    pages = [_Page(rows=reading_order(segments), links=links) for segments, links in raw_pages]
    _drop_running_headers(pages)
    body = _body_size(pages)
    lines: list[SourceLine] = []
    for page in pages:
        lines.extend(_page_lines(page, body))
    if meaningful_length(" ".join(line.text for line in lines)) < 20:
        raise NoTextLayer()
    return PdfContent(lines=lines, pages=len(pages))


def _check_inflated_size(data: bytes) -> None:
    """Refuses a decompression bomb before PDFium sees it: every stream is inflated in bounded chunks, output
    discarded, against one budget for the whole file. Images count too: a dictionary saying /Image proves nothing
    about how PDFium will use the stream."""
    budget = _MAX_INFLATED
    for match in _STREAM_START.finditer(data):
        budget -= _inflated_size(memoryview(data)[match.end() :], budget)
        if budget < 0:
            raise CorruptDocument(_BOMB)


class _Inflater:
    """A zlib stream inflated piece by piece, at most 1 MB at a time, counting what comes out."""

    def __init__(self) -> None:
        self._zlib = zlib.decompressobj()
        self.size = 0
        self.done = False

    def feed(self, chunk: bytes | memoryview) -> Iterator[bytes]:
        pending: bytes | memoryview = chunk
        while pending and not self.done:
            try:
                out = self._zlib.decompress(pending, _INFLATE_OUTPUT)
            except zlib.error:
                self.done = True  # not Flate data, or damaged: PDFium judges it
                return
            self.size += len(out)
            yield out
            pending = self._zlib.unconsumed_tail
        self.done = self.done or self._zlib.eof


def _inflated_size(data: memoryview, budget: int) -> int:
    """Bytes the zlib stream at the start of `data` inflates to, counted up to just past `budget`; 0 for other
    data. A stream compressed twice (/Filter [/FlateDecode /FlateDecode]) is measured by its inner layer too."""
    outer, inner = _Inflater(), _Inflater()
    nested: bool | None = None
    for offset in range(0, len(data), _INFLATE_INPUT):
        for out in outer.feed(data[offset : offset + _INFLATE_INPUT]):
            if nested is None and out:
                nested = out[:2] in _ZLIB_HEADERS
            for _ in inner.feed(out) if nested else ():
                if inner.size > budget:
                    return inner.size
            if outer.size > budget:
                return outer.size
        if outer.done:
            break
    return max(outer.size, inner.size)


def _read_pages(data: bytes, max_pages: int) -> list[tuple[list[Segment], list[_Link]]]:
    _check_inflated_size(data)
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        # PDFium already tries the empty user password, which opens most "protected" CVs.
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise EncryptedDocument() from None
        raise CorruptDocument(
            "This PDF is damaged and cannot be read. Export it again from your editor and upload the new file."
        ) from None
    try:
        count = len(document)
        if count == 0:
            raise CorruptDocument("This PDF has no pages. Export it again from your editor and upload the new file.")
        if count > max_pages:
            raise TooManyPages(count, max_pages)
        return [_read_page(document, index) for index in range(count)]
    except pdfium.PdfiumError:
        raise CorruptDocument(
            "A page of this PDF is damaged and cannot be read. Export it again and upload the new file."
        ) from None
    finally:
        document.close()


def _read_page(document: pdfium.PdfDocument, index: int) -> tuple[list[Segment], list[_Link]]:
    page = document[index]
    try:
        height = float(page.get_height())
        textpage = page.get_textpage()
        try:
            segments = _segments(textpage, height)
        finally:
            textpage.close()
        links = _links(document, page, height)
    finally:
        page.close()
    return segments, links


def _segments(textpage: pdfium.PdfTextPage, page_height: float) -> list[Segment]:
    """Runs of characters on one baseline with no gap wider than about a letter height, in stream order."""
    segments: list[Segment] = []
    rotated: list[str] = []
    rect = pdfium_c.FS_RECTF()
    rect_ref = ctypes.byref(rect)
    current: Segment | None = None
    pending_space = False
    # Thousands of calls per page: bind the raw handle and functions once.
    handle = textpage.raw
    get_unicode, is_generated = pdfium_c.FPDFText_GetUnicode, pdfium_c.FPDFText_IsGenerated
    get_box, get_angle, get_size = (
        pdfium_c.FPDFText_GetLooseCharBox,
        pdfium_c.FPDFText_GetCharAngle,
        pdfium_c.FPDFText_GetFontSize,
    )
    for index in range(textpage.count_chars()):
        code = get_unicode(handle, index)
        if is_generated(handle, index):
            if code in (0x0A, 0x0D):
                if current is not None:
                    segments.append(current)
                current = None
            else:
                pending_space = True
            if rotated and rotated[-1] != " ":
                rotated.append(" ")
            continue
        char = chr(code)
        if code == 0x02:
            if current is not None:
                current.text += _SOFT_HYPHEN
            continue
        if code in (0, 0xFFFD) or code < 0x20:
            continue
        if char.isspace() or 0xE000 <= code <= 0xF8FF:
            pending_space = True  # icon glyphs separate fields, like spaces
            if rotated and rotated[-1] != " ":
                rotated.append(" ")
            continue
        if not get_box(handle, index, rect_ref):
            continue
        if abs(get_angle(handle, index)) > 0.1:
            rotated.append(char)
            continue
        x0, x1 = rect.left, rect.right
        top, bottom = page_height - rect.top, page_height - rect.bottom
        size = float(get_size(handle, index))
        if current is not None and _continues(current, x0, top, bottom):
            gap = x0 - current.x1
            if pending_space or gap > 0.15 * (bottom - top):
                current.text += " "
            current.text += char
            current.x1 = max(current.x1, x1)
            current.top, current.bottom = min(current.top, top), max(current.bottom, bottom)
            current.size = max(current.size, size)
        else:
            if current is not None:
                segments.append(current)
            current = Segment(char, x0, x1, top, bottom, size)
        pending_space = False
    if current is not None:
        segments.append(current)
    if rotated:
        last = max((s.bottom for s in segments), default=0.0)
        segments.append(Segment("".join(rotated), 0.0, 1.0, last + 1, last + 2, 1.0))
    return segments


def _continues(segment: Segment, x0: float, top: float, bottom: float) -> bool:
    height = min(segment.bottom - segment.top, bottom - top)
    same_line = abs((top + bottom) / 2 - (segment.top + segment.bottom) / 2) < 0.35 * max(height, 0.1)
    gap = x0 - segment.x1
    return same_line and -0.5 * height < gap < max(segment.bottom - segment.top, bottom - top)


def _links(document: pdfium.PdfDocument, page: pdfium.PdfPage, page_height: float) -> list[_Link]:
    """Profile links (LinkedIn, GitHub...) behind words such as an icon or a bare user name."""
    found: list[_Link] = []
    position = ctypes.c_int(0)
    link = pdfium_c.FPDF_LINK()
    rect = pdfium_c.FS_RECTF()
    while pdfium_c.FPDFLink_Enumerate(page, ctypes.byref(position), ctypes.byref(link)):
        action = pdfium_c.FPDFLink_GetAction(link)
        if not action or pdfium_c.FPDFAction_GetType(action) != _URI_ACTION:
            continue
        size = int(pdfium_c.FPDFAction_GetURIPath(document, action, None, 0))
        if size <= 1 or size > 2048:
            continue
        buffer = ctypes.create_string_buffer(size)
        pdfium_c.FPDFAction_GetURIPath(document, action, buffer, size)
        url = buffer.value.decode("ascii", "replace").strip()
        if not url.lower().startswith(("http://", "https://")) or not _is_profile(url):
            continue
        if not pdfium_c.FPDFLink_GetAnnotRect(link, ctypes.byref(rect)):
            continue
        x = (float(rect.left) + float(rect.right)) / 2
        y = page_height - (float(rect.top) + float(rect.bottom)) / 2
        found.append((url, x, y))
    return found


def _is_profile(url: str) -> bool:
    bare = re.sub(r"^https?://(www\.)?", "", url.lower())
    return any(bare.startswith(host) for host in _PROFILE_HOSTS) and bare.rstrip("/").count("/") >= 1


def _drop_running_headers(pages: list[_Page]) -> None:
    """Remove page numbers and lines repeated at the top or bottom of pages. The first page keeps its top
    lines: that is where the name is, even when it repeats as a running header."""
    edges: list[list[int]] = []
    counts: Counter[str] = Counter()
    for page in pages:
        by_top = sorted(range(len(page.rows)), key=lambda i: page.rows[i].top)
        candidates = sorted(set(by_top[:2] + by_top[-2:]))
        edges.append(candidates)
        for key in {_edge_key(page.rows[i].text) for i in candidates}:
            counts[key] += 1
    needed = max(2, round(0.6 * len(pages)))
    for number, (page, candidates) in enumerate(zip(pages, edges, strict=True)):
        top_rows = set(sorted(range(len(page.rows)), key=lambda i: page.rows[i].top)[:2])
        drop = set()
        for i in candidates:
            key = _edge_key(page.rows[i].text)
            text = clean_inline(page.rows[i].text).lower()
            page_number = _PAGE_NUMBER.match(text) is not None or _ends_with_page_count(text, number + 1, len(pages))
            if page_number or (counts[key] >= needed and len(pages) > 1):
                if number == 0 and i in top_rows and not page_number:
                    continue
                drop.add(i)
        page.rows = [row for i, row in enumerate(page.rows) if i not in drop]


def _ends_with_page_count(text: str, page: int, pages: int) -> bool:
    """A footer such as "Jane Doe · 2 / 3" on page 2 of 3: only this page's own number and the page count
    match, so "Rating 4/5" on a last line stays."""
    match = re.search(r"(?:^|\s)(\d{1,3})\s*(?:/|of|von|de|sur|z|di)\s*(\d{1,3})$", text)
    return match is not None and (int(match.group(1)), int(match.group(2))) == (page, pages) and pages > 1


def _edge_key(text: str) -> str:
    return re.sub(r"\d+", "#", clean_inline(text).lower())


def _body_size(pages: list[_Page]) -> float:
    sizes: Counter[float] = Counter()
    for page in pages:
        for row in page.rows:
            for seg in row.segments:
                sizes[round(seg.size * 2) / 2] += len(seg.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _page_lines(page: _Page, body_size: float) -> list[SourceLine]:
    """Rows to lines: wrapped bullet lines and hyphenated words joined, profile links after their row."""
    lines: list[SourceLine] = []
    anchor: Row | None = None  # the row that started the current line
    last: Row | None = None  # the row added last
    links_after = _links_by_row(page)
    for index, row in enumerate(page.rows):
        text = row.text
        if anchor is not None and last is not None and lines and _continues_line(anchor, last, row, lines[-1].text):
            lines[-1] = SourceLine(_join(lines[-1].text, text), lines[-1].heading)
        else:
            if last is not None and _paragraph_break(last, row):
                lines.append(SourceLine(""))
            heading = row.size >= 1.2 * body_size and _looks_like_heading(text)
            lines.append(SourceLine(text, heading))
            anchor = row
        last = row
        for url in links_after.get(index, []):
            # Printed as "linkedin.com/in/jane" (no scheme, no www.): that is the link's own text.
            bare = url.split("://", 1)[1].removeprefix("www.").rstrip("/")
            if not any(bare in line.text for line in lines):
                lines.append(SourceLine(url))
                anchor = last = None
    return [SourceLine(line.text.replace(_SOFT_HYPHEN, "-"), line.heading) for line in lines]


def _links_by_row(page: _Page) -> dict[int, list[str]]:
    placed: dict[int, list[str]] = {}
    for url, x, y in page.links:
        for index, row in enumerate(page.rows):
            if row.top - 1 <= y <= row.bottom + 1 and any(s.x0 - 2 <= x <= s.x1 + 2 for s in row.segments):
                if url not in placed.setdefault(index, []):
                    placed[index].append(url)
                break
    return placed


def _looks_like_heading(text: str) -> bool:
    words = text.split()
    letters = [ch for ch in text if ch.isalpha()]
    return (
        0 < len(words) <= 5
        and bool(letters)
        and letters[0].isupper()
        and text[-1] not in ",;."
        and not any(ch.isdigit() or ch == "@" for ch in text)
    )


def _paragraph_break(last: Row, row: Row) -> bool:
    """White space taller than a line between two rows, or a jump back up to the top of the next column."""
    height = row.bottom - row.top
    return row.top - last.bottom > height or row.top < last.top - 2 * height


def _continues_line(anchor: Row, last: Row, row: Row, line: str) -> bool:
    """The row continues the current line: a word hyphenated across lines, or a wrapped bullet item."""
    height = row.bottom - row.top
    close = -0.1 * height <= row.top - last.bottom < 0.6 * height and abs(row.size - last.size) < 0.6
    if not close or not row.text or row.text[0] in _BULLETS:
        return False
    if (line.endswith(_SOFT_HYPHEN) or re.search(r"[^\W\d_]-$", line)) and row.text[0].islower():
        return True
    if unfinished(line) and abs(row.x0 - anchor.x0) < 2 * height:
        return True  # "MSc Physics, Uni Wien, 2014 –" wrapped before "2019"
    # A hanging indent: the bullet sticks out to the left, wrapped lines start where its text starts.
    return line[0] in _BULLETS and anchor.x0 + 0.3 * height < row.x0 < anchor.x0 + 4 * height


def _join(head: str, tail: str) -> str:
    if head.endswith(_SOFT_HYPHEN) or re.search(r"[^\W\d_]-$", head):
        stem = head[:-1]
        first_word = re.match(r"[^\W\d_]+", tail)
        keep = first_word is not None and first_word.group(0).lower() in _COMPOUND_TAILS
        return stem + ("-" if keep else "") + tail
    return f"{head} {tail}"
