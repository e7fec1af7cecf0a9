"""报: keeps ``CaseDayStat`` (counters per day × community × category × unit) up to date,
and ``CaseMonthStat``, the same rows summed per month, beside it.

The counters follow ``stats.rates`` exactly. The sums over the rows of a period of whole days
equal what ``compute_rates`` finds for that period:

* created / rejected / closed: one per 提交 / 不予受理 / 归档 event, on its day and its unit.
* dispatched: cases with a 派单 (or a 改派, ``rates.DISPATCH_TYPES``) in the period.
* responded (响应): of those, the cases whose latest *first* contact in the period was on time.
  It is counted on the **contact day**, and only when the dispatch is in the same period.
* replied / resolved: cases with a 答复 (or 即时办结) in the period, and whose latest one was
  resolved.
* evaluated / satisfied: cases with a 评价 in the period, and whose latest rating was 满意 or
  基本满意. A case that was ruled unreasonable at 归档 in the same period is left out.
* the unit of all these is the unit of the case's latest event in the period that names one.
* a case with a 合并 event in the period counts none of the rate counters (as ``compute_rates``).

"Cases with an event in the period" is not a sum over days. A case dispatched on Monday and
again on Friday is one case in a week but two in a sum of days. So the counters of a case are
written by inclusion–exclusion over the runs of its event days. Let F(k, l) be what
``compute_rates`` counts for the case when the period covers its event days k..l. The row
keyed (day=l, since=k) holds F(k,l) − F(k+1,l) − F(k,l−1) + F(k+1,l−1). A period [a, b]
sums the rows with a <= since and day <= b, and the sum telescopes to F(first day in the
period, last day in the period). Most cases have only ``since == day`` rows. The others are
the few cases with repeated or dependent events (re-dispatch, 重办, 响应 after a dispatch on
an earlier day, an unreasonable ruling after the rating).

Incremental refresh: ``RollupState`` remembers the last event id folded in. ``refresh_rollup``
reads the events after it in bounded batches, and for each case they touch re-reads the
case's earlier relevant events. It adds (counters with all events) − (counters with the events
folded before) with an additive upsert: INSERT … ON CONFLICT DO UPDATE SET x = x + excluded.x,
which works on PostgreSQL and on SQLite >= 3.24. The state row is locked (select_for_update;
on SQLite the IMMEDIATE transaction takes the write lock), so two refreshes never fold the same
events. Ids that a still-open transaction has taken are not visible yet. They are kept as gaps
and folded when they appear, so a slow writer's events are not skipped.

Assumption (the workflow ensures it): a case's events are appended in time order, so an
event never has an earlier time than an event of the same case that has already been folded.

The narrow projections of these rows (``stats.projections``, for the dashboards) follow in the
same transaction: every fold adds the day rows it added to them, and a rebuild empties them with
the rollup, so a projection commits or rolls back with the rollup and a failure aborts the fold.
(They are called directly: while the rollup lived in ``cases``, which may not import ``stats``,
it sent signals for them.)
"""

from __future__ import annotations

import datetime as dt
import time as clock
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from cases.models import Case, CaseEvent, EventType, Outcome
from xining_issues.bulk import analyze

from . import first_call, projections
from .models import COUNTERS, CaseDayStat, CaseMonthStat, RollupCase, RollupCounters, RollupState
from .rates import DISPATCH_TYPES, RATE_TYPES, SATISFIED_RATINGS

(CREATED, REJECTED, DISPATCHED, RESPONDED, REPLIED, RESOLVED, EVALUATED, SATISFIED, CLOSED) = (
    range(len(COUNTERS))
)
COUNTED_TYPES = RATE_TYPES | {EventType.SUBMIT, EventType.REJECT}
# A recategorised case moves its counters, so that event touches the case too.
TOUCHING_TYPES = COUNTED_TYPES | {EventType.RECATEGORISE}

BATCH_SIZE = 20_000
UPSERT_ROWS = 400
# Ids that are still invisible after this long belong to a rolled-back transaction.
GAP_TTL = dt.timedelta(hours=1)

Key = tuple[dt.date, dt.date, int]  # (day, since, unit_key)
Vector = list[int]
# A day row as a fold hands it to the projections: (day, since, region, street, district,
# category, unit_key), with the counters added to it (in ``COUNTERS`` order; negative ones
# subtract).
FoldedKey = tuple[dt.date, dt.date, int, int, int, int, int]


@dataclass(slots=True)
class Ev:
    """One counted event of a case, reduced to what the counters need."""

    id: int
    at: dt.datetime
    day: dt.date
    type: str
    unit: int  # 0: no unit
    payload: dict[str, Any]


@dataclass
class RefreshReport:
    batches: int = 0
    events_read: int = 0
    context_events_read: int = 0
    cases_touched: int = 0
    rows_upserted: int = 0
    last_event_id: int = 0
    gaps: int = 0
    seconds: float = 0.0


# --- the counters of one case ----------------------------------------------------------------


def _run_counts(events: Sequence[Ev]) -> dict[int, Vector]:
    """What ``compute_rates`` (plus the simple counts) makes of one case when the period holds
    exactly ``events`` (in time order): unit_key → counters."""
    out: dict[int, Vector] = {}
    group = 0
    dispatched = responded = unreasonable = merged = False
    reply_outcome: str | None = None
    rating: str | None = None
    for e in events:
        kind = e.type
        if kind in RATE_TYPES and e.unit:
            group = e.unit
        if kind == EventType.SUBMIT:
            out.setdefault(e.unit, [0] * len(COUNTERS))[CREATED] += 1
        elif kind == EventType.REJECT:
            out.setdefault(e.unit, [0] * len(COUNTERS))[REJECTED] += 1
        elif kind in DISPATCH_TYPES:
            dispatched = True
        elif kind == EventType.CONTACT and e.payload.get("first"):
            responded = bool(e.payload.get("on_time"))
        elif kind in (EventType.REPLY, EventType.RESOLVE_AT_INTAKE):
            reply_outcome = e.payload.get("outcome")
        elif kind == EventType.EVALUATE:
            rating = e.payload.get("rating")
        elif kind == EventType.CLOSE:
            out.setdefault(e.unit, [0] * len(COUNTERS))[CLOSED] += 1
            if e.payload.get("unreasonable"):
                unreasonable = True
        elif kind == EventType.MERGE:
            merged = True
    if merged:
        return out
    if dispatched or reply_outcome is not None or (rating is not None and not unreasonable):
        v = out.setdefault(group, [0] * len(COUNTERS))
        if dispatched:
            v[DISPATCHED] += 1
            v[RESPONDED] += int(responded)
        if reply_outcome is not None:
            v[REPLIED] += 1
            v[RESOLVED] += int(reply_outcome == Outcome.RESOLVED)
        if rating is not None and not unreasonable:
            v[EVALUATED] += 1
            v[SATISFIED] += int(rating in SATISFIED_RATINGS)
    return out


def case_contribution(events: Iterable[Ev]) -> dict[Key, Vector]:
    """The rollup rows of one case: (day, since, unit_key) → counters (see the module doc)."""
    ordered = sorted(events, key=lambda e: (e.at, e.id))
    if not ordered:
        return {}
    days: list[dt.date] = []
    starts: list[int] = []
    for i, e in enumerate(ordered):
        if not days or e.day != days[-1]:
            days.append(e.day)
            starts.append(i)
    starts.append(len(ordered))
    memo: dict[tuple[int, int], dict[int, Vector]] = {}

    def f(k: int, last: int) -> dict[int, Vector]:
        if k > last:
            return {}
        if (k, last) not in memo:
            memo[(k, last)] = _run_counts(ordered[starts[k] : starts[last + 1]])
        return memo[(k, last)]

    out: dict[Key, Vector] = {}
    for l in range(len(days)):  # noqa: E741 - k..l as in the module docstring
        for k in range(l + 1):
            terms = ((f(k, l), 1), (f(k + 1, l), -1), (f(k, l - 1), -1), (f(k + 1, l - 1), 1))
            acc: dict[int, Vector] = {}
            for counts, sign in terms:
                for unit, vec in counts.items():
                    a = acc.setdefault(unit, [0] * len(COUNTERS))
                    for i, x in enumerate(vec):
                        a[i] += sign * x
            for unit, vec in acc.items():
                if any(vec):
                    out[(days[l], days[k], unit)] = vec
    return out


# --- reading events --------------------------------------------------------------------------


def _local_day(at: dt.datetime, tz: dt.tzinfo) -> dt.date:
    return at.astimezone(tz).date()


def _in_gaps(event_id: int, gaps: Sequence[Sequence[Any]]) -> bool:
    return any(low <= event_id <= high for low, high, *_rest in gaps)


def _gap_filter(gaps: Sequence[Sequence[Any]]) -> Q:
    condition = Q(pk__in=[])
    for low, high, *_rest in gaps:
        condition |= Q(pk__gte=low, pk__lte=high)
    return condition


def _holes(low: int, high: int, seen: Sequence[int]) -> list[tuple[int, int]]:
    """The id ranges in (low, high] that are not in ``seen`` (sorted)."""
    holes: list[tuple[int, int]] = []
    expected = low + 1
    for event_id in seen:
        if event_id > expected:
            holes.append((expected, event_id - 1))
        expected = event_id + 1
    if high >= expected:
        holes.append((expected, high))
    return holes


def _split_gaps(gaps: list[list[Any]], found: Sequence[int], now: dt.datetime) -> list[list[Any]]:
    """Take the ids now seen out of the gap ranges and drop the expired ranges."""
    found_sorted = sorted(found)
    kept: list[list[Any]] = []
    for low, high, seen_at in gaps:
        if dt.datetime.fromisoformat(seen_at) < now - GAP_TTL:
            continue
        inside = [i for i in found_sorted if low <= i <= high]
        kept.extend([a, b, seen_at] for a, b in _holes(low - 1, high, inside))
    return kept


# --- folding ---------------------------------------------------------------------------------


def _fold_once(state: RollupState, batch_size: int, report: RefreshReport) -> int:
    """Fold the next batch of events into the rollup; returns how many new events it read."""
    now = timezone.now()
    tz = timezone.get_current_timezone()
    old_watermark = state.last_event_id
    old_gaps: list[list[Any]] = list(state.gaps or [])

    new = list(
        CaseEvent.objects.filter(pk__gt=old_watermark)
        .order_by("pk")
        .values_list("pk", "case_id", "type")[:batch_size]
    )
    found = (
        list(CaseEvent.objects.filter(_gap_filter(old_gaps)).values_list("pk", "case_id", "type"))
        if old_gaps
        else []
    )
    report.events_read += len(new) + len(found)
    new_watermark = new[-1][0] if new else old_watermark
    new_gaps = _split_gaps(old_gaps, [pk for pk, _c, _t in found], now)
    # On the first fold, ids below the first event are history (deleted or rolled back).
    floor = old_watermark or (new[0][0] - 1 if new else 0)
    new_gaps.extend(
        [low, high, now.isoformat()]
        for low, high in _holes(floor, new_watermark, [pk for pk, _c, _t in new])
    )

    touched = sorted({case_id for _pk, case_id, kind in (*new, *found) if kind in TOUCHING_TYPES})
    deltas: dict[tuple[dt.date, dt.date, int, int, int], Vector] = {}
    if touched:
        dims = {
            pk: (region, street, district, category)
            for pk, region, street, district, category in Case.objects.filter(
                pk__in=touched
            ).values_list("pk", "region_id", "street_id", "district_id", "category_id")
        }
        folded_category = dict(
            RollupCase.objects.filter(case_id__in=touched).values_list("case_id", "category_id")
        )
        before: dict[int, list[Ev]] = defaultdict(list)
        after: dict[int, list[Ev]] = defaultdict(list)
        # Only case_id narrows the query (its index); the watermark is applied here, since an
        # id range in SQL tempts the planner into scanning every event below it.
        rows = CaseEvent.objects.filter(case_id__in=touched, type__in=COUNTED_TYPES).values_list(
            "pk", "case_id", "type", "unit_id", "payload", "created_at"
        )
        context = 0
        for pk, case_id, kind, unit_id, payload, at in rows.iterator(chunk_size=5000):
            if pk > new_watermark:
                continue
            e = Ev(pk, at, _local_day(at, tz), kind, unit_id or 0, payload or {})
            if pk <= old_watermark and not _in_gaps(pk, old_gaps):
                before[case_id].append(e)
                context += 1
            if not _in_gaps(pk, new_gaps):
                after[case_id].append(e)
        report.context_events_read += context
        for case_id in touched:
            if case_id not in dims:
                continue
            region, _street, _district, category = dims[case_id]
            sides = (
                (-1, before[case_id], folded_category.get(case_id, category)),
                (1, after[case_id], category),
            )
            for sign, events, cat in sides:
                for (day, since, unit), vec in case_contribution(events).items():
                    acc = deltas.setdefault((day, since, region, cat, unit), [0] * len(COUNTERS))
                    for i, x in enumerate(vec):
                        acc[i] += sign * x
        report.rows_upserted += _upsert(deltas, dims)
        RollupCase.objects.bulk_create(
            [RollupCase(case_id=c, category_id=dims[c][3]) for c in touched if c in dims],
            update_conflicts=True,
            unique_fields=["case"],
            update_fields=["category"],
        )
        report.cases_touched += len(touched)

    # 一次办结率: the intake events that became visible, under the same watermark and gaps.
    first_call.fold(
        (pk for pk, _c, kind in (*new, *found) if kind in first_call.TAKEN),
        lambda at: _local_day(at, tz),
    )
    state.last_event_id = new_watermark
    state.gaps = new_gaps
    state.refreshed_at = now
    state.save(update_fields=["last_event_id", "gaps", "refreshed_at"])
    report.batches += 1
    report.last_event_id = new_watermark
    report.gaps = len(new_gaps)
    return len(new)


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _upsert(
    deltas: dict[tuple[dt.date, dt.date, int, int, int], Vector],
    dims: dict[int, tuple[int, int, int, int]],
) -> int:
    """Add the deltas to the day rows and, summed per month, to the month rows. Returns how
    many day rows it wrote."""
    ancestors = {region: (street, district) for region, street, district, _c in dims.values()}
    days = [(key, vec) for key, vec in deltas.items() if any(vec)]
    months: dict[tuple[dt.date, dt.date, int, int, int], Vector] = {}
    for (day, since, region, category, unit), vec in days:
        acc = months.setdefault(
            (_month(day), _month(since), region, category, unit), [0] * len(COUNTERS)
        )
        for i, x in enumerate(vec):
            acc[i] += x
    _add_rows(CaseDayStat, days, ancestors)
    _add_rows(CaseMonthStat, [(k, v) for k, v in months.items() if any(v)], ancestors)
    if days:
        folded: list[tuple[FoldedKey, Vector]] = [
            ((day, since, region, *ancestors[region], category, unit), vec)
            for (day, since, region, category, unit), vec in days
        ]
        projections.fold(folded)
    return len(days)


def _add_rows(
    model: type[RollupCounters],
    rows: list[tuple[tuple[dt.date, dt.date, int, int, int], Vector]],
    ancestors: dict[int, tuple[int, int]],
) -> None:
    """INSERT … ON CONFLICT DO UPDATE SET x = x + excluded.x, in chunks."""
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = [
        "day",
        "since",
        "region_id",
        "street_id",
        "district_id",
        "category_id",
        "unit_id",
        "unit_key",
        *COUNTERS,
    ]
    updates = ", ".join(f"{qn(c)} = {table}.{qn(c)} + excluded.{qn(c)}" for c in COUNTERS)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    adapt = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPSERT_ROWS):
            chunk = rows[start : start + UPSERT_ROWS]
            params: list[Any] = []
            for (day, since, region, category, unit), vec in chunk:
                street, district = ancestors[region]
                params.extend((adapt(day), adapt(since), region, street, district, category))
                params.extend((unit or None, unit, *vec))
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(qn(c) for c in columns)}) "  # noqa: S608
                f"VALUES {', '.join([one] * len(chunk))} "
                f"ON CONFLICT ({qn('day')}, {qn('since')}, {qn('region_id')}, "
                f"{qn('category_id')}, {qn('unit_key')}) DO UPDATE SET {updates}",
                params,
            )


def _state() -> RollupState:
    RollupState.objects.get_or_create(pk=1)
    return RollupState.objects.select_for_update().get(pk=1)


def refresh_rollup(
    *, batch_size: int = BATCH_SIZE, max_batches: int | None = None
) -> RefreshReport:
    """Fold the events written since the last refresh (≤ ``max_batches`` batches, each in its
    own transaction with the state row locked). Safe to run twice at once or to repeat."""
    started = clock.perf_counter()
    report = RefreshReport()
    RollupState.objects.get_or_create(pk=1)
    while max_batches is None or report.batches < max_batches:
        with transaction.atomic():
            read = _fold_once(_state(), batch_size, report)
        if read < batch_size:
            break
    report.seconds = clock.perf_counter() - started
    return report


def rebuild_rollup(*, batch_size: int = BATCH_SIZE) -> RefreshReport:
    """Empty the rollup and fold every event again, in one transaction, with the state locked
    (refreshes wait for it). The dashboards keep reading the old rows until it commits."""
    started = clock.perf_counter()
    report = RefreshReport()
    RollupState.objects.get_or_create(pk=1)
    analyze(CaseEvent)  # outside the transaction, whose locks last until it commits
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A crash loses only this rebuild, which can run again: no need to wait at commit
            # for the WAL of a few million rows to reach the disk.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        state = _state()
        CaseDayStat.objects.all().delete()
        CaseMonthStat.objects.all().delete()
        RollupCase.objects.all().delete()
        projections.empty()
        first_call.empty()
        state.last_event_id = 0
        state.gaps = []
        state.rebuilt_at = timezone.now()
        state.save(update_fields=["last_event_id", "gaps", "rebuilt_at"])
        while _fold_once(state, batch_size, report) >= batch_size:
            pass
    analyze(CaseDayStat, CaseMonthStat, vacuum=True)
    report.seconds = clock.perf_counter() - started
    return report
