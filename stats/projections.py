"""报: the projections of the rollup (``stats.models``): which exist, how the incremental fold
keeps them, and which one a dashboard query reads.

A projection is the rollup summed over fewer dimensions. Its ``key`` is what it is grouped by
(after ``day`` and ``since``); its ``carried`` columns follow from the key (a street's district,
a unit key's unit) and are written with the row, not grouped. A query that filters and groups
only by columns a projection has gets the same sums from it as from the wide rollup.

``SOURCES`` lists them from the fewest rows to the most, then the wide rollup itself
(``WIDE``), which has every column. ``narrowest`` picks the first that has every column a query
names. The order is by expected size: a district has many streets, a street many communities;
units are a few hundred; a category multiplies whatever it is crossed with.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Model, Q

from . import models as m
from .models import COUNTERS, CaseDayStat, CaseMonthStat

if TYPE_CHECKING:
    from .rollup import FoldedKey, Vector

UPSERT_ROWS = 400
# Columns every rollup table has: they never rule a projection out.
ALWAYS = frozenset({"pk", "id", "day", "since", *COUNTERS})
# Where each column of a projection is in the key that ``stats.rollup`` hands to ``fold``.
FOLDED_INDEX = {"street_id": 3, "district_id": 4, "category_id": 5, "unit_key": 6}


@dataclass(frozen=True)
class Source:
    """A pair of rollup tables (day rows and month rows) and the columns they hold.

    ``key``: the columns after ``day`` and ``since`` that make a row unique. ``carried``:
    columns that follow from the key. ``built_from``: the projection whose staged day rows the
    set-based rebuild sums into this one (``None``: the staged wide rows). The wide rollup has
    ``key`` and ``carried`` empty and answers every query (``wide``)."""

    name: str
    day: type[Model]
    month: type[Model]
    key: tuple[str, ...] = ()
    carried: tuple[str, ...] = ()
    built_from: str | None = None
    wide: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.key, *self.carried)

    @property
    def dimensions(self) -> frozenset[str]:
        """The column names (``district``, ``unit_key`` …) a query may use on it."""
        return frozenset(dimension(c) for c in self.columns)

    def answers(self, fields: Iterable[str]) -> bool:
        return self.wide or {dimension(f) for f in fields} - ALWAYS <= self.dimensions


def dimension(field: str) -> str:
    """The column a lookup or a value path names: ``district_id`` and ``district__name`` are
    both ``district``, ``unit_key__in`` is ``unit_key``, ``day__gte`` is ``day``."""
    head = field.split("__", 1)[0]
    return head.removesuffix("_id") if head.endswith("_id") else head


PROJECTIONS: tuple[Source, ...] = (
    Source(
        "district",
        m.DistrictDayStat,
        m.DistrictMonthStat,
        ("district_id",),
        built_from="street",
    ),
    Source(
        "street",
        m.StreetDayStat,
        m.StreetMonthStat,
        ("street_id",),
        ("district_id",),
        built_from="street_category",
    ),
    Source("unit", m.UnitDayStat, m.UnitMonthStat, ("unit_key",), ("unit_id",)),
    Source(
        "district_category",
        m.DistrictCategoryDayStat,
        m.DistrictCategoryMonthStat,
        ("district_id", "category_id"),
        built_from="street_category",
    ),
    Source(
        "street_category",
        m.StreetCategoryDayStat,
        m.StreetCategoryMonthStat,
        ("street_id", "category_id"),
        ("district_id",),
    ),
)
WIDE = Source("wide", CaseDayStat, CaseMonthStat, wide=True)
SOURCES: tuple[Source, ...] = (*PROJECTIONS, WIDE)


def q_fields(condition: Q) -> set[str]:
    """Every field a ``Q`` names (its lookups' first parts), however nested."""
    out: set[str] = set()
    for child in condition.children:
        if isinstance(child, Q):
            out |= q_fields(child)
        else:
            lookup, _value = child  # type: ignore[misc]
            out.add(lookup.split("__", 1)[0])
    return out


def narrowest(fields: Iterable[str]) -> Source:
    """The table pair with the fewest rows that holds every field named (the wide rollup when
    no projection does)."""
    wanted = set(fields)
    return next(source for source in SOURCES if source.answers(wanted))


def build_order() -> list[Source]:
    """The projections in an order where each comes after the one it is built from."""
    done: list[Source] = []
    pending = list(PROJECTIONS)
    while pending:
        ready = [p for p in pending if p.built_from in (None, *(d.name for d in done))]
        if not ready:
            raise ValueError("the projections' built_from form a cycle")
        done.extend(ready)
        pending = [p for p in pending if p not in ready]
    return done


# --- the incremental fold --------------------------------------------------------------------


def _values(key: FoldedKey) -> dict[str, Any]:
    values: dict[str, Any] = {c: key[i] for c, i in FOLDED_INDEX.items()}
    values["unit_id"] = key[FOLDED_INDEX["unit_key"]] or None
    return values


def fold(rows: Sequence[tuple[FoldedKey, Vector]]) -> None:
    """Add what the rollup's fold (``stats.rollup``) added to the day rows to every
    projection's day and month rows, in the fold's transaction."""
    for projection in PROJECTIONS:
        days: dict[tuple[Any, ...], Vector] = defaultdict(lambda: [0] * len(COUNTERS))
        months: dict[tuple[Any, ...], Vector] = defaultdict(lambda: [0] * len(COUNTERS))
        carried: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for key, vec in rows:
            values = _values(key)
            dims = tuple(values[c] for c in projection.key)
            extra = tuple(values[c] for c in projection.carried)
            day, since = key[0], key[1]
            for acc, k in (
                (days, (day, since, *dims)),
                (months, (day.replace(day=1), since.replace(day=1), *dims)),
            ):
                carried.setdefault(k, extra)
                total = acc[k]
                for i, x in enumerate(vec):
                    total[i] += x
        _add(projection, projection.day, days, carried)
        _add(projection, projection.month, months, carried)


def _add(
    projection: Source,
    model: type[Model],
    rows: dict[tuple[Any, ...], Vector],
    carried: dict[tuple[Any, ...], tuple[Any, ...]],
) -> None:
    """INSERT … ON CONFLICT DO UPDATE SET x = x + excluded.x (PostgreSQL and SQLite), in
    chunks; the carried columns are written by the insert only."""
    items = [(k, v) for k, v in rows.items() if any(v)]
    if not items:
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    key = ["day", "since", *projection.key]
    columns = [*key, *projection.carried, *COUNTERS]
    updates = ", ".join(f"{qn(c)} = {table}.{qn(c)} + excluded.{qn(c)}" for c in COUNTERS)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    adapt = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        for start in range(0, len(items), UPSERT_ROWS):
            chunk = items[start : start + UPSERT_ROWS]
            params: list[Any] = []
            for (day, since, *dims), vec in chunk:
                params.extend((adapt(day), adapt(since), *dims))
                params.extend(carried[(day, since, *dims)])
                params.extend(vec)
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(qn(c) for c in columns)}) "  # noqa: S608
                f"VALUES {', '.join([one] * len(chunk))} "
                f"ON CONFLICT ({', '.join(qn(c) for c in key)}) DO UPDATE SET {updates}",
                params,
            )


def empty() -> None:
    """The Python rebuild (``stats.rollup.rebuild_rollup``) starts from nothing."""
    for projection in PROJECTIONS:
        projection.day._default_manager.all().delete()
        projection.month._default_manager.all().delete()
