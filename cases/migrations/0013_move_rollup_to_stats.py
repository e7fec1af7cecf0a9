"""The statistics rollup (报) leaves ``cases`` for ``stats`` (issue 12): state only.

``CaseDayStat``, ``CaseMonthStat``, ``RollupState`` and ``RollupCase`` are taken out of this
app's migration state and created in ``stats`` by ``stats.0003_models_from_cases_and_topics``,
which keeps their tables (``cases_casedaystat`` …) through ``Meta.db_table``. Nothing is done to
the database here: the rows, indexes and constraints stay where they are. No foreign key points
at these models, so nothing else has to follow them.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0012_fewer_case_indexes"),
        # stats.0002 locks ``cases.RollupState`` through the migration state: it must run while
        # the model is still here. (A migration dependency, not an import: the door stays shut.)
        ("stats", "0002_fill_projections"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="CaseDayStat"),
                migrations.DeleteModel(name="CaseMonthStat"),
                migrations.DeleteModel(name="RollupState"),
                migrations.DeleteModel(name="RollupCase"),
            ],
            database_operations=[],
        )
    ]
