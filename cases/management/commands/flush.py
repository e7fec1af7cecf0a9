"""``manage.py flush``, as Django's, but able to empty the append-only event tables on SQLite.

The events are guarded by triggers that refuse UPDATE and DELETE of a row. On PostgreSQL flush
empties tables with TRUNCATE, which row triggers do not see: wiping the whole database stays
possible, rewriting one row of history does not. On SQLite flush is ``DELETE FROM`` every table,
which the triggers refuse, so a transactional test's teardown (or a developer's fresh start)
would fail. Here the SQLite triggers on the flushed tables are dropped, the tables emptied and
the triggers created again from their own stored SQL, all in one transaction: the same thing
TRUNCATE amounts to on PostgreSQL, and nothing else can use it to delete a single event.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections, transaction


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            super().handle(**options)
            return
        tables = set(connection.introspection.django_table_names(only_existing=True))
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = [(name, sql) for name, table, sql in cursor.fetchall() if table in tables]
            for name, _sql in triggers:
                cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
            super().handle(**options)
            for _name, sql in triggers:
                cursor.execute(sql)
