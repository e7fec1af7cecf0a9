"""Exports and the monthly bulletin (报) leave ``topics`` for ``stats`` (issue 12): state only.

``ExportJob`` and ``Bulletin`` are taken out of this app's migration state and created in
``stats`` by ``stats.0003_models_from_cases_and_topics``, which keeps their tables
(``topics_exportjob``, ``topics_bulletin``) through ``Meta.db_table``. Nothing is done to the
database: the rows and files stay. No foreign key points at these models.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("topics", "0004_sqlite_append_only_topic_events"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ExportJob"),
                migrations.DeleteModel(name="Bulletin"),
            ],
            database_operations=[],
        )
    ]
