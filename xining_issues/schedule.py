"""The one beat schedule. Beat reads it from the database (django-celery-beat), so operators can
pause or retime a job in the admin; ``sync_beat_schedule`` writes these defaults after every
``migrate`` without overwriting a job an operator has changed."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def beat_schedule() -> dict[str, tuple[str, dict[str, Any]]]:
    """name: (task, schedule) where schedule is {"every": seconds} or {"crontab": {...}}."""
    return {
        "worker heartbeat": ("org.heartbeat", {"every": 60}),
        "supervision scan": (
            "cases.supervision_scan",
            {"every": settings.SUPERVISION["scan_seconds"]},
        ),
        "drain outbox": ("notifications.drain_outbox", {"every": 30}),
        "stats rollup": ("stats.refresh_rollup", {"every": 30}),
        "daily digest": ("cases.daily_digest", {"crontab": {"minute": "30", "hour": "8"}}),
        "purge sent messages": (
            "notifications.purge_outbox",
            {"crontab": {"minute": "10", "hour": "3"}},
        ),
        "purge sign-in log": ("org.purge_access_log", {"crontab": {"minute": "20", "hour": "3"}}),
        "purge exports": ("stats.purge_exports", {"crontab": {"minute": "30", "hour": "3"}}),
        "topic tasks late": (
            "topics.tell_late_tasks",
            {"crontab": {"minute": "40", "hour": "8"}},
        ),
        "topic reports due": (
            "topics.tell_reports_due",
            {"crontab": {"minute": "0", "hour": "9", "day_of_week": "5"}},
        ),
        "daily case report": ("stats.daily_report", {"crontab": {"minute": "0", "hour": "7"}}),
        "weekly case report": (
            "stats.weekly_report",
            {"crontab": {"minute": "30", "hour": "7", "day_of_week": "1"}},
        ),
        "knowledge reviews due": (
            "cases.tell_knowledge_reviews",
            {"crontab": {"minute": "50", "hour": "8"}},
        ),
        "train router": (
            "cases.train_router",
            {"crontab": {"minute": "0", "hour": "2", "day_of_week": "0"}},
        ),
        "monthly bulletin": (
            "stats.generate_monthly_bulletin",
            {"crontab": {"minute": "0", "hour": "6", "day_of_month": "1"}},
        ),
    }


# Tasks whose name changed when their code moved app (issue 12): old name → new name. A job
# stored under the old name would be sent to a task no worker knows any more. The jobs of the
# schedule are also brought up to date by their name below; this map reaches the jobs an
# operator added under names of their own.
RENAMED_TASKS = {
    "cases.refresh_rollup": "stats.refresh_rollup",
    "cases.drain_outbox": "notifications.drain_outbox",
    "cases.purge_outbox": "notifications.purge_outbox",
    "topics.generate_monthly_bulletin": "stats.generate_monthly_bulletin",
    "topics.build_export": "stats.build_export",
    "topics.purge_exports": "stats.purge_exports",
}


def sync_beat_schedule(**_kwargs: Any) -> None:
    """Create the missing default jobs; bring an existing job's task path up to date.

    What an operator may change in the admin (the schedule, the enabled flag, the arguments)
    is never touched on a job that exists. The task path is not an operator's choice but code,
    renamed when code moves between apps: a job of the schedule found by its name runs the
    task the schedule names, or beat would send it to a task no worker knows.
    """
    from django_celery_beat.models import (
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        PeriodicTasks,
    )

    schedule = beat_schedule()
    # Renamed, not recreated, so that an operator's pause or new time survives the move.
    renamed = 0
    for old, new in RENAMED_TASKS.items():
        renamed += PeriodicTask.objects.filter(task=old).update(task=new)
    stored = dict(PeriodicTask.objects.filter(name__in=schedule).values_list("name", "task"))
    for name, (task, _when) in schedule.items():
        if name in stored and stored[name] != task:
            renamed += PeriodicTask.objects.filter(name=name).update(task=task)
    if renamed:
        # ``update`` skips PeriodicTask.save, which is what tells a running beat to reload.
        PeriodicTasks.update_changed()
    for name, (task, when) in schedule.items():
        if name in stored:
            continue
        if "every" in when:
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=when["every"], period=IntervalSchedule.SECONDS
            )
            PeriodicTask.objects.create(name=name, task=task, interval=interval)
        else:
            crontab, _ = CrontabSchedule.objects.get_or_create(
                timezone=settings.TIME_ZONE, **when["crontab"]
            )
            PeriodicTask.objects.create(name=name, task=task, crontab=crontab)
