"""The one beat schedule. Beat reads it from the database (django-celery-beat), so operators can
pause or retime a job in the admin; ``sync_beat_schedule`` writes these defaults after every
``migrate`` without overwriting an interval an operator has changed."""

from __future__ import annotations

from typing import Any

# name: (task, every N seconds)
BEAT_SCHEDULE: dict[str, tuple[str, int]] = {
    "worker heartbeat": ("org.heartbeat", 60),
}


def sync_beat_schedule(**_kwargs: Any) -> None:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    for name, (task, seconds) in BEAT_SCHEDULE.items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=seconds, period=IntervalSchedule.SECONDS
        )
        PeriodicTask.objects.create(name=name, task=task, interval=interval)
