"""PostgreSQL only: pg_trgm indexes for Chinese search, and a trigger that keeps events append-only.

On SQLite (the laptop default) these operations do nothing: search falls back to a plain
``LIKE`` and the append-only rule is kept by the code (no path updates or deletes events).
"""

from django.db import migrations

POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # Django's icontains is UPPER(col::text) LIKE UPPER(%s); index that same expression.
    "CREATE INDEX IF NOT EXISTS case_description_trgm ON cases_case "
    "USING gin (UPPER(description::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS case_title_trgm ON cases_case "
    "USING gin (UPPER(title::text) gin_trgm_ops)",
    """
    CREATE OR REPLACE FUNCTION cases_event_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'cases_caseevent is append-only: % refused', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS cases_event_append_only ON cases_caseevent",
    "CREATE TRIGGER cases_event_append_only BEFORE UPDATE OR DELETE ON cases_caseevent "
    "FOR EACH ROW EXECUTE FUNCTION cases_event_append_only()",
]

POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS cases_event_append_only ON cases_caseevent",
    "DROP FUNCTION IF EXISTS cases_event_append_only()",
    "DROP INDEX IF EXISTS case_title_trgm",
    "DROP INDEX IF EXISTS case_description_trgm",
]


def run(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            # params=None: the trigger body holds a literal "%" placeholder of its own.
            schema_editor.execute(statement, params=None)

    return operation


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(run(POSTGRES_FORWARD), run(POSTGRES_BACKWARD))]
