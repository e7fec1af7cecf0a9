"""一次办结率 from counters: the cases taken in at intake (受理 or 即时办结 events) and those
answered on the spot (即时办结), per day and per month, per district, by the staff member who
took them in and by category (``stats.models.FirstCall*``).

The counters are kept with the rollup (``stats.rollup``): each fold adds the batch's intake
events, in the same transaction and under the same watermark and gaps, so an event is counted
once; the Python rebuild empties them with the rollup and the set-based one rebuilds them
(``rebuild_sql``). An event is counted on its local day, under its case's district and the
category the case had when it was folded (a later 改分类 does not move it: what the operator
took in is what is measured), and under its actor.

``first_call`` answers the dashboards for any period up to ``MAX_DAYS``: the whole months of it
from the month rows, the days before and after from the day rows: some thousand rows a year,
whatever the number of cases. A reader whose scope is narrower than a district (a street, a
community, a handler's units) is answered from the period's events instead
(``stats.knowledge.first_call``), which a small area keeps small.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Model, Q, QuerySet, Sum

from cases.models import Case, CaseEvent, EventType
from org.models import User

from . import knowledge
from .dashboards import next_month, scope_q
from .models import (
    FirstCallCategoryDay,
    FirstCallCategoryMonth,
    FirstCallOperatorDay,
    FirstCallOperatorMonth,
)
from .projections import q_fields

TAKEN = (EventType.ACCEPT, EventType.RESOLVE_AT_INTAKE)
MAX_DAYS = 3 * 366
UPSERT_ROWS = 400
# (table, its key columns after day and district, the event's value for each)
TABLES: tuple[tuple[type[Model], type[Model], tuple[str, ...]], ...] = (
    (FirstCallOperatorDay, FirstCallOperatorMonth, ("operator_key", "operator_id")),
    (FirstCallCategoryDay, FirstCallCategoryMonth, ("category_id",)),
)
Key = tuple[Any, ...]


# --- folding ---------------------------------------------------------------------------------


def fold(event_ids: Iterable[int], local_day: Any) -> None:
    """Add the intake events among ``event_ids`` (visible, folded by the rollup this batch) to
    the counters. ``local_day(created_at)`` is the rollup's local day."""
    ids = sorted(event_ids)
    if not ids:
        return
    events = CaseEvent.objects.filter(pk__in=ids, type__in=TAKEN).values_list(
        "created_at", "type", "actor_id", "case__district_id", "case__category_id"
    )
    by_operator: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    by_category: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    for at, kind, actor, district, category in events:
        day = local_day(at)
        answered = int(kind == EventType.RESOLVE_AT_INTAKE)
        for acc, key in (
            (by_operator, (day, district, actor or 0, actor)),
            (by_category, (day, district, category)),
        ):
            counts = acc[key]
            counts[0] += 1
            counts[1] += answered
    for (day_model, month_model, columns), rows in zip(
        TABLES, (by_operator, by_category), strict=True
    ):
        months: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
        for (day, *rest), (taken, at_intake) in rows.items():
            counts = months[(day.replace(day=1), *rest)]
            counts[0] += taken
            counts[1] += at_intake
        _add(day_model, columns, rows)
        _add(month_model, columns, months)


def _add(model: type[Model], columns: tuple[str, ...], rows: dict[Key, list[int]]) -> None:
    """INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n (PostgreSQL and SQLite)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    names = ["day", "district_id", *columns, "taken", "at_intake"]
    key = ["day", "district_id", columns[0]]
    updates = ", ".join(f"{qn(c)} = {table}.{qn(c)} + excluded.{qn(c)}" for c in names[-2:])
    one = "(" + ", ".join(["%s"] * len(names)) + ")"
    adapt = connection.ops.adapt_datefield_value
    items = list(rows.items())
    with connection.cursor() as cursor:
        for start in range(0, len(items), UPSERT_ROWS):
            chunk = items[start : start + UPSERT_ROWS]
            params: list[Any] = []
            for (day, *rest), counts in chunk:
                params.extend((adapt(day), *rest, *counts))
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(qn(c) for c in names)}) "  # noqa: S608
                f"VALUES {', '.join([one] * len(chunk))} "
                f"ON CONFLICT ({', '.join(qn(c) for c in key)}) DO UPDATE SET {updates}",
                params,
            )


def empty() -> None:
    """The Python rebuild (``stats.rollup.rebuild_rollup``) starts from nothing."""
    for day_model, month_model, _columns in TABLES:
        day_model._default_manager.all().delete()
        month_model._default_manager.all().delete()


def rebuild_sql(cursor: Any, watermark: int, gaps: Sequence[Sequence[Any]], tz: str) -> int:
    """The counters again from every intake event up to ``watermark`` outside ``gaps`` (the
    set-based rebuild's, which the refresh folds when they appear), on PostgreSQL; returns
    the day rows written."""
    qn = connection.ops.quote_name
    events, cases = qn(CaseEvent._meta.db_table), qn(Case._meta.db_table)
    outside = "".join(
        f" AND NOT (e.id BETWEEN {int(low)} AND {int(high)})" for low, high, *_ in gaps
    )
    taken = ", ".join(f"'{kind}'" for kind in TAKEN)
    written = 0
    for day_model, month_model, columns in TABLES:
        source = (
            "coalesce(e.actor_id, 0), e.actor_id"
            if columns[0] == "operator_key"
            else "c.category_id"
        )
        for model, day in (
            (day_model, f"(e.created_at AT TIME ZONE '{tz}')::date"),
            (month_model, f"date_trunc('month', e.created_at AT TIME ZONE '{tz}')::date"),
        ):
            table = qn(model._meta.db_table)
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            cursor.execute(
                f"INSERT INTO {table} (day, district_id, {', '.join(columns)}, taken, at_intake) "  # noqa: S608
                f"SELECT {day}, c.district_id, {source}, count(*), "
                f"count(*) FILTER (WHERE e.type = '{EventType.RESOLVE_AT_INTAKE}') "
                f"FROM {events} e JOIN {cases} c ON c.id = e.case_id "
                f"WHERE e.type IN ({taken}) AND e.id <= %s{outside} "
                f"GROUP BY 1, 2, {', '.join(str(3 + i) for i in range(len(columns)))}",
                [watermark],
            )
            if model is day_model:
                written += cursor.rowcount
    return written


# --- reading ---------------------------------------------------------------------------------


def _parts(
    model_day: type[Model], model_month: type[Model], start: dt.date, end: dt.date
) -> list[QuerySet[Any]]:
    """The rows of [start, end]: whole months from the month rows, the rest from the day rows."""
    first = start if start.day == 1 else next_month(start)
    following = end + dt.timedelta(days=1)
    after = following if following.day == 1 else end.replace(day=1)
    days, months = model_day._default_manager, model_month._default_manager
    if first >= after:
        return [days.filter(day__gte=start, day__lte=end)]
    parts = [months.filter(day__gte=first, day__lt=after)]
    if start < first:
        parts.append(days.filter(day__gte=start, day__lt=first))
    if after <= end:
        parts.append(days.filter(day__gte=after, day__lte=end))
    return parts


def answers(scope: Q) -> bool:
    """Whether the counters can answer a reader of ``scope`` (none, or districts only)."""
    return q_fields(scope) <= {"district_id", "pk"}


def first_call(user: User | AnonymousUser | None, start: dt.date, end: dt.date) -> dict[str, Any]:
    """一次办结率 from ``start`` to ``end`` (inclusive) in the cases ``user`` may count
    (``None``: the whole city): the shape of ``stats.knowledge.first_call``."""
    scope = Q() if user is None else scope_q(user)
    if not answers(scope):
        return knowledge.first_call(user, start, end)
    grouped: list[dict[int | None, list[Any]]] = []
    for (day_model, month_model, _columns), (key, name) in zip(
        TABLES,
        (("operator_key", "operator__display_name"), ("category_id", "category__name")),
        strict=True,
    ):
        found: dict[int | None, list[Any]] = {}
        for part in _parts(day_model, month_model, start, end):
            for row in (
                part.filter(scope)
                .values(key, name)
                .annotate(t=Sum("taken"), a=Sum("at_intake"))
                .order_by()
            ):
                entry = found.setdefault(row[key] or None, [row[name], 0, 0])
                entry[1] += row["t"] or 0
                entry[2] += row["a"] or 0
        grouped.append(found)
    operators, categories = grouped
    return knowledge.first_call_answer(
        sum(e[1] for e in categories.values()),
        sum(e[2] for e in categories.values()),
        operators,
        categories,
    )
