"""The inbox and the outbox leave ``cases`` for this app (issue 12): state only.

``Notification`` and ``OutboxMessage`` are created here as they stood in ``cases`` (the state of
``cases.0013``), on their existing tables ``cases_notification`` and ``cases_outboxmessage``
(``Meta.db_table``): nothing is done to the database, no row is copied. ``cases.0014`` then takes
them out of that app's state. The case foreign key is carried over as it was, so that ``0002``
can turn it into the generic subject with the rows' data.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        # The tables as cases left them (a migration dependency, not an import).
        ("cases", "0013_move_rollup_to_stats"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("kind", models.CharField(max_length=32)),
                        ("params", models.JSONField(blank=True, default=dict)),
                        ("key", models.CharField(max_length=96)),
                        ("created_at", models.DateTimeField()),
                        ("read_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "case",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="cases.case",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "站内消息",
                        "verbose_name_plural": "站内消息",
                        "db_table": "cases_notification",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(
                                fields=["user", "read_at", "created_at"], name="notification_inbox"
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("user", "key"), name="notification_once_per_user"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="OutboxMessage",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "channel",
                            models.CharField(
                                choices=[("email", "email"), ("sms", "sms")],
                                max_length=8,
                                verbose_name="渠道",
                            ),
                        ),
                        ("recipient", models.CharField(max_length=254)),
                        ("kind", models.CharField(max_length=32, verbose_name="类型")),
                        ("params", models.JSONField(blank=True, default=dict)),
                        ("key", models.CharField(max_length=128, unique=True)),
                        (
                            "status",
                            models.CharField(
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
                        (
                            "attempts",
                            models.PositiveSmallIntegerField(default=0, verbose_name="尝试次数"),
                        ),
                        ("next_attempt_at", models.DateTimeField(verbose_name="下次发送时间")),
                        (
                            "claimed_until",
                            models.DateTimeField(blank=True, null=True, verbose_name="发送租约到期"),
                        ),
                        (
                            "last_error",
                            models.CharField(blank=True, max_length=255, verbose_name="最近错误"),
                        ),
                        ("created_at", models.DateTimeField(verbose_name="创建时间")),
                        (
                            "sent_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="发送时间"),
                        ),
                    ],
                    options={
                        "verbose_name": "待发消息",
                        "verbose_name_plural": "待发消息",
                        "db_table": "cases_outboxmessage",
                        "indexes": [
                            models.Index(fields=["status", "next_attempt_at"], name="outbox_due")
                        ],
                    },
                ),
            ],
            database_operations=[],
        )
    ]
