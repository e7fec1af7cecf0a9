"""报: the dashboard figures, read from the ``CaseDayStat`` rollup (see ``stats.rollup``) or,
where a query needs fewer dimensions, from one of its narrow projections (``stats.models``):
per district, street, unit, district × category or street × category. ``Rows`` picks the
narrowest table that has every column a query filters and groups by, so a trend of the city
reads a few rows per day instead of one per community × category × unit.

Each function does a fixed number of queries, whatever the amount of data. They sum rollup
rows and never group the whole cases table. Only the current open counts per stage and the
overdue count come from the cases table: filtered COUNTs, limited to open statuses, which use
the (status, …) indexes. The topic candidates (未诉先办) are in ``stats.candidates``.

A period is [start, end] in whole local days. A rollup row counts in it when
``since >= start`` and ``day <= end``. The whole months of a period are read from the month
rows (``Rows``).

Over 500 lines on purpose: every dashboard figure (overview, trend, rankings by unit, district,
street or 社区分类, the month's summary) sits beside ``Rows`` and the scope filters it depends on,
so a change to how a period or a scope is read is made and reviewed in one place.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import OPEN_STATUSES, Case, Category, Stage
from cases.selectors import queue_filters, stage_filter
from org import jurisdiction
from org.models import Region, RegionClass, RegionLevel, Role, path_ids

from .models import COUNTERS
from .projections import Source, narrowest, q_fields

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from org.models import User

AREA_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.COMMITTEE, Role.ADMIN)
SUMS = {name: Sum(name) for name in COUNTERS}
# The column that holds a region of each level on the rollup (and on Case).
LEVEL_FIELD = {
    RegionLevel.DISTRICT: "district_id",
    RegionLevel.STREET: "street_id",
    RegionLevel.COMMUNITY: "region_id",
}


class NotStaff(Exception):
    """The user holds no staff role: statistics are not for residents."""


# --- scope -----------------------------------------------------------------------------------


def _path_q(path: str) -> Q:
    """Rows in the subtree whose root has this materialised path, without a join."""
    ids = path_ids(path)
    field = LEVEL_FIELD.get(len(ids))  # type: ignore[call-overload]
    return Q() if field is None else Q(**{field: ids[-1]})


def scope_q(user: User | AnonymousUser, unit_field: str = "unit_key") -> Q:
    """The rollup rows (or cases: the region columns have the same names) ``user`` may count.

    The area roles see their jurisdiction's region subtree and handlers see their own units
    (``unit_field``: the rollup's ``unit_key``, the cases' ``lead_unit_id``). A superuser sees
    everything. Anyone else raises ``NotStaff``.
    """
    if not user.is_authenticated:
        raise NotStaff
    if user.is_superuser:
        return Q()
    roots = jurisdiction.region_paths(user, *AREA_ROLES)
    units = jurisdiction.unit_ids(user, Role.HANDLER)
    if not roots and not units:
        raise NotStaff
    condition = Q(pk__in=[])
    for root in roots:
        subtree = _path_q(root)
        if not subtree:  # the whole city (an empty Q would vanish from the OR)
            return Q()
        condition |= subtree
    if units:
        condition |= Q(**{f"{unit_field}__in": sorted(units)})
    return condition


def case_scope_q(user: User | AnonymousUser) -> Q:
    """``scope_q`` for the cases table (a handler's units are the lead unit there)."""
    return scope_q(user, "lead_unit_id")


def region_q(region: Region | None) -> Q:
    return Q() if region is None else _path_q(region.path)


def class_q(region_class: RegionClass | None) -> Q:
    """The rollup rows (or cases) of communities of one class (社区分类). The rollup is keyed
    by the community (``region``), not by its class, so a class is a join to the region
    table: an admin who reclassifies a community reclassifies its past figures too, and no
    rollup row has to be rewritten."""
    return Q() if region_class is None else Q(region__region_class=region_class)


def period_q(start: dt.date, end: dt.date) -> Q:
    return Q(day__gte=start, day__lte=end, since__gte=start)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


class Rows:
    """The rollup rows of a period, read as one to three querysets with the same columns.

    The whole months of the period come from the month table; the days before the first
    whole month (the head) and after the last one (the tail) come from the day table. The
    three parts split the day rows with ``since >= start`` and ``day <= end`` without overlap:
    head ``since < first``; months ``since >= first`` and ``day < after``; tail
    ``since >= first`` and ``day >= after``. So a year reads twelve months of month rows and
    at most two months of day rows, whatever the number of cases.

    Which pair of tables is chosen when the rows are read (``parts``): the narrowest projection
    of the rollup that has every column the filters and the grouping name
    (``stats.projections.narrowest``; the wide ``CaseDayStat`` / ``CaseMonthStat`` when none
    has them). Filters are kept as ``Q`` objects until then.
    """

    def __init__(
        self,
        start: dt.date,
        end: dt.date,
        *,
        months: bool = True,
        conditions: tuple[Q, ...] = (),
        source: Source | None = None,
    ) -> None:
        self.start, self.end, self.months = start, end, months
        self.conditions = conditions
        self.source = source

    @classmethod
    def of(
        cls, start: dt.date, end: dt.date, *, months: bool = True, source: Source | None = None
    ) -> Rows:
        """The rows of [start, end]; ``source`` forces a table pair (default: the narrowest
        that can answer)."""
        return cls(start, end, months=months, source=source)

    def filter(self, *args: Any, **kwargs: Any) -> Rows:
        return self._with(Q(*args, **kwargs))

    def exclude(self, *args: Any, **kwargs: Any) -> Rows:
        return self._with(~Q(*args, **kwargs))

    def _with(self, condition: Q) -> Rows:
        return Rows(
            self.start,
            self.end,
            months=self.months,
            conditions=(*self.conditions, condition),
            source=self.source,
        )

    def source_for(self, *fields: str) -> Source:
        """The table pair that holds ``fields`` and every column the filters name."""
        if self.source is not None:
            return self.source
        named = set(fields)
        for condition in self.conditions:
            named |= q_fields(condition)
        return narrowest(named)

    def parts(self, *fields: str) -> list[QuerySet[Any]]:
        """The querysets of the period, filtered, on the table pair that holds ``fields``."""
        source = self.source_for(*fields)
        day_stat, month_stat = source.day._default_manager, source.month._default_manager
        start, end = self.start, self.end
        first = start if start.day == 1 else next_month(start)  # the first whole month
        following = end + dt.timedelta(days=1)
        # The day after the last whole month: the month of ``end`` is whole when it ends there.
        after = following if following.day == 1 else end.replace(day=1)
        # ``day >= since`` always; the redundant lower bounds on ``day`` let the (day, since, …)
        # key bound the index scan, which would otherwise start at the first day of history.
        if not self.months or first >= after:
            parts: list[QuerySet[Any]] = [day_stat.filter(period_q(start, end))]
        else:
            parts = [month_stat.filter(since__gte=first, day__gte=first, day__lt=after)]
            if start < first:
                parts.append(
                    day_stat.filter(
                        since__gte=start, since__lt=first, day__gte=start, day__lte=end
                    )
                )
            if after <= end:
                parts.append(day_stat.filter(since__gte=first, day__gte=after, day__lte=end))
        return [part.filter(*self.conditions) for part in parts]


def rows(
    user: User | AnonymousUser,
    start: dt.date,
    end: dt.date,
    region: Region | None = None,
    *,
    months: bool = True,
    region_class: RegionClass | None = None,
) -> Rows:
    """The rollup rows of the period that the user may count, within ``region`` and, given
    ``region_class``, in its communities. With ``months=False`` every row is a day row (to
    bucket them by day or week)."""
    return Rows.of(start, end, months=months).filter(
        scope_q(user) & region_q(region) & class_q(region_class)
    )


# --- rates -----------------------------------------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def weights(overrides: dict[str, float | None] | None = None) -> dict[str, float]:
    """The composite score's weights: settings.STATS_SCORE_WEIGHTS, then the overrides."""
    result = dict(settings.STATS_SCORE_WEIGHTS)
    for name, value in (overrides or {}).items():
        if value is not None:
            result[name] = float(value)
    return result


def with_rates(counts: dict[str, Any], w: dict[str, float]) -> dict[str, Any]:
    """Counters plus 响应率 / 解决率 / 满意率 and the composite score (0–100). The score is a
    weighted mean of the rates that exist, so a unit with no evaluations yet is scored on the
    other two rates."""
    # Counters (int), then the rates and the score (float, or None when undefined).
    out: dict[str, Any] = {name: int(counts.get(name) or 0) for name in COUNTERS}
    rates = {
        "response": _share(out["responded"], out["dispatched"]),
        "resolution": _share(out["resolved"], out["replied"]),
        "satisfaction": _share(out["satisfied"], out["evaluated"]),
    }
    out["response_rate"] = rates["response"]
    out["resolution_rate"] = rates["resolution"]
    out["satisfaction_rate"] = rates["satisfaction"]
    total = sum(w[k] for k, r in rates.items() if r is not None)
    out["score"] = (
        round(100 * sum(w[k] * r for k, r in rates.items() if r is not None) / total, 2)
        if total
        else None
    )
    return out


def grouped(qs: Rows, *fields: str) -> list[dict[str, Any]]:
    """Sums of the counters per value of ``fields`` (one GROUP BY over the rollup rows of each
    part, merged), ordered by ``fields``."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for part in qs.parts(*fields):
        for r in part.values(*fields).annotate(**SUMS).order_by():
            acc = merged.setdefault(
                tuple(r[f] for f in fields),
                {**{f: r[f] for f in fields}, **dict.fromkeys(COUNTERS, 0)},
            )
            for name in COUNTERS:
                acc[name] += r[name] or 0
    return [merged[key] for key in sorted(merged, key=_sort_key)]


def _sort_key(key: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
    return tuple((value is None, value) for value in key)


def totals(qs: Rows) -> dict[str, int]:
    out = dict.fromkeys(COUNTERS, 0)
    for part in qs.parts():
        agg = part.aggregate(**SUMS)
        for name in COUNTERS:
            out[name] += int(agg[name] or 0)
    return out


def _hot(by_category: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The categories with the most new cases (ties by id)."""
    hot = sorted(
        (r for r in by_category if r["created"] > 0),
        key=lambda r: (-r["created"], r["category_id"]),
    )
    return [
        {"id": r["category_id"], "name": r["category__name"], "created": r["created"]}
        for r in hot[:limit]
    ]


# --- the dashboard ---------------------------------------------------------------------------


def overview(
    user: User | AnonymousUser,
    start: dt.date,
    end: dt.date,
    region: Region | None = None,
    w: dict[str, float] | None = None,
    now: dt.datetime | None = None,
    *,
    region_class: RegionClass | None = None,
) -> dict[str, Any]:
    now = now or timezone.now()
    w = w or weights()
    qs = rows(user, start, end, region, region_class=region_class)
    cases = Case.objects.filter(
        case_scope_q(user) & region_q(region) & class_q(region_class),
        status__in=OPEN_STATUSES,
    )
    stage_counts = {
        stage.value: Count("pk", filter=stage_filter(stage))
        for stage in Stage
        if stage != Stage.REPORT
    }
    # 报 among open cases: evaluated and waiting to be archived.
    stage_counts[Stage.REPORT.value] = Count("pk", filter=Q(status="evaluated"))
    live = cases.aggregate(
        open=Count("pk"), overdue=Count("pk", filter=queue_filters(now)["overdue"]), **stage_counts
    )
    # One GROUP BY per part gives the totals, the hot categories and the districts.
    cells = grouped(qs, "district_id", "category_id")
    summary = with_rates({name: sum(c[name] for c in cells) for name in COUNTERS}, w)
    names = dict(
        Region.objects.filter(pk__in={c["district_id"] for c in cells}).values_list("pk", "name")
    )
    categories = dict(
        Category.objects.filter(pk__in={c["category_id"] for c in cells}).values_list("pk", "name")
    )
    hot = _hot(
        [
            {"category_id": key, "category__name": categories.get(key), **counts}
            for key, counts in sum_by(cells, "category_id").items()
        ],
        10,
    )
    districts = [
        {"id": key, "name": names.get(key), **with_rates(counts, w)}
        for key, counts in sorted(sum_by(cells, "district_id").items())
    ]
    return {
        "period": {"from": start, "to": end},
        "stages": [
            {"stage": stage.value, "label": str(stage.label), "count": live[stage.value] or 0}
            for stage in Stage
        ],
        "open": live["open"] or 0,
        "overdue": live["overdue"] or 0,
        "totals": summary,
        "weights": w,
        "hot_categories": hot,
        "districts": districts,
    }


def buckets(start: dt.date, end: dt.date, granularity: str) -> list[tuple[dt.date, dt.date]]:
    """The [first, last] days of each day / ISO week / month bucket that meets the period,
    clipped to it."""
    out: list[tuple[dt.date, dt.date]] = []
    day = start
    while day <= end:
        if granularity == "week":
            last = day + dt.timedelta(days=6 - day.weekday())
        elif granularity == "month":
            last = next_month(day) - dt.timedelta(days=1)
        else:
            last = day
        last = min(last, end)
        out.append((day, last))
        day = last + dt.timedelta(days=1)
    return out


def trend(
    user: User | AnonymousUser,
    start: dt.date,
    end: dt.date,
    granularity: str = "day",
    region: Region | None = None,
    w: dict[str, float] | None = None,
    *,
    region_class: RegionClass | None = None,
) -> list[dict[str, Any]]:
    """New vs closed and the three rates per bucket. A row counts in a bucket when both its
    ``since`` and its ``day`` lie in it (the same rule as for a whole period)."""
    w = w or weights()
    spans = buckets(start, end, granularity)
    firsts = [first for first, _last in spans]
    sums: list[dict[str, int]] = [defaultdict(int) for _ in spans]  # type: ignore[misc]
    # Day and week buckets need the day rows; month buckets can read the month rows.
    source = rows(
        user, start, end, region, months=granularity == "month", region_class=region_class
    )
    if granularity == "month":
        cells = grouped(source, "day", "since")
    elif granularity == "week":
        # Only rows that start in their day's ISO week can count, and the database sums them
        # per week (a bucket is a week clipped to the period, and ``since >= start`` already).
        cells = [
            {**r, "day": max(r["week"], start), "since": max(r["week"], start)}
            for part in source.filter(since__gte=TruncWeek("day")).parts("day")
            for r in part.annotate(week=TruncWeek("day"))
            .values("week")
            .annotate(**SUMS)
            .order_by()
        ]
    else:
        # A row counts in a day's bucket only when it starts that day.
        cells = grouped(source.filter(since=F("day")), "day", "since")
    for r in cells:
        i = bisect.bisect_right(firsts, r["day"]) - 1
        if r["since"] < firsts[i]:
            continue
        for name in COUNTERS:
            sums[i][name] += r[name] or 0
    return [
        {"start": first, "end": last, **with_rates(s, w)}
        for (first, last), s in zip(spans, sums, strict=True)
    ]


RANK_FIELDS = {
    "unit": ("unit_key", "unit__name"),
    "district": ("district_id", "district__name"),
    "street": ("street_id", "street__name"),
    # 按社区分类: the community's class, joined from the region table (see ``class_q``).
    "region_class": ("region__region_class_id", "region__region_class__name"),
}


def rankings(
    user: User | AnonymousUser,
    start: dt.date,
    end: dt.date,
    by: str = "unit",
    region: Region | None = None,
    w: dict[str, float] | None = None,
    *,
    region_class: RegionClass | None = None,
) -> list[dict[str, Any]]:
    """Units, districts, streets or community classes ranked by composite score (ties by
    volume, then name). By class, the communities without one make the row 未分类 (id null)."""
    w = w or weights()
    key, name = RANK_FIELDS[by]
    qs = rows(user, start, end, region, region_class=region_class)
    if by == "unit":
        qs = qs.exclude(unit_key=0)
    result = [
        {"id": r[key], "name": r[name] or _row_name(by, r[key]), **with_rates(r, w)}
        for r in grouped(qs, key, name)
    ]
    result = [r for r in result if any(r[c] for c in COUNTERS)]
    result.sort(
        key=lambda r: (r["score"] is None, -(r["score"] or 0), -r["dispatched"], r["name"])
    )
    rank = 0
    previous: object = object()
    for position, r in enumerate(result, start=1):
        if r["score"] != previous:
            rank = position
            previous = r["score"]
        r["rank"] = rank if r["score"] is not None else None
    return result


def _row_name(by: str, key: Any) -> str:
    """The name of a ranking row that has none: the communities without a class."""
    return _("未分类") if by == "region_class" and key is None else ""


def month_summary(month: dt.date) -> dict[str, Any]:
    """The month's figures for the monthly bulletin (月通报), city-wide: totals, the three
    rates, the top categories and the five worst-ranked units (with ≥ 5 dispatched cases)."""
    start = month.replace(day=1)
    end = next_month(start) - dt.timedelta(days=1)
    w = weights()
    qs = Rows.of(start, end)
    top = _hot(grouped(qs, "category_id", "category__name"), 5)
    units = [
        {"id": r["unit_key"], "name": r["unit__name"] or "", **with_rates(r, w)}
        for r in grouped(qs.exclude(unit_key=0), "unit_key", "unit__name")
    ]
    ranked = [u for u in units if u["score"] is not None and u["dispatched"] >= 5]
    ranked.sort(key=lambda u: (u["score"], -u["dispatched"], u["name"]))
    return {
        "month": start,
        "from": start,
        "to": end,
        "totals": with_rates(totals(qs), w),
        "top_categories": top,
        "worst_units": ranked[:5],
    }


def sum_by(items: Iterable[dict[str, Any]], key: str) -> dict[Any, dict[str, int]]:
    """Counters summed per ``key`` (tests and the candidates use it)."""
    out: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for item in items:
        acc = out[item[key]]
        for name in COUNTERS:
            acc[name] += item.get(name) or 0
    return dict(out)
