"""Plain text and Markdown to lines. Markdown syntax is removed; headings become heading lines, links keep their
text and their address."""

from __future__ import annotations

import re

from activities.documents.normalize import SourceLine, clean_inline

_BULLET_START = re.compile(r"^\s*(?:[•◦▪▫■□●○◆◇►▸‣⁃∙·✓✔➢➤→*+-]|\d{1,2}[.)])\s+")
_DECORATION = re.compile(r"^\s*([-=_*~#.·•])\1{2,}\s*$")  # "-----", "=====": lines that only draw a rule

_MD_FENCE = re.compile(r"^\s*(```|~~~)")
_MD_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_MD_SETEXT = re.compile(r"^\s{0,3}(={2,}|-{2,})\s*$")
_MD_LIST = re.compile(r"^(\s*)(?:[-*+]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?")
_MD_QUOTE = re.compile(r"^\s{0,3}>\s?")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
# Spans are bounded so that a hostile line cannot make a substitution quadratic.
_MD_IMAGE = re.compile(r"!\[([^\]]{0,500})\]\([^)]{0,2000}\)")
_MD_LINK = re.compile(r"\[([^\]]{1,500})\]\(\s*<?([^)\s>]{1,2000})>?(?:\s+\"[^\"]{0,500}\")?\s*\)")
_MD_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(\S+).*$")
_MD_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>\s]{1,2000}|[^>\s@]{1,200}@[^>\s]{1,200})>")
_MD_HTML = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_MD_CODE = re.compile(r"`+([^`]+)`+")
_MD_STRONG = re.compile(r"(\*\*|__)(?=\S)(.{1,300}?)(?<=\S)\1")
_MD_EM_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_MD_EM_UNDERSCORE = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_MD_STRIKE = re.compile(r"~~(?=\S)(.{1,300}?)(?<=\S)~~")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")


def read_plain_text(text: str) -> list[SourceLine]:
    """Lines of a text file; an indented line after a list item continues that item."""
    lines: list[SourceLine] = []
    item_indent: int | None = None
    for raw in _raw_lines(text):
        if _DECORATION.match(raw):
            # An underline turns the line above into a heading ("EXPERIENCE" over "==========").
            if lines and lines[-1].text and raw.strip()[0] in "=-":
                lines[-1] = SourceLine(lines[-1].text, heading=True)
            item_indent = None
            continue
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip())
        if not stripped:
            lines.append(SourceLine(""))
            item_indent = None
            continue
        if item_indent is not None and indent > item_indent and not _BULLET_START.match(raw) and lines:
            lines[-1] = SourceLine(f"{lines[-1].text} {clean_inline(stripped)}")
            continue
        item_indent = indent if _BULLET_START.match(raw) else None
        lines.append(SourceLine(clean_inline(raw)))
    return lines


def read_markdown(text: str) -> list[SourceLine]:
    """Lines of a Markdown file without its syntax. Level 1-2 headings are heading hints; deeper headings are
    entry titles ("### Engineer, Acme") and stay plain lines."""
    lines: list[SourceLine] = []
    in_code = False
    item_indent: int | None = None
    for raw in _raw_lines(text):
        if _MD_FENCE.match(raw):
            in_code = not in_code
            continue
        if in_code:
            lines.append(SourceLine(clean_inline(raw)))
            continue
        if (setext := _MD_SETEXT.match(raw)) and lines and lines[-1].text and not _is_list_line(lines[-1].text):
            lines[-1] = SourceLine(lines[-1].text, heading=setext.group(1).startswith(("=", "-")))
            continue
        if _DECORATION.match(raw) or _MD_TABLE_RULE.match(raw):
            lines.append(SourceLine(""))
            item_indent = None
            continue
        if not raw.strip():
            lines.append(SourceLine(""))
            item_indent = None
            continue
        if atx := _MD_ATX.match(raw):
            lines.append(SourceLine(_inline(atx.group(2)), heading=len(atx.group(1)) <= 2))
            item_indent = None
            continue
        body = _MD_QUOTE.sub("", raw)
        indent = len(body) - len(body.lstrip())
        if item := _MD_LIST.match(body):
            marker = body[item.start() : item.end()].strip()
            prefix = marker if marker[0].isdigit() else "•"
            lines.append(SourceLine(f"{prefix} {_inline(body[item.end() :])}"))
            item_indent = len(item.group(1))
            continue
        if item_indent is not None and indent > item_indent and lines and lines[-1].text:
            lines[-1] = SourceLine(f"{lines[-1].text} {_inline(body.strip())}")
            continue
        item_indent = None
        if ref := _MD_REF_DEF.match(body):
            lines.append(SourceLine(ref.group(1)))
            continue
        lines.append(SourceLine(_table_row(body) if body.lstrip().startswith("|") else _inline(body)))
    return lines


def _raw_lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return text.split("\n")


def _is_list_line(text: str) -> bool:
    return text.startswith("• ") or bool(re.match(r"^\d{1,3}[.)] ", text))


def _table_row(row: str) -> str:
    cells = [_inline(cell) for cell in row.strip().strip("|").split("|")]
    return "  ".join(cell for cell in cells if cell)


def _link(match: re.Match[str]) -> str:
    label, target = match.group(1).strip(), match.group(2).strip()
    address = re.sub(r"^(?:mailto:|tel:)", "", target)
    bare = re.sub(r"^(?:https?://)?(?:www\.)?", "", address).rstrip("/")
    if not bare or bare.lower() in label.lower() or target.startswith("#"):
        return label
    return f"{label} ({address})"


def _inline(text: str) -> str:
    # Escaped characters are set aside first so that no rule below reads them as syntax.
    escaped: list[str] = []

    def _hide(match: re.Match[str]) -> str:
        escaped.append(match.group(1))
        return f"\x00{len(escaped) - 1}\x00"

    text = _MD_ESCAPE.sub(_hide, text)
    text = _MD_CODE.sub(r"\1", text)
    text = _MD_IMAGE.sub(lambda m: m.group(1), text)
    text = _MD_LINK.sub(_link, text)
    text = _MD_AUTOLINK.sub(lambda m: re.sub(r"^mailto:", "", m.group(1)), text)
    text = _MD_HTML.sub(" ", text)
    for pattern in (_MD_STRONG, _MD_STRIKE):
        text = pattern.sub(lambda m: m.group(2) if m.lastindex and m.lastindex >= 2 else m.group(1), text)
    text = _MD_EM_STAR.sub(r"\1", text)
    text = _MD_EM_UNDERSCORE.sub(r"\1", text)
    text = re.sub("\x00(\\d+)\x00", lambda m: escaped[int(m.group(1))], text)
    text = re.sub(r"\s{2,}$|\\$", "", text)  # hard line breaks
    return clean_inline(text)
