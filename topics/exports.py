"""Excel exports of the dashboard tables (报表导出).

Each table is built from the same ``topics.stats`` function as its JSON endpoint, scoped to what
the user may see, so a download never holds a figure the dashboard would not show.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import Region

from . import stats

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from org.models import User

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A text cell that starts with one of these would be run as a formula by a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula (=, +, -, @) is kept as text."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 2)


def _rate_headers() -> list[str]:
    return [
        _("派单数"),
        _("响应数"),
        _("办结回复数"),
        _("解决数"),
        _("评价数"),
        _("满意数"),
        _("响应率(%)"),
        _("解决率(%)"),
        _("满意率(%)"),
        _("综合得分"),
    ]


def _rate_cells(row: dict[str, Any]) -> list[Any]:
    return [
        row["dispatched"],
        row["responded"],
        row["replied"],
        row["resolved"],
        row["evaluated"],
        row["satisfied"],
        _percent(row["response_rate"]),
        _percent(row["resolution_rate"]),
        _percent(row["satisfaction_rate"]),
        row["score"],
    ]


Params = dict[str, Any]
Table = tuple[str, list[str], list[list[Any]]]


def _rankings(by: str, title: Callable[[], str], name: Callable[[], str]) -> Callable[..., Table]:
    def build(user: User | AnonymousUser, p: Params) -> Table:
        results = stats.rankings(user, p["from"], p["to"], by, p.get("region"), p.get("weights"))
        headers = [_("排名"), name(), *_rate_headers()]
        rows = [[r["rank"], r["name"], *_rate_cells(r)] for r in results]
        return title(), headers, rows

    return build


def _categories(user: User | AnonymousUser, p: Params) -> Table:
    data = stats.overview(user, p["from"], p["to"], p.get("region"), p.get("weights"))
    headers = [_("排名"), _("诉求分类"), _("新增诉求")]
    rows = [[i, c["name"], c["created"]] for i, c in enumerate(data["hot_categories"], 1)]
    return _("热点分类"), headers, rows


def _trend(user: User | AnonymousUser, p: Params) -> Table:
    buckets = stats.trend(
        user, p["from"], p["to"], p.get("granularity", "day"), p.get("region"), p.get("weights")
    )
    headers = [_("起"), _("止"), _("新增"), _("归档"), *_rate_headers()]
    rows = [[b["start"], b["end"], b["created"], b["closed"], *_rate_cells(b)] for b in buckets]
    return _("趋势"), headers, rows


TABLES: dict[str, Callable[..., Table]] = {
    "rankings-unit": _rankings("unit", lambda: _("承办单位排名"), lambda: _("承办单位")),
    "rankings-district": _rankings("district", lambda: _("区县排名"), lambda: _("区县")),
    "rankings-street": _rankings("street", lambda: _("街道排名"), lambda: _("街道（乡镇）")),
    "categories": _categories,
    "trend": _trend,
}


def build_table(user: User | AnonymousUser, table: str, params: Params) -> Table:
    """The title, header row and data rows of ``table`` for the user and the period."""
    return TABLES[table](user, params)


def workbook_bytes(title: str, headers: list[str], rows: list[list[Any]], params: Params) -> bytes:
    """One sheet: a caption line (table, period, region), the header row, the data rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append([safe_cell(h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    sheet.freeze_panes = "A2"
    for index, header in enumerate(headers, 1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = max(10, min(40, 2 * len(str(header)) + 4))
    # Where the figures come from, on a second sheet so the table itself stays tabular.
    about = workbook.create_sheet(_("说明"))
    region: Region | None = params.get("region")
    about.append([_("报表"), title])
    about.append([_("起始日期"), params["from"]])
    about.append([_("截止日期"), params["to"]])
    about.append([_("区划"), safe_cell(region.name) if region else _("全部")])
    # openpyxl writes naive datetimes: the local (Asia/Shanghai) time of the export.
    exported = timezone.localtime().replace(microsecond=0, tzinfo=None)
    about.append([_("导出时间"), exported])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def filename(table: str, params: Params) -> str:
    return f"{table}-{params['from']:%Y%m%d}-{params['to']:%Y%m%d}.xlsx"
