"""Who is told what, and how it reaches them.

In-app messages (``Notification``) and the emails and SMS to send (``OutboxMessage``) are
written in the same transaction as the change they report, each with a unique key, so a message
is written exactly once and is never lost: if the broker is down the complaint is still saved
and answered, and the periodic drain sends its messages once the broker is back.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from org.models import Membership, Role, User

from . import messages, sms
from .models import Case, CaseEvent, EventType, Notification, OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
DRAIN_BATCH = 50


def _handlers_of(unit_ids: Iterable[int], *, leaders_only: bool = False) -> list[User]:
    memberships = Membership.objects.filter(unit_id__in=list(unit_ids), role=Role.HANDLER)
    if leaders_only:
        memberships = memberships.filter(is_leader=True)
    return [m.user for m in memberships.select_related("user")]


def notify_users(
    users: Iterable[User],
    *,
    kind: str,
    params: dict[str, Any],
    key: str,
    case: Case | None,
    now: dt.datetime,
) -> None:
    """An in-app message to each user, and an email to those with an address (bulk, once)."""
    users = {u.pk: u for u in users}.values()
    Notification.objects.bulk_create(
        [
            Notification(user=u, case=case, kind=kind, params=params, key=key, created_at=now)
            for u in users
        ],
        ignore_conflicts=True,
    )
    _outbox(
        [("email", u.email, f"{key}:{u.pk}") for u in users if u.email],
        kind=kind,
        params=params,
        now=now,
    )


def notify_complainant(
    case: Case, *, kind: str, params: dict[str, Any], key: str, now: dt.datetime
) -> None:
    """An SMS to the complainant's phone, and an in-app message if they have an account."""
    if case.complainant_id:
        Notification.objects.bulk_create(
            [
                Notification(
                    user_id=case.complainant_id,
                    case=case,
                    kind=kind,
                    params=params,
                    key=key,
                    created_at=now,
                )
            ],
            ignore_conflicts=True,
        )
    _outbox([("sms", case.complainant_phone, key)], kind=kind, params=params, now=now)


def _outbox(
    rows: list[tuple[str, str, str]], *, kind: str, params: dict[str, Any], now: dt.datetime
) -> None:
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                channel=channel,
                recipient=recipient,
                kind=kind,
                params=params,
                key=key,
                next_attempt_at=now,
                created_at=now,
            )
            for channel, recipient, key in rows
        ],
        ignore_conflicts=True,
    )
    if rows:
        kick_outbox_on_commit()


def kick_outbox_on_commit() -> None:
    """Kick the drain once when this transaction commits, however many rows it queued."""
    connection = transaction.get_connection()
    if not any(func is kick_outbox for _sids, func, _robust in connection.run_on_commit):
        transaction.on_commit(kick_outbox)


def kick_outbox() -> None:
    """Ask a worker to drain the outbox now; if the broker is down, the beat drain will.

    One quick try: a request that queued messages must not wait for a broker that is down.
    """
    from .tasks import drain_outbox_task

    try:
        with drain_outbox_task.app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
            drain_outbox_task.apply_async(connection=connection, retry=False)
    except Exception as error:  # any broker failure: the rows wait in the table
        logger.warning("broker unavailable, the outbox will be drained later: %s", error)


def on_event(event: CaseEvent) -> None:
    """The messages a workflow event sends (called inside the event's transaction)."""
    case, now = event.case, event.created_at
    params: dict[str, Any] = {"code": case.tracking_code}
    key = f"event:{event.pk}"
    if event.type == EventType.ACCEPT:
        notify_complainant(case, kind="case_accepted", params=params, key=key, now=now)
    elif event.type == EventType.DISPATCH and case.lead_unit_id:
        notify_complainant(
            case,
            kind="case_dispatched",
            params={**params, "unit": case.lead_unit.name},
            key=key,
            now=now,
        )
        notify_users(
            _handlers_of([case.lead_unit_id]),
            kind="case_assigned",
            params={
                **params,
                "category": case.category.name,
                "deadline": case.sign_by.isoformat() if case.sign_by else "",
            },
            key=key,
            case=case,
            now=now,
        )
    elif event.type in (EventType.REPLY, EventType.RESOLVE_AT_INTAKE):
        url = f"{settings.SITE_URL}{reverse('track-page')}?code={case.tracking_code}"
        notify_complainant(
            case, kind="case_replied", params={**params, "url": url}, key=key, now=now
        )
    elif event.type == EventType.CLOSE:
        notify_complainant(case, kind="case_closed", params=params, key=key, now=now)


def drain_outbox(now: dt.datetime | None = None, batch: int = DRAIN_BATCH) -> int:
    """Send the due emails and SMS; returns how many went out.

    Rows are claimed with ``SKIP LOCKED`` so two drains never send the same row; a failure is
    retried with exponential backoff and given up after ``MAX_ATTEMPTS``.
    """
    now = now or timezone.now()
    backend = sms.get_backend()
    sent = 0
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")[:batch]
        )
        for row in rows:
            try:
                title, body = messages.render(row.kind, row.params, settings.LANGUAGE_CODE)
                if row.channel == "sms":
                    backend.send(row.recipient, body)
                else:
                    send_mail(title, body, settings.DEFAULT_FROM_EMAIL, [row.recipient])
            except Exception as error:  # any delivery failure is retried
                row.attempts += 1
                row.last_error = str(error)[:255]
                row.next_attempt_at = now + timedelta(minutes=2**row.attempts)
                if row.attempts >= MAX_ATTEMPTS:
                    row.status = OutboxStatus.FAILED
            else:
                row.status, row.sent_at = OutboxStatus.SENT, now
                row.attempts += 1
                sent += 1
            row.save(
                update_fields=["status", "attempts", "last_error", "next_attempt_at", "sent_at"]
            )
    return sent
