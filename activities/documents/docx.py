"""DOCX to lines in document order: paragraphs, tables (many CV templates are tables), content controls and
text boxes. Read straight from the package's XML with the standard library: the archive is checked for zip
bombs before anything is inflated, and DTDs are refused."""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from xml.etree import ElementTree

from activities.documents.errors import CorruptDocument
from activities.documents.normalize import SourceLine, meaningful_length

_MAX_UNCOMPRESSED = 50 * 1024 * 1024
_MAX_RATIO = 100
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_BULLETS = "•◦▪▫■□●○◆◇►▸‣⁃-–—*·✓✔➢➤→"
_PROFILE_HOSTS = re.compile(
    r"^https?://(?:www\.)?(?:linkedin\.com|github\.com|gitlab\.com|twitter\.com|x\.com|xing\.com|"
    r"stackoverflow\.com|behance\.net|dribbble\.com|kaggle\.com|orcid\.org|medium\.com)/\S+",
    re.I,
)
# Tracked deletions, field codes, formatting, and the legacy copy of a drawing next to its modern one.
_SKIPPED = frozenset(f"{_W}{t}" for t in ("del", "delText", "instrText", "pPr", "rPr")) | {f"{_MC}Fallback"}
_DAMAGED = "This DOCX file is damaged and cannot be read. Save it again from your editor and upload the new file."


def read_docx(data: bytes) -> list[SourceLine]:
    """Lines of the document body; headers and footers only when the body has no text."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_sizes(archive)
            main = _main_part(archive)
            styles = _heading_styles(archive)
            reader = _BodyReader(styles, _hyperlinks(archive, main))
            lines = reader.read(_parse(archive, main))
            if meaningful_length(" ".join(line.text for line in lines)) < 20:
                for name in sorted(archive.namelist()):
                    if re.fullmatch(r"word/(?:header|footer)\d*\.xml", name):
                        lines.extend(reader.read(_parse(archive, name)))
            return lines
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError, ElementTree.ParseError):
        raise CorruptDocument(_DAMAGED) from None
    except (zlib.error, ValueError, NotImplementedError, RuntimeError):
        # Damaged compressed data or offsets, an unknown compression method, an encrypted member.
        raise CorruptDocument(_DAMAGED) from None


def _check_sizes(archive: zipfile.ZipFile) -> None:
    infos = archive.infolist()
    total = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    bomb = total > _MAX_UNCOMPRESSED or (total > 1024 * 1024 and total > _MAX_RATIO * max(packed, 1))
    bomb = bomb or any(
        info.file_size > 1024 * 1024 and info.file_size > _MAX_RATIO * max(info.compress_size, 1) for info in infos
    )
    if bomb:
        raise CorruptDocument(
            "This DOCX file unpacks to an unreasonable size (over 50 MB, or 100 times its packed size), so it is "
            "refused. Save the CV again from your editor, without embedded files, and upload it again."
        )


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    # Declared sizes were checked; never trust them while inflating either.
    with archive.open(name) as member:
        data = member.read(_MAX_UNCOMPRESSED + 1)
    if len(data) > _MAX_UNCOMPRESSED:
        raise CorruptDocument(_DAMAGED)
    return data


def _parse(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    data = _read(archive, name)
    # Office never writes a DTD; refusing any rules out entity tricks (expat >= 2.4 also caps expansion).
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise CorruptDocument(_DAMAGED)
    return ElementTree.fromstring(data)  # noqa: S314 -- DTDs refused above


def _main_part(archive: zipfile.ZipFile) -> str:
    names = set(archive.namelist())
    if "_rels/.rels" in names:
        for rel in _parse(archive, "_rels/.rels").iter(f"{_REL}Relationship"):
            target = rel.get("Target", "").lstrip("/")
            if rel.get("Type") == _OFFICE_DOCUMENT and target in names:
                return target
    return "word/document.xml"


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    if rels not in archive.namelist():
        return {}
    return {
        rel.get("Id", ""): rel.get("Target", "")
        for rel in _parse(archive, rels).iter(f"{_REL}Relationship")
        if rel.get("TargetMode") == "External"
    }


def _hyperlinks(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    return {rid: url for rid, url in _relationships(archive, part).items() if _PROFILE_HOSTS.match(url)}


def _heading_styles(archive: zipfile.ZipFile) -> frozenset[str]:
    """Style ids whose built-in name (always English, whatever the Word language) is a heading or the title,
    directly or through the styles they are based on."""
    if "word/styles.xml" not in archive.namelist():
        return frozenset()
    names: dict[str, str] = {}
    based_on: dict[str, str] = {}
    for style in _parse(archive, "word/styles.xml").iter(f"{_W}style"):
        style_id = style.get(f"{_W}styleId", "")
        name = style.find(f"{_W}name")
        names[style_id] = (name.get(f"{_W}val", "") if name is not None else "").lower()
        parent = style.find(f"{_W}basedOn")
        if parent is not None:
            based_on[style_id] = parent.get(f"{_W}val", "")
        if style.find(f"{_W}pPr/{_W}outlineLvl") is not None:
            names[style_id] = "heading"
    headings: set[str] = set()
    for style_id in names:
        current, depth = style_id, 0
        while current and depth < 6:
            if names.get(current, "").startswith(("heading", "title")):
                headings.add(style_id)
                break
            current, depth = based_on.get(current, ""), depth + 1
    return frozenset(headings)


class _BodyReader:
    def __init__(self, heading_styles: frozenset[str], links: dict[str, str]) -> None:
        self._headings = heading_styles
        self._links = links

    def read(self, root: ElementTree.Element) -> list[SourceLine]:
        body = root.find(f"{_W}body")
        return list(self._blocks(body if body is not None else root))

    def _blocks(self, parent: ElementTree.Element) -> Iterator[SourceLine]:
        for child in parent:
            tag = child.tag
            if tag == f"{_W}p":
                yield from self._paragraph(child)
            elif tag == f"{_W}tbl":
                yield from self._table(child)
            elif tag in (f"{_W}sdt", f"{_W}customXml", f"{_W}sdtContent", f"{_W}txbxContent"):
                yield from self._blocks(child)
            elif tag == f"{_MC}AlternateContent":
                choice = child.find(f"{_MC}Choice")
                if choice is not None:
                    yield from self._blocks(choice)

    def _table(self, table: ElementTree.Element) -> Iterator[SourceLine]:
        # Direct rows only: a nested table is read with the cell that holds it.
        for row in table.findall(f"{_W}tr") + table.findall(f"{_W}sdt/{_W}sdtContent/{_W}tr"):
            cells = [list(self._blocks(cell)) for cell in row.findall(f"{_W}tc")]
            cells += [list(self._blocks(cell)) for cell in row.findall(f"{_W}sdt/{_W}sdtContent/{_W}tc")]
            texts = [[line for line in cell if line.text.strip()] for cell in cells]
            if all(len(cell) <= 1 for cell in texts):
                # A row of short cells ("2019 – 2021 | Engineer, Acme") reads as one line.
                joined = "  ".join(cell[0].text for cell in texts if cell)
                if joined.strip():
                    yield SourceLine(joined, any(cell[0].heading for cell in texts if cell))
                continue
            for cell in cells:
                yield from cell
                if len([line for line in cell if line.text.strip()]) > 1:
                    yield SourceLine("")  # a block of several lines ends its paragraph

    def _paragraph(self, paragraph: ElementTree.Element) -> Iterator[SourceLine]:
        parts: list[str] = []
        boxes: list[ElementTree.Element] = []
        self._runs(paragraph, parts, boxes)
        text = "".join(parts)
        heading = self._is_heading(paragraph)
        bullet = self._is_list_item(paragraph)
        for index, line in enumerate(text.split("\n")):
            stripped = line.strip()
            if bullet and index == 0 and stripped and stripped[0] not in _BULLETS:
                line = "• " + stripped
            yield SourceLine(line, heading)
        for box in boxes:
            yield from self._blocks(box)

    def _runs(self, element: ElementTree.Element, parts: list[str], boxes: list[ElementTree.Element]) -> None:
        for child in element:
            tag = child.tag
            if tag == f"{_W}t":
                parts.append(child.text or "")
            elif tag in (f"{_W}tab", f"{_W}ptab"):
                parts.append("\t")
            elif tag in (f"{_W}br", f"{_W}cr"):
                parts.append("\n")
            elif tag == f"{_W}noBreakHyphen":
                parts.append("-")
            elif tag == f"{_W}sym":
                parts.append(_symbol(child))
            elif tag == f"{_W}txbxContent":
                boxes.append(child)
            elif tag in _SKIPPED:
                continue
            elif tag == f"{_W}hyperlink":
                start = len(parts)
                self._runs(child, parts, boxes)
                url = self._links.get(child.get(f"{_R}id", ""))
                shown = "".join(parts[start:])
                if url and _bare(url) not in _bare(shown):
                    parts.append(f" ({url})")
            else:
                self._runs(child, parts, boxes)

    def _is_heading(self, paragraph: ElementTree.Element) -> bool:
        props = paragraph.find(f"{_W}pPr")
        if props is None:
            return False
        style = props.find(f"{_W}pStyle")
        style_id = style.get(f"{_W}val", "") if style is not None else ""
        return style_id in self._headings or props.find(f"{_W}outlineLvl") is not None

    @staticmethod
    def _is_list_item(paragraph: ElementTree.Element) -> bool:
        props = paragraph.find(f"{_W}pPr")
        if props is None:
            return False
        numbering = props.find(f"{_W}numPr/{_W}numId")
        if numbering is not None and numbering.get(f"{_W}val", "0") != "0":
            return True
        style = props.find(f"{_W}pStyle")
        return style is not None and "list" in style.get(f"{_W}val", "").lower()


def _symbol(element: ElementTree.Element) -> str:
    code = element.get(f"{_W}char", "")
    try:
        value = int(code, 16)
    except ValueError:
        return ""
    # Symbol fonts put their glyphs at F000-F0FF; the private-use ones are dropped later as icons.
    return chr(value)


def _bare(url: str) -> str:
    return re.sub(r"^(?:https?://)?(?:www\.)?", "", url.lower()).rstrip("/")
