"""Celery tasks of 每月一题: thin, dates in, safe to run twice."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .bulletins import bulletin_generate


def previous_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@shared_task(name="topics.generate_monthly_bulletin", acks_late=True, time_limit=300)
def generate_monthly_bulletin_task(month_iso: str | None = None) -> int:
    """Build (or rebuild) the draft 月通报 of ``month_iso`` (``YYYY-MM-DD`` or ``YYYY-MM``),
    by default the month that just ended: the beat runs it on the 1st. A published bulletin is
    left as it is. Returns the bulletin's id."""
    if month_iso:
        month = dt.date.fromisoformat(month_iso if len(month_iso) > 7 else f"{month_iso}-01")
    else:
        month = previous_month(timezone.localdate())
    return bulletin_generate(month).pk


@shared_task(name="topics.build_export", acks_late=True, time_limit=900, soft_time_limit=840)
def build_export_task(job_id: int) -> None:
    """Build the workbook of one ``ExportJob``; a missing, done or failed job is left alone."""
    from .exports import run_job

    run_job(job_id)


@shared_task(name="topics.purge_exports", acks_late=True, time_limit=300)
def purge_exports_task() -> int:
    """Forget background exports finished more than ``EXPORT_RETENTION_DAYS`` ago, with their
    workbooks (see ``exports.purge_exports``). Returns how many."""
    from .exports import purge_exports

    days = settings.EXPORT_RETENTION_DAYS
    return purge_exports(before=timezone.now() - dt.timedelta(days=days))
