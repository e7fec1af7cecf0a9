"""Helpers of bulk writes and long bulk jobs: the kernel's batch of events, the supervision
scan's messages, the demo generator, the rollup rebuild, the benchmark."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.db.models.constants import OnConflict
from django.test.utils import override_settings
from django.utils import timezone

# Columns whose Python values the database driver takes as they are: no preparation per value.
PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.AutoField,
)


def _preparer(field: models.Field, db: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
    """How a value of ``field`` becomes a query parameter; None: as it is.

    JSON and date-times, the columns of every event and message, take the backend's adapter
    directly: ``get_db_prep_save`` around it (the field's own checks, for every value) cost
    15 µs a row, 3 ms of a batch of 200 events whose INSERT takes about 8. Any other kind of
    column goes through ``get_db_prep_save`` as in ``bulk_create``.
    """
    ops = db.ops
    if isinstance(field, models.ForeignKey):
        return _preparer(field.target_field, db)
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda value: ops.adapt_json_value(value, encoder)
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, PLAIN_FIELDS):
        return None
    return lambda value: field.get_db_prep_save(value, db)


def _columns(model: type[Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _insert(
    model: type[Model],
    columns: list[list[Any]],
    *,
    on_conflict: OnConflict | None = None,
    returning: bool = False,
) -> list[Any]:
    """INSERT the rows given as ``columns`` (the values of each of ``_columns(model)``, in
    its order) in as few statements as the database's parameter limit allows; the primary
    keys of the new rows, in order, with ``returning``."""
    db = connections[router.db_for_write(model)]
    ops = db.ops
    fields = _columns(model)
    for i, f in enumerate(fields):
        prepare = _preparer(f, db)
        if prepare is not None:
            columns[i] = [prepare(v) for v in columns[i]]
    head = (
        f"{ops.insert_statement(on_conflict=on_conflict)} {ops.quote_name(model._meta.db_table)}"
        f" ({', '.join(ops.quote_name(str(f.column)) for f in fields)}) VALUES "
    )
    tail = ops.on_conflict_suffix_sql(fields, on_conflict, None, None)
    returned: tuple[Any, ...] = ()
    if returning:
        if not db.features.can_return_rows_from_bulk_insert:
            # (SQLite before 3.35; Django's bulk_create could not set the keys there either)
            raise NotImplementedError(f"{db.vendor} cannot return the keys of a bulk insert")
        # (every backend that can return rows has it; django-stubs leave it out)
        returning_sql, returned = ops.return_insert_columns(  # type: ignore[attr-defined]
            [model._meta.pk]
        )
        tail = f"{tail} {returning_sql}"
    values_sql = f"({', '.join(['%s'] * len(fields))})"
    table = list(zip(*columns, strict=True))
    size = max(1, ops.bulk_batch_size(fields, table))
    keys: list[Any] = []
    with db.cursor() as cursor:
        for start in range(0, len(table), size):
            chunk = table[start : start + size]
            cursor.execute(
                head + ", ".join([values_sql] * len(chunk)) + (f" {tail}" if tail else ""),
                [value for row in chunk for value in row] + list(returned),
            )
            if returning:
                keys.extend(row[0] for row in cursor.fetchall())
    return keys


def insert_rows(
    model: type[Model], rows: Sequence[Mapping[str, Any]], *, ignore_conflicts: bool = False
) -> None:
    """INSERT ``rows`` (attname: value; the fields left out take their defaults, ``auto_now``
    ones the time) without making model instances, in as few statements as the database's
    parameter limit allows; with ``ignore_conflicts``, a row that breaks a unique constraint
    is left out (ON CONFLICT DO NOTHING), as with ``bulk_create``.

    What ``bulk_create`` does, for writers of plain rows at volume: a supervision tick writes
    half a million rows, and making and preparing the instances was a third of its batches'
    time.
    """
    if not rows:
        return
    now = timezone.now()
    columns: list[list[Any]] = []
    for f in _columns(model):
        if f.attname in rows[0]:
            columns.append([row[f.attname] for row in rows])
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            columns.append([now] * len(rows))
        else:
            columns.append([f.get_default()] * len(rows))
    _insert(model, columns, on_conflict=OnConflict.IGNORE if ignore_conflicts else None)


def insert_objects(objs: Sequence[Model]) -> None:
    """INSERT unsaved instances of one model, as ``bulk_create`` does (each gets its primary
    key and counts as saved), in as few statements as the parameter limit allows, but with the
    cheap value preparation of ``insert_rows``: the kernel's ``record_events``, which a
    supervision tick calls for fifty thousand events."""
    if not objs:
        return
    model = type(objs[0])
    columns = [
        # pre_save(add=True) is what save() stores: the time for auto_now(_add), else the value.
        [f.pre_save(obj, True) for obj in objs]
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else [getattr(obj, f.attname) for obj in objs]
        for f in _columns(model)
    ]
    keys = _insert(model, columns, returning=True)
    db = router.db_for_write(model)
    for obj, key in zip(objs, keys, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = db


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
