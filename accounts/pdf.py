"""Shared pieces for the PDFs people keep: styles, text, money tables, and 'Page N of M' footers.

Every app's `pdf.py` builds its story with these, so statements, plans and remittances look alike.

Speed (bench/plan_pdf.py's target: render a 20-line care plan at ≥ 200 documents/s on one
core). reportlab's `Paragraph` parses markup and `Table` draws every cell with a text object of its
own; for one-line texts and tables of plain strings that machinery was most of the time. So plain
text goes through `Text` and all-string tables through `PlainTable`: small flowables with the same
fonts, sizes, spacing and rules (plans and statements come out pixel for pixel as before, except
that a cell too long for its column now wraps instead of running into the next), which measure
text with remembered character widths (`font_widths`) and write each block of lines into one text
object (`_Lines`). Markup (`p()`) and tables with flowables in their cells still use reportlab's
own classes, and reportlab's `SimpleDocTemplate` still flows the pages (a hand-rolled page loop
measured no faster).
"""

from __future__ import annotations

import io
from bisect import bisect_right
from functools import cache
from itertools import accumulate
from xml.sax.saxutils import escape as xml_escape

from django.conf import settings
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import escapePDF
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import getFont
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.pdfgen.textobject import PDFTextObject
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle

_base = getSampleStyleSheet()
STYLES = {
    "title": ParagraphStyle("title", parent=_base["Title"], fontName="Helvetica-Bold", fontSize=20, leading=24),
    "h2": ParagraphStyle("h2", parent=_base["Heading2"], fontName="Helvetica-Bold", fontSize=14, leading=18),
    "body": ParagraphStyle("body", parent=_base["BodyText"], fontName="Helvetica", fontSize=11, leading=15),
    "small": ParagraphStyle("small", parent=_base["BodyText"], fontName="Helvetica", fontSize=9, leading=12),
    "right": ParagraphStyle("right", parent=_base["BodyText"], fontName="Helvetica", fontSize=11, alignment=TA_RIGHT),
}

# The look of every table: 10 pt Helvetica (bold header), 5 pt above and below a cell's text,
# reportlab's usual 6 pt either side, a hairline under each row and a black rule under the header.
CELL_FONT, CELL_BOLD_FONT, CELL_SIZE, CELL_LEADING = "Helvetica", "Helvetica-Bold", 10, 12
CELL_PAD_X, CELL_PAD_Y = 6, 5
RULE_COLOUR = colors.HexColor("#b1b4b6")


def p(words: str, style: str = "body", *, bold: bool = False) -> Paragraph:
    """A paragraph of `words`, shown literally: they are always escaped, so a name, a reason or a
    scheme's wording holding `<a href>`, `<img src>`, `<font>`, an unbalanced `<b>` or `&` is
    printed as typed and can never become a link, open a file or break the page. `bold` sets the
    whole paragraph in bold (the only markup Cairn's PDFs use).

    For text without markup prefer `text()`, which is much cheaper to lay out and draw."""
    markup = esc(words)
    return Paragraph(f"<b>{markup}</b>" if bold else markup, STYLES[style])


def text(words: str, style: str = "body") -> Text:
    """Plain text in one of STYLES, shown literally (no markup, no escaping); '\\n' breaks a line."""
    return Text(words, style)


def esc(text: str) -> str:
    """Text as reportlab markup that shows it literally: `&`, `<`, `>` and both quotes escaped
    (reportlab's parser also reads attributes), line breaks as `<br/>`."""
    return xml_escape(str(text), {'"': "&quot;", "'": "&#39;"}).replace("\n", "<br/>")


class _Widths(dict):
    """Advance widths of one font's characters at 1 pt, measured once each and remembered.

    Standard fonts are not kerned, so a string's width is the sum of its characters' widths, and
    summing remembered numbers is several times faster than reportlab's `stringWidth` (which
    re-encodes the string on every call); laying out a plan measures hundreds of strings."""

    def __init__(self, font_name: str):
        super().__init__()
        self._measure = getFont(font_name).stringWidth

    def __missing__(self, char: str) -> float:
        width = self[char] = self._measure(char, 1)
        return width

    def of(self, text: str, size: float) -> float:
        return sum(map(self.__getitem__, text)) * size


@cache
def font_widths(font_name: str) -> _Widths:
    return _Widths(font_name)


def split_lines(text: str, font_name: str, size: float, width: float) -> list[str]:
    """`text` broken at spaces into lines no wider than `width` points ('\\n' always breaks).

    As reportlab's `simpleSplit`, runs of spaces become one; unlike it, a word wider than the line
    is split (as `Paragraph` does) rather than left to overflow its column. Faster than it: a line
    that fits whole (most do) is measured once; a longer one gets its running widths summed once,
    and each break is found by bisecting them and stepping back to a space."""
    font = font_widths(font_name)
    limit = width / size  # in the font's widths at 1 pt
    lines: list[str] = []
    for part in str(text).split("\n"):
        line = " ".join(part.split())
        if font.of(line, 1) <= limit:
            lines.append(line)
            continue
        running = [0.0, *accumulate(map(font.__getitem__, line))]  # running[i]: width of line[:i]
        start = 0
        while running[-1] - running[start] > limit:
            fits = bisect_right(running, running[start] + limit) - 1  # line[start:fits] fits
            end = line.rfind(" ", start, fits + 1)
            if end > start:
                lines.append(line[start:end])
                start = end + 1
            else:  # a word wider than the line (a web address, say): split it, as Paragraph does
                end = max(fits, start + 1)
                lines.append(line[start:end])
                start = end
        lines.append(line[start:])
    return lines


class _Lines(PDFTextObject):
    """A text object whose `line()` is a cheaper `textLine()`: the lines `Text` and `PlainTable` draw.

    `textLine` looks the font up and splits the string into runs for fallback fonts on every
    call, which was a fifth of the time to draw a plan. Nearly every line is in one standard
    font and its encoding (WinAnsi), so `line()` encodes it once and writes the very operators
    `textLine` would; anything else (a character the font lacks, an embedded font) still goes
    through `textLine`."""

    def __init__(self, canvas, x=0, y=0):
        super().__init__(canvas, x, y)
        self._encoding = None  # until setFont: textLine for everything

    def setFont(self, psfontname, size, leading=None):
        super().setFont(psfontname, size, leading)
        font = getFont(psfontname)
        self._encoding = None if font._dynamicFont else font.encName

    def line(self, text: str):
        if self._encoding and text:
            try:
                encoded = text.encode(self._encoding)
            except UnicodeEncodeError:
                pass
            else:
                self._code.append(f"({escapePDF(encoded)}) Tj T*")
                self._x = self._x0  # the cursor bookkeeping of textLine, for getX/getY
                self._y = self._y0 = self._y - self._leading if self._canvas.bottomup else self._y + self._leading
                return
        self.textLine(text)


class Text(Flowable):
    """Plain text laid out like a `Paragraph` of the same style, without the markup machinery.

    Same font, size, leading, alignment and space before/after, and the same first baseline
    (one font size below the top), so it can stand in for `p()` wherever the words carry no
    markup. Splits between lines across pages, as a paragraph does."""

    def __init__(self, words: str, style: str = "body"):
        super().__init__()
        self.words = str(words)
        self.style_name = style
        self.style = STYLES[style]
        self._lines: list[str] = []
        self._lines_width = None  # the width `_lines` were broken for

    def _break(self, width: float) -> list[str]:
        if self._lines_width != width:
            style = self.style
            usable = width - style.leftIndent - style.rightIndent
            self._lines = split_lines(self.words, style.fontName, style.fontSize, usable) if self.words else []
            self._lines_width = width
        return self._lines

    def wrap(self, availWidth, availHeight):
        self.width = availWidth
        self.height = len(self._break(availWidth)) * self.style.leading
        return self.width, self.height

    def split(self, availWidth, availHeight):
        """The lines that fit, and the rest (each line fits, so joining them with '\\n' keeps them)."""
        lines = self._break(availWidth)
        fit = int((availHeight + rl_config._FUZZ) // self.style.leading)
        if fit <= 0:
            return []
        if fit >= len(lines):
            return [self]
        return [Text("\n".join(lines[:fit]), self.style_name), Text("\n".join(lines[fit:]), self.style_name)]

    def getSpaceBefore(self):
        return self.style.spaceBefore

    def getSpaceAfter(self):
        return self.style.spaceAfter

    def draw(self):
        style = self.style
        out = _Lines(self.canv)
        out.setFont(style.fontName, style.fontSize, style.leading)
        y = self.height - style.fontSize
        if style.alignment in (TA_CENTER, TA_RIGHT):
            font = font_widths(style.fontName)
            usable = self.width - style.leftIndent - style.rightIndent
            share = 0.5 if style.alignment == TA_CENTER else 1
            for line in self._lines:
                out.setTextOrigin(style.leftIndent + (usable - font.of(line, style.fontSize)) * share, y)
                out.line(line)
                y -= style.leading
        else:  # one origin, then each line a leading lower
            out.setTextOrigin(style.leftIndent, y)
            for line in self._lines:
                out.line(line)
        self.canv.drawText(out)


class PlainTable(Flowable):
    """A table whose cells are all plain strings, drawn the way `table()` styles a reportlab `Table`.

    Each cell is wrapped to its column (so long names and dates break rather than overflow); the
    header row is bold and repeated when the table runs onto another page; `right_columns` (money)
    are right-aligned. All the text goes into one text object and all the rules into one path,
    where `Table` made a text object per cell."""

    def __init__(self, rows: list[list[str]], widths: list[float], *, header: bool, right_columns=()):
        super().__init__()
        self.hAlign = "CENTER"  # as Table
        self.widths = widths
        self.header = header
        self.right_columns = frozenset(right_columns)
        self.cells = [
            [
                split_lines(cell, CELL_BOLD_FONT if header and r == 0 else CELL_FONT, CELL_SIZE, w - 2 * CELL_PAD_X)
                for cell, w in zip(row, widths, strict=True)
            ]
            for r, row in enumerate(rows)
        ]
        self._layout()

    @classmethod
    def _from_cells(cls, cells, template: PlainTable) -> PlainTable:
        """A part of `template` (its rows already wrapped), for `split`."""
        part = cls.__new__(cls)
        Flowable.__init__(part)
        part.hAlign = template.hAlign
        part.widths, part.header, part.right_columns = template.widths, template.header, template.right_columns
        part.cells = cells
        part._layout()
        return part

    def _layout(self):
        self.row_heights = [max(map(len, row)) * CELL_LEADING + 2 * CELL_PAD_Y for row in self.cells]
        self.width = sum(self.widths)
        self.height = sum(self.row_heights)

    def wrap(self, availWidth, availHeight):
        return self.width, self.height

    def split(self, availWidth, availHeight):
        if self.height <= availHeight + rl_config._FUZZ:
            return [self]
        first = 1 if self.header else 0
        used, fit = 0.0, 0
        for height in self.row_heights:
            if used + height > availHeight + rl_config._FUZZ:
                break
            used += height
            fit += 1
        if fit <= first:  # not even one row under the header: start on the next page
            return []
        head = self.cells[:first]
        return [
            PlainTable._from_cells(self.cells[:fit], self),
            PlainTable._from_cells(head + self.cells[fit:], self),
        ]

    def draw(self):
        canv = self.canv
        x_edges = [0.0]
        for w in self.widths:
            x_edges.append(x_edges[-1] + w)
        out = _Lines(canv)
        rules = []
        top = self.height
        font_name = None
        for r, (row, height) in enumerate(zip(self.cells, self.row_heights, strict=True)):
            if font_name != (font_name := CELL_BOLD_FONT if self.header and r == 0 else CELL_FONT):
                out.setFont(font_name, CELL_SIZE, CELL_LEADING)
            font = font_widths(font_name)
            y = top - CELL_PAD_Y - CELL_SIZE
            for c, lines in enumerate(row):
                if c in self.right_columns:
                    right_edge = x_edges[c + 1] - CELL_PAD_X
                    for i, line in enumerate(lines):
                        if line:
                            out.setTextOrigin(right_edge - font.of(line, CELL_SIZE), y - i * CELL_LEADING)
                            out.line(line)
                elif any(lines):
                    out.setTextOrigin(x_edges[c] + CELL_PAD_X, y)
                    for line in lines:
                        out.line(line)
            top -= height
            rules.append((0, top, self.width, top))
        canv.drawText(out)
        canv.saveState()
        canv.setLineCap(1)
        canv.setLineJoin(1)
        canv.setStrokeColor(RULE_COLOUR)
        canv.setLineWidth(0.25)
        canv.lines(rules[1:] if self.header else rules)
        if self.header:
            canv.setStrokeColor(colors.black)
            canv.setLineWidth(1)
            canv.lines(rules[:1])
        canv.restoreState()


@cache
def _table_style(header: bool, money_columns: tuple[int, ...]) -> TableStyle:
    """The reportlab TableStyle for tables with flowables in their cells (built once per shape)."""
    style = [
        ("FONTNAME", (0, 0), (-1, -1), CELL_FONT),
        ("FONTSIZE", (0, 0), (-1, -1), CELL_SIZE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE_COLOUR),
        ("BOTTOMPADDING", (0, 0), (-1, -1), CELL_PAD_Y),
        ("TOPPADDING", (0, 0), (-1, -1), CELL_PAD_Y),
    ]
    if header:
        style += [("FONTNAME", (0, 0), (-1, 0), CELL_BOLD_FONT), ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black)]
    for column in money_columns:
        style.append(("ALIGN", (column, 0), (column, -1), "RIGHT"))
    return TableStyle(style)


def table(
    rows: list[list], widths: list[float], *, header: bool = True, money_columns: tuple[int, ...] = ()
) -> Flowable:
    """A table `widths` (mm) wide; cells are strings, or flowables such as `p(...)`.

    All-string tables (the common case) become a `PlainTable`; any flowable in a cell needs
    reportlab's `Table`, styled to look the same."""
    points = [w * mm for w in widths]
    if all(isinstance(cell, str) for row in rows for cell in row):
        return PlainTable(rows, points, header=header, right_columns=money_columns)
    t = Table(rows, colWidths=points, repeatRows=1 if header else 0)
    t.setStyle(_table_style(header, tuple(money_columns)))
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
    doc.build(story, canvasmaker=lambda *a, **k: _NumberedCanvas(*a, footer_text=footer, **k))
    return buffer.getvalue()
