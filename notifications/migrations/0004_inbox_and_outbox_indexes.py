"""Indexes chosen for the two hot queries, built without holding up writes.

* The inbox: one user's messages newest first (``notification_newest``), and the unread ones
  for the badge and ``?unread=true`` (``notification_unread``, partial: unread rows only). The
  old ``(user, read_at, created_at)`` served the unread filter but not the plain list's order.
* A subject's messages (``notification_subject``): what ``case_id``'s index did.
* The outbox drain: the next due pending row in ``(next_attempt_at, id)`` order
  (``outbox_due_pending``, partial: the queue, not the months of sent rows), the leases that ran
  out (``outbox_lease``) and the purge of old sent rows (``outbox_sent``).

The new indexes are built first (CONCURRENTLY on PostgreSQL, hence not atomic), then the old
ones dropped, so the queries are never without one.
"""

from django.db import migrations, models

from xining_issues.migration_operations import (
    AddIndexConcurrentlyOnPostgres,
    RemoveIndexConcurrentlyOnPostgres,
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("notifications", "0003_drop_case"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="notification",
            index=models.Index(fields=["user", "-created_at", "-id"], name="notification_newest"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="notification",
            index=models.Index(
                condition=models.Q(read_at__isnull=True),
                fields=["user", "-created_at"],
                name="notification_unread",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="notification",
            index=models.Index(fields=["subject_type", "subject_id"], name="notification_subject"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="outboxmessage",
            index=models.Index(
                condition=models.Q(status="pending"),
                fields=["next_attempt_at", "id"],
                name="outbox_due_pending",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="outboxmessage",
            index=models.Index(
                condition=models.Q(status="sending"),
                fields=["claimed_until"],
                name="outbox_lease",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="outboxmessage",
            index=models.Index(
                condition=models.Q(status="sent"), fields=["sent_at"], name="outbox_sent"
            ),
        ),
        RemoveIndexConcurrentlyOnPostgres(model_name="notification", name="notification_inbox"),
        RemoveIndexConcurrentlyOnPostgres(model_name="outboxmessage", name="outbox_due"),
    ]
