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
        "drain outbox": ("cases.drain_outbox", {"every": 30}),
        "stats rollup": ("cases.refresh_rollup", {"every": 30}),
        "daily digest": ("cases.daily_digest", {"crontab": {"minute": "30", "hour": "8"}}),
        "purge sent messages": ("cases.purge_outbox", {"crontab": {"minute": "10", "hour": "3"}}),
        "purge sign-in log": ("org.purge_access_log", {"crontab": {"minute": "20", "hour": "3"}}),
        "purge exports": ("topics.purge_exports", {"crontab": {"minute": "30", "hour": "3"}}),
        "monthly bulletin": (
            "topics.generate_monthly_bulletin",
            {"crontab": {"minute": "0", "hour": "6", "day_of_month": "1"}},
        ),
    }


def sync_beat_schedule(**_kwargs: Any) -> None:
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    for name, (task, when) in beat_schedule().items():
        if PeriodicTask.objects.filter(name=name).exists():
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
