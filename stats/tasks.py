"""Celery tasks of 报: thin, as everywhere (STYLE.md); the work is in ``stats.rollup``,
``stats.bulletins`` and ``stats.exports``."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .bulletins import bulletin_generate
from .models import ReportKind
from .rollup import refresh_rollup


@shared_task(name="stats.refresh_rollup", acks_late=True, time_limit=240, soft_time_limit=200)
def refresh_rollup_task() -> int:
    """Beat runs this every 30 s. Safe to run twice: the state row lock serialises refreshes,
    and each one folds only what the previous one left. Returns the last event id folded."""
    return refresh_rollup(max_batches=25).last_event_id


def previous_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@shared_task(name="stats.generate_monthly_bulletin", acks_late=True, time_limit=300)
def generate_monthly_bulletin_task(month_iso: str | None = None) -> int:
    """Build (or rebuild) the draft 月通报 of ``month_iso`` (``YYYY-MM-DD`` or ``YYYY-MM``),
    by default the month that just ended: the beat runs it on the 1st. A published bulletin is
    left as it is. Returns the bulletin's id."""
    if month_iso:
        month = dt.date.fromisoformat(month_iso if len(month_iso) > 7 else f"{month_iso}-01")
    else:
        month = previous_month(timezone.localdate())
    return bulletin_generate(month).pk


@shared_task(name="stats.build_export", acks_late=True, time_limit=900, soft_time_limit=840)
def build_export_task(job_id: int) -> None:
    """Build the workbook of one ``ExportJob``; a missing, done or failed job is left alone."""
    from .exports import run_job

    run_job(job_id)


@shared_task(name="stats.purge_exports", acks_late=True, time_limit=300)
def purge_exports_task() -> int:
    """Forget background exports finished more than ``EXPORT_RETENTION_DAYS`` ago, with their
    workbooks (see ``exports.purge_exports``). Returns how many."""
    from .exports import purge_exports

    days = settings.EXPORT_RETENTION_DAYS
    return purge_exports(before=timezone.now() - dt.timedelta(days=days))


@shared_task(name="stats.daily_report", acks_late=True, time_limit=300)
def daily_report_task() -> int:
    """Write and publish yesterday's 日报; once per day, so a retry or a second beat publishes
    nothing twice. Returns the report's id."""
    from .reports import generate

    return generate(ReportKind.DAILY).pk


@shared_task(name="stats.weekly_report", acks_late=True, time_limit=300)
def weekly_report_task() -> int:
    """Write and publish last week's 周报 (Monday to Sunday), once per week."""
    from .reports import generate

    return generate(ReportKind.WEEKLY).pk
