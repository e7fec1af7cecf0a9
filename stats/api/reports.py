"""日报/周报 over HTTP: the published reports for staff, their workbook, and a report written on
demand by the committee (``stats.reports``)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xining_issues.downloads import XLSX_TYPE, private_attachment
from xining_issues.transitions import ERRORS

from .. import reports
from ..models import CaseReport, ReportKind


class ReportSummarySerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    totals = serializers.SerializerMethodField()

    class Meta:
        model = CaseReport
        fields = ["id", "kind", "kind_label", "start", "end", "generated_at", "totals"]

    def get_totals(self, report: CaseReport) -> dict[str, Any]:
        return report.data.get("totals", {})


class ReportSerializer(ReportSummarySerializer):
    class Meta(ReportSummarySerializer.Meta):
        fields = [*ReportSummarySerializer.Meta.fields, "data"]


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    day = serializers.DateField(
        required=False, help_text="A day of the window; default: yesterday, or last week."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        day = attrs.get("day")
        if day is not None and reports.window(attrs["kind"], day)[1] >= timezone.localdate():
            raise serializers.ValidationError({"day": [_("报表只统计已经结束的日期。")]})
        return attrs


class ReportFilter(django_filters.FilterSet):
    class Meta:
        model = CaseReport
        fields = ["kind"]


class ReportViewSet(viewsets.ReadOnlyModelViewSet):
    """日报/周报, newest first; the committee writes one on demand (POST)."""

    filterset_class = ReportFilter

    def get_queryset(self) -> QuerySet[CaseReport]:
        return reports.visible_reports(self.request.user)

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return ReportSerializer if self.action == "retrieve" else ReportSummarySerializer

    @extend_schema(
        summary="Write the 日报 or 周报 of a window that has ended (committee); an existing one "
        "gets fresh figures and is not published again",
        request=ReportRequestSerializer,
        responses={200: ReportSerializer, 201: ReportSerializer, **ERRORS},
    )
    def create(self, request: Request) -> Response:
        if not reports.may_generate(request.user):
            raise PermissionDenied(_("只有常委会和管理员可以生成报表。"))
        given = ReportRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        kind, day = given.validated_data["kind"], given.validated_data.get("day")
        existed = (
            day is not None
            and CaseReport.objects.filter(kind=kind, start=reports.window(kind, day)[0]).exists()
        )
        try:
            report = reports.generate(kind, day=day, refresh=True)
        except ValueError as error:  # a window still running (checked above; a race at midnight)
            raise ValidationError({"day": [str(error)]}) from None
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(ReportSerializer(report).data, status=code)


class ReportExportView(APIView):
    """GET /stats/reports/{id}/export.xlsx: the report's tables as a workbook."""

    @extend_schema(
        summary="The report's tables as an Excel workbook",
        responses={(200, XLSX_TYPE): OpenApiTypes.BINARY, 404: ERRORS[404]},
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        report = get_object_or_404(reports.visible_reports(request.user), pk=pk)
        return private_attachment(
            reports.export_xlsx(report),
            filename=f"report-{report.kind}-{report.start}.xlsx",
            content_type=XLSX_TYPE,
        )
