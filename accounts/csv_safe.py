"""Cells for CSV files people open in a spreadsheet (OWASP "CSV injection"): a text cell starting
with `=`, `+`, `-`, `@`, a tab or a carriage return would be run as a formula by Excel, LibreOffice
or Google Sheets, so it is written with a single quote in front, which those programs show as
text. Numbers stay numbers: a value that is not text (an int, a Decimal) and text that is a plain
number (`-73.50`, a negative amount) are written as they are. Every CSV export passes its cells
through `csv_cell` (docs/security.md, "PDFs and imports")."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["FORMULA_STARTS", "csv_cell", "csv_row"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")


def csv_cell(value: Any) -> Any:
    """`value`, or for text a spreadsheet would take as a formula, that text after a `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_row(values) -> list:
    return [csv_cell(v) for v in values]
