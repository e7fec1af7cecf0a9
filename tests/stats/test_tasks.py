"""报's Celery tasks moved from ``topics.*`` to ``stats.*`` (issue 12): a beat job stored under
an old name is renamed by the next ``migrate``, and keeps what an operator changed on it."""

from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask

from xining_issues.schedule import RENAMED_TASKS, sync_beat_schedule

pytestmark = pytest.mark.django_db


def test_a_job_stored_under_an_old_task_name_is_renamed_and_keeps_the_operators_pause() -> None:
    # Given a database from before the move: the bulletin job under topics.*, paused
    # (``migrate`` has stored the schedule in the test database already)
    PeriodicTask.objects.filter(name="monthly bulletin").update(
        task="topics.generate_monthly_bulletin", enabled=False
    )
    # When the schedule is synced (after every migrate)
    sync_beat_schedule()
    # Then the job runs the new task name and is still paused
    job = PeriodicTask.objects.get(name="monthly bulletin")
    assert (job.task, job.enabled) == ("stats.generate_monthly_bulletin", False)
    assert not PeriodicTask.objects.filter(task__in=list(RENAMED_TASKS)).exists()


@pytest.mark.parametrize("old", sorted(RENAMED_TASKS))
def test_a_job_an_operator_added_under_an_old_task_name_follows_the_move(old: str) -> None:
    # Given a job of the operator's own (not in the schedule) naming a task before the move
    from django_celery_beat.models import IntervalSchedule

    every, _ = IntervalSchedule.objects.get_or_create(every=600, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="operator's extra run", task=old, interval=every)
    # When the schedule is synced
    sync_beat_schedule()
    # Then it runs the task under its new name
    assert PeriodicTask.objects.get(name="operator's extra run").task == RENAMED_TASKS[old]
