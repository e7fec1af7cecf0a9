"""GET /api/v1/stats/export.xlsx: a dashboard table as an Excel workbook."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request

from .. import exports
from .stats_views import PERIOD_PARAMETERS, PeriodParams, StatsView


class ExportParams(PeriodParams):
    table = serializers.ChoiceField(choices=sorted(exports.TABLES), help_text=_("要导出的表格。"))
    granularity = serializers.ChoiceField(choices=["day", "week", "month"], default="day")


class StatsExportView(StatsView):
    """The same figures as the JSON endpoints (``topics.stats``), scoped to the user."""

    params_class = ExportParams

    @extend_schema(
        summary="导出报表：排名、热点分类或趋势（Excel）",
        parameters=[
            OpenApiParameter("table", str, required=True, enum=sorted(exports.TABLES)),
            *PERIOD_PARAMETERS,
            OpenApiParameter("granularity", str, enum=["day", "week", "month"]),
        ],
        responses={
            (200, exports.XLSX_TYPE): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="bad parameters"),
            403: OpenApiResponse(description="not staff"),
        },
        tags=["stats"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        p = self.params(request)
        title, headers, rows = exports.build_table(request.user, p["table"], p)
        response = HttpResponse(
            exports.workbook_bytes(title, headers, rows, p), content_type=exports.XLSX_TYPE
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{exports.filename(p["table"], p)}"'
        )
        response["Cache-Control"] = "private, no-store"
        return response
