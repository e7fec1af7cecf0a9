"""Excel exports of the dashboard tables (报表导出).

Each table is built from the same ``stats.dashboards`` (or ``stats.candidates``) function as
its JSON endpoint, scoped to what the user may see, so a download never holds a figure the
dashboard would not show. The workbook is written by ``stats.xlsx`` (one formula escape).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import Region, RegionClass
from topics import selectors

from . import candidates, dashboards, queue_export
from .models import ExportJob, ExportStatus
from .xlsx import Sheet, write_xlsx

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from org.models import User

logger = logging.getLogger(__name__)


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
        results = dashboards.rankings(
            user,
            p["from"],
            p["to"],
            by,
            p.get("region"),
            p.get("weights"),
            region_class=p.get("region_class"),
        )
        headers = [_("排名"), name(), *_rate_headers()]
        rows = [[r["rank"], r["name"], *_rate_cells(r)] for r in results]
        return title(), headers, rows

    return build


def _categories(user: User | AnonymousUser, p: Params) -> Table:
    data = dashboards.overview(
        user,
        p["from"],
        p["to"],
        p.get("region"),
        p.get("weights"),
        region_class=p.get("region_class"),
    )
    headers = [_("排名"), _("诉求分类"), _("新增诉求")]
    rows = [[i, c["name"], c["created"]] for i, c in enumerate(data["hot_categories"], 1)]
    return _("热点分类"), headers, rows


def _trend(user: User | AnonymousUser, p: Params) -> Table:
    buckets = dashboards.trend(
        user,
        p["from"],
        p["to"],
        p.get("granularity", "day"),
        p.get("region"),
        p.get("weights"),
        region_class=p.get("region_class"),
    )
    headers = [_("起"), _("止"), _("新增"), _("归档"), *_rate_headers()]
    rows = [[b["start"], b["end"], b["created"], b["closed"], *_rate_cells(b)] for b in buckets]
    return _("趋势"), headers, rows


def _stages(user: User | AnonymousUser, p: Params) -> Table:
    data = dashboards.overview(
        user,
        p["from"],
        p["to"],
        p.get("region"),
        p.get("weights"),
        region_class=p.get("region_class"),
    )
    rows = [[s["label"], s["count"]] for s in data["stages"]]
    rows += [[_("在办合计"), data["open"]], [_("已超期"), data["overdue"]]]
    return _("各环节在办"), [_("环节"), _("件数")], rows


def _candidates(user: User | AnonymousUser, p: Params) -> Table:
    """未诉先办 for the last ``weeks`` weeks: the table's own period replaces the request's."""
    data = candidates.candidates(user, p.get("weeks") or 4, p.get("region"), limit=50)
    p["from"], p["to"] = data["period"]["from"], data["period"]["to"]
    headers = [
        _("分类"),
        _("街道（乡镇）"),
        _("件数"),
        _("上期"),
        _("增长(%)"),
        _("重复诉求人"),
        _("评价数"),
        _("满意率(%)"),
        _("得分"),
        _("每周件数"),
        _("典型案件"),
    ]
    rows = [
        [
            r["category"]["name"],
            r["street"]["name"],
            r["count"],
            r["previous"],
            _percent(r["growth"]),
            r["repeat_complainants"],
            r["evaluated"],
            _percent(r["satisfaction_rate"]),
            r["score"],
            " / ".join(str(w["count"]) for w in r["weekly"]),
            " ".join(c["tracking_code"] for c in r["sample_cases"]),
        ]
        for r in data["results"]
    ]
    return _("未诉先办候选议题"), headers, rows


def _plan_year(p: Params) -> int:
    year = p.get("year") or p["to"].year
    p["from"], p["to"] = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return int(year)


def _plan(user: User | AnonymousUser, p: Params) -> Table:
    """工作计划安排表: the year's topics and their tasks (the period is the whole year)."""
    today = timezone.localdate()
    headers = [
        _("所属月份"),
        _("题目"),
        _("牵头单位"),
        _("任务措施"),
        _("责任单位"),
        _("开始日期"),
        _("完成时限"),
        _("状态"),
        _("进度(%)"),
        _("是否逾期"),
    ]
    rows: list[list[Any]] = []
    for topic in selectors.plan(user, _plan_year(p)):
        month = f"{topic.month:%Y-%m}"
        if topic.end_month and topic.end_month != topic.month:
            month += f" — {topic.end_month:%Y-%m}"
        for task in topic.tasks.all() or [None]:
            head = [month, topic.title, topic.lead_unit.name]
            if task is None:
                rows.append([*head, "", "", None, None, "", None, ""])
                continue
            rows.append(
                [
                    *head,
                    task.title,
                    task.owner_unit.name,
                    task.start_date,
                    task.deadline,
                    task.get_status_display(),
                    task.progress,
                    _("是") if task.is_overdue(today) else _("否"),
                ]
            )
    return _("工作计划安排表"), headers, rows


def _indicators(user: User | AnonymousUser, p: Params) -> Table:
    """每月一题's indicators (target vs actual) of the topics the user may see."""
    headers = [
        _("题目"),
        _("状态"),
        _("指标"),
        _("目标值"),
        _("实际值"),
        _("计量单位"),
        _("完成率(%)"),
        _("实际值日期"),
    ]
    rows = []
    for topic in selectors.board(user):
        for i in topic.indicators.all():
            target = None if i.target is None else float(i.target)
            actual = None if i.actual is None else float(i.actual)
            share = round(actual * 100 / target, 2) if target and actual is not None else None
            rows.append(
                [
                    topic.title,
                    topic.get_status_display(),
                    i.name,
                    target,
                    actual,
                    i.unit_of_measure,
                    share,
                    i.actual_on,
                ]
            )
    return _("每月一题指标"), headers, rows


TABLES: dict[str, Callable[..., Table]] = {
    "rankings-unit": _rankings("unit", lambda: _("承办单位排名"), lambda: _("承办单位")),
    "rankings-district": _rankings("district", lambda: _("区县排名"), lambda: _("区县")),
    "rankings-street": _rankings("street", lambda: _("街道排名"), lambda: _("街道（乡镇）")),
    "rankings-region_class": _rankings(
        "region_class", lambda: _("按社区分类"), lambda: _("社区分类")
    ),
    "categories": _categories,
    "trend": _trend,
    "stages": _stages,
    "candidates": _candidates,
    "plan": _plan,
    "indicators": _indicators,
}


def build_table(user: User | AnonymousUser, table: str, params: Params) -> Table:
    """The title, header row and data rows of ``table`` for the user and the period. A table
    with a period of its own (the candidates' weeks, the plan's year) writes it into
    ``params["from"]`` and ``params["to"]``, for the workbook's notes and its file name."""
    return TABLES[table](user, params)


def workbook_bytes(
    title: str,
    headers: list[str],
    rows: list[list[Any]],
    params: Params,
    progress: Callable[[int], None] | None = None,
    every: int = 100,
) -> bytes:
    """One sheet: the header row, the data rows; a second sheet says what and when.

    ``progress(rows_written)`` is called every ``every`` rows (the background export)."""

    def table() -> Iterator[list[Any]]:
        yield headers
        for written, row in enumerate(rows, 1):
            yield row
            if progress is not None and written % every == 0:
                progress(written)

    region: Region | None = params.get("region")
    region_class: RegionClass | None = params.get("region_class")
    # openpyxl writes naive datetimes: the local (Asia/Shanghai) time of the export.
    exported = timezone.localtime().replace(microsecond=0, tzinfo=None)
    # Where the figures come from, on a second sheet so the table itself stays tabular.
    about = [
        [_("报表"), title],
        [_("起始日期"), params["from"]],
        [_("截止日期"), params["to"]],
        [_("区划"), region.name if region else _("全部")],
        [_("社区分类"), region_class.name if region_class else _("全部")],
        [_("导出时间"), exported],
    ]
    widths = {
        index: max(10, min(40, 2 * len(str(header)) + 4))
        for index, header in enumerate(headers, 1)
    }
    return write_xlsx(
        [
            Sheet(title, table(), widths=widths, freeze="A2"),
            Sheet(_("说明"), about, bold_first_row=False),
        ]
    )


def filename(table: str, params: Params) -> str:
    return f"{table}-{params['from']:%Y%m%d}-{params['to']:%Y%m%d}.xlsx"


# --- background exports (``stats.build_export``) ----------------------------------------------

PROGRESS_EVERY = 50  # rows between two progress saves


def job_params(p: Params) -> dict[str, Any]:
    """Validated export parameters as JSON, to store on an ``ExportJob``."""
    region: Region | None = p.get("region")
    return {
        "table": p["table"],
        "from": p["from"].isoformat(),
        "to": p["to"].isoformat(),
        "region": region.pk if region else None,
        "region_class": p["region_class"].code if p.get("region_class") else None,
        "granularity": p.get("granularity", "day"),
        "weights": p.get("weights"),
        "weeks": p.get("weeks"),
        "year": p.get("year"),
    }


def params_from_job(data: dict[str, Any]) -> Params:
    """The parameters of ``job_params`` back in the shape ``build_table`` takes."""
    region = Region.objects.filter(pk=data["region"]).first() if data.get("region") else None
    if data.get("region") and region is None:
        raise ValueError(_("所选区划已不存在。"))
    code = data.get("region_class")
    region_class = RegionClass.objects.filter(code=code).first() if code else None
    if code and region_class is None:
        raise ValueError(_("所选社区分类已不存在。"))
    return {
        "table": data["table"],
        "from": dt.date.fromisoformat(data["from"]),
        "to": dt.date.fromisoformat(data["to"]),
        "region": region,
        "region_class": region_class,
        "granularity": data.get("granularity") or "day",
        "weights": data.get("weights"),
        "weeks": data.get("weeks"),
        "year": data.get("year"),
    }


def _table_file(job: ExportJob) -> tuple[str, bytes]:
    """The file name and workbook of a dashboard table's job."""
    p = params_from_job(job.params)
    title, headers, rows = build_table(job.user, job.table, p)
    # a table with its own period (candidates, plan) says which one it holds
    job.params = {**job.params, "from": p["from"].isoformat(), "to": p["to"].isoformat()}
    job.row_count = len(rows)
    job.progress = 10
    job.save(update_fields=["params", "row_count", "progress"])

    def progress(written: int) -> None:
        job.progress = 10 + int(85 * written / max(len(rows), 1))
        job.save(update_fields=["progress"])

    data = workbook_bytes(title, headers, rows, p, progress, PROGRESS_EVERY)
    return filename(job.table, p), data


def run_job(job_id: int) -> None:
    """Build the file of an ``ExportJob``, a dashboard table or a work queue
    (``stats.queue_export``) (idempotent: a missing, done or failed job is
    left alone; a job left running by a lost worker is built again)."""
    claimed = ExportJob.objects.filter(
        pk=job_id, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
    ).update(status=ExportStatus.RUNNING, progress=0, error="")
    if not claimed:
        return
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    try:
        if job.table == queue_export.KIND:
            name, data = queue_export.build_job(
                job, lambda: job.save(update_fields=["row_count", "progress"])
            )
        else:
            name, data = _table_file(job)
        job.file.save(name, ContentFile(data), save=False)
        job.status = ExportStatus.DONE
        job.progress = 100
        job.finished_at = timezone.now()
        job.save(update_fields=["file", "status", "progress", "finished_at"])
    except Exception as exc:  # any failure is the job's, shown to its owner
        logger.exception("export job %s failed", job_id)
        job.status = ExportStatus.FAILED
        reason = str(exc) if isinstance(exc, ValueError) else _("服务器内部错误")
        job.error = _("导出失败：%(reason)s。请稍后重试或缩小统计范围。") % {"reason": reason}
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])


def purge_exports(*, before: dt.datetime, batch: int = 500) -> int:
    """Forget the background exports that finished (done or failed) before ``before``, with
    their workbooks; returns how many. Each file is deleted through the storage (local disk or
    object store) before its row, so a store that is down leaves the rows for the next run, and
    a file already gone is no error: safe to run twice."""
    deleted = 0
    while True:
        jobs = list(
            ExportJob.objects.filter(
                status__in=[ExportStatus.DONE, ExportStatus.FAILED], finished_at__lt=before
            )
            .only("pk", "file")
            .order_by("pk")[:batch]
        )
        if not jobs:
            return deleted
        for job in jobs:
            if job.file:
                job.file.delete(save=False)
        deleted += ExportJob.objects.filter(pk__in=[job.pk for job in jobs]).delete()[0]
