"""The topic API (每月一题): list/detail scoped by selectors, one POST action per transition, and
nested writes for the lead unit. Views parse input, call one workflow function and serialize."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import django_filters
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from cases.attachments import IMAGE_TYPES, PDF_TYPE
from org.api.filters import IdFilter
from xining_issues.downloads import private_download
from xining_issues.transitions import ERRORS

from .. import selectors, workflow
from ..models import Indicator, Topic, TopicEventType, TopicStatus, TopicTask, TopicTheme
from . import serializers as s
from .steps import STEPS

E = TopicEventType
DOCUMENT_TYPES = [PDF_TYPE, *sorted(IMAGE_TYPES.values())]


class TopicFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TopicStatus.choices, distinct=False)
    theme = django_filters.MultipleChoiceFilter(choices=TopicTheme.choices, distinct=False)
    lead_unit = IdFilter(field_name="lead_unit_id")
    month_from = django_filters.DateFilter(method="filter_month_from", label=_("起始月份"))
    month_to = django_filters.DateFilter(method="filter_month_to", label=_("截止月份"))

    class Meta:
        model = Topic
        fields = ["status", "theme", "lead_unit"]

    def filter_month_from(self, queryset: QuerySet[Topic], name: str, value: dt.date) -> Any:
        # A topic counts in every month from its first to its last (carried over).
        start = value.replace(day=1)
        return queryset.filter(Q(month__gte=start) | Q(end_month__gte=start))

    def filter_month_to(self, queryset: QuerySet[Topic], name: str, value: dt.date) -> Any:
        return queryset.filter(month__lte=value.replace(day=1))


@STEPS.routes
class TopicViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """每月一题: list, read and propose topics; one POST action per transition; nested writes
    (tasks, weekly reports, indicators, documents) for the lead unit."""

    filterset_class = TopicFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[Topic]:
        if self.action == "list":
            return selectors.topic_list(self.request.user).order_by("-month", "id")
        return selectors.visible_topics(self.request.user)

    def get_serializer_class(self) -> type[Serializer]:
        if self.action == "create":
            return s.TopicCreateSerializer
        if self.action == "list":
            return s.TopicListSerializer
        return s.TopicDetailSerializer

    def detail_response(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        topic = selectors.topic_detail(self.request.user).get(pk=pk)
        return Response(
            s.TopicDetailSerializer(topic, context=self.get_serializer_context()).data, code
        )

    @extend_schema(summary="A topic with its tasks, reports, indicators and documents")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        topic = get_object_or_404(selectors.topic_detail(request.user), pk=kwargs["pk"])
        return Response(s.TopicDetailSerializer(topic, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="提出候选 propose a candidate topic (committee, supervisor, admin)",
        request=s.TopicCreateSerializer,
        responses={201: s.TopicDetailSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        workflow.check_may_create(request.user)  # 403 before 400
        serializer = s.TopicCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        topic = workflow.topic_create(actor=request.user, **serializer.validated_data)
        return self.detail_response(topic.pk, status.HTTP_201_CREATED)

    # --- nested writes of the lead unit ----------------------------------------------------

    def _task(self, topic: Topic, task_id: str | None) -> TopicTask:
        # The URL pattern always captures the id (``\d+``); None is only the view's default.
        task = TopicTask.objects.filter(topic=topic, pk=cast(str, task_id)).first()
        if task is None:
            raise Http404
        return task

    @extend_schema(
        summary=STEPS[E.TASK_UPDATE].summary,
        request=STEPS[E.TASK_UPDATE].input,
        responses={200: s.TopicTaskSerializer, **ERRORS},
        parameters=[OpenApiParameter("task_id", int, OpenApiParameter.PATH)],
    )
    @action(
        detail=True,
        methods=["patch"],
        url_path=r"tasks/(?P<task_id>\d+)",
        url_name="task",
    )
    def task(
        self, request: Request, pk: str | None = None, task_id: str | None = None
    ) -> Response:
        topic = self.get_object()
        task = self._task(topic, task_id)
        workflow.precheck(request.user, topic, E.TASK_UPDATE)
        serializer = s.TopicTaskUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        task = workflow.task_update(task=task, actor=request.user, **serializer.validated_data)
        return Response(s.TopicTaskSerializer(task).data)

    @extend_schema(
        summary="倒排工期 the proposed dates of the open tasks that have a 工期 (a read)",
        responses={200: s.ScheduleSerializer, 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], url_path="schedule", url_name="schedule")
    def schedule(self, request: Request, pk: str | None = None) -> Response:
        return Response(s.ScheduleSerializer(workflow.schedule(self.get_object())).data)

    @extend_schema(
        summary=STEPS[E.TASK_SUPERVISE].summary,
        request=STEPS[E.TASK_SUPERVISE].input,
        responses={201: s.TaskSupervisionSerializer, **ERRORS},
        parameters=[OpenApiParameter("task_id", int, OpenApiParameter.PATH)],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"tasks/(?P<task_id>\d+)/supervise",
        url_name="task-supervise",
    )
    def supervise_task(
        self, request: Request, pk: str | None = None, task_id: str | None = None
    ) -> Response:
        topic = self.get_object()
        task = self._task(topic, task_id)
        workflow.precheck(request.user, topic, E.TASK_SUPERVISE)
        serializer = s.TaskSuperviseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        supervision = workflow.task_supervise(
            task=task, actor=request.user, **serializer.validated_data
        )
        return Response(s.TaskSupervisionSerializer(supervision).data, status.HTTP_201_CREATED)

    @extend_schema(
        summary=STEPS[E.INDICATOR_VALUE].summary,
        request=STEPS[E.INDICATOR_VALUE].input,
        responses={201: s.IndicatorSerializer, **ERRORS},
        parameters=[OpenApiParameter("indicator_id", int, OpenApiParameter.PATH)],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"indicators/(?P<indicator_id>\d+)/values",
        url_name="indicator-values",
    )
    def indicator_values(
        self, request: Request, pk: str | None = None, indicator_id: str | None = None
    ) -> Response:
        topic = self.get_object()
        # The URL pattern always captures the id (``\d+``); None is only the view's default.
        indicator = Indicator.objects.filter(topic=topic, pk=cast(str, indicator_id)).first()
        if indicator is None:
            raise Http404
        workflow.precheck(request.user, topic, E.INDICATOR_VALUE)
        serializer = s.IndicatorValueCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        workflow.indicator_record(
            indicator=indicator, actor=request.user, **serializer.validated_data
        )
        indicator = Indicator.objects.prefetch_related("values").get(pk=indicator.pk)
        return Response(s.IndicatorSerializer(indicator).data, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Download a document (only for those who may see the topic)",
        # A policy document is a PDF; the evidence of 销号 may also be a photo.
        responses={
            **{(200, media): OpenApiTypes.BINARY for media in DOCUMENT_TYPES},
            404: ERRORS[404],
        },
        parameters=[OpenApiParameter("document_id", int, OpenApiParameter.PATH)],
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"documents/(?P<document_id>\d+)",
        url_name="document",
    )
    def document(
        self, request: Request, pk: str | None = None, document_id: str | None = None
    ) -> FileResponse:
        topic = self.get_object()
        document = topic.documents.filter(pk=document_id).first()
        if document is None:
            raise Http404
        return private_download(
            document.file, filename=document.original_name, content_type=document.content_type
        )

    # --- 工作计划安排表 (the year's plan, for a Gantt view) --------------------------------

    @extend_schema(
        summary="每月一题 board: topics past 候选 with task progress, indicators and the latest "
        "weekly report (one request for the whole board)",
        responses=s.TopicBoardSerializer(many=True),
    )
    @action(detail=False, methods=["get"])
    def board(self, request: Request) -> Response:
        queryset = self.filter_queryset(selectors.board(request.user))
        page = self.paginate_queryset(queryset)
        data = s.TopicBoardSerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)

    @extend_schema(
        summary="工作计划安排表: the year's topics by month with their tasks (挂图作战)",
        parameters=[OpenApiParameter("year", int, required=False)],
        responses=s.PlanSerializer,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def plan(self, request: Request) -> Response:
        today = timezone.localdate()
        raw = request.query_params.get("year", str(today.year))
        if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
            raise ValidationError({"year": [_("请填写正确的年份。")]})
        year = int(raw)
        topics = selectors.plan(request.user, year)
        months = []
        for number in range(1, 13):
            month = dt.date(year, number, 1)
            in_month = [t for t in topics if t.month <= month <= t.last_month]
            if in_month:
                months.append({"month": month, "topics": in_month})
        data = s.PlanSerializer(
            {"year": year, "months": months}, context={"today": today, "request": request}
        ).data
        return Response(data)
