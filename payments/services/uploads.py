"""What an uploaded supporting file or receipt must be, by its whole structure, not only its first
bytes (docs/security.md, "Uploads"): a PDF that pypdf can read, with 1 to `MAX_PDF_PAGES` pages
whose streams inflate to at most `MAX_PDF_INFLATED_BYTES` in all (measured by inflating at most
one byte more than what is left of that allowance, never a whole bomb); a PNG or JPEG that Pillow
identifies as that format, of at most `MAX_IMAGE_PIXELS` pixels (read from its header before
anything is decoded) and that passes Pillow's `verify()`. Each refusal is one sentence for the
person; the file is read, never stored or shown, before it passes."""

from __future__ import annotations

import logging
import warnings
import zlib

from django.core.files.uploadedfile import UploadedFile

__all__ = ["MAX_IMAGE_PIXELS", "MAX_PDF_INFLATED_BYTES", "MAX_PDF_PAGES", "structure_problem"]

MAX_PDF_PAGES = 200
MAX_PDF_INFLATED_BYTES = 64 * 1024 * 1024
MAX_IMAGE_PIXELS = 50_000_000  # a 50-megapixel phone photo (8,160 × 6,120) still fits
_FLATE = {"/FlateDecode", "/Fl"}
_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}


class _Refused(Exception):
    pass


def structure_problem(upload: UploadedFile, kind: str) -> str | None:
    """Why `upload`, whose first bytes say it is `kind`, is not a usable file of that kind (or
    None when it is). Reads the file from its start and leaves it there."""
    upload.seek(0)
    try:
        if kind == "application/pdf":
            return _pdf_problem(upload)
        if kind in _FORMATS:
            return _image_problem(upload, _FORMATS[kind])
        return "The file must be a PDF, PNG or JPEG."
    finally:
        upload.seek(0)


def _pdf_problem(upload) -> str | None:
    from pypdf import PdfReader
    from pypdf.generic import IndirectObject, StreamObject

    broken = "The file starts like a PDF but is not one that can be opened: save or scan it again as a PDF."
    # pypdf logs each repair it makes to a damaged file; a refused upload needs no log lines.
    logger = logging.getLogger("pypdf")
    level, logger.level = logger.level, logging.ERROR
    try:
        reader = PdfReader(upload, strict=False)
        allowance = MAX_PDF_INFLATED_BYTES
        # Every stream of the file, raw, before pypdf decodes any (object streams included: the
        # objects packed in them are read only after their stream has been measured).
        for generation, numbers in list(reader.xref.items()):
            for number in list(numbers):
                obj = reader.get_object(IndirectObject(number, generation, reader))
                if isinstance(obj, StreamObject):
                    allowance -= _inflated_size(obj, allowance)
        for number in list(reader.xref_objStm):
            reader.get_object(number)
        pages = len(reader.pages)
        for page in reader.pages:
            page.get("/Contents")
    except _Refused:
        return (
            f"The PDF is too large once opened (over {MAX_PDF_INFLATED_BYTES // (1024 * 1024)} MB): "
            "send a smaller scan."
        )
    except Exception:  # any failure to read a hostile file means it is not a usable PDF
        return broken
    finally:
        logger.level = level
    if pages == 0:
        return broken
    if pages > MAX_PDF_PAGES:
        return f"The PDF has {pages} pages: send at most {MAX_PDF_PAGES}."
    return None


def _inflated_size(stream, allowance: int) -> int:
    """How many bytes `stream` holds once its first filter is undone, inflating at most one byte
    more than `allowance` (raises `_Refused` past it)."""
    filters = stream.get("/Filter")
    first = filters[0] if isinstance(filters, list) and filters else filters
    raw = stream._data or b""
    if first in _FLATE:
        try:
            size = len(zlib.decompressobj().decompress(raw, max(allowance, 0) + 1))
        except zlib.error:
            size = len(raw)  # damaged compressed data: a reader shows what it can, as pypdf does
    else:
        size = len(raw)
    if size > allowance:
        raise _Refused
    return size


def _image_problem(upload, expected: str) -> str | None:
    from PIL import Image

    broken = f"The file starts like a {expected} image but is not one that can be opened: save it again."
    try:
        with warnings.catch_warnings():
            # Pillow warns (rather than refuses) between its own limit and twice it: refuse instead.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload, formats=[expected])
        with image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                return (
                    f"The image is {width:,} × {height:,} pixels: send one of at most "
                    f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels (a phone photo is fine)."
                )
            image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return f"The image is too large: send one of at most {MAX_IMAGE_PIXELS // 1_000_000} megapixels."
    except Exception:  # any failure to read a hostile file means it is not a usable image
        return broken
    return None
