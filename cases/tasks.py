"""Celery tasks of the case workflow: thin, ids and ISO times in, safe to run twice.

The scan publishes one task per batch, never one per case and never with an ETA: deadlines live
in the database, so a lost or late task is made good by the next scan.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from . import supervision

logger = logging.getLogger(__name__)


def _when(now_iso: str | None) -> dt.datetime:
    return dt.datetime.fromisoformat(now_iso) if now_iso else timezone.now()


@shared_task(name="cases.supervision_scan", acks_late=True, time_limit=240, soft_time_limit=200)
def supervision_scan_task(now_iso: str | None = None) -> int:
    """Find what is due and publish one ``supervise_batch_task`` per batch; returns batches."""
    now = _when(now_iso)
    per_rule: Counter[str] = Counter()
    # One producer (one broker connection) for every batch of the tick, each published as soon
    # as its page is read, so that the workers start while the scan goes on.
    with supervise_batch_task.app.producer_or_acquire() as producer:
        for rule, items in supervision.scan(now):
            supervise_batch_task.apply_async(
                args=[rule, items, now.isoformat()], producer=producer
            )
            per_rule[rule] += 1
    batches = sum(per_rule.values())
    if batches:
        logger.info(
            "supervision scan at %s: %d batches %s", now.isoformat(), batches, json.dumps(per_rule)
        )
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


# 每日提醒 stays here although notifications send it: what it says is read from the cases (each
# unit's overdue and due-today counts); ``notifications`` only writes and delivers it.
@shared_task(name="cases.daily_digest", acks_late=True, time_limit=300)
def daily_digest_task(day_iso: str | None = None) -> int:
    """Tell each unit's handlers what is overdue or due today (once a day; see
    ``supervision.daily_digest``)."""
    day = dt.date.fromisoformat(day_iso) if day_iso else timezone.localdate()
    return supervision.daily_digest(day)


@shared_task(name="cases.train_router", acks_late=True, time_limit=3600, soft_time_limit=3300)
def train_router_task() -> str:
    """智能派单's weekly training (``cases.router.train``); the model in use stays when the new
    one scores worse or there is too little to learn from."""
    from . import router

    try:
        trained = router.train()
    except router.TrainingError as error:
        logger.info("router not trained: %s", error)
        return "skipped"
    model = trained.model
    logger.info(
        "router v%s %s: top-1 %.3f top-3 %.3f on %d held-out cases (%d trained, %.0f s)",
        model.pk, model.state, model.top1, model.top3, model.cases_held_out,
        model.cases_trained, model.seconds,
    )  # fmt: skip
    return str(model.state)


@shared_task(name="cases.tell_knowledge_reviews", acks_late=True, time_limit=300)
def tell_knowledge_reviews_task() -> int:
    """知识库: tell the owner units of the articles due for review (``tell_reviews_due``)."""
    from . import knowledge

    return knowledge.tell_reviews_due()
