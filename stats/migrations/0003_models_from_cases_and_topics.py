"""The models of 报 arrive from ``cases`` and ``topics`` (issue 12): state and content types;
no table is touched.

``CaseDayStat``, ``CaseMonthStat``, ``RollupState`` and ``RollupCase`` left ``cases`` in
``cases.0013_move_rollup_to_stats``; ``ExportJob`` and ``Bulletin`` left ``topics`` in
``topics.0005_move_reports_to_stats``. Here they enter this app's state with ``db_table`` set to
the tables they always had, so the rows, indexes, constraints and sequences stay as they are:
the move costs no lock and no copy, and a worker still running the old code during a deploy
reads and writes the same tables. (Renaming the tables would buy only a prettier name; the SQL
rebuild swaps the rollup tables by name and the replica would have to follow.)

The content types name the models' old home and move with them (``cases.casedaystat`` … →
``stats.casedaystat`` …), so the permissions granted on them and the admin log keep pointing at
the same models. (The beat job of the rollup refresh, now ``stats.refresh_rollup``, is renamed
by ``xining_issues.schedule.sync_beat_schedule`` after every ``migrate``.)
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import stats.models

MOVED = {
    "cases": ("casedaystat", "casemonthstat", "rollupstate", "rollupcase"),
    "topics": ("exportjob", "bulletin"),
}


def _move_content_types(apps, *, forward: bool) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for old_app, names in MOVED.items():
        source, target = (old_app, "stats") if forward else ("stats", old_app)
        for name in names:
            # A type created under the new label already (post_migrate of a partial run) wins;
            # the old one is then left alone rather than merged.
            if not content_type.objects.filter(app_label=target, model=name).exists():
                content_type.objects.filter(app_label=source, model=name).update(
                    app_label=target
                )


def forwards(apps, schema_editor):
    _move_content_types(apps, forward=True)


def backwards(apps, schema_editor):
    _move_content_types(apps, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0002_fill_projections"),
        ("cases", "0013_move_rollup_to_stats"),
        ("topics", "0005_move_reports_to_stats"),
        ("org", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='RollupState',
                    fields=[
                        ('id', models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                        ('last_event_id', models.BigIntegerField(default=0)),
                        ('gaps', models.JSONField(blank=True, default=list)),
                        ('refreshed_at', models.DateTimeField(blank=True, null=True)),
                        ('rebuilt_at', models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        'verbose_name': '统计汇总进度',
                        'verbose_name_plural': '统计汇总进度',
                        'db_table': 'cases_rollupstate',
                    },
                ),
                migrations.CreateModel(
                    name='Bulletin',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('month', models.DateField(help_text='该月第一天。', unique=True, verbose_name='月份')),
                        ('status', models.CharField(choices=[('draft', '草稿'), ('published', '已发布')], default='draft', max_length=16, verbose_name='状态')),
                        ('title', models.CharField(max_length=200, verbose_name='标题')),
                        ('body', models.TextField(blank=True, verbose_name='正文')),
                        ('data', models.JSONField(blank=True, default=dict)),
                        ('generated_at', models.DateTimeField(verbose_name='生成时间')),
                        ('published_at', models.DateTimeField(blank=True, null=True, verbose_name='发布时间')),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('published_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='发布人')),
                    ],
                    options={
                        'verbose_name': '月通报',
                        'verbose_name_plural': '月通报',
                        'db_table': 'topics_bulletin',
                        'ordering': ['-month'],
                    },
                ),
                migrations.CreateModel(
                    name='RollupCase',
                    fields=[
                        ('case', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='cases.case')),
                        ('category', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cases.category')),
                    ],
                    options={
                        'verbose_name': '统计汇总诉求',
                        'verbose_name_plural': '统计汇总诉求',
                        'db_table': 'cases_rollupcase',
                    },
                ),
                migrations.CreateModel(
                    name='CaseDayStat',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created', models.IntegerField(default=0, verbose_name='新增')),
                        ('rejected', models.IntegerField(default=0, verbose_name='不予受理')),
                        ('dispatched', models.IntegerField(default=0, verbose_name='派单')),
                        ('responded', models.IntegerField(default=0, verbose_name='按时响应')),
                        ('replied', models.IntegerField(default=0, verbose_name='答复')),
                        ('resolved', models.IntegerField(default=0, verbose_name='解决')),
                        ('evaluated', models.IntegerField(default=0, verbose_name='评价')),
                        ('satisfied', models.IntegerField(default=0, verbose_name='满意')),
                        ('closed', models.IntegerField(default=0, verbose_name='归档')),
                        ('unit_key', models.BigIntegerField(default=0, verbose_name='单位键')),
                        ('day', models.DateField(verbose_name='日期')),
                        ('since', models.DateField(verbose_name='起算日期')),
                        ('category', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cases.category', verbose_name='分类')),
                        ('district', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.region', verbose_name='区/县')),
                        ('region', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.region', verbose_name='社区/村')),
                        ('street', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.region', verbose_name='街道/乡镇')),
                        ('unit', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.unit', verbose_name='承办单位')),
                    ],
                    options={
                        'verbose_name': '诉求日统计',
                        'verbose_name_plural': '诉求日统计',
                        'db_table': 'cases_casedaystat',
                        'indexes': [models.Index(fields=['day', 'district'], name='case_day_stat_day_district'), models.Index(fields=['day', 'street'], name='case_day_stat_day_street'), models.Index(fields=['day', 'unit_key'], name='case_day_stat_day_unit'), models.Index(fields=['district', 'day'], name='case_day_stat_district_day'), models.Index(fields=['street', 'day'], name='case_day_stat_street_day'), models.Index(fields=['since'], name='case_day_stat_since')],
                        'constraints': [models.UniqueConstraint(fields=('day', 'since', 'region', 'category', 'unit_key'), name='case_day_stat_key')],
                    },
                ),
                migrations.CreateModel(
                    name='CaseMonthStat',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created', models.IntegerField(default=0, verbose_name='新增')),
                        ('rejected', models.IntegerField(default=0, verbose_name='不予受理')),
                        ('dispatched', models.IntegerField(default=0, verbose_name='派单')),
                        ('responded', models.IntegerField(default=0, verbose_name='按时响应')),
                        ('replied', models.IntegerField(default=0, verbose_name='答复')),
                        ('resolved', models.IntegerField(default=0, verbose_name='解决')),
                        ('evaluated', models.IntegerField(default=0, verbose_name='评价')),
                        ('satisfied', models.IntegerField(default=0, verbose_name='满意')),
                        ('closed', models.IntegerField(default=0, verbose_name='归档')),
                        ('unit_key', models.BigIntegerField(default=0, verbose_name='单位键')),
                        ('day', models.DateField(verbose_name='月份')),
                        ('since', models.DateField(verbose_name='起算月份')),
                        ('category', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cases.category', verbose_name='分类')),
                        ('district', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.region', verbose_name='区/县')),
                        ('region', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.region', verbose_name='社区/村')),
                        ('street', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.region', verbose_name='街道/乡镇')),
                        ('unit', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.unit', verbose_name='承办单位')),
                    ],
                    options={
                        'verbose_name': '诉求月统计',
                        'verbose_name_plural': '诉求月统计',
                        'db_table': 'cases_casemonthstat',
                        'indexes': [models.Index(fields=['district', 'day'], name='case_month_stat_district_day'), models.Index(fields=['street', 'day'], name='case_month_stat_street_day'), models.Index(fields=['unit_key', 'day'], name='case_month_stat_unit_day')],
                        'constraints': [models.UniqueConstraint(fields=('day', 'since', 'region', 'category', 'unit_key'), name='case_month_stat_key')],
                    },
                ),
                migrations.CreateModel(
                    name='ExportJob',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('table', models.CharField(max_length=32, verbose_name='报表')),
                        ('params', models.JSONField(blank=True, default=dict, verbose_name='参数')),
                        ('status', models.CharField(choices=[('queued', '排队中'), ('running', '生成中'), ('done', '已完成'), ('failed', '失败')], default='queued', max_length=16, verbose_name='状态')),
                        ('progress', models.PositiveSmallIntegerField(default=0, verbose_name='进度')),
                        ('row_count', models.PositiveIntegerField(default=0, verbose_name='行数')),
                        ('file', models.FileField(blank=True, max_length=255, upload_to=stats.models.export_path, verbose_name='文件')),
                        ('error', models.TextField(blank=True, verbose_name='错误信息')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='创建时间')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='完成时间')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='export_jobs', to=settings.AUTH_USER_MODEL, verbose_name='用户')),
                    ],
                    options={
                        'verbose_name': '后台导出',
                        'verbose_name_plural': '后台导出',
                        'db_table': 'topics_exportjob',
                        'ordering': ['-created_at'],
                        'indexes': [models.Index(fields=['user', 'created_at'], name='export_user_created')],
                    },
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
