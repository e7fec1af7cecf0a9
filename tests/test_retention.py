"""Data retention: sent messages and the sign-in log are forgotten after their time."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt, AccessLog
from django.utils import timezone

from notifications.models import OutboxMessage, OutboxStatus
from notifications.tasks import purge_outbox_task
from org.tasks import purge_access_log_task

pytestmark = pytest.mark.django_db


def message(key: str, *, status: str, sent_days_ago: int | None, created_days_ago: int) -> None:
    now = timezone.now()
    OutboxMessage.objects.create(
        channel="sms",
        recipient="13912345678",
        kind="case_accepted",
        key=key,
        status=status,
        next_attempt_at=now,
        created_at=now - dt.timedelta(days=created_days_ago),
        sent_at=None if sent_days_ago is None else now - dt.timedelta(days=sent_days_ago),
    )


def test_only_messages_sent_before_the_retention_are_purged(settings) -> None:
    # Given messages sent long ago and lately, and old ones that never went out
    settings.OUTBOX_RETENTION_DAYS = 90
    message("old-sent", status=OutboxStatus.SENT, sent_days_ago=91, created_days_ago=91)
    message("new-sent", status=OutboxStatus.SENT, sent_days_ago=89, created_days_ago=89)
    message("old-failed", status=OutboxStatus.FAILED, sent_days_ago=None, created_days_ago=200)
    message("old-unknown", status=OutboxStatus.UNKNOWN, sent_days_ago=None, created_days_ago=200)
    # When the daily purge runs
    purged = purge_outbox_task()
    # Then only the message sent before the retention is gone; those an operator must see stay
    assert purged == 1
    assert set(OutboxMessage.objects.values_list("key", flat=True)) == {
        "new-sent",
        "old-failed",
        "old-unknown",
    }


def test_the_sign_in_log_is_kept_at_least_six_months(settings) -> None:
    # Given sign-in log rows of 179 and 181 days ago, and a stale lockout record
    now = timezone.now()
    for days in (179, 181):
        row = AccessLog.objects.create(username=f"u{days}", ip_address="10.0.0.1", user_agent="")
        AccessLog.objects.filter(pk=row.pk).update(attempt_time=now - dt.timedelta(days=days))
    attempt = AccessAttempt.objects.create(
        username="u", ip_address="10.0.0.1", user_agent="", failures_since_start=5
    )
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=now - dt.timedelta(days=181))
    # When the purge runs
    assert purge_access_log_task() == 2
    # Then only rows older than the retention went
    assert list(AccessLog.objects.values_list("username", flat=True)) == ["u179"]
    assert not AccessAttempt.objects.exists()
