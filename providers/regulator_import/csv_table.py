"""Reading a CSV file with a header row somewhere near the top.

The CQC publishes its directory with a few lines of preamble before the header, and operators
re-save files in spreadsheets that change column case and spacing; this module finds the header,
refuses a file whose columns cannot be trusted (`RegulatorFileInvalid`, before any row is looked
at, so nothing is written), and hands back each row keyed by column with its own line number.
It knows nothing about what the columns mean; that is `formats`.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from accounts.exceptions import InvalidInput

__all__ = [
    "ENCODING",
    "HEADER_SEARCH_LINES",
    "Column",
    "RegulatorFileInvalid",
    "Row",
    "normalise_header",
    "read_table",
]

ENCODING = "utf-8-sig"
HEADER_SEARCH_LINES = 20  # the header is looked for among the first rows (the directory has 4 lines of preamble)


class RegulatorFileInvalid(InvalidInput):
    default_message = "The file cannot be imported; nothing was written."


@dataclass(frozen=True)
class Column:
    """A column we read: its name as published, other names accepted, and whether the file is
    refused without it."""

    key: str
    name: str
    aliases: tuple[str, ...] = ()
    required: bool = True

    def names(self) -> set[str]:
        return {normalise_header(n) for n in (self.name, *self.aliases)}


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]


def normalise_header(value: str) -> str:
    """The key a column name is matched by: case and every kind of whitespace are ignored, so
    "CQC Location ID (for office use only)" and " cqc location id(for office use only) " match."""
    return "".join(value.split()).casefold()


def read_text(text_or_path: str | bytes | os.PathLike) -> str:
    """A path (`pathlib.Path` or any path-like) is read from disk; a `str` is the file's text;
    `bytes` are its content. Either way UTF-8, with or without a byte-order mark."""
    if isinstance(text_or_path, os.PathLike):
        path = Path(text_or_path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise RegulatorFileInvalid(f"Cannot read {path}: {exc.strerror or exc}.", field="file") from exc
    elif isinstance(text_or_path, bytes):
        data = text_or_path
    else:
        return text_or_path.removeprefix("\ufeff")
    try:
        return data.decode(ENCODING)
    except UnicodeDecodeError as exc:
        raise RegulatorFileInvalid(
            f"The file is not UTF-8 text (byte {exc.start + 1} cannot be read). Save it as CSV UTF-8 and try again.",
            field="file",
        ) from exc


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the file line it starts on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        raise RegulatorFileInvalid(
            f"line {reader.line_num}: the file is not readable CSV ({exc}).", field="file"
        ) from exc


def _blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def read_table(text: str, columns: Iterable[Column], *, description: str) -> tuple[list[Row], list[tuple[int, str]]]:
    """Find the header row, check the columns, and return every data row (blank lines dropped)
    with its cells keyed by `Column.key`, and (line, reason) for each row with the wrong number of
    cells.

    Raises `RegulatorFileInvalid` if no header row is found, or a required column is missing or
    given twice — before any row is looked at, so nothing is written."""
    columns = list(columns)
    wanted = {name: col for col in columns for name in col.names()}
    records = _csv_rows(text)
    header: list[str] | None = None
    header_line = 0
    for line, cells in records:
        if _blank(cells):
            continue
        matches = {wanted[normalise_header(c)].key for c in cells if normalise_header(c) in wanted}
        if len(matches) >= min(2, len(columns)):
            header, header_line = cells, line
            break
        if line > HEADER_SEARCH_LINES:
            break
    if header is None:
        raise RegulatorFileInvalid(
            f"No header row found in the first {HEADER_SEARCH_LINES} lines: this does not look like {description}. "
            f"The header row names the columns: {', '.join(c.name for c in columns)}.",
            field="file",
        )

    positions: dict[str, list[int]] = {}
    for index, cell in enumerate(header):
        col = wanted.get(normalise_header(cell))
        if col is not None:
            positions.setdefault(col.key, []).append(index)
    problems = []
    missing = [c.name for c in columns if c.required and c.key not in positions]
    if missing:
        problems.append(
            f"line {header_line}: the header has no {' or '.join(f'“{m}”' for m in missing)} "
            f"{'column' if len(missing) == 1 else 'columns'}."
        )
    for col in columns:
        if len(positions.get(col.key, ())) > 1:
            problems.append(f"line {header_line}: the “{col.name}” column is given twice.")
    if problems:
        raise RegulatorFileInvalid(errors={"file": problems})

    index_of = {key: found[0] for key, found in positions.items()}
    width = len(header)
    rows, skipped = [], []
    for line, cells in records:
        if _blank(cells):
            continue  # blank lines, trailing ones above all, are not rows
        if len(cells) < width or any(cell.strip() for cell in cells[width:]):
            skipped.append((line, f"this row has {len(cells)} cells but the header has {width}."))
            continue
        rows.append(Row(line, {key: cells[i].strip() for key, i in index_of.items()}))
    return rows, skipped
