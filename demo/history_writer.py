"""Bulk inserts for the year of demo cases (``demo.history``): per table and batch one
``bulk_create`` or one ``executemany``."""

from __future__ import annotations

import datetime as dt
import operator
from typing import Any, cast

from django.db import connection
from django.db.models import Max, Model
from django.utils import timezone

EVENT_COLUMNS = (
    "case_id", "type", "actor_id", "unit_id", "from_status", "to_status", "payload",
    "is_public", "created_at",
)  # fmt: skip
EVALUATION_COLUMNS = ("case_id", "round", "rating", "comment", "source", "by_id", "created_at")


class Writer:
    """Inserts rows in bulk: per table and batch one ``bulk_create`` or one ``executemany``.

    PostgreSQL (and any backend whose ``bulk_create`` returns keys): ``bulk_create``.
    SQLite: Django 5.2 assumes SQLite's old 999-parameter limit there, so ``bulk_create`` splits
    a batch into hundreds of statements and prepares every value field by field; instead the
    values are adapted once here with the backend's own adapters and sent in one
    ``executemany`` (run in C by the driver) through the Django cursor, with primary keys from
    ``MAX(id) + 1`` read inside the batch's transaction (the project opens SQLite transactions
    IMMEDIATE, so no other writer runs meanwhile). A backend that can neither return keys nor
    is SQLite gets assigned keys and ``bulk_create``.
    """

    def __init__(self) -> None:
        self.fast = connection.vendor == "sqlite"
        self.returns_ids = connection.features.can_return_rows_from_bulk_insert
        self.ops = connection.ops

    def _adapter(self, model_field: Any) -> Any:
        kind = model_field.get_internal_type()
        ops = self.ops
        if kind == "DateTimeField":
            if not self.fast:
                return ops.adapt_datetimefield_value
            zone = connection.timezone  # what SQLite's adapter does, minus its checks

            def adapt_datetime(value: dt.datetime) -> str:
                if value.tzinfo is not None:
                    value = value.astimezone(zone).replace(tzinfo=None)
                return str(value)

            return adapt_datetime
        if kind == "DateField":
            return ops.adapt_datefield_value
        if kind == "DecimalField":
            places, digits = model_field.decimal_places, model_field.max_digits
            return lambda v: ops.adapt_decimalfield_value(v, digits, places)
        if kind == "JSONField":
            encoder = model_field.encoder
            return lambda v: ops.adapt_json_value(v, encoder)
        return None

    def _executemany(self, model: type[Model], attnames: list[str], rows: list[Any]) -> None:
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        fields = [by_attname[name] for name in attnames]
        adapters = [(i, a) for i, f in enumerate(fields) if (a := self._adapter(f)) is not None]
        if adapters:
            adapted = []
            for row in rows:
                values = list(row)
                for i, adapt in adapters:
                    if values[i] is not None:
                        values[i] = adapt(values[i])
                adapted.append(values)
            rows = adapted
        quote = self.ops.quote_name
        sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from the model
            quote(model._meta.db_table),
            # Concrete fields: each has its column.
            ", ".join(quote(cast(str, f.column)) for f in fields),
            ", ".join(["%s"] * len(fields)),
        )
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)

    def _assign_ids(self, model: type[Model], objs: list[Any]) -> None:
        start = (model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1
        for offset, obj in enumerate(objs):
            obj.pk = start + offset

    def insert_objects(self, model: type[Model], objs: list[Any]) -> None:
        """Insert model instances (or objects with the model's attnames), leaving their
        primary keys set."""
        if not objs:
            return
        fields = model._meta.concrete_fields
        if not self.fast:
            instances = objs
            if not isinstance(objs[0], model):
                names = [f.attname for f in fields]
                instances = [model(**{n: getattr(o, n) for n in names}) for o in objs]
            if not self.returns_ids:
                self._assign_ids(model, instances)
            model._default_manager.bulk_create(instances)
            for obj, instance in zip(objs, instances, strict=True):
                obj.pk = instance.pk
            return
        self._assign_ids(model, objs)
        stamp = timezone.now()
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                for obj in objs:
                    setattr(obj, f.attname, stamp)
        attnames = [f.attname for f in fields]
        get = operator.attrgetter(*attnames)
        self._executemany(model, attnames, [get(obj) for obj in objs])

    def insert_rows(self, model: type[Model], attnames: tuple[str, ...], rows: list[Any]) -> None:
        """Insert plain rows (values in ``attnames`` order); their keys are not needed."""
        if not rows:
            return
        if self.fast:
            self._executemany(model, list(attnames), rows)
        else:
            model._default_manager.bulk_create(
                [model(**dict(zip(attnames, row, strict=True))) for row in rows]
            )
