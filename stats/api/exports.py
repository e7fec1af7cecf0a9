"""Excel exports of the dashboard tables, and Excel/CSV exports of the workbench queues.

``GET /api/v1/stats/export.xlsx`` builds the workbook in the request (small tables);
``POST /api/v1/stats/exports/`` queues the same workbook as a Celery task (``stats.build_export``)
whose progress the owner polls at ``GET /api/v1/stats/exports/{id}/`` and whose file the owner
downloads at ``GET /api/v1/stats/exports/{id}/download/``.

``POST /api/v1/stats/queue-export.{csv,xlsx}?<the case list's query>`` answers a work queue's
file at once, or, for a large queue, queues a job of kind ``queue`` polled and downloaded the
same way.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, cast

from django.conf import settings
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from org.models import User
from xining_issues.downloads import XLSX_TYPE, private_attachment, private_download

from .. import exports, queue_export
from ..models import ExportJob, ExportStatus
from ..tasks import build_export_task
from .views import PERIOD_PARAMETERS, PeriodParams, StatsView

logger = logging.getLogger(__name__)


class ExportParams(PeriodParams):
    max_days = 3 * 366  # a workbook holds a trend by day too: three years at most
    too_long = _("统计区间最长三年。")

    table = serializers.ChoiceField(choices=sorted(exports.TABLES), help_text=_("要导出的表格。"))
    granularity = serializers.ChoiceField(choices=["day", "week", "month"], default="day")
    weeks = serializers.IntegerField(
        min_value=1, max_value=26, required=False, help_text=_("候选议题：最近几周（默认 4）。")
    )
    year = serializers.IntegerField(
        min_value=2000, max_value=2100, required=False, help_text=_("工作计划：年度。")
    )


class StatsExportView(StatsView):
    """The same figures as the JSON endpoints (``stats.dashboards``), scoped to the user."""

    params_class = ExportParams

    @extend_schema(
        summary="导出报表（Excel）：排名、热点分类、趋势、各环节、候选议题、工作计划、指标",
        parameters=[
            OpenApiParameter("table", str, required=True, enum=sorted(exports.TABLES)),
            *PERIOD_PARAMETERS,
            OpenApiParameter("granularity", str, enum=["day", "week", "month"]),
            OpenApiParameter("weeks", int, description="candidates: the last N weeks"),
            OpenApiParameter("year", int, description="plan: the year"),
        ],
        responses={
            (200, XLSX_TYPE): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="bad parameters"),
            403: OpenApiResponse(description="not staff"),
        },
        tags=["stats"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        p = self.params(request)
        title, headers, rows = exports.build_table(request.user, p["table"], p)
        return private_attachment(
            exports.workbook_bytes(title, headers, rows, p),
            filename=exports.filename(p["table"], p),
            content_type=XLSX_TYPE,
        )


# --- background exports -----------------------------------------------------------------------


class ExportJobSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "table",
            "params",
            "status",
            "progress",
            "row_count",
            "error",
            "created_at",
            "finished_at",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_download_url(self, job: ExportJob) -> str | None:
        if job.status != ExportStatus.DONE:
            return None
        return reverse("stats-export-job-download", args=[job.pk])


ERROR_SERIALIZER = inline_serializer(
    "ExportError",
    fields={
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "fields": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField())
        ),
    },
)


class ExportNotReady(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("导出尚未完成，请稍候再下载。")
    default_code = "conflict"


class ExportJobCreateView(StatsView):
    """Queue an export: the parameters are those of ``GET stats/export.xlsx``, in the body."""

    params_class = ExportParams

    def body_params(self, request: Request) -> dict[str, Any]:
        """``StatsView.params`` on the request body instead of the query string."""
        return self.params(request, request.data)

    @extend_schema(
        summary="后台导出报表（Excel）：排队生成，轮询进度后下载",
        request=ExportParams,
        responses={
            202: ExportJobSerializer,
            400: OpenApiResponse(ERROR_SERIALIZER, description="bad parameters"),
            403: OpenApiResponse(ERROR_SERIALIZER, description="not staff"),
            503: OpenApiResponse(ERROR_SERIALIZER, description="task queue unavailable"),
        },
        tags=["stats"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        p = self.body_params(request)
        # The API's default IsAuthenticated let only a signed-in user through, and
        # ``body_params`` refused non-staff: request.user is a real account.
        job = ExportJob.objects.create(
            user=cast(User, request.user), table=p["table"], params=exports.job_params(p)
        )
        return start_job(
            job, _("导出任务队列暂时不可用，请稍后重试，或使用“导出 Excel”直接下载。")
        )


def start_job(job: ExportJob, unavailable: str | Promise) -> Response:
    """Queue ``job`` on ``stats.build_export``: 202 with the job, or 503 with ``unavailable``
    (and the job failed) when the task queue cannot take it."""
    try:
        build_export_task.apply_async(args=[job.pk])
    except Exception:
        logger.exception("could not queue export job %s", job.pk)
        message = str(unavailable)
        job.status = ExportStatus.FAILED
        job.error = message
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        return Response(
            {"code": "unavailable", "message": message, "fields": {}},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    job.refresh_from_db()  # an eager task may have finished it already
    return Response(ExportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ExportJobView(APIView):
    """One background export, visible only to the user who asked for it (404 otherwise)."""

    @extend_schema(
        summary="后台导出的状态与进度",
        responses={200: ExportJobSerializer, 404: OpenApiResponse(ERROR_SERIALIZER)},
        tags=["stats"],
    )
    def get(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(ExportJob, pk=pk, user=request.user)
        return Response(ExportJobSerializer(job).data)


class ExportJobDownloadView(APIView):
    @extend_schema(
        summary="下载后台导出的 Excel 文件",
        responses={
            (200, XLSX_TYPE): OpenApiTypes.BINARY,
            404: OpenApiResponse(ERROR_SERIALIZER, description="no such export of yours"),
            409: OpenApiResponse(ERROR_SERIALIZER, description="not done yet"),
        },
        tags=["stats"],
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        job = get_object_or_404(ExportJob, pk=pk, user=request.user)
        if job.status != ExportStatus.DONE or not job.file:
            raise ExportNotReady
        if job.table == queue_export.KIND:
            file_type = job.params["file_type"]
            return private_download(
                job.file,
                filename=queue_export.filename(file_type, job.params["queue"], job.created_at),
                content_type=queue_export.CONTENT_TYPES[file_type],
            )
        period = {k: dt.date.fromisoformat(job.params[k]) for k in ("from", "to")}
        return private_download(
            job.file, filename=exports.filename(job.table, period), content_type=XLSX_TYPE
        )


# --- work-queue exports (导出工作队列) --------------------------------------------------------


class QueueExportView(APIView):
    """A workbench queue with its filters as Excel or CSV: the rows and masking of
    ``GET /api/v1/cases/`` with the same query string (``stats.queue_export``). A POST, since
    a large queue starts a background job."""

    @extend_schema(
        operation_id="v1_stats_queue_export_create",
        summary="导出工作队列（Excel/CSV）：少量即时下载，大量转为后台导出",
        description=(
            "The query string is that of `GET /api/v1/cases/` (queue, status, category, region, "
            "unit, channel, created_after, created_before, q, …): the file holds exactly the "
            "rows of that list, in its order, masked as the list shows them to the reader. Up "
            "to `QUEUE_EXPORT_SYNC_MAX_ROWS` rows the file is the answer (200); above, a "
            "background export is queued (202) and polled at `stats/exports/{id}/`."
        ),
        parameters=[
            OpenApiParameter("file_type", str, OpenApiParameter.PATH, enum=["csv", "xlsx"]),
            OpenApiParameter("queue", str, description="the workbench tab"),
        ],
        request=None,
        responses={
            (200, XLSX_TYPE): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
            202: ExportJobSerializer,
            400: OpenApiResponse(ERROR_SERIALIZER, description="bad filters"),
            403: OpenApiResponse(ERROR_SERIALIZER, description="no staff role"),
            503: OpenApiResponse(ERROR_SERIALIZER, description="task queue unavailable"),
        },
        tags=["stats"],
    )
    def post(self, request: Request, file_type: str) -> HttpResponse:
        if not queue_export.may_export(request.user):
            raise PermissionDenied(_("只有工作人员可以导出工作队列。"))
        query = request.query_params
        try:
            cases = queue_export.queue_cases(request.user, query)
        except queue_export.BadQuery as exc:
            raise ValidationError(exc.errors) from None
        if cases.count() > settings.QUEUE_EXPORT_SYNC_MAX_ROWS:
            job = ExportJob.objects.create(
                user=cast(User, request.user),
                table=queue_export.KIND,
                params=queue_export.job_params(file_type, query),
            )
            return start_job(job, _("导出任务队列暂时不可用，请稍后重试，或缩小筛选范围。"))
        data = queue_export.file_bytes(file_type, queue_export.rows(request.user, cases))
        return private_attachment(
            data,
            filename=queue_export.filename(file_type, query.get("queue"), timezone.now()),
            content_type=queue_export.CONTENT_TYPES[file_type],
        )
