"""PostgreSQL only: a trigger that keeps topic events append-only (like case events).

On SQLite this does nothing; the code never updates or deletes events.
"""

from django.db import migrations

POSTGRES_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION topics_event_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'topics_topicevent is append-only: % refused', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS topics_event_append_only ON topics_topicevent",
    "CREATE TRIGGER topics_event_append_only BEFORE UPDATE OR DELETE ON topics_topicevent "
    "FOR EACH ROW EXECUTE FUNCTION topics_event_append_only()",
]

POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS topics_event_append_only ON topics_topicevent",
    "DROP FUNCTION IF EXISTS topics_event_append_only()",
]


def run(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return operation


class Migration(migrations.Migration):
    dependencies = [("topics", "0001_initial")]

    operations = [migrations.RunPython(run(POSTGRES_FORWARD), run(POSTGRES_BACKWARD))]
