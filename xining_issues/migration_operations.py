"""Migration operations shared by the apps' migrations."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations


class _ConcurrentlyOnPostgres:
    """The concurrent operation on PostgreSQL, its ``plain`` twin elsewhere (SQLite, which has
    no CONCURRENTLY). Put first among the bases, before the concurrent operation."""

    plain: type[migrations.AddIndex] | type[migrations.RemoveIndex]

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)  # type: ignore[misc]
        else:
            self.plain.database_forwards(self, app_label, schema_editor, from_state, to_state)  # type: ignore[arg-type]

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)  # type: ignore[misc]
        else:
            self.plain.database_backwards(self, app_label, schema_editor, from_state, to_state)  # type: ignore[arg-type]


class AddIndexConcurrentlyOnPostgres(_ConcurrentlyOnPostgres, AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL (a plain CREATE INDEX holds up every write to the
    table while it reads the whole of it), a plain AddIndex elsewhere (SQLite). The migration
    must say ``atomic = False``."""

    plain = migrations.AddIndex


class RemoveIndexConcurrentlyOnPostgres(_ConcurrentlyOnPostgres, RemoveIndexConcurrently):
    """DROP INDEX CONCURRENTLY on PostgreSQL (a plain DROP INDEX waits for, and then holds up,
    every query on the table), a plain RemoveIndex elsewhere. The migration must say
    ``atomic = False``."""

    plain = migrations.RemoveIndex


class DropFieldIndexConcurrentlyOnPostgres(migrations.AlterField):
    """An ``AlterField`` whose only change is ``db_index=True`` → ``False`` (a foreign key's
    own index, when another index leads with its column). On PostgreSQL the field's index is
    dropped CONCURRENTLY by the name Django gave it, and built again CONCURRENTLY going back;
    elsewhere (SQLite) the field is altered as usual. The migration must say
    ``atomic = False``."""

    def _index(self, schema_editor: Any, state: Any, app_label: str) -> tuple[str, str, str]:
        model = state.apps.get_model(app_label, self.model_name)
        column = model._meta.get_field(self.name).column
        table = model._meta.db_table
        name = schema_editor._create_index_name(table, [column], suffix="")
        return table, column, name

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        _table, _column, name = self._index(schema_editor, from_state, app_label)
        quote = schema_editor.quote_name
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(name)}")

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
            return
        table, column, name = self._index(schema_editor, to_state, app_label)
        quote = schema_editor.quote_name
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote(name)} ON {quote(table)} "
            f"({quote(column)})"
        )
