"""The 每月一题 beat jobs: telling the units of late tasks and of a 周调度 not yet filed."""

from __future__ import annotations

from celery import shared_task

from . import notifications


@shared_task(name="topics.tell_late_tasks", ignore_result=True)
def tell_late_tasks_task() -> int:
    return notifications.tell_late_tasks()


@shared_task(name="topics.tell_reports_due", ignore_result=True)
def tell_reports_due_task() -> int:
    return notifications.tell_reports_due()
