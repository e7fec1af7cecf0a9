"""Fewer indexes on the case table, and autovacuum settings for the rows the scan writes.

Every index of ``cases_case`` is paid on every write that is not a HOT update, and no write to
a case is one: each transition changes its status, the supervision scan its level, and both are
indexed. A tick of the overdue scan at volume raises the level of a hundred thousand cases, so
each index of the table costs a hundred thousand entries (and their WAL) per tick, and as much
on intake. Ten of the 32 go, each served by another that leads with the same columns or never
read (issue 11, point 5):

* the foreign keys' own indexes on ``category``, ``complainant``, ``district``, ``lead_unit``,
  ``region`` and ``street``: each column leads a two-column index of Meta (``case_*_created``,
  ``case_*_status``), which serves the same lookups (and the PROTECT checks);
* ``case_status_contact_by``, ``case_status_warn_at``, ``case_status_resolve_by``: these
  deadlines are compared only while a case is dispatched or being handled. The scan reads its
  partial indexes on them (``case_scan_*``, migration 0010), the daily digest too; the tabs
  that compare ``resolve_by`` (overdue, due soon, ``overdue=``) walk the cases newest first,
  and did so with ``case_status_resolve_by`` in place as well (EXPLAIN ANALYZE at a million
  open cases);
* the ``varchar_pattern_ops`` twin of the unique tracking code (Django's ``_like``, for
  ``LIKE 'prefix%'``): every lookup by code is an equality, which the unique index serves.

And the marks' own index on ``case``, which the unique constraint's index leads with.

Drops are cheap at any size; each one runs CONCURRENTLY on PostgreSQL, so that none waits for
(and then holds up) the queries on the table. On SQLite the fields and indexes are altered as
usual.

Autovacuum (PostgreSQL): a tick leaves up to a hundred thousand dead case rows and as many new
marks, with their pages no longer all-visible, so the scan's and the tab counts' index-only
scans visit the heap again until a VACUUM. At the default scale factors (20 %) a city of ten
million cases waits for two million changes first; one per cent brings the vacuum after a tick
or two of that size. It stays cheap: the open cases are a small share of the table's pages,
and when few pages hold dead rows VACUUM may skip the index passes (PostgreSQL ≥ 14).

No fillfactor: it only helps HOT updates, and the scan's level update cannot be one while
``supervision_level`` is in an index (``case_supervision_status``, and the tab counts'
covering index ``case_open_counts``, which must keep it to stay index-only).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from xining_issues.migration_operations import (
    DropFieldIndexConcurrentlyOnPostgres,
    RemoveIndexConcurrentlyOnPostgres,
)

FORWARD = [
    "DROP INDEX CONCURRENTLY IF EXISTS {like}",
    "ALTER TABLE cases_case SET (autovacuum_vacuum_scale_factor = 0.01, "
    "autovacuum_vacuum_insert_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02)",
    "ALTER TABLE cases_supervisionmark SET (autovacuum_vacuum_scale_factor = 0.01, "
    "autovacuum_vacuum_insert_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02)",
]
BACKWARD = [
    "ALTER TABLE cases_supervisionmark RESET (autovacuum_vacuum_scale_factor, "
    "autovacuum_vacuum_insert_scale_factor, autovacuum_analyze_scale_factor)",
    "ALTER TABLE cases_case RESET (autovacuum_vacuum_scale_factor, "
    "autovacuum_vacuum_insert_scale_factor, autovacuum_analyze_scale_factor)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS {like} ON cases_case "
    "(tracking_code varchar_pattern_ops)",
]


def on_postgres(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        # The name Django gave the index (cases_case_tracking_code_<hash>_like).
        like = schema_editor.quote_name(
            schema_editor._create_index_name("cases_case", ["tracking_code"], suffix="_like")
        )
        for statement in statements:
            schema_editor.execute(statement.format(like=like), params=None)

    return apply


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0011_queue_and_search_indexes"),
        ("org", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        RemoveIndexConcurrentlyOnPostgres(model_name="case", name="case_status_resolve_by"),
        RemoveIndexConcurrentlyOnPostgres(model_name="case", name="case_status_contact_by"),
        RemoveIndexConcurrentlyOnPostgres(model_name="case", name="case_status_warn_at"),
        DropFieldIndexConcurrentlyOnPostgres(
            model_name="case",
            name="category",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="cases.category",
                verbose_name="分类",
            ),
        ),
        DropFieldIndexConcurrentlyOnPostgres(
            model_name="case",
            name="complainant",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="cases",
                to=settings.AUTH_USER_MODEL,
                verbose_name="诉求人账号",
            ),
        ),
        DropFieldIndexConcurrentlyOnPostgres(
            model_name="case",
            name="district",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="org.region",
                verbose_name="区/县",
            ),
        ),
        DropFieldIndexConcurrentlyOnPostgres(
            model_name="case",
            name="lead_unit",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lead_cases",
                to="org.unit",
                verbose_name="承办单位",
            ),
        ),
        DropFieldIndexConcurrentlyOnPostgres(
            model_name="case",
            name="region",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="org.region",
                verbose_name="社区/村",
            ),
        ),
        DropFieldIndexConcurrentlyOnPostgres(
            model_name="case",
            name="street",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="org.region",
                verbose_name="街道/乡镇",
            ),
        ),
        DropFieldIndexConcurrentlyOnPostgres(
            model_name="supervisionmark",
            name="case",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="supervision_marks",
                to="cases.case",
            ),
        ),
        migrations.RunPython(on_postgres(FORWARD), on_postgres(BACKWARD), elidable=False),
    ]
