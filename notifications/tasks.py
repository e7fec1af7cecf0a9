"""Celery tasks of the outbox: thin, safe to run twice and side by side."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import backends, services

# The drain's limits: it claims messages for DRAIN_CLAIM_SECONDS, then finishes the send in
# hand (at most ``backends.GATEWAY_TIMEOUT``) and returns, well before the soft time limit. The
# hard limit is shorter than the outbox lease, so a lease outlives any worker still running.
DRAIN_SOFT_TIME_LIMIT = 100
DRAIN_TIME_LIMIT = 120
DRAIN_CLAIM_SECONDS = DRAIN_SOFT_TIME_LIMIT - 4 * backends.GATEWAY_TIMEOUT


@shared_task(
    name=services.DRAIN_TASK,
    acks_late=True,
    time_limit=DRAIN_TIME_LIMIT,
    soft_time_limit=DRAIN_SOFT_TIME_LIMIT,
)
def drain_outbox_task() -> int:
    """Send due emails and SMS for a bounded time; the next run (beat's, every 30 s) goes on.

    Safe to run twice and side by side: each message is claimed by one drain only."""
    return services.drain_outbox(stop_after=DRAIN_CLAIM_SECONDS)


@shared_task(name="notifications.purge_outbox", acks_late=True, time_limit=300)
def purge_outbox_task() -> int:
    """Forget sent messages older than ``OUTBOX_RETENTION_DAYS`` (see ``purge_sent_messages``)."""
    return services.purge_sent_messages(
        before=timezone.now() - dt.timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    )
