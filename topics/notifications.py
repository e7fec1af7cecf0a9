"""What each topic event, and the topics' two beat jobs, tell whom (the 每月一题 side of the
notifications; ``notifications.services`` writes and sends).

* 提出候选 (a topic is proposed): the standing committee (常委会), who decide on it.
* a task past its deadline: the handlers of the lead unit and of the task's owner unit, once
  per task and deadline (a deadline moved and missed again is told again).
* the week's 周调度 not filed by Friday: the lead unit's handlers, once per topic and week.

Each message is keyed so that a job run twice, or two beat processes, tell nobody twice.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from notifications import services
from org import jurisdiction
from org.models import Role, User

from .models import ProgressReport, TaskStatus, Topic, TopicEvent, TopicEventType, TopicStatus
from .models import TopicTask as Task

# The topics whose work is followed: adopted and not yet closed.
FOLLOWED = (TopicStatus.ADOPTED, TopicStatus.IN_PROGRESS, TopicStatus.CARRIED_OVER)
# The topics that owe a 周调度: started and not closed.
REPORTING = (TopicStatus.IN_PROGRESS, TopicStatus.CARRIED_OVER)


def on_event(event: TopicEvent) -> None:
    """The messages a topic event sends (inside the event's transaction)."""
    if event.type == TopicEventType.CREATE:
        topic = event.topic
        committee = User.objects.filter(memberships__role=Role.COMMITTEE).distinct()
        services.notify_users(
            committee,
            kind="topic_proposed",
            params={"title": topic.title, "month": f"{topic.month:%Y-%m}"},
            key=f"topic-event:{event.pk}",
            subject=topic,
            now=event.created_at,
        )


def tell_late_tasks(today: dt.date | None = None) -> int:
    """Tell each late task of a followed topic to its lead and owner units; returns how many
    tasks were late. Only the open topics' unfinished tasks are read: a few dozen rows."""
    today = today or timezone.localdate()
    late = list(
        Task.objects.filter(topic__status__in=FOLLOWED, deadline__lt=today)
        .exclude(status=TaskStatus.DONE)
        .select_related("topic")
        .order_by("pk")
    )
    handlers = jurisdiction.handlers_by_unit(
        {t.topic.lead_unit_id for t in late} | {t.owner_unit_id for t in late}
    )
    now = timezone.now()
    for task in late:
        users = handlers.get(task.topic.lead_unit_id, []) + handlers.get(task.owner_unit_id, [])
        services.notify_users(
            users,
            kind="topic_task_late",
            params={
                "title": task.topic.title,
                "task": task.title,
                "due": task.deadline.isoformat(),
            },
            key=f"topic-task-late:{task.pk}:{task.deadline.isoformat()}",
            subject=task.topic,
            now=now,
        )
    return len(late)


def tell_reports_due(today: dt.date | None = None) -> int:
    """Tell the lead unit of each started topic without this week's 周调度; returns how many
    topics were told."""
    today = today or timezone.localdate()
    week = today - dt.timedelta(days=today.weekday())
    filed = ProgressReport.objects.filter(week=week).values("topic_id")
    due = list(Topic.objects.filter(status__in=REPORTING).exclude(pk__in=filed).order_by("pk"))
    handlers = jurisdiction.handlers_by_unit({t.lead_unit_id for t in due})
    now = timezone.now()
    for topic in due:
        services.notify_users(
            handlers.get(topic.lead_unit_id, []),
            kind="topic_report_due",
            params={"title": topic.title, "week": week.isoformat()},
            key=f"topic-report-due:{topic.pk}:{week.isoformat()}",
            subject=topic,
            now=now,
        )
    return len(due)
