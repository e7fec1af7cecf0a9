"""A notification's subject becomes any model: ``case_id`` → (content type, id, label).

Three columns are added (nullable or with a constant default: no table rewrite on PostgreSQL),
then one UPDATE fills them for every message about a case, the label (the tracking code) read
by a correlated subquery: set-based, never a loop over rows (production has millions). The
migration is not atomic, so the long UPDATE holds row locks only, not the ALTER TABLE's
exclusive lock: the inbox stays writable meanwhile; ``0003`` catches up the rows written since
and drops ``case_id``.

The content types of the two models move to this app too (one UPDATE of two rows), so the
permissions granted on them (the outbox admin's retry) follow the models.
"""

import django.db.models.deletion
from django.db import migrations, models

from notifications.migrations._subject import case_from_subject, subject_from_case

MOVED = ("notification", "outboxmessage")


def _move_content_types(apps, schema_editor, *, source: str, target: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    types = content_type.objects.using(schema_editor.connection.alias)
    for model in MOVED:
        # Should the target already exist (a post_migrate ran in between), keep it as it is.
        if not types.filter(app_label=target, model=model).exists():
            types.filter(app_label=source, model=model).update(app_label=target)


def content_types_to_notifications(apps, schema_editor):
    _move_content_types(apps, schema_editor, source="cases", target="notifications")


def content_types_to_cases(apps, schema_editor):
    _move_content_types(apps, schema_editor, source="notifications", target="cases")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("notifications", "0001_initial"),
        ("cases", "0014_move_notifications_out"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="subject_type",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="contenttypes.contenttype",
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="subject_id",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="notification",
            name="subject_label",
            field=models.CharField(blank=True, default="", max_length=64, verbose_name="关于"),
        ),
        migrations.RunPython(subject_from_case, case_from_subject, elidable=False),
        migrations.RunPython(content_types_to_notifications, content_types_to_cases),
    ]
