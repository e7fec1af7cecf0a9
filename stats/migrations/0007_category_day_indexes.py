"""成效 (issue 16 item 1): a topic's effect reads a few categories over a stretch of days from
the district × category and street × category day rows. Their key starts with (day, since), so
without these indexes a year of one category would scan every row of every day.

Built CONCURRENTLY on PostgreSQL: the rollup's fold keeps writing to these tables meanwhile.
"""

from django.db import migrations, models

from xining_issues.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0021_knowledge_base"),
        ("org", "0004_grid_inspector"),
        ("stats", "0006_case_reports"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="districtcategorydaystat",
            index=models.Index(fields=["category", "day"], name="stats_district_cat_cat_day"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="streetcategorydaystat",
            index=models.Index(fields=["category", "day"], name="stats_street_cat_cat_day"),
        ),
    ]
