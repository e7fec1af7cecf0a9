"""Open311 GeoReport v2 (issue 13): the clients and their hashed keys, the ``open311`` channel and
the client on the case, each category's Open311 attributes (its extra questions), and the
record that files a client's repeated post once."""

import cases.models
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0014_move_notifications_out"),
    ]

    operations = [
        migrations.CreateModel(
            name="Open311Client",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=128, unique=True, verbose_name="客户端名称")),
                ("contact", models.CharField(blank=True, max_length=255, verbose_name="联系人")),
                (
                    "key_hash",
                    models.CharField(
                        editable=False, max_length=64, unique=True, verbose_name="密钥摘要"
                    ),
                ),
                (
                    "key_prefix",
                    models.CharField(editable=False, max_length=12, verbose_name="密钥前缀"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                (
                    "last_used_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="最近使用"
                    ),
                ),
                (
                    "revoked_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="吊销时间"),
                ),
            ],
            options={
                "verbose_name": "Open311 客户端",
                "verbose_name_plural": "Open311 客户端",
                "ordering": ["name"],
            },
        ),
        migrations.AddField(
            model_name="category",
            name="open311_attributes",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Open311 的 attributes 列表：每项有 code、datatype、required、description；singlevaluelist / multivaluelist 另有 values：[{key, name}]。",
                validators=[cases.models.validate_service_attributes],
                verbose_name="补充信息项",
            ),
        ),
        migrations.AddField(
            model_name="historicalcategory",
            name="open311_attributes",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Open311 的 attributes 列表：每项有 code、datatype、required、description；singlevaluelist / multivaluelist 另有 values：[{key, name}]。",
                validators=[cases.models.validate_service_attributes],
                verbose_name="补充信息项",
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="channel",
            field=models.CharField(
                choices=[
                    ("web", "网上"),
                    ("phone", "12345热线"),
                    ("walk_in", "来访"),
                    ("mini_program", "小程序"),
                    ("grid", "网格员发现"),
                    ("open311", "第三方接口"),
                ],
                max_length=16,
                verbose_name="渠道",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="open311_client",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="cases.open311client",
                verbose_name="第三方接口客户端",
            ),
        ),
        migrations.CreateModel(
            name="Open311Submission",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField()),
                (
                    "case",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="cases.case",
                    ),
                ),
                (
                    "client",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="submissions",
                        to="cases.open311client",
                    ),
                ),
            ],
            options={
                "verbose_name": "Open311 提交记录",
                "verbose_name_plural": "Open311 提交记录",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("client", "digest"), name="open311_submission_once"
                    )
                ],
            },
        ),
    ]
