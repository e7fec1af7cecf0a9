"""Drop ``case_id``, after catching up the messages written since ``0002`` filled the subject.

Atomic: on PostgreSQL the table is locked against writes first (readers go on), so that no
message about a case can be written between the catch-up and the drop. Both are short: the
catch-up touches only the rows written during the deployment, and dropping a column is a
catalogue change on PostgreSQL.
"""

from django.db import migrations

from notifications.migrations._subject import subject_from_case


def lock_against_writes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        table = apps.get_model("notifications", "Notification")._meta.db_table
        schema_editor.execute(
            f"LOCK TABLE {schema_editor.quote_name(table)} IN SHARE ROW EXCLUSIVE MODE"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_generic_subject"),
    ]

    operations = [
        migrations.RunPython(lock_against_writes, migrations.RunPython.noop),
        migrations.RunPython(subject_from_case, migrations.RunPython.noop),
        migrations.RemoveField(model_name="notification", name="case"),
    ]
