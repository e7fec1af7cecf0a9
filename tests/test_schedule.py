"""The beat schedule in the database: every job names a real task, and the statistics and the
monthly bulletin run when issue 6 says they do (rollup ≤ 1 minute stale; bulletin on the 1st)."""

from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask

from xining_issues.celery import app
from xining_issues.schedule import beat_schedule, sync_beat_schedule

pytestmark = pytest.mark.django_db


def test_every_job_runs_a_registered_task() -> None:
    app.loader.import_default_modules()
    sync_beat_schedule()
    stored = {t.name: t.task for t in PeriodicTask.objects.all()}
    assert set(beat_schedule()) <= set(stored)
    for name, (task, _when) in beat_schedule().items():
        assert stored[name] == task
        assert task in app.tasks, f"{name}: {task} is not a Celery task"


def test_the_rollup_refreshes_within_a_minute_and_the_bulletin_on_the_first() -> None:
    sync_beat_schedule()
    rollup = PeriodicTask.objects.get(name="stats rollup")
    assert rollup.task == "cases.refresh_rollup"
    assert rollup.interval is not None and rollup.interval.period == "seconds"
    assert rollup.interval.every <= 60 and rollup.enabled
    bulletin = PeriodicTask.objects.get(name="monthly bulletin")
    assert bulletin.task == "topics.generate_monthly_bulletin" and bulletin.enabled
    cron = bulletin.crontab
    assert (cron.day_of_month, cron.hour, cron.minute, cron.month_of_year) == ("1", "6", "0", "*")
    assert str(cron.timezone) == "Asia/Shanghai"


def test_an_operators_change_survives_the_next_migrate() -> None:
    sync_beat_schedule()
    PeriodicTask.objects.filter(name="monthly bulletin").update(enabled=False)
    sync_beat_schedule()
    assert PeriodicTask.objects.get(name="monthly bulletin").enabled is False
