"""The one Excel writer of 报 (the dashboard exports, the work-queue exports and the 月通报
workbook), its CSV sibling, and the one formula-injection escape both share.

A spreadsheet runs a text cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and
some also after a leading tab or carriage return), so a case title such as ``=HYPERLINK(…)``
typed by a resident would run on the committee's computer. Every text cell written here is
therefore kept as text with a leading apostrophe; numbers, dates and empty cells stay what they
are, so sums and sorting still work in the workbook. A CSV file opened in Excel runs formulas
just the same, so ``write_csv`` escapes with the same ``safe_cell``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# A text cell that starts with one of these would be run as a formula by a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a cell: text that would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@dataclass
class Sheet:
    """One worksheet: its rows in order (the first in bold unless ``bold_first_row`` is off),
    column widths by 1-based column number, and the cell below and right of the frozen panes."""

    title: str
    rows: Iterable[Sequence[Any]]
    bold_first_row: bool = True
    widths: Mapping[int, float] = field(default_factory=dict)
    freeze: str | None = None


def write_xlsx(sheets: Iterable[Sheet]) -> bytes:
    """The workbook of ``sheets`` as bytes; every cell goes through ``safe_cell``. ``rows`` may
    be a generator (the background export reports its progress from one)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    default = workbook.active
    for number, spec in enumerate(sheets):
        # A sheet's name is at most 31 characters in Excel.
        sheet = default if number == 0 else workbook.create_sheet()
        sheet.title = spec.title[:31]
        for row in spec.rows:
            sheet.append([safe_cell(value) for value in row])
        if spec.bold_first_row and sheet.max_row >= 1:
            for cell in sheet[1]:
                cell.font = Font(bold=True)
        if spec.freeze:
            sheet.freeze_panes = spec.freeze
        for column, width in spec.widths.items():
            sheet.column_dimensions[get_column_letter(column)].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


CSV_TYPE = "text/csv; charset=utf-8"


def write_csv(rows: Iterable[Sequence[Any]]) -> bytes:
    """``rows`` as CSV in UTF-8 with a byte-order mark (without it Excel reads Chinese as the
    local code page); every cell goes through ``safe_cell``. ``rows`` may be a generator."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
