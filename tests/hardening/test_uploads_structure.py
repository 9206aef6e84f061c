"""Uploaded supporting files and receipts are checked whole (pypdf for PDFs, Pillow for PNG and
JPEG), not by their first bytes (docs/security.md, "Uploads"): `%PDF-` followed by HTML, a PDF that
inflates far beyond its size and a PNG claiming 50,000 × 50,000 pixels are refused with a message
about that file, and nothing is stored."""

# ruff: noqa: F811  (pytest fixtures imported, then requested by name)

import functools
import struct
import time
import tracemalloc
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from payments.models import Invoice, Spending
from payments.services.invoices import check_upload
from payments.services.uploads import MAX_PDF_PAGES, structure_problem
from tests.approvals.conftest import (  # noqa: F401
    budget,
    checklist,
    draft_plan,
    make_budget,
    make_plan,
    make_provider,
    make_service,
    respite,
    visits,
)
from tests.payments.test_invoices import inv, media_root, post  # noqa: F401
from tests.payments.test_load_payments import dp, run_payments  # noqa: F401
from tests.payments.test_spending import body, loaded, url  # noqa: F401
from tests.sample_files import JPEG_BYTES, PDF_BYTES, PNG_BYTES, image_bytes, pdf_bytes

pytestmark = pytest.mark.django_db


def handmade_pdf(content_stream: bytes, extra: bytes = b"/Filter /FlateDecode") -> bytes:
    """A one-page PDF whose page content is `content_stream` (as stored, with `extra` in its dictionary)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        b"<< /Length %d %s >>\nstream\n" % (len(content_stream), extra) + content_stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def deflated_zeros(size: int) -> bytes:
    compressor = zlib.compressobj(9)
    chunk = bytes(1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join(parts) + compressor.flush()


def png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


@functools.cache
def gib_bomb() -> bytes:
    """A one-page PDF under 5 MB whose content stream inflates to 1 GiB (made once, when first needed)."""
    return handmade_pdf(deflated_zeros(1024 * 1024 * 1024))


HTML_PDF = b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n%%EOF\n"


def problem(content: bytes, kind: str) -> str | None:
    return structure_problem(SimpleUploadedFile("f", content), kind)


def test_real_files_pass():
    assert problem(PDF_BYTES, "application/pdf") is None
    assert problem(handmade_pdf(zlib.compress(b"BT /F1 12 Tf (Hello) Tj ET")), "application/pdf") is None
    assert problem(PNG_BYTES, "image/png") is None
    assert problem(JPEG_BYTES, "image/jpeg") is None
    assert problem(image_bytes("PNG", (4000, 3000)), "image/png") is None


@pytest.mark.parametrize(
    "content",
    [
        HTML_PDF,
        b"%PDF-1.7\n<html>" + b"x" * 10_000 + b"</html>\ntrailer\n<< >>\nstartxref\n0\n%%EOF\n",
        b"%PDF-",
        PDF_BYTES[: len(PDF_BYTES) // 2],
    ],
)
def test_something_that_only_starts_like_a_pdf_is_refused(content):
    assert "not one that can be opened" in problem(content, "application/pdf")


def test_a_pdf_that_inflates_to_a_gibibyte_is_refused_without_inflating_it():
    bomb = gib_bomb()
    assert len(bomb) < 5 * 1024 * 1024
    tracemalloc.start()
    started = time.perf_counter()
    try:
        message = problem(bomb, "application/pdf")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "too large once opened" in message
    assert peak < 200 * 1024 * 1024
    assert time.perf_counter() - started < 20


def test_a_pdf_with_too_many_pages_is_refused():
    assert f"send at most {MAX_PDF_PAGES}" in problem(pdf_bytes(MAX_PDF_PAGES + 1), "application/pdf")


@pytest.mark.parametrize("size", [(50_000, 50_000), (100_000, 1_000), (2**31 - 1, 2)])
def test_a_png_claiming_too_many_pixels_is_refused(size):
    message = problem(png_claiming(*size), "image/png")
    assert "megapixels" in message


@pytest.mark.parametrize(
    "content, kind",
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png"),
        (PNG_BYTES[:-8] + b"\x00" * 8, "image/png"),  # IEND's checksum broken
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "image/jpeg"),
        (JPEG_BYTES, "image/png"),  # a JPEG is not a PNG, whatever was sniffed
        (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>", "image/png"),
    ],
)
def test_broken_images_are_refused(content, kind):
    assert "not one that can be opened" in problem(content, kind)


def test_check_upload_names_the_field():
    problems: dict = {}
    assert check_upload(SimpleUploadedFile("r.png", png_claiming(50_000, 50_000)), problems, "receipt") == ""
    assert "megapixels" in problems["receipt"][0]


@pytest.mark.parametrize(
    "content, expected",
    [
        (lambda: HTML_PDF, "not one that can be opened"),
        (gib_bomb, "too large once opened"),
        (lambda: png_claiming(50_000, 50_000), "megapixels"),
    ],
)
def test_a_receipt_is_refused_by_the_api_and_nothing_is_stored(api_as, loaded, settings, tmp_path, content, expected):
    settings.MEDIA_ROOT = tmp_path
    content = content()
    receipt = SimpleUploadedFile("receipt.pdf", content, content_type="application/pdf")
    response = api_as(loaded.holder).post(url(loaded), {**body(amount="10.00"), "receipt": receipt}, format="multipart")
    assert response.status_code == 400
    assert expected in response.json()["receipt"][0]
    assert not Spending.objects.exists()
    assert not list(tmp_path.rglob("*.*"))


@pytest.mark.parametrize(
    "content, expected",
    [(HTML_PDF, "not one that can be opened"), (png_claiming(50_000, 50_000), "megapixels")],
)
def test_an_invoice_file_is_refused_by_the_api_and_nothing_is_stored(api_as, inv, media_root, content, expected):
    response = post(api_as(inv.staff), inv, supporting_file=SimpleUploadedFile("t.pdf", content))
    assert response.status_code == 400
    assert expected in response.json()["supporting_file"][0]
    assert not Invoice.objects.exists()
    assert not [p for p in media_root.rglob("*") if p.is_file()]
