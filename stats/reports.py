"""报, daily and weekly: the 日报 of yesterday and the 周报 of last week.

Each report holds, for its window of whole days: cases received (新增), dispatched (派单),
answered (答复) and resolved, with the three rates (``stats.rates``), in total, by district and
by unit, and the top categories; and the cases overdue at the time it was written (a snapshot of
the open cases, as the workbench's 超期 tab counts them). The window's figures come from the
rollup (``stats.dashboards.Rows``), whose sums equal ``compute_rates`` and the case counts over
the same window, so a report agrees with the dashboards to the case.

Beat writes the 日报 at 07:00 and the 周报 on Mondays at 07:30 (``xining_issues.schedule``);
each is written once per window and published at once: the committee and every unit's leaders
get a message linking to it. The committee may also write one on demand (``generate`` with
``refresh``), e.g. after late corrections; that rewrites the figures and tells nobody again.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cases.models import OPEN_STATUSES, Case
from cases.selectors import queue_filters
from notifications import services
from org import jurisdiction
from org.models import Region, Role, Unit, User

from . import dashboards
from .models import COUNTERS, CaseReport, ReportKind
from .rollup import refresh_rollup
from .xlsx import Sheet, write_xlsx

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

TOP_CATEGORIES = 5
# Who reads the reports when they are published (and on the reports pages).
READER_ROLES = (Role.COMMITTEE, Role.ADMIN, Role.SUPERVISOR)


def window(kind: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The report's days: ``day`` itself for a 日报, its Monday to Sunday for a 周报."""
    if kind == ReportKind.DAILY:
        return day, day
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def last_window(kind: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """Yesterday, or last week: the window a report written ``today`` covers."""
    if kind == ReportKind.DAILY:
        return window(kind, today - dt.timedelta(days=1))
    return window(kind, today - dt.timedelta(days=7))


def build(start: dt.date, end: dt.date, now: dt.datetime) -> dict[str, Any]:
    """The figures of [start, end] (whole local days) and the overdue cases at ``now``."""
    w = dashboards.weights()
    rows = dashboards.Rows.of(start, end)
    by_district = dashboards.grouped(rows, "district_id")
    districts = dict(
        Region.objects.filter(pk__in={r["district_id"] for r in by_district}).values_list(
            "pk", "name"
        )
    )
    units = dashboards.grouped(rows.exclude(unit_key=0), "unit_key", "unit__name")
    categories = dashboards.grouped(rows, "category_id", "category__name")
    overdue = Case.objects.filter(queue_filters(now)["overdue"], status__in=OPEN_STATUSES)
    overdue_by_district = dict(
        overdue.values_list("district_id").annotate(n=Count("pk")).values_list("district_id", "n")
    )
    overdue_by_unit = dict(
        overdue.exclude(lead_unit=None)
        .values_list("lead_unit_id")
        .annotate(n=Count("pk"))
        .values_list("lead_unit_id", "n")
    )
    unit_names = dict(
        Unit.objects.filter(
            pk__in={u["unit_key"] for u in units} | set(overdue_by_unit)
        ).values_list("pk", "name")
    )
    district_ids = {r["district_id"] for r in by_district} | set(overdue_by_district)
    districts.update(
        Region.objects.filter(pk__in=district_ids - set(districts)).values_list("pk", "name")
    )

    def figures(counts: dict[str, Any]) -> dict[str, Any]:
        return dashboards.with_rates({name: counts.get(name, 0) for name in COUNTERS}, w)

    district_rows = {r["district_id"]: r for r in by_district}
    unit_rows = {u["unit_key"]: u for u in units}
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "overdue_at": now.isoformat(),
        "totals": {
            **figures(dashboards.totals(rows)),
            "overdue": sum(overdue_by_district.values()),
        },
        "districts": sorted(
            (
                {
                    "id": pk,
                    "name": districts.get(pk, ""),
                    **figures(district_rows.get(pk, {})),
                    "overdue": overdue_by_district.get(pk, 0),
                }
                for pk in district_ids
            ),
            key=lambda r: (-r["created"], r["name"]),
        ),
        "units": sorted(
            (
                {
                    "id": pk,
                    "name": unit_names.get(pk, ""),
                    **figures(unit_rows.get(pk, {})),
                    "overdue": overdue_by_unit.get(pk, 0),
                }
                for pk in set(unit_rows) | set(overdue_by_unit)
            ),
            key=lambda r: (-r["overdue"], -r["dispatched"], r["name"]),
        ),
        "top_categories": [
            {"name": c["category__name"], "created": c["created"]}
            for c in sorted(
                (c for c in categories if c["created"]),
                key=lambda c: (-c["created"], c["category_id"]),
            )[:TOP_CATEGORIES]
        ],
    }


def generate(
    kind: str,
    *,
    day: dt.date | None = None,
    now: dt.datetime | None = None,
    refresh: bool = False,
) -> CaseReport:
    """The report of the window holding ``day`` (default: the last whole window before today),
    written once and published once; ``refresh`` rewrites an existing one's figures."""
    if kind not in ReportKind.values:
        raise ValueError(f"unknown report kind {kind!r}")
    now = now or timezone.now()
    start, end = window(kind, day) if day else last_window(kind, timezone.localdate(now))
    if end >= timezone.localdate(now):
        raise ValueError("a report covers whole days that have ended")
    refresh_rollup()  # the window's last events folded in before it is read
    with transaction.atomic():
        CaseReport.objects.bulk_create(
            [CaseReport(kind=kind, start=start, end=end, generated_at=now)],
            ignore_conflicts=True,
        )
        report = CaseReport.objects.select_for_update().get(kind=kind, start=start)
        fresh = not report.data
        if fresh or refresh:
            report.data = build(start, end, now)
            report.generated_at = now
            report.save(update_fields=["data", "generated_at"])
        if fresh:
            _publish(report, now)
    return report


def visible_reports(user: User | AnonymousUser) -> QuerySet[CaseReport]:
    """Every report for staff (it is the city's published figure, like a published 月通报);
    none for residents and visitors."""
    if not user.is_authenticated or not jurisdiction.is_staff(user):
        return CaseReport.objects.none()
    return CaseReport.objects.all()


def may_generate(user: User | AnonymousUser) -> bool:
    """The committee and admins write a report on demand (a window beat has not, or again)."""
    return user.is_authenticated and (
        user.is_superuser or jurisdiction.has_role(user, Role.COMMITTEE, Role.ADMIN)
    )


def readers() -> list[User]:
    """The committee, supervisors and admins, and every unit's leaders."""
    return list(
        User.objects.filter(
            Q(memberships__role__in=READER_ROLES)
            | Q(memberships__role=Role.HANDLER, memberships__is_leader=True),
            is_active=True,
        )
        .distinct()
        .order_by("pk")
    )


def _publish(report: CaseReport, now: dt.datetime) -> None:
    totals = report.data["totals"]
    services.notify_users(
        readers(),
        kind="case_report",
        params={
            "report": report.kind,
            "from": report.start.isoformat(),
            "to": report.end.isoformat(),
            "created": totals["created"],
            "overdue": totals["overdue"],
        },
        key=f"case-report:{report.pk}",
        subject=report,
        now=now,
    )


# --- the workbook -------------------------------------------------------------------------------

COLUMNS = (
    ("created", "新增"),
    ("dispatched", "派单"),
    ("replied", "答复"),
    ("resolved", "解决"),
    ("response_rate", "响应率"),
    ("resolution_rate", "解决率"),
    ("satisfaction_rate", "满意率"),
    ("overdue", "超期"),
)


def _rate(value: Any) -> Any:
    return "—" if value is None else value


def export_xlsx(report: CaseReport) -> bytes:
    """The report's tables as a workbook: the totals, districts, units and top categories."""
    data = report.data
    header = [label for _key, label in COLUMNS]

    def line(name: str, row: dict[str, Any]) -> list[Any]:
        return [name, *(_rate(row.get(key)) for key, _label in COLUMNS)]

    title = f"{report.get_kind_display()} {report.start} — {report.end}"
    return write_xlsx(
        [
            Sheet("合计", [[title], ["", *header], line("全市", data["totals"])], widths={1: 30}),
            Sheet(
                "分区县",
                [["区县", *header], *(line(r["name"], r) for r in data["districts"])],
                widths={1: 24},
            ),
            Sheet(
                "分单位",
                [["单位", *header], *(line(r["name"], r) for r in data["units"])],
                widths={1: 36},
            ),
            Sheet(
                "热点类别",
                [["类别", "新增"], *([c["name"], c["created"]] for c in data["top_categories"])],
                widths={1: 24},
            ),
        ]
    )
