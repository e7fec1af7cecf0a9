"""Celery tasks of the org app."""

from __future__ import annotations

import datetime as dt

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import ServiceHeartbeat


@shared_task(name="org.heartbeat")
def heartbeat_task(name: str = "worker") -> None:
    """Record that a worker is alive and consuming (beat sends it every minute)."""
    ServiceHeartbeat.objects.update_or_create(name=name, defaults={"beat_at": timezone.now()})


@shared_task(name="org.purge_access_log")
def purge_access_log_task() -> int:
    """Delete sign-in log rows older than ``ACCESS_LOG_RETENTION_DAYS``; returns how many.

    Lockouts themselves (``AccessAttempt``) end with their cool-off; only stale ones go here."""
    before = timezone.now() - dt.timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS)
    deleted = 0
    for model in (AccessLog, AccessFailureLog, AccessAttempt):
        deleted += model.objects.filter(attempt_time__lt=before).delete()[0]
    return deleted
