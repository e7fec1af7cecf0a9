"""Helpers of long bulk jobs: the demo generator, the rollup rebuild, the benchmark."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.models import Model
from django.test.utils import override_settings


@contextmanager
def sql_log_off() -> Iterator[None]:
    """Run the block without Django's debug SQL log.

    With DEBUG=1 Django keeps the text of the last 9,000 statements, and a bulk insert of a
    few thousand rows is megabytes of text: ``seed_demo --cases 1000000`` peaked at 3.8 GB of
    memory that way. The log is for requests; a batch job has no use for it.
    """
    with override_settings(DEBUG=False):
        yield


def analyze(*models: type[Model], vacuum: bool = False) -> None:
    """Refresh the planner's statistics of the tables after a bulk write; with ``vacuum``, on
    PostgreSQL and outside a transaction, also reclaim the row versions that upserts left.

    The rollup's fold looks a batch of cases up by ``case_id``; on a table the planner has
    never sampled, PostgreSQL guessed otherwise and scanned every event below the watermark
    for each batch, which made the rebuild of a million cases quadratic. After that rebuild,
    the month rows (updated once per batch) had eight dead versions per live row, and a
    year's overview took 790 ms instead of 160 ms until they were vacuumed. Autovacuum would
    get there in the end (it is off on some machines); a bulk job should not wait for it.
    """
    vacuum = vacuum and connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for model in models:
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"VACUUM (ANALYZE) {table}" if vacuum else f"ANALYZE {table}")
