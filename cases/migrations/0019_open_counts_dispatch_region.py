"""分级派单 (issue 14 item 2): the 待派单 tab's count tests ``dispatch_region``, so the tabs'
covering index of the open cases carries it, or the counts would leave the index for the heap.

The index is built again under a new name (``case_open_tabs``) before the old one
(``case_open_counts``) goes, both CONCURRENTLY on PostgreSQL: the counts always have one to read
and no write to the case table waits while the new one is built.
"""

from django.db import migrations, models

from xining_issues.migration_operations import (
    AddIndexConcurrentlyOnPostgres,
    RemoveIndexConcurrentlyOnPostgres,
)

OPEN = ["submitted", "accepted", "dispatched", "handling", "replied", "evaluated", "review"]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0018_merge"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                condition=models.Q(status__in=OPEN),
                fields=["status"],
                include=(
                    "id",
                    "district",
                    "street",
                    "region",
                    "lead_unit",
                    "complainant",
                    "accept_by",
                    "resolve_by",
                    "supervision_level",
                    "dispatch_region",
                ),
                name="case_open_tabs",
            ),
        ),
        RemoveIndexConcurrentlyOnPostgres(model_name="case", name="case_open_counts"),
    ]
