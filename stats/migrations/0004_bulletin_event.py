"""``BulletinEvent``: a bulletin's steps (修改, 发布) are recorded like a case's and a topic's."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('stats', '0003_models_from_cases_and_topics'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='BulletinEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('type', models.CharField(choices=[('edit', '修改'), ('publish', '发布')], max_length=24, verbose_name='类型')),
                ('from_status', models.CharField(blank=True, choices=[('draft', '草稿'), ('published', '已发布')], max_length=16)),
                ('to_status', models.CharField(blank=True, choices=[('draft', '草稿'), ('published', '已发布')], max_length=16)),
                ('payload', models.JSONField(blank=True, default=dict)),
                ('created_at', models.DateTimeField(db_index=True, verbose_name='时间')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='操作人')),
                ('bulletin', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='stats.bulletin')),
            ],
            options={
                'verbose_name': '月通报记录',
                'verbose_name_plural': '月通报记录',
                'ordering': ['created_at', 'id'],
                'indexes': [models.Index(fields=['bulletin', 'created_at'], name='bulletinevent_created')],
            },
        ),
    ]
