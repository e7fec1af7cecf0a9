"""The supervision scan's indexes: (trigger, id) over the cases being worked on for the contact,
warning and resolve rules (partial; the rules of one status use the (status, trigger) indexes of
0001), and the unfulfilled 督办 orders by due date. The scan pages along them in that order, so
a page reads its rows and stops (issue 11, point 5: a million open cases).

On PostgreSQL the indexes are built CONCURRENTLY: each build reads the whole case table, and a
plain CREATE INDEX would hold up every write to it (intake, every transition) meanwhile.
"""

from django.db import migrations, models

from xining_issues.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0009_outbox_lease_and_sqlite_append_only"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                condition=models.Q(
                    ("contacted_at__isnull", True), ("status__in", ["dispatched", "handling"])
                ),
                fields=["contact_by", "id"],
                name="case_scan_contact_by",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                condition=models.Q(("status__in", ["dispatched", "handling"])),
                fields=["warn_at", "resolve_by", "id"],
                name="case_scan_warn_at",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                condition=models.Q(("status__in", ["dispatched", "handling"])),
                fields=["resolve_by", "id"],
                name="case_scan_resolve_by",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="supervisionorder",
            index=models.Index(
                condition=models.Q(("fulfilled_at__isnull", True)),
                fields=["due_at", "id"],
                name="supervision_order_scan",
            ),
        ),
    ]
