"""Serializers of the topic API: output shapes, and the inputs of each workflow function."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.models import Case, Category
from cases.selectors import masked_text
from org.models import Region, Unit

from ..models import (
    MAX_WORKDAYS,
    Indicator,
    IndicatorValue,
    PolicyDocument,
    ProgressReport,
    TaskStatus,
    TaskSupervision,
    Topic,
    TopicTask,
    TopicTheme,
)


class TopicUnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "code", "name"]


class TopicNamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TopicCaseSerializer(serializers.ModelSerializer):
    """A case linked to a topic. Its title is masked for every reader: a topic is read by the
    committee and by units that do not handle the case from there (PIPL)."""

    class Meta:
        model = Case
        fields = ["id", "tracking_code", "title", "status"]

    def to_representation(self, case: Case) -> dict[str, Any]:
        data = super().to_representation(case)
        data["title"] = masked_text(data["title"] or "", case=case)
        return data


class TaskSupervisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaskSupervision
        fields = ["id", "note", "created_at"]


class TopicTaskSerializer(serializers.ModelSerializer):
    owner_unit = TopicUnitSerializer()
    is_overdue = serializers.SerializerMethodField()
    supervisions = TaskSupervisionSerializer(many=True)

    class Meta:
        model = TopicTask
        fields = [
            "id",
            "title",
            "area",
            "owner_unit",
            "start_date",
            "deadline",
            "workdays",
            "status",
            "progress",
            "done_on",
            "is_overdue",
            "supervisions",
        ]

    def get_is_overdue(self, task: TopicTask) -> bool:
        return task.is_overdue(timezone.localdate())


class ProgressReportSerializer(serializers.ModelSerializer):
    unit = TopicUnitSerializer()
    author = serializers.SerializerMethodField()

    class Meta:
        model = ProgressReport
        fields = ["id", "week", "done", "problems", "next_steps", "unit", "author", "created_at"]

    def get_author(self, report: ProgressReport) -> str:
        return str(report.author) if report.author else ""


class IndicatorValueSerializer(serializers.ModelSerializer):
    class Meta:
        model = IndicatorValue
        fields = ["id", "date", "value", "note", "created_at"]


class IndicatorSerializer(serializers.ModelSerializer):
    values = IndicatorValueSerializer(many=True)
    percent = serializers.SerializerMethodField()

    class Meta:
        model = Indicator
        fields = [
            "id",
            "name",
            "unit_of_measure",
            "target",
            "actual",
            "actual_on",
            "percent",
            "values",
        ]

    def get_percent(self, indicator: Indicator) -> float | None:
        if not indicator.target or indicator.actual is None:
            return None
        return round(float(indicator.actual / indicator.target * 100), 1)


class PolicyDocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = PolicyDocument
        fields = [
            "id",
            "kind",
            "title",
            "number",
            "issued_on",
            "original_name",
            "content_type",
            "size",
            "created_at",
        ]


class TopicListSerializer(serializers.ModelSerializer):
    lead_unit = TopicUnitSerializer()
    cooperating_units = TopicUnitSerializer(many=True)
    tasks_total = serializers.IntegerField()
    tasks_done = serializers.IntegerField()

    class Meta:
        model = Topic
        fields = [
            "id",
            "title",
            "month",
            "end_month",
            "theme",
            "status",
            "lead_unit",
            "cooperating_units",
            "leader_name",
            "leader_title",
            "adopted_on",
            "closed_at",
            "tasks_total",
            "tasks_done",
        ]


class TopicBoardSerializer(TopicListSerializer):
    """A topic on the 每月一题 board: the list fields, its indicators with their history and
    its latest 周调度 report."""

    indicators = IndicatorSerializer(many=True)
    latest_report = serializers.SerializerMethodField()

    class Meta(TopicListSerializer.Meta):
        fields = [*TopicListSerializer.Meta.fields, "target_date", "indicators", "latest_report"]

    @extend_schema_field(ProgressReportSerializer(allow_null=True))
    def get_latest_report(self, topic: Topic) -> dict | None:
        reports = topic.reports.all()  # prefetched newest first (selectors.board)
        return ProgressReportSerializer(reports[0]).data if reports else None


class TopicDetailSerializer(serializers.ModelSerializer):
    lead_unit = TopicUnitSerializer()
    cooperating_units = TopicUnitSerializer(many=True)
    categories = TopicNamedSerializer(many=True)
    regions = TopicNamedSerializer(many=True)
    cases = TopicCaseSerializer(many=True)
    tasks = TopicTaskSerializer(many=True)
    reports = ProgressReportSerializer(many=True)
    indicators = IndicatorSerializer(many=True)
    documents = PolicyDocumentSerializer(many=True)
    allowed_actions = serializers.SerializerMethodField()
    updatable_tasks = serializers.SerializerMethodField()

    class Meta:
        model = Topic
        fields = [
            "id",
            "title",
            "month",
            "end_month",
            "theme",
            "status",
            "problem",
            "goals",
            "target_date",
            "lead_unit",
            "cooperating_units",
            "leader_name",
            "leader_title",
            "categories",
            "regions",
            "cases",
            "adopted_on",
            "started_at",
            "closed_at",
            "closing_summary",
            "carry_overs",
            "created_at",
            "tasks",
            "reports",
            "indicators",
            "documents",
            "allowed_actions",
            "updatable_tasks",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, topic: Topic) -> list[str]:
        from ..workflow import allowed_actions

        request = self.context.get("request")
        return allowed_actions(request.user, topic) if request else []

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_updatable_tasks(self, topic: Topic) -> list[int]:
        """The tasks whose status and progress the user may record (the lead unit: all; a
        cooperating unit: its own)."""
        from ..workflow import updatable_task_ids

        request = self.context.get("request")
        return updatable_task_ids(request.user, topic) if request else []


# --- inputs -----------------------------------------------------------------------------------


class TopicCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    month = serializers.DateField(help_text=_("所属月份（任一天，按月计）。"))
    end_month = serializers.DateField(required=False, allow_null=True)
    theme = serializers.ChoiceField(choices=TopicTheme.choices)
    problem = serializers.CharField(required=False, allow_blank=True, default="")
    goals = serializers.CharField(required=False, allow_blank=True, default="")
    target_date = serializers.DateField(required=False, allow_null=True)
    lead_unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.filter(is_active=True))
    cooperating_units = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.filter(is_active=True), many=True, required=False, default=list
    )
    leader_name = serializers.CharField(required=False, allow_blank=True, default="")
    leader_title = serializers.CharField(required=False, allow_blank=True, default="")
    categories = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), many=True, required=False, default=list
    )
    regions = serializers.PrimaryKeyRelatedField(
        queryset=Region.objects.all(), many=True, required=False, default=list
    )
    cases = serializers.PrimaryKeyRelatedField(
        queryset=Case.objects.all(), many=True, required=False, default=list
    )


class CandidateAdoptSerializer(TopicCreateSerializer):
    """ "Adopt as topic" from a 未诉先办 candidate: the topic's own fields, and the cluster
    (category × street over the last ``weeks`` weeks) whose cases it is linked to."""

    # None drops an inherited field (DRF's documented idiom); the stubs only know the base type.
    categories = None  # type: ignore[assignment]
    regions = None  # type: ignore[assignment]
    cases = None  # type: ignore[assignment]
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all())
    street = serializers.PrimaryKeyRelatedField(queryset=Region.objects.all())
    weeks = serializers.IntegerField(min_value=1, max_value=26, default=4)


class TopicAdoptSerializer(serializers.Serializer):
    adopted_on = serializers.DateField(help_text=_("常委会会议日期。"))
    note = serializers.CharField(required=False, allow_blank=True, default="")


class TopicStartSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class TopicCloseSerializer(serializers.Serializer):
    summary = serializers.CharField()
    evidence = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, write_only=True
    )


class TopicCarryOverSerializer(serializers.Serializer):
    to_month = serializers.DateField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class TopicTaskCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    area = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    owner_unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.filter(is_active=True))
    start_date = serializers.DateField(required=False, allow_null=True)
    deadline = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Required unless workdays is given (then the target date until a plan is "
        "accepted).",
    )
    position = serializers.IntegerField(required=False, default=0, min_value=0, max_value=32767)
    workdays = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_WORKDAYS
    )


class TopicTaskUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    progress = serializers.IntegerField(required=False, min_value=0, max_value=100)
    deadline = serializers.DateField(required=False)
    workdays = serializers.IntegerField(required=False, min_value=1, max_value=MAX_WORKDAYS)


class PlanAcceptSerializer(serializers.Serializer):
    tasks = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_empty=False,
        max_length=500,
        help_text="The tasks to give their proposed dates; omitted: every task the plan moves.",
    )


class PlannedTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="task.pk")
    title = serializers.CharField(source="task.title")
    owner_unit = TopicUnitSerializer(source="task.owner_unit")
    workdays = serializers.IntegerField(source="task.workdays")
    start_date = serializers.DateField(source="task.start_date", allow_null=True)
    deadline = serializers.DateField(source="task.deadline")
    proposed_start = serializers.DateField(source="start")
    proposed_deadline = serializers.DateField(source="deadline")
    changed = serializers.BooleanField()


class UnplannedTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()


class ScheduleSerializer(serializers.Serializer):
    """倒排工期: the proposal; nothing changes until the lead unit accepts it."""

    target_date = serializers.DateField(source="target", allow_null=True)
    starts_too_late = serializers.BooleanField()
    tasks = PlannedTaskSerializer(source="planned", many=True)
    unplanned = UnplannedTaskSerializer(many=True)


class TaskSuperviseSerializer(serializers.Serializer):
    note = serializers.CharField()


class ProgressReportCreateSerializer(serializers.Serializer):
    week = serializers.DateField(help_text=_("该周任一天；按 ISO 周的星期一保存。"))
    done = serializers.CharField()
    problems = serializers.CharField(required=False, allow_blank=True, default="")
    next_steps = serializers.CharField(required=False, allow_blank=True, default="")


class IndicatorCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    unit_of_measure = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=16
    )
    target = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, allow_null=True
    )
    position = serializers.IntegerField(required=False, default=0, min_value=0, max_value=32767)


class IndicatorValueCreateSerializer(serializers.Serializer):
    value = serializers.DecimalField(max_digits=16, decimal_places=2)
    date = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class PolicyDocumentCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    number = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    issued_on = serializers.DateField(required=False, allow_null=True)
    file = serializers.FileField(write_only=True)


# --- plan (工作计划安排表) ----------------------------------------------------------------


class PlanTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    area = serializers.CharField()
    owner = TopicUnitSerializer(source="owner_unit")
    start = serializers.DateField(source="start_date", allow_null=True)
    deadline = serializers.DateField()
    status = serializers.ChoiceField(choices=TaskStatus.choices)
    progress = serializers.IntegerField()
    is_overdue = serializers.SerializerMethodField()

    def get_is_overdue(self, task: TopicTask) -> bool:
        return task.is_overdue(self.context["today"])


class PlanTopicSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    theme = serializers.ChoiceField(choices=TopicTheme.choices)
    status = serializers.CharField()
    month = serializers.DateField()
    end_month = serializers.DateField(allow_null=True)
    target_date = serializers.DateField(allow_null=True)
    lead_unit = TopicUnitSerializer()
    tasks = PlanTaskSerializer(many=True)


class PlanMonthSerializer(serializers.Serializer):
    month = serializers.DateField()
    topics = PlanTopicSerializer(many=True)


class PlanSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    months = PlanMonthSerializer(many=True)
