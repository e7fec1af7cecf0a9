"""Work-queue filters for ``GET /api/v1/cases/``."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from org.api.filters import IdFilter
from org.models import Region, Unit

from ..models import OPEN_STATUSES, Case, Category, Channel, Stage, Status, SupervisionLevel
from ..selectors import queue_filters, stage_filter

QUEUES = list(queue_filters(timezone.now()))


class CaseFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    stage = django_filters.ChoiceFilter(choices=Stage.choices, method="filter_stage")
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(), method="filter_category", label="category (and below)"
    )
    region = django_filters.ModelChoiceFilter(
        queryset=Region.objects.all(), method="filter_region", label="region (and below)"
    )
    unit = django_filters.ModelChoiceFilter(
        queryset=Unit.objects.all(), method="filter_unit", label="lead or co-handling unit"
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="past its deadline now")
    supervision_level = django_filters.MultipleChoiceFilter(choices=SupervisionLevel.choices)
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    q = django_filters.CharFilter(method="filter_q", label="search (code, title, description)")
    topic = IdFilter(field_name="topics", label="linked to this 每月一题 topic")
    queue = django_filters.ChoiceFilter(
        choices=[(name, name) for name in QUEUES], method="filter_queue", label="workbench tab"
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def filter_queue(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        return queryset.filter(queue_filters(timezone.now())[value]) if value else queryset

    def filter_stage(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        return queryset.filter(stage_filter(value)) if value else queryset

    @extend_schema_field(OpenApiTypes.INT)
    def filter_category(
        self, queryset: QuerySet[Case], name: str, value: Category | None
    ) -> QuerySet[Case]:
        if value is None:
            return queryset
        ids, frontier = {value.pk}, [value.pk]
        while frontier:  # the category tree is two or three levels deep
            frontier = list(
                Category.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            )
            ids.update(frontier)
        return queryset.filter(category_id__in=ids)

    @extend_schema_field(OpenApiTypes.INT)
    def filter_region(
        self, queryset: QuerySet[Case], name: str, value: Region | None
    ) -> QuerySet[Case]:
        return queryset.filter(region__path__startswith=value.path) if value else queryset

    @extend_schema_field(OpenApiTypes.INT)
    def filter_unit(
        self, queryset: QuerySet[Case], name: str, value: Unit | None
    ) -> QuerySet[Case]:
        if value is None:
            return queryset
        co = Case.co_units.through.objects.filter(case=OuterRef("pk"), unit=value)
        return queryset.filter(Q(lead_unit=value) | Q(Exists(co)))

    def filter_overdue(
        self, queryset: QuerySet[Case], name: str, value: bool | None
    ) -> QuerySet[Case]:
        if value is None:
            return queryset
        now = timezone.now()
        late = Q(status=Status.SUBMITTED, accept_by__lt=now) | Q(
            status__in=[Status.DISPATCHED, Status.HANDLING], resolve_by__lt=now
        )
        late &= Q(status__in=OPEN_STATUSES)
        return queryset.filter(late) if value else queryset.exclude(late)

    def filter_q(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        """Chinese full text: ILIKE on title and description, served by pg_trgm GIN indexes on
        PostgreSQL and by a plain scan on SQLite; a tracking code matches exactly."""
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(tracking_code=value.upper())
            | Q(title__icontains=value)
            | Q(description__icontains=value)
        )
