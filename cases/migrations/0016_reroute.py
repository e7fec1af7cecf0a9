"""Re-routing (issue 14): 申请退回, 退回审批, 撤回 and 改派 as event types, and the unit's request
to give a signed case back (``ReturnRequest``, one pending per case)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0015_open311"),
        ("org", "0002_region_point"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="caseevent",
            name="type",
            field=models.CharField(
                choices=[
                    ("submit", "提交诉求"),
                    ("accept", "受理"),
                    ("reject", "不予受理"),
                    ("resolve_at_intake", "即时办结"),
                    ("dispatch", "派单"),
                    ("sign", "签收"),
                    ("return", "退回"),
                    ("progress", "办理进展"),
                    ("contact", "联系诉求人"),
                    ("request_extension", "申请延期"),
                    ("decide_extension", "延期审批"),
                    ("request_return", "申请退回"),
                    ("decide_return", "退回审批"),
                    ("withdraw", "撤回"),
                    ("reassign", "改派"),
                    ("reply", "办结答复"),
                    ("evaluate", "评价"),
                    ("reopen", "重办"),
                    ("supervise", "督办"),
                    ("recategorise", "改派分类"),
                    ("close", "归档"),
                    ("remind", "督办提醒"),
                    ("escalate", "督办升级"),
                ],
                max_length=24,
                verbose_name="类型",
            ),
        ),
        migrations.CreateModel(
            name="ReturnRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reason", models.TextField(verbose_name="理由")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "待审批"),
                            ("approved", "已批准"),
                            ("refused", "不予批准"),
                            ("lapsed", "已失效"),
                        ],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("decision_note", models.CharField(blank=True, max_length=255)),
                ("created_at", models.DateTimeField()),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="return_requests",
                        to="cases.case",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="org.unit",
                    ),
                ),
            ],
            options={
                "verbose_name": "退回申请",
                "verbose_name_plural": "退回申请",
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "pending")),
                        fields=("case",),
                        name="return_one_pending_per_case",
                    )
                ],
            },
        ),
    ]
