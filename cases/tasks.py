"""Celery tasks of the case workflow: thin, ids and ISO times in, safe to run twice.

The scan publishes one task per batch, never one per case and never with an ETA: deadlines live
in the database, so a lost or late task is made good by the next scan.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from . import notifications, supervision
from .rollup import refresh_rollup_task  # noqa: F401 - registered with Celery from here

logger = logging.getLogger(__name__)


def _when(now_iso: str | None) -> dt.datetime:
    return dt.datetime.fromisoformat(now_iso) if now_iso else timezone.now()


@shared_task(name="cases.supervision_scan", acks_late=True, time_limit=240, soft_time_limit=200)
def supervision_scan_task(now_iso: str | None = None) -> int:
    """Find what is due and publish one ``supervise_batch_task`` per batch; returns batches."""
    now = _when(now_iso)
    batches = 0
    for rule, items in supervision.scan(now):
        supervise_batch_task.apply_async(args=[rule, items, now.isoformat()])
        batches += 1
    return batches


@shared_task(
    name="cases.supervise_batch",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
    time_limit=120,
    soft_time_limit=100,
)
def supervise_batch_task(rule: str, items: list[list[object]], now_iso: str) -> int:
    """Carry out one rule for one batch (idempotent: see ``supervision.supervise_batch``)."""
    pairs = [(int(case_id), str(deadline)) for case_id, deadline in items]  # type: ignore[call-overload]
    return supervision.supervise_batch(rule, pairs, _when(now_iso))


@shared_task(name="cases.drain_outbox", acks_late=True, time_limit=120, soft_time_limit=100)
def drain_outbox_task() -> int:
    """Send due emails and SMS until none are left (or a few rounds have run)."""
    total = 0
    for _round in range(20):
        sent = notifications.drain_outbox()
        total += sent
        if sent < notifications.DRAIN_BATCH:
            break
    return total


@shared_task(name="cases.daily_digest", acks_late=True, time_limit=300)
def daily_digest_task(day_iso: str | None = None) -> int:
    day = dt.date.fromisoformat(day_iso) if day_iso else timezone.localdate()
    return supervision.daily_digest(day)
