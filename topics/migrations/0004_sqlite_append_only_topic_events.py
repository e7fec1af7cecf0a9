"""SQLite: topic events are append-only, as they have been on PostgreSQL since 0002.

Two triggers (SQLite has no "BEFORE UPDATE OR DELETE"), refusing with the same words as the
PostgreSQL trigger. A later migration that alters ``topics_topicevent`` rebuilds the table on
SQLite and so drops them: it must create them again (``tests/cases/test_append_only.py``).
"""

from django.db import migrations

SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS topics_event_append_only_update",
    "CREATE TRIGGER topics_event_append_only_update BEFORE UPDATE ON topics_topicevent "
    "BEGIN SELECT RAISE(ABORT, 'topics_topicevent is append-only: UPDATE refused'); END",
    "DROP TRIGGER IF EXISTS topics_event_append_only_delete",
    "CREATE TRIGGER topics_event_append_only_delete BEFORE DELETE ON topics_topicevent "
    "BEGIN SELECT RAISE(ABORT, 'topics_topicevent is append-only: DELETE refused'); END",
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS topics_event_append_only_update",
    "DROP TRIGGER IF EXISTS topics_event_append_only_delete",
]


def run(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return  # PostgreSQL: the trigger of 0002
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return operation


class Migration(migrations.Migration):
    dependencies = [("topics", "0003_export_jobs")]

    operations = [migrations.RunPython(run(SQLITE_FORWARD), run(SQLITE_BACKWARD))]
