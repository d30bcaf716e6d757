"""Upload bombs through `POST /cvs`: each is refused quickly, with its own problem, and the API process's memory
stays bounded while it decides (peak RSS sampled during the request, not guessed from the end state)."""

from __future__ import annotations

import io
import struct
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager

import psutil
import pytest
from pypdf import PdfWriter

from tests.conftest import Stack

MB = 1024 * 1024
# A bomb may cost a few buffers, never its unpacked size (each unpacks to 200 MB - 1 GB).
MAX_GROWTH = 200 * MB
MAX_SECONDS = 5
CV_LINE = b"BT /F1 12 Tf 72 700 Td (Marta Kowalska, Data Engineer at Vistula Logistics since 2019) Tj ET\n"


class _Peak:
    def __init__(self) -> None:
        self.growth = 0


@contextmanager
def peak_rss_growth() -> Iterator[_Peak]:
    """Samples this process's RSS every 2 ms while the block runs; `growth` is the peak over the start."""
    process, peak, stop = psutil.Process(), _Peak(), threading.Event()
    start = process.memory_info().rss

    def sample() -> None:
        while not stop.is_set():
            peak.growth = max(peak.growth, process.memory_info().rss - start)
            stop.wait(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        stop.set()
        sampler.join()


def _pdf(objects: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _deflated(head: bytes, filler: bytes, megabytes: int) -> bytes:
    """zlib data of `head` then `megabytes` MB of `filler`, made in milliseconds: after a full flush the
    compressor forgets its history, so every 1 MB block compresses to the same bytes, written once and repeated.
    The trailing checksum is that of the first block only; nothing that refuses the bomb gets that far."""
    packer = zlib.compressobj(9)
    block = filler * (MB // len(filler))
    start = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    repeated = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    return start + repeated * megabytes + packer.flush()


def flate_bomb_pdf(*, twice: bool = False) -> bytes:
    """One page whose content stream is a real CV line followed by 1 GB of spaces, deflated to about 1 MB
    (`twice`: deflated again, /Filter [/FlateDecode /FlateDecode], a few kB)."""
    content = _deflated(CV_LINE, b" ", 1024)
    filters = b"/FlateDecode"
    if twice:
        content, filters = zlib.compress(content, 9), b"[/FlateDecode /FlateDecode]"
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d /Filter %s >>\nstream\n%s\nendstream" % (len(content), filters, content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def many_pages_pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(612, 792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _zip(members: list[tuple[bytes, bytes, int, int]]) -> bytes:
    """A zip written by hand from (name, raw deflate data, crc, claimed size): sizes may lie."""
    body, directory = io.BytesIO(), io.BytesIO()
    for name, packed, crc, claimed in members:
        offset = body.tell()
        body.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(packed), claimed, len(name), 0))
        body.write(name + packed)
        directory.write(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                *(b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(packed), claimed, len(name), 0, 0, 0, 0, 0, offset),
            )
            + name
        )
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), directory.tell(), body.tell(), 0)
    return body.getvalue() + directory.getvalue() + end


def docx_bomb(*, lying: bool = False) -> bytes:
    """A DOCX whose word/document.xml inflates to 1 GB (`lying`: 200 MB, with the archive claiming 1 kB, so only
    a reader that bounds what it inflates survives)."""
    head = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    megabytes = 200 if lying else 1024
    real_size = len(head) + megabytes * (MB // 6) * 6
    types = b"<Types/>"
    return _zip(
        [
            (b"[Content_Types].xml", zlib.compress(types)[2:-4], zlib.crc32(types), len(types)),
            (b"word/document.xml", _deflated(head, b"<w:p/>", megabytes)[2:-4], 0, 1024 if lying else real_size),
        ]
    )


async def _chunks(data: bytes, boundary: str) -> AsyncIterator[bytes]:
    yield f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="cv.pdf"\r\n\r\n'.encode()
    for offset in range(0, len(data), MB):
        yield data[offset : offset + MB]
    yield f"\r\n--{boundary}--\r\n".encode()


@pytest.fixture(scope="module")
def hostile_bytes() -> dict[str, Callable[[], bytes]]:
    return {
        "flate_bomb_pdf": flate_bomb_pdf,
        "double_flate_bomb_pdf": lambda: flate_bomb_pdf(twice=True),
        "ten_thousand_pages": lambda: many_pages_pdf(10_000),
        "docx_zip_bomb": docx_bomb,
        "docx_zip_bomb_lying_sizes": lambda: docx_bomb(lying=True),
        "pdf_magic_then_text": lambda: b"%PDF-1.7\n" + b"Marta Kowalska, Data Engineer at Vistula Logistics\n" * 200,
        "png_named_pdf": lambda: b"\x89PNG\r\n\x1a\n" + bytes(2048),
    }


CASES = [
    ("flate_bomb_pdf", 422, "corrupt", "unreasonable size"),
    ("double_flate_bomb_pdf", 422, "corrupt", "unreasonable size"),
    ("ten_thousand_pages", 422, "too_many_pages", "10000 pages"),
    ("docx_zip_bomb", 422, "corrupt", "unreasonable size"),
    ("docx_zip_bomb_lying_sizes", 422, "corrupt", "damaged"),
    ("pdf_magic_then_text", 422, "corrupt", "damaged"),
    ("png_named_pdf", 415, "unsupported_type", "PNG"),
]


@pytest.mark.parametrize(("name", "status", "code", "says"), CASES, ids=[c[0] for c in CASES])
async def test_a_bomb_is_refused_quickly_in_bounded_memory(
    stack: Stack, hostile_bytes: dict[str, Callable[[], bytes]], name: str, status: int, code: str, says: str
) -> None:
    headers = await stack.user()
    data = hostile_bytes[name]()
    assert len(data) <= stack.settings.max_upload_bytes, "a bomb must pass the size limit to test the extractor"
    started = time.perf_counter()
    with peak_rss_growth() as peak:
        r = await stack.http.post("/cvs", headers=headers, files={"file": ("cv.pdf", data)})
    elapsed = time.perf_counter() - started

    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == code
    assert says in problem["detail"], problem["detail"]
    assert "Marta" not in problem["detail"]
    assert elapsed < MAX_SECONDS, f"{name} took {elapsed:.1f}s"
    assert peak.growth < MAX_GROWTH, f"{name} grew the API by {peak.growth // MB} MB"
    assert (await stack.http.get("/cvs", headers=headers)).json() == []


async def test_a_50_mb_body_is_refused_unread(stack: Stack) -> None:
    headers = await stack.user()
    body = bytes(50 * MB)
    started = time.perf_counter()
    with peak_rss_growth() as peak:
        r = await stack.http.post("/cvs", headers=headers, files={"file": ("cv.pdf", body)})
    assert r.status_code == 413
    assert r.json()["code"] == "file_too_large"
    assert "5 MB" in r.json()["detail"]
    assert time.perf_counter() - started < MAX_SECONDS
    # httpx builds the multipart body in memory (about 50 MB); the API adds nothing of its own.
    assert peak.growth < MAX_GROWTH


async def test_a_50_mb_body_without_a_declared_length_is_refused(stack: Stack) -> None:
    """Chunked: no Content-Length for the middleware to judge, so the route's bounded read refuses it."""
    headers = await stack.user()
    boundary = "hostile-boundary"
    started = time.perf_counter()
    with peak_rss_growth() as peak:
        r = await stack.http.post(
            "/cvs",
            headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            content=_chunks(bytes(50 * MB), boundary),
        )
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "file_too_large"
    assert time.perf_counter() - started < MAX_SECONDS * 2
    assert peak.growth < MAX_GROWTH
