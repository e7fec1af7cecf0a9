"""The inbox and the outbox leave ``cases`` for ``notifications`` (issue 12): state only.

``Notification`` and ``OutboxMessage`` are taken out of this app's migration state; they were
created in ``notifications.0001_initial`` on the same tables (``cases_notification``,
``cases_outboxmessage``), which keep their names, rows, indexes and constraints. The case
foreign key becomes a generic subject in ``notifications.0002``.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0013_move_rollup_to_stats"),
        # The models must exist over there before they leave here (a migration dependency,
        # not an import: the door stays shut).
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Notification"),
                migrations.DeleteModel(name="OutboxMessage"),
            ],
            database_operations=[],
        )
    ]
