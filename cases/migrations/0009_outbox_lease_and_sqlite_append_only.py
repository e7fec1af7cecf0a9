"""The outbox's lease (``sending``, ``unknown``, ``claimed_until``), and on SQLite the guard that
PostgreSQL has had since 0002: case events are append-only.

SQLite has no "BEFORE UPDATE OR DELETE", so two triggers; each refuses with the same words as
the PostgreSQL trigger (IntegrityError, "cases_caseevent is append-only: … refused").

Careful: on SQLite, a later migration that alters ``cases_caseevent`` rebuilds the table, and
dropping the old table drops these triggers with it. Such a migration must create them again
(``tests/cases/test_append_only.py`` fails until it does). The project's ``flush`` command
(``cases/management/commands/flush.py``) sets them aside while it empties the whole database.
"""

from django.db import migrations, models

SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS cases_event_append_only_update",
    "CREATE TRIGGER cases_event_append_only_update BEFORE UPDATE ON cases_caseevent "
    "BEGIN SELECT RAISE(ABORT, 'cases_caseevent is append-only: UPDATE refused'); END",
    "DROP TRIGGER IF EXISTS cases_event_append_only_delete",
    "CREATE TRIGGER cases_event_append_only_delete BEFORE DELETE ON cases_caseevent "
    "BEGIN SELECT RAISE(ABORT, 'cases_caseevent is append-only: DELETE refused'); END",
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS cases_event_append_only_update",
    "DROP TRIGGER IF EXISTS cases_event_append_only_delete",
]


def run(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return  # PostgreSQL: the trigger of 0002
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return operation


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_month_rollup"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboxmessage",
            name="claimed_until",
            field=models.DateTimeField(blank=True, null=True, verbose_name="发送租约到期"),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="尝试次数"),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="channel",
            field=models.CharField(
                choices=[("email", "email"), ("sms", "sms")], max_length=8, verbose_name="渠道"
            ),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="created_at",
            field=models.DateTimeField(verbose_name="创建时间"),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="kind",
            field=models.CharField(max_length=32, verbose_name="类型"),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="last_error",
            field=models.CharField(blank=True, max_length=255, verbose_name="最近错误"),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="next_attempt_at",
            field=models.DateTimeField(verbose_name="下次发送时间"),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="发送时间"),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "待发送"),
                    ("sending", "发送中"),
                    ("sent", "已发送"),
                    ("failed", "发送失败"),
                    ("unknown", "结果未知"),
                ],
                default="pending",
                max_length=8,
                verbose_name="状态",
            ),
        ),
        migrations.RunPython(run(SQLITE_FORWARD), run(SQLITE_BACKWARD)),
    ]
