"""Celery tasks of the org app."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .models import ServiceHeartbeat


@shared_task(name="org.heartbeat")
def heartbeat_task(name: str = "worker") -> None:
    """Record that a worker is alive and consuming (beat sends it every minute)."""
    ServiceHeartbeat.objects.update_or_create(name=name, defaults={"beat_at": timezone.now()})
