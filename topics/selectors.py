"""Read queries for topics, scoped to what the user may see.

The committee, supervisors and admins see every topic; staff of the lead or a cooperating unit
see that topic; nobody else sees any (the API answers 404).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from org import jurisdiction
from org.models import Role

from .models import (
    Indicator,
    IndicatorValue,
    ProgressReport,
    TaskStatus,
    Topic,
    TopicStatus,
    TopicTask,
)

READ_ALL_ROLES = (Role.COMMITTEE, Role.SUPERVISOR, Role.ADMIN)


def sees_all(user: Any) -> bool:
    return bool(user.is_authenticated) and jurisdiction.has_role(user, *READ_ALL_ROLES)


def visible_topics(user: Any) -> QuerySet[Topic]:
    """Every topic ``user`` may read."""
    if not user.is_authenticated:
        return Topic.objects.none()
    if sees_all(user):
        return Topic.objects.all()
    units = jurisdiction.unit_ids(user)
    if not units:
        return Topic.objects.none()
    cooperating = Topic.cooperating_units.through.objects.filter(unit_id__in=units).values(
        "topic_id"
    )
    return Topic.objects.filter(Q(lead_unit_id__in=units) | Q(pk__in=cooperating))


def topic_list(user: Any) -> QuerySet[Topic]:
    return (
        visible_topics(user)
        .select_related("lead_unit")
        .prefetch_related("cooperating_units")
        .annotate(
            tasks_total=Count("tasks", distinct=True),
            tasks_done=Count("tasks", filter=Q(tasks__status=TaskStatus.DONE), distinct=True),
        )
    )


def board(user: Any) -> QuerySet[Topic]:
    """每月一题 board: the topics past 候选 with their task counts, indicators with history and
    weekly reports (newest first), in a fixed number of queries for any number of topics."""
    return (
        topic_list(user)
        .exclude(status=TopicStatus.CANDIDATE)
        .prefetch_related(
            Prefetch(
                "indicators",
                queryset=Indicator.objects.prefetch_related(
                    Prefetch("values", queryset=IndicatorValue.objects.order_by("date", "id"))
                ),
            ),
            Prefetch(
                "reports",
                queryset=ProgressReport.objects.select_related("unit", "author").order_by(
                    "-week", "-id"
                ),
            ),
        )
        .order_by("-month", "id")
    )


def topic_detail(user: Any) -> QuerySet[Topic]:
    return (
        visible_topics(user)
        .select_related("lead_unit", "created_by")
        .prefetch_related(
            "cooperating_units",
            "categories",
            "regions",
            Prefetch("cases", queryset=_case_brief()),
            Prefetch(
                "tasks",
                queryset=TopicTask.objects.select_related("owner_unit").prefetch_related(
                    "supervisions"
                ),
            ),
            Prefetch("reports", queryset=ProgressReport.objects.select_related("unit", "author")),
            Prefetch(
                "indicators",
                queryset=Indicator.objects.prefetch_related(
                    Prefetch("values", queryset=IndicatorValue.objects.order_by("date", "id"))
                ),
            ),
            "documents",
        )
    )


def _case_brief() -> QuerySet[Any]:
    from cases.models import Case

    # The complainant's name is read to mask it in the title (TopicCaseSerializer).
    return Case.objects.only("id", "tracking_code", "title", "status", "complainant_name")


def plan(user: Any, year: int) -> list[Topic]:
    """The year's topics (those whose months touch ``year``) with their tasks, for the
    工作计划安排表 / Gantt view."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 1)
    return list(
        visible_topics(user)
        .filter(month__lte=end)
        .filter(Q(month__gte=start) | Q(end_month__gte=start))
        .exclude(status=TopicStatus.CANDIDATE)
        .select_related("lead_unit")
        .prefetch_related(
            Prefetch("tasks", queryset=TopicTask.objects.select_related("owner_unit"))
        )
        .order_by("month", "id")
    )
