"""``GET /api/v1/stats/case-map/``: the staff case map (案件地图), open or overdue cases counted
per grid cell on the server.

A city has hundreds of thousands of cases; a browser drawing each as a point would stall, and
sending them would expose every location to the page at once. So the database groups them:
one ``GROUP BY`` of the cases' coordinates rounded down to a cell whose size follows the
extent asked for (``bbox``), at most ``GRID`` × ``GRID`` cells, whatever the number of cases.
Each cell comes back as ``[lng, lat, count, overdue, id]``: the mean position of its cases, so
that a cell of one case sits exactly on it, and that case's id (``null`` for a larger cell),
so that the map can open it.

Scoped as the other dashboard figures are (``stats.dashboards.case_scope_q``): the area roles
see their jurisdiction, handlers their units' cases; residents get 403. Only open cases, and
only those with coordinates, are counted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db import connections, transaction
from django.db.models import Avg, Count, FloatField, Min, Q, QuerySet, Value
from django.db.models.functions import Cast, Floor
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.serializers import check_calendar
from cases.models import OPEN_STATUSES, Case, Category
from cases.selectors import queue_filters
from xining_issues.db_router import ReplicaReadMixin

from .. import dashboards

# Xining's extent (adcode 630100, the packaged district outlines) with a small margin: the
# default ``bbox``, and the limit of any other, so that the cell size stays meaningful.
CITY_BBOX = (100.85, 36.22, 101.93, 37.48)
# At most GRID cells along the longer side of the extent: (GRID + 1)² cells at most, a few
# thousand points for the browser however many cases there are.
GRID = 48
# The cell sizes, in degrees, from about 55 m (0.0005° of latitude) doubling up to the whole
# city: a ladder rather than any size, so that panning a little keeps the same cells.
CELL_SIZES = tuple(0.0005 * 2**k for k in range(13))


def cell_size(bbox: tuple[float, float, float, float]) -> float:
    """The smallest cell of the ladder that covers ``bbox`` in at most ``GRID`` cells a side."""
    span = max(bbox[2] - bbox[0], bbox[3] - bbox[1])
    return next((size for size in CELL_SIZES if span / size <= GRID), CELL_SIZES[-1])


def category_q(category: Category | None) -> Q:
    """The category and its sub-categories (a subquery in the same statement)."""
    if category is None:
        return Q()
    return Q(category_id=category.pk) | Q(
        category_id__in=Category.objects.filter(parent_id=category.pk).values("pk")
    )


def mapped_cases(
    scope: Q,
    *,
    bbox: tuple[float, float, float, float],
    status: str,
    category: Category | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    now: dt.datetime,
) -> QuerySet[Case]:
    """The open cases in ``scope`` with a location inside ``bbox``; ``status`` "overdue" keeps
    the late ones; ``start``/``end`` (local days, inclusive) filter by submission."""
    west, south, east, north = bbox
    cases = Case.objects.filter(
        scope,
        category_q(category),
        status__in=OPEN_STATUSES,
        lng__gte=west,
        lng__lte=east,
        lat__gte=south,
        lat__lte=north,
    )
    if status == "overdue":
        cases = cases.filter(queue_filters(now)["overdue"])
    zone = timezone.get_current_timezone()
    if start is not None:
        cases = cases.filter(created_at__gte=dt.datetime.combine(start, dt.time.min, zone))
    if end is not None:
        next_day = end + dt.timedelta(days=1)
        cases = cases.filter(created_at__lt=dt.datetime.combine(next_day, dt.time.min, zone))
    return cases


def grid_query(cases: QuerySet[Case], size: float, now: dt.datetime) -> QuerySet[Any]:
    """One row per non-empty cell of ``size`` degrees: (mean lng, mean lat, count, overdue,
    smallest id).

    The coordinates are cast to float8 before the arithmetic: PostgreSQL's numeric division is
    several times slower, and six decimals of a degree lose nothing in a float."""
    lng = Cast("lng", FloatField())
    lat = Cast("lat", FloatField())
    return (
        cases.order_by()
        .annotate(gx=Floor(lng / Value(size)), gy=Floor(lat / Value(size)))
        .values("gx", "gy")
        .annotate(
            n=Count("pk"),
            late=Count("pk", filter=queue_filters(now)["overdue"]),
            mean_lng=Avg(lng),
            mean_lat=Avg(lat),
            first=Min("pk"),
        )
        .values_list("mean_lng", "mean_lat", "n", "late", "first")
    )


def grid_cells(cases: QuerySet[Case], size: float, now: dt.datetime) -> list[list[Any]]:
    """``[lng, lat, count, overdue, id]`` per non-empty cell, ``id`` only for a single case.

    PostgreSQL cannot know how few cells the rounded coordinates make (it guesses one per
    case), so with the default 4 MB of ``work_mem`` it sorts 100,000 rows on disk to group
    them; given room for the hash table it groups them in memory instead, a third faster
    (``bench_case_map``). The setting is local to this query's transaction, on whichever
    database (primary or replica) the router gave the read to."""
    alias = cases.db
    with grouping_memory(alias):
        return _cells(grid_query(cases, size, now).using(alias))


@contextlib.contextmanager
def grouping_memory(alias: str) -> Iterator[None]:
    """A transaction on ``alias`` with room to group the cells in memory (PostgreSQL)."""
    if connections[alias].vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '32MB'")
        yield


def _cells(rows: QuerySet[Any]) -> list[list[Any]]:
    return [
        [round(x, 6), round(y, 6), n, late, first if n == 1 else None]
        for x, y, n, late, first in rows
    ]


# --- the endpoint ------------------------------------------------------------------------------


class CaseMapParams(serializers.Serializer):
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, help_text=_("分类 id（含下级分类）。")
    )
    from_ = serializers.DateField(required=False, help_text=_("提交日期起（含）。"))
    to = serializers.DateField(required=False, help_text=_("提交日期止（含）。"))
    status = serializers.ChoiceField(choices=["open", "overdue"], default="open")
    bbox = serializers.CharField(required=False, help_text=_("范围：西,南,东,北（经纬度）。"))

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields

    def validate_bbox(self, value: str) -> tuple[float, float, float, float]:
        message = _("范围须为“西,南,东,北”四个经纬度数值，且在西宁市范围内。")
        try:
            west, south, east, north = (float(part) for part in value.split(","))
        except ValueError as exc:
            raise serializers.ValidationError(message) from exc
        city_w, city_s, city_e, city_n = CITY_BBOX
        # Clipped to the city: an extent panned past its edge still gets the city's cells.
        bbox = (max(west, city_w), max(south, city_s), min(east, city_e), min(north, city_n))
        if not (bbox[0] < bbox[2] and bbox[1] < bbox[3]):  # also false for NaN
            raise serializers.ValidationError(message)
        return bbox

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_calendar(attrs, "from", "to")
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"from": _("起始日期不能晚于截止日期。")})
        attrs.setdefault("bbox", CITY_BBOX)
        return attrs


CaseMapSerializer = inline_serializer(
    "StatsCaseMap",
    fields={
        "bbox": serializers.ListField(child=serializers.FloatField()),
        "cell": serializers.FloatField(help_text="cell size in degrees"),
        "status": serializers.CharField(),
        "total": serializers.IntegerField(),
        "overdue": serializers.IntegerField(),
        "cells": serializers.ListField(
            child=serializers.ListField(),
            help_text="[lng, lat, count, overdue, id]; id is null unless count is 1",
        ),
    },
)


class CaseMapView(ReplicaReadMixin, APIView):
    """案件地图: the open (or overdue) cases the user may see, summed by grid cell."""

    @extend_schema(
        summary="案件地图：在办或超期诉求按网格汇总的位置（经度、纬度、件数、超期、单件 id）",
        parameters=[
            OpenApiParameter("category", int, description="分类 id，含下级分类"),
            OpenApiParameter("from", dt.date, description="提交日期起（含）"),
            OpenApiParameter("to", dt.date, description="提交日期止（含）"),
            OpenApiParameter("status", str, enum=["open", "overdue"], description="默认 open"),
            OpenApiParameter("bbox", str, description="west,south,east,north；默认西宁市全域"),
        ],
        responses=CaseMapSerializer,
        tags=["stats"],
    )
    def get(self, request: Request) -> Response:
        try:
            scope = dashboards.case_scope_q(request.user)
        except dashboards.NotStaff as exc:
            raise PermissionDenied(_("统计数据仅对工作人员开放。")) from exc
        params = CaseMapParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        p = params.validated_data
        now = timezone.now()
        size = cell_size(p["bbox"])
        cases = mapped_cases(
            scope,
            bbox=p["bbox"],
            status=p["status"],
            category=p.get("category"),
            start=p.get("from"),
            end=p.get("to"),
            now=now,
        )
        cells = grid_cells(cases, size, now)
        return Response(
            {
                "bbox": list(p["bbox"]),
                "cell": size,
                "status": p["status"],
                "total": sum(c[2] for c in cells),
                "overdue": sum(c[3] for c in cells),
                "cells": cells,
            }
        )
