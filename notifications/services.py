"""Who is told, and how it reaches them: the inbox and the outbox.

In-app messages (``Notification``) and the emails and SMS to send (``OutboxMessage``) are
written in the same transaction as the change they report, each with a unique key, so a message
is written exactly once and is never lost: if the broker is down the change is still saved and
answered, and the periodic drain sends its messages once the broker is back.

What a change tells whom is the sending app's business (``cases.notifications.on_event``); this
module writes and sends, whatever the message is about (its ``Subject``).
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from org.models import User

from . import backends, messages
from .models import (
    Notification,
    NotificationPreference,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
)
from .subjects import Subject, subject_fields

logger = logging.getLogger(__name__)

# The Celery name of ``tasks.drain_outbox_task``.
DRAIN_TASK = "notifications.drain_outbox"

# Attempts at one message before it is marked failed (the waits between them double from
# 2 minutes: about four hours in all).
MAX_ATTEMPTS = 8
# How long a drain holds a claimed message. Longer than any send by a live worker can take
# (the gateway timeout) and than the drain task may run (its hard time limit), so a lease runs
# out only when its worker is gone.
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Channels:
    """Where a user wants a kind of message besides the inbox."""

    email: bool = True
    sms: bool = False


def channels(user_ids: Iterable[int], kind: str) -> dict[int, Channels]:
    """Each user's choice for ``kind`` (``NotificationPreference``), the default where they made
    none: e-mail yes, SMS no. One query."""
    chosen = {
        user_id: Channels(email=email, sms=sms)
        for user_id, email, sms in NotificationPreference.objects.filter(
            user_id__in=set(user_ids), kind=kind
        ).values_list("user_id", "email", "sms")
    }
    return {user_id: chosen.get(user_id, Channels()) for user_id in set(user_ids)}


def staff_sends(
    user_id: int, email: str, phone: str, chosen: Channels, key: str
) -> list[tuple[str, str, str]]:
    """The outbox rows (channel, recipient, key) of one staff member's message ``key``: the
    e-mail and the SMS they chose and can receive. Every writer of staff messages keys them so,
    so a message is sent once whichever path wrote it."""
    sends: list[tuple[str, str, str]] = []
    if email and chosen.email:
        sends.append((OutboxChannel.EMAIL, email, f"{key}:{user_id}"))
    if phone and chosen.sms:
        sends.append((OutboxChannel.SMS, phone, f"{key}:{user_id}:sms"))
    return sends


def notify_users(
    users: Iterable[User],
    *,
    kind: str,
    params: dict[str, Any],
    key: str,
    subject: Subject | None,
    now: dt.datetime,
) -> None:
    """An in-app message to each user, and an e-mail and an SMS to those who want them for this
    kind and have an address or a phone (bulk, once)."""
    users = {u.pk: u for u in users}.values()
    about = subject_fields(subject)
    Notification.objects.bulk_create(
        [
            Notification(user=u, kind=kind, params=params, key=key, created_at=now, **about)
            for u in users
        ],
        ignore_conflicts=True,
    )
    wanted = channels([u.pk for u in users], kind)
    _outbox(
        [row for u in users for row in staff_sends(u.pk, u.email, u.phone, wanted[u.pk], key)],
        kind=kind,
        params=params,
        now=now,
    )


def notify_person(
    *,
    user_id: int | None,
    phone: str,
    kind: str,
    params: dict[str, Any],
    key: str,
    subject: Subject | None,
    now: dt.datetime,
) -> None:
    """An SMS to ``phone``, and an in-app message if the person has an account (``user_id``):
    how a resident who may have no account hears about their own case."""
    if user_id:
        Notification.objects.bulk_create(
            [
                Notification(
                    user_id=user_id,
                    kind=kind,
                    params=params,
                    key=key,
                    created_at=now,
                    **subject_fields(subject),
                )
            ],
            ignore_conflicts=True,
        )
    _outbox([(OutboxChannel.SMS, phone, key)], kind=kind, params=params, now=now)


def _outbox(
    rows: Sequence[tuple[str, str, str]], *, kind: str, params: dict[str, Any], now: dt.datetime
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
    Sent by the task's name: the task module imports this one, and this one must not import it
    back (no import cycle).
    """
    try:
        with current_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
            current_app.send_task(DRAIN_TASK, connection=connection, retry=False)
    except Exception as error:  # any broker failure: the rows wait in the table
        logger.warning("broker unavailable, the outbox will be drained later: %s", error)


def drain_outbox(
    *,
    now: dt.datetime | None = None,
    backend: backends.SmsBackend | None = None,
    stop_after: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Send the due emails and SMS, one message at a time; returns how many went out.

    Each message goes through three steps, and no transaction is open while it is sent:

    1. **claim** (one short transaction): the next due ``pending`` row becomes ``sending`` with
       a lease (``claimed_until = now + LEASE``) and one more attempt. On PostgreSQL the row is
       picked with ``FOR UPDATE SKIP LOCKED``, so drains running side by side take different
       rows; the UPDATE is conditional on the row still being ``pending``, which alone makes
       the claim exclusive on SQLite. Two drains never hold one row.
    2. **send**, through the SMS backend or Django's mail, each bounded by a timeout
       (``backends.GATEWAY_TIMEOUT``) far below the lease.
    3. **mark** (another short transaction): ``sent``; or, if the gateway refused or could not be
       reached, back to ``pending`` after an exponential backoff (2, 4, 8 … minutes), and
       ``failed`` after ``MAX_ATTEMPTS``. ``failed`` rows wait for an operator (the admin's
       retry action).

    A lease runs out only when the worker that held it is gone (killed, out of memory, its
    hard time limit): a live send ends within the gateway timeout, and the task's time limit is
    shorter than the lease. Such a row is **not sent again**: it becomes ``unknown`` for an
    operator. The message may well have reached the phone before the worker died, and the
    rule for messages to residents is at most once: a second copy of "your complaint was
    accepted" confuses and annoys, and re-sending blindly is exactly how one phone got three
    copies. The operator checks the gateway's delivery report (by the message key, also sent
    as the ``Idempotency-Key``) and retries from the admin if it never arrived. The same holds
    when the task's soft time limit strikes mid-send: that row is marked ``unknown`` at once
    and the drain stops.

    ``stop_after`` (seconds on ``clock``) is when to stop claiming: the task passes a budget
    that ends well before its soft time limit, so it finishes the send in hand and returns
    instead of being cut off. ``now`` fixes the clock for due times, leases and backoff
    (tests, a travelled clock); by default each message reads the time afresh.
    """
    backend = backend or backends.get_backend()
    mail = get_connection(timeout=backends.GATEWAY_TIMEOUT)
    deadline = None if stop_after is None else clock() + stop_after
    _give_up_expired_leases(now=now or timezone.now())
    sent = 0
    while deadline is None or clock() < deadline:
        moment = now or timezone.now()
        row = _claim_next(now=moment)
        if row is None:
            break
        sent += _send(row, backend=backend, mail=mail, now=moment)
    return sent


def _claim_next(*, now: dt.datetime) -> OutboxMessage | None:
    """Claim the next due message for this drain, or None when nothing is due."""
    due = OutboxMessage.objects.filter(
        status=OutboxStatus.PENDING, next_attempt_at__lte=now
    ).order_by("next_attempt_at", "id")
    while True:
        # durable: a claim must commit on its own, never inside a caller's transaction (one
        # long transaction around the sends is what sent messages twice).
        with transaction.atomic(durable=True):
            # SKIP LOCKED (PostgreSQL): a row another drain is claiming right now is passed
            # over, not waited for. SQLite ignores it; its writes are serialised instead.
            pk = due.select_for_update(skip_locked=True).values_list("pk", flat=True).first()
            if pk is None:
                return None
            # Conditional on still pending and due: on SQLite two drains can read the same
            # pk, and only one UPDATE matches.
            claimed = due.filter(pk=pk).update(
                status=OutboxStatus.SENDING,
                claimed_until=now + LEASE,
                attempts=F("attempts") + 1,
            )
        if claimed:
            return OutboxMessage.objects.get(pk=pk)


def _send(
    row: OutboxMessage, *, backend: backends.SmsBackend, mail: BaseEmailBackend, now: dt.datetime
) -> int:
    """Send one claimed message and record the outcome; 1 if it went out, else 0."""
    try:
        title, body = messages.render(row.kind, row.params, settings.LANGUAGE_CODE)
    except Exception as error:  # bad parameters: nothing was sent, so a retry is harmless
        _retry_later(row, error=error, now=now)
        return 0
    try:
        if row.channel == OutboxChannel.SMS:
            backend.send(row.recipient, body, key=row.key)
        else:
            send_mail(title, body, settings.DEFAULT_FROM_EMAIL, [row.recipient], connection=mail)
    except backends.SmsUncertain as error:
        # The gateway may have it (its answer was lost): at most once, an operator decides.
        _mark(row, status=OutboxStatus.UNKNOWN, last_error=str(error))
        return 0
    except (backends.SmsError, smtplib.SMTPException, OSError) as error:
        # Refused, or not reachable: the message was not delivered; try again later.
        _retry_later(row, error=error, now=now)
        return 0
    except Exception as error:
        # Cut off mid-send (the soft time limit) or a backend's bug: it may have gone out.
        # At most once: mark it for an operator now, and let the error stop the drain.
        _mark(row, status=OutboxStatus.UNKNOWN, last_error=f"interrupted mid-send: {error!r}")
        raise
    with transaction.atomic(durable=True):
        # The row is still ours (a live send ends long before its lease); ``unknown`` too is
        # replaced, should it ever have been marked so, since it is now known to be sent.
        OutboxMessage.objects.filter(
            pk=row.pk, status__in=[OutboxStatus.SENDING, OutboxStatus.UNKNOWN]
        ).update(status=OutboxStatus.SENT, sent_at=now, claimed_until=None, last_error="")
    return 1


def _retry_later(row: OutboxMessage, *, error: Exception, now: dt.datetime) -> None:
    last = row.attempts >= MAX_ATTEMPTS
    if last:
        logger.warning("outbox message %s failed after %s attempts", row.pk, row.attempts)
    _mark(
        row,
        status=OutboxStatus.FAILED if last else OutboxStatus.PENDING,
        last_error=str(error),
        next_attempt_at=now + timedelta(minutes=2**row.attempts),
    )


def _mark(row: OutboxMessage, *, status: str, last_error: str, **fields: Any) -> None:
    """Record the outcome of a send that did not succeed (only while the row is still ours)."""
    with transaction.atomic(durable=True):
        OutboxMessage.objects.filter(pk=row.pk, status=OutboxStatus.SENDING).update(
            status=status, last_error=last_error[:255], claimed_until=None, **fields
        )


def _give_up_expired_leases(*, now: dt.datetime) -> None:
    """Mark ``unknown`` every message whose sender vanished mid-send (see ``drain_outbox``)."""
    expired = OutboxMessage.objects.filter(status=OutboxStatus.SENDING, claimed_until__lt=now)
    for pk in expired.values_list("pk", flat=True):
        logger.warning("outbox message %s: its sender stopped mid-send; not sent again", pk)
    expired.update(
        status=OutboxStatus.UNKNOWN,
        last_error="lease expired mid-send (worker stopped?): delivery unknown, not sent again",
    )


def outbox_retry(*, ids: Iterable[int], now: dt.datetime | None = None) -> int:
    """An operator's retry: ``failed`` and ``unknown`` messages among ``ids`` go back to the
    queue, due now and with a fresh set of attempts; returns how many. Messages in any other
    state are left alone (a sent message is never queued again by a slip of the mouse)."""
    with transaction.atomic():
        count = OutboxMessage.objects.filter(
            pk__in=list(ids), status__in=[OutboxStatus.FAILED, OutboxStatus.UNKNOWN]
        ).update(
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=now or timezone.now(),
            claimed_until=None,
        )
        if count:
            kick_outbox_on_commit()
    return count


def purge_sent_messages(*, before: dt.datetime, batch: int = 5000) -> int:
    """Delete messages sent before ``before``, in batches; returns how many.

    Only ``sent`` rows go: a pending, failed or unknown message still needs an operator. The
    in-app notifications stay (and the senders' records, such as case events): they are a
    record, not a copy of a phone number kept for delivery."""
    deleted = 0
    old = OutboxMessage.objects.filter(status=OutboxStatus.SENT, sent_at__lt=before)
    while ids := list(old.values_list("pk", flat=True)[:batch]):
        deleted += OutboxMessage.objects.filter(pk__in=ids).delete()[0]
    return deleted
