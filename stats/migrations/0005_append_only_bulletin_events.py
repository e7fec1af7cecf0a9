"""Bulletin events are append-only, like case and topic events: the database refuses to UPDATE
or DELETE a row of ``stats_bulletinevent``, whoever asks.

PostgreSQL: one trigger, as ``cases.0002`` and ``topics.0002``; flush's TRUNCATE still empties
the table (row triggers do not see it). SQLite: two triggers (it has no "BEFORE UPDATE OR
DELETE"), as ``cases.0009`` and ``topics.0004``, refusing with the same words; the project's
``flush`` sets them aside for its one transaction. A later migration that alters the table
rebuilds it on SQLite and so drops them: it must create them again
(``tests/cases/test_append_only.py`` fails until it does).
"""

from django.db import migrations

POSTGRES_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION stats_bulletinevent_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'stats_bulletinevent is append-only: % refused', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS stats_bulletinevent_append_only ON stats_bulletinevent",
    "CREATE TRIGGER stats_bulletinevent_append_only BEFORE UPDATE OR DELETE "
    "ON stats_bulletinevent FOR EACH ROW EXECUTE FUNCTION stats_bulletinevent_append_only()",
]

POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS stats_bulletinevent_append_only ON stats_bulletinevent",
    "DROP FUNCTION IF EXISTS stats_bulletinevent_append_only()",
]

SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS stats_bulletinevent_append_only_update",
    "CREATE TRIGGER stats_bulletinevent_append_only_update BEFORE UPDATE ON stats_bulletinevent "
    "BEGIN SELECT RAISE(ABORT, 'stats_bulletinevent is append-only: UPDATE refused'); END",
    "DROP TRIGGER IF EXISTS stats_bulletinevent_append_only_delete",
    "CREATE TRIGGER stats_bulletinevent_append_only_delete BEFORE DELETE ON stats_bulletinevent "
    "BEGIN SELECT RAISE(ABORT, 'stats_bulletinevent is append-only: DELETE refused'); END",
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS stats_bulletinevent_append_only_update",
    "DROP TRIGGER IF EXISTS stats_bulletinevent_append_only_delete",
]

STATEMENTS = {
    "postgresql": (POSTGRES_FORWARD, POSTGRES_BACKWARD),
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
}


def run(direction):
    def operation(apps, schema_editor):
        # Any other database gets no guard (as in the earlier migrations): the project runs on
        # these two.
        statements = STATEMENTS.get(schema_editor.connection.vendor)
        if statements is None:
            return
        for statement in statements[direction]:
            schema_editor.execute(statement, params=None)

    return operation


class Migration(migrations.Migration):
    dependencies = [("stats", "0004_bulletin_event")]

    operations = [migrations.RunPython(run(0), run(1))]
