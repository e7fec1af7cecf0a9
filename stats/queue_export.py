"""导出工作队列: a workbench queue (a tab with its filters) as Excel or CSV.

The rows are exactly those the user pages through in that queue: the cases API's selector
(``cases.selectors.case_list``), its filter (``CaseFilter``, the same query string) and its
order. Every personal field is masked as the queue shows it, by the queue's own serializer
(``CaseListSerializer``: name, phone, title) and its free-text rule for the description, so an
export never holds what the reader's screen would hide. Cells go through ``stats.xlsx``'s one
formula escape, in both formats.

A small queue is written in the request; a large one is an ``ExportJob`` of kind ``queue``
built by the ``stats.build_export`` task, with the same progress and download as the
dashboard exports (``stats.exports.run_job``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import selectors
from cases.api.filters import CaseFilter
from cases.api.serializers import CaseListSerializer
from cases.models import Case
from org import jurisdiction
from xining_issues.downloads import XLSX_TYPE

from .xlsx import CSV_TYPE, Sheet, write_csv, write_xlsx

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.db.models import QuerySet

    from org.models import User

    from .models import ExportJob

KIND = "queue"  # ExportJob.table of a queue export
CONTENT_TYPES = {"xlsx": XLSX_TYPE, "csv": CSV_TYPE}
CHUNK = 500  # cases read per query while streaming (one more for a handler's co-units)
PROGRESS_EVERY = 200  # rows between two progress saves of a background export
ORDER = ("-created_at", "-id")  # the queue's order (CasePagination.ordering)


class BadQuery(ValueError):
    """The queue's filters do not validate; ``errors`` by field, as the list API answers."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(_("筛选条件有误"))
        self.errors = errors


def may_export(user: User | AnonymousUser) -> bool:
    """Whoever may open the workbench (``cases.pages.StaffPage``): a staff role."""
    return user.is_authenticated and jurisdiction.is_staff(user)


def queue_cases(user: User | AnonymousUser, query: QueryDict) -> QuerySet[Case]:
    """The cases of the queue and filters in ``query`` (the list API's query string), in the
    queue's order. Raises ``BadQuery`` as the list API answers 400."""
    # CaseFilter reads only the user from its request (and a search-walk flag, off here: the
    # walk is a way to answer one page quickly, not a different set of rows).
    reader = SimpleNamespace(user=user)
    filterset = CaseFilter(data=query, queryset=selectors.case_list(user), request=reader)
    if not filterset.is_valid():
        raise BadQuery({k: [str(m) for m in v] for k, v in filterset.errors.items()})
    return filterset.qs.order_by(*ORDER)


def headers() -> list[str]:
    return [
        _("受理编号"),
        _("状态"),
        _("诉求分类"),
        _("区县"),
        _("街道（乡镇）"),
        _("社区"),
        _("标题"),
        _("诉求内容"),
        _("诉求人"),
        _("联系电话"),
        _("渠道"),
        _("提交时间"),
        _("受理时限"),
        _("办结时限"),
        _("承办单位"),
        _("督办等级"),
    ]


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    # Both writers take naive datetimes: the local (Asia/Shanghai) time the queue shows.
    return None if moment is None else timezone.localtime(moment).replace(tzinfo=None)


def _name(named: dict[str, Any] | None) -> str:
    return named["name"] if named else ""


def rows(user: User | AnonymousUser, cases: QuerySet[Case]) -> Iterator[list[Any]]:
    """One row per case, masked by the queue's serializer for ``user``; read in chunks, so
    memory and queries per chunk stay the same however long the queue is."""
    context: dict[str, Any] = {"request": SimpleNamespace(user=user)}
    serializer = CaseListSerializer(context=context)
    for case in cases.iterator(chunk_size=CHUNK):
        row = serializer.to_representation(case)
        yield [
            row["tracking_code"],
            row["status_display"],
            _name(row["category"]),
            _name(row["district"]),
            _name(row["street"]),
            _name(row["region"]),
            row["title"],
            # The description under the title's rule: the serializer's one masking path.
            serializer._text(case, case.description or ""),
            row["complainant_name"],
            row["complainant_phone"],
            case.get_channel_display(),
            _local(case.created_at),
            _local(case.accept_by),
            _local(case.resolve_by),
            _name(row["lead_unit"]),
            case.get_supervision_level_display(),
        ]
        # The identity answers are cached per case; a chunk's worth is all a row needs.
        if len(context.get("_identity", {})) >= CHUNK:
            context["_identity"].clear()


def file_bytes(
    file_type: str,
    table: Iterator[list[Any]],
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """The header row and ``table`` as an ``xlsx`` workbook or a ``csv`` file;
    ``progress(rows_written)`` every ``PROGRESS_EVERY`` rows (the background export)."""

    def counted() -> Iterator[list[Any]]:
        yield headers()
        for written, row in enumerate(table, 1):
            yield row
            if progress is not None and written % PROGRESS_EVERY == 0:
                progress(written)

    if file_type == "csv":
        return write_csv(counted())
    widths = {index: max(10, min(40, 2 * len(h) + 4)) for index, h in enumerate(headers(), 1)}
    widths[7] = widths[8] = 40  # the title and the description
    return write_xlsx([Sheet(_("诉求列表"), counted(), widths=widths, freeze="A2")])


def filename(file_type: str, queue: str | None, when: dt.datetime) -> str:
    return f"queue-{queue or 'all'}-{timezone.localtime(when):%Y%m%d-%H%M}.{file_type}"


# --- background exports -------------------------------------------------------------------------


def job_params(file_type: str, query: QueryDict) -> dict[str, Any]:
    """What an ``ExportJob`` of kind ``queue`` keeps: the file type and the query string."""
    return {"file_type": file_type, "query": query.urlencode(), "queue": query.get("queue")}


def build_job(job: ExportJob, save_progress: Callable[[], None]) -> tuple[str, bytes]:
    """The file name and bytes of a queue ``job``, as its owner would download them now;
    ``job.row_count`` and ``job.progress`` are kept up to date through ``save_progress``."""
    query = QueryDict(job.params["query"])
    cases = queue_cases(job.user, query)
    job.row_count = cases.count()
    job.progress = 5
    save_progress()

    def progress(written: int) -> None:
        job.progress = 5 + int(90 * written / max(job.row_count, 1))
        save_progress()

    file_type = job.params["file_type"]
    data = file_bytes(file_type, rows(job.user, cases), progress)
    return filename(file_type, query.get("queue"), job.created_at), data
