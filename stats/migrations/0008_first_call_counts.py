"""一次办结率's counters (issue 16 item 3): the tables, then the counts of every intake event
the rollup has folded so far (up to its watermark, outside its gaps), so the refresh carries on
from there exactly as it does for the rollup. A few minutes at ten million cases: one grouped
read of the intake events per table, by the (type, created_at) index."""

from zoneinfo import ZoneInfo

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Count, DateField, Q
from django.db.models.functions import Coalesce, TruncDate, TruncMonth

TAKEN = ("accept", "resolve_at_intake")


def backfill(apps, schema_editor):
    state = apps.get_model("stats", "RollupState").objects.filter(pk=1).first()
    if state is None or not state.last_event_id:
        return  # nothing folded yet: the first refresh folds everything
    events = apps.get_model("cases", "CaseEvent").objects.filter(
        type__in=TAKEN, id__lte=state.last_event_id
    )
    for low, high, *_seen in state.gaps or []:
        events = events.exclude(id__gte=low, id__lte=high)
    zone = ZoneInfo(settings.TIME_ZONE)
    counts = {"taken": Count("id"), "at_intake": Count("id", filter=Q(type="resolve_at_intake"))}
    days = {
        "day": TruncDate("created_at", tzinfo=zone),
        "month": TruncMonth("created_at", tzinfo=zone, output_field=DateField()),
    }
    keys = {
        "Operator": {"operator_key": Coalesce("actor_id", 0), "operator_id": models.F("actor_id")},
        "Category": {"category_id": models.F("case__category_id")},
    }
    for kind, key in keys.items():
        for period, day in days.items():
            model = apps.get_model("stats", f"FirstCall{kind}{period.title()}")
            rows = (
                events.annotate(
                    d=day,
                    district=models.F("case__district_id"),
                    **{f"k_{n}": v for n, v in key.items()},
                )
                .values("d", "district", *(f"k_{n}" for n in key))
                .annotate(**counts)
                .order_by()
            )
            model.objects.bulk_create(
                (
                    model(
                        day=row["d"],
                        district_id=row["district"],
                        taken=row["taken"],
                        at_intake=row["at_intake"],
                        **{n: row[f"k_{n}"] for n in key},
                    )
                    for row in rows.iterator(chunk_size=5000)
                ),
                batch_size=2000,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0021_knowledge_base"),
        ("org", "0004_grid_inspector"),
        ("stats", "0007_category_day_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="FirstCallCategoryDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="日期")),
                ("taken", models.IntegerField(default=0, verbose_name="受理")),
                ("at_intake", models.IntegerField(default=0, verbose_name="当场答复办结")),
                (
                    "category",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="cases.category",
                        verbose_name="分类",
                    ),
                ),
                (
                    "district",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="org.region",
                        verbose_name="区/县",
                    ),
                ),
            ],
            options={
                "verbose_name": "一次办结日统计（分类）",
                "verbose_name_plural": "一次办结日统计（分类）",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "district", "category"), name="first_call_category_day_key"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="FirstCallCategoryMonth",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="日期")),
                ("taken", models.IntegerField(default=0, verbose_name="受理")),
                ("at_intake", models.IntegerField(default=0, verbose_name="当场答复办结")),
                (
                    "category",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="cases.category",
                        verbose_name="分类",
                    ),
                ),
                (
                    "district",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="org.region",
                        verbose_name="区/县",
                    ),
                ),
            ],
            options={
                "verbose_name": "一次办结月统计（分类）",
                "verbose_name_plural": "一次办结月统计（分类）",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "district", "category"),
                        name="first_call_category_month_key",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="FirstCallOperatorDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="日期")),
                ("taken", models.IntegerField(default=0, verbose_name="受理")),
                ("at_intake", models.IntegerField(default=0, verbose_name="当场答复办结")),
                ("operator_key", models.BigIntegerField(default=0)),
                (
                    "district",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="org.region",
                        verbose_name="区/县",
                    ),
                ),
                (
                    "operator",
                    models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="接线员",
                    ),
                ),
            ],
            options={
                "verbose_name": "一次办结日统计（接线员）",
                "verbose_name_plural": "一次办结日统计（接线员）",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "district", "operator_key"),
                        name="first_call_operator_day_key",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="FirstCallOperatorMonth",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="日期")),
                ("taken", models.IntegerField(default=0, verbose_name="受理")),
                ("at_intake", models.IntegerField(default=0, verbose_name="当场答复办结")),
                ("operator_key", models.BigIntegerField(default=0)),
                (
                    "district",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="org.region",
                        verbose_name="区/县",
                    ),
                ),
                (
                    "operator",
                    models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="接线员",
                    ),
                ),
            ],
            options={
                "verbose_name": "一次办结月统计（接线员）",
                "verbose_name_plural": "一次办结月统计（接线员）",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "district", "operator_key"),
                        name="first_call_operator_month_key",
                    )
                ],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
