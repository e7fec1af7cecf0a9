"""The beat schedule in the database: every job names a real task, and the statistics and the
monthly bulletin run when issue 6 says they do (rollup ≤ 1 minute stale; bulletin on the 1st)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management.sql import emit_post_migrate_signal
from django.db.models.signals import post_migrate
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

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
    assert rollup.task == "stats.refresh_rollup"
    assert rollup.interval is not None and rollup.interval.period == "seconds"
    assert rollup.interval.every <= 60 and rollup.enabled
    bulletin = PeriodicTask.objects.get(name="monthly bulletin")
    assert bulletin.task == "stats.generate_monthly_bulletin" and bulletin.enabled
    cron = bulletin.crontab
    assert (cron.day_of_month, cron.hour, cron.minute, cron.month_of_year) == ("1", "6", "0", "*")
    assert str(cron.timezone) == "Asia/Shanghai"


def test_an_operators_change_survives_the_next_migrate() -> None:
    sync_beat_schedule()
    PeriodicTask.objects.filter(name="monthly bulletin").update(enabled=False)
    sync_beat_schedule()
    assert PeriodicTask.objects.get(name="monthly bulletin").enabled is False


def test_a_job_whose_task_path_moved_runs_the_new_task_and_keeps_the_operators_changes() -> None:
    # Given the rollup job stored under the task path it had before issue 12, which an operator
    # has paused, retimed and given an argument
    sync_beat_schedule()
    slower, _ = IntervalSchedule.objects.get_or_create(every=300, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(name="stats rollup").update(
        task="cases.refresh_rollup", enabled=False, interval=slower, kwargs='{"limit": 5}'
    )
    changed_before = PeriodicTasks.last_change()
    # When the schedule is synced again (the next migrate)
    sync_beat_schedule()
    # Then the job runs the task the schedule names, and nothing else the operator set changed
    job = PeriodicTask.objects.get(name="stats rollup")
    assert job.task == "stats.refresh_rollup"
    assert (job.enabled, job.interval_id, job.kwargs) == (False, slower.pk, '{"limit": 5}')
    assert PeriodicTask.objects.filter(name="stats rollup").count() == 1
    # and a running beat is told to reload its jobs
    assert PeriodicTasks.last_change() is not None
    assert changed_before is None or PeriodicTasks.last_change() > changed_before


def test_a_sync_with_nothing_to_change_leaves_every_job_as_it_is() -> None:
    sync_beat_schedule()
    before = list(PeriodicTask.objects.order_by("name").values())
    sync_beat_schedule()
    assert list(PeriodicTask.objects.order_by("name").values()) == before


def test_the_shell_not_the_ground_floor_syncs_the_schedule_after_migrate() -> None:
    # The project's schedule names tasks of every app: the shell registers it, org does not.
    assert list(apps.get_app_configs())[-1].name == "xining_issues"
    receivers = post_migrate._live_receivers(apps.get_app_config("django_celery_beat"))[0]
    assert sync_beat_schedule in receivers
    for config in apps.get_app_configs():
        if config.label != "django_celery_beat":
            assert sync_beat_schedule not in post_migrate._live_receivers(config)[0]
    # When migrate's post_migrate signal is sent, the jobs are written
    PeriodicTask.objects.all().delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert set(beat_schedule()) <= set(PeriodicTask.objects.values_list("name", flat=True))
