"""Admin: read-mostly. Status and nested rows change only through ``topics.workflow``.

What the committee has concluded is not rewritten here: a closed topic (销号) is read-only and
cannot be deleted; nor can the documents and indicator readings of a closed topic (the
evidence it was closed on). The bulletin (月通报) has its admin in ``stats.admin``.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from xining_issues.admin import ReadOnlyAdmin

from .models import (
    Indicator,
    IndicatorValue,
    PolicyDocument,
    ProgressReport,
    Topic,
    TopicEvent,
    TopicStatus,
    TopicTask,
)


def _closed(topic: Topic) -> bool:
    return topic.status == TopicStatus.CLOSED


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class TaskInline(ReadOnlyInline):
    model = TopicTask
    fields = ["title", "owner_unit", "start_date", "deadline", "status", "progress"]


class IndicatorInline(ReadOnlyInline):
    model = Indicator
    fields = ["name", "unit_of_measure", "target", "actual", "actual_on"]


class ReportInline(ReadOnlyInline):
    model = ProgressReport
    fields = ["week", "done", "problems", "next_steps"]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["title", "month", "theme", "status", "lead_unit", "leader_name"]
    list_filter = ["status", "theme"]
    search_fields = ["title", "problem"]
    autocomplete_fields = ["lead_unit", "cooperating_units", "regions", "categories"]
    raw_id_fields = ["cases"]
    readonly_fields = [
        "status",
        "adopted_on",
        "started_at",
        "closed_at",
        "closing_summary",
        "carry_overs",
        "created_by",
    ]
    inlines = [TaskInline, IndicatorInline, ReportInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # proposed through the API so that the event is written

    def has_change_permission(self, request: HttpRequest, obj: Topic | None = None) -> bool:
        # 销号 is final: the closed topic is the record of what was done (view only).
        if obj is not None and _closed(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Topic | None = None) -> bool:
        return False  # a topic has a timeline of events; it is closed or carried over instead


@admin.register(TopicEvent)
class TopicEventAdmin(ReadOnlyAdmin):
    list_display = ["topic", "type", "actor", "from_status", "to_status", "created_at"]
    list_filter = ["type"]


@admin.register(IndicatorValue)
class IndicatorValueAdmin(admin.ModelAdmin):
    list_display = ["indicator", "date", "value"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: IndicatorValue | None = None
    ) -> bool:
        if obj is not None and _closed(obj.indicator.topic):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "number", "issued_on", "kind", "topic"]
    exclude = ["file"]
    readonly_fields = ["original_name", "content_type", "size", "sha256", "uploaded_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: PolicyDocument | None = None
    ) -> bool:
        if obj is not None and _closed(obj.topic):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(
        self, request: HttpRequest, obj: PolicyDocument | None = None
    ) -> bool:
        if obj is not None and _closed(obj.topic):
            return False
        return super().has_delete_permission(request, obj)
