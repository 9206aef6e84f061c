"""Shared pieces for the PDFs people keep: styles, money tables, and 'Page N of M' footers.

Every app's `pdf.py` builds its story with these, so statements, plans and remittances look alike.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from xml.sax.saxutils import escape as xml_escape

from django.conf import settings
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

_base = getSampleStyleSheet()
STYLES = {
    "title": ParagraphStyle("title", parent=_base["Title"], fontName="Helvetica-Bold", fontSize=20, leading=24),
    "h2": ParagraphStyle("h2", parent=_base["Heading2"], fontName="Helvetica-Bold", fontSize=14, leading=18),
    "body": ParagraphStyle("body", parent=_base["BodyText"], fontName="Helvetica", fontSize=11, leading=15),
    "small": ParagraphStyle("small", parent=_base["BodyText"], fontName="Helvetica", fontSize=9, leading=12),
    "right": ParagraphStyle("right", parent=_base["BodyText"], fontName="Helvetica", fontSize=11, alignment=TA_RIGHT),
}


def p(text: str, style: str = "body") -> Paragraph:
    """A paragraph of reportlab markup: pass people's own words through `esc` first."""
    return Paragraph(text, STYLES[style])


def esc(text: str) -> str:
    """Escape text typed by people (names, outcomes, reasons) for reportlab's markup."""
    return xml_escape(str(text)).replace("\n", "<br/>")


def wrap(text: str, width_mm: float, size: float = 10) -> str:
    """Text broken into lines that fit a table column, for plain (fast) table cells."""
    lines = []
    for part in str(text).split("\n"):
        lines += simpleSplit(part, "Helvetica", size, (width_mm - 4) * mm) or [""]
    return "\n".join(lines)


def table(rows: list[list], widths: list[float], *, header: bool = True, money_columns: tuple[int, ...] = ()) -> Table:
    t = Table(rows, colWidths=[w * mm for w in widths], repeatRows=1 if header else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), "Helvetica"),
        ("FONTSIZE", (0, 0), (-1, -1), 10),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#b1b4b6")),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
    ]
    if header:
        style += [("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"), ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black)]
    for column in money_columns:
        style.append(("ALIGN", (column, 0), (column, -1), "RIGHT"))
    t.setStyle(TableStyle(style))
    return t


class _NumberedCanvas(pdfcanvas.Canvas):
    """Draws 'Page N of M' and the council's name once the page count is known."""

    def __init__(self, *args, footer_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._pages = []
        self._footer_text = footer_text

    def showPage(self):
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont("Helvetica", 9)
            self.drawString(20 * mm, 12 * mm, self._footer_text)
            self.drawRightString(190 * mm, 12 * mm, f"Page {self._pageNumber} of {total}")
            super().showPage()
        super().save()


def render(story: list, *, title: str) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=22 * mm,
        title=title,
        author=settings.CAIRN_COUNCIL_NAME,
    )
    footer = f"{settings.CAIRN_COUNCIL_NAME} – {title}"
    maker: Callable = lambda *a, **k: _NumberedCanvas(*a, footer_text=footer, **k)  # noqa: E731
    doc.build(story, canvasmaker=maker)
    return buffer.getvalue()
