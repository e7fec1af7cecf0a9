"""报: the statistics rollup rebuilt set-based on PostgreSQL, a month of cases per statement.

``stats.rollup.rebuild_rollup`` folds every event again in Python, case by case; at ten million
cases that takes hours. ``rebuild_rollup_sql`` writes exactly the same rows (``CaseDayStat``,
``CaseMonthStat``, ``RollupCase``) and the same watermark with a few ``INSERT … SELECT …
GROUP BY`` statements. The counters and their inclusion–exclusion rows are defined in the
module docstring of ``stats.rollup``; this is how the SQL computes them.

Over 500 lines on purpose: the SQL of one rebuild, statement by statement, each beside the
reasoning that makes it equal to the Python fold; apart, neither could be checked.

The counters of a case split in two kinds
    * *Simple* counters (created, rejected, closed) add one per 提交 / 不予受理 / 归档 event, on
      the event's local day and unit. They are additive over days, so their inclusion–exclusion
      rows are only the ``since == day`` rows, one per event.
    * *Group* counters (dispatched, responded, replied, resolved, evaluated, satisfied) are
      what ``compute_rates`` counts for the case, all under one unit (the unit of the latest
      rate event that names one). F(k, l), their value when a period covers the case's days
      k..l, depends only on the rate events (``RATE_TYPES``) of those days. A day without a
      rate event (only 提交 or 不予受理) changes no F, so its inclusion–exclusion rows cancel:
      the days k..l below are the case's *rate days* only.

One batch (``batch_sql``)
    1. ``ev``: the counted events of the batch's cases, one narrow row each: the local day
       (``created_at`` in ``settings.TIME_ZONE``), a small kind code, the unit, a value code
       read from the payload once (first contact on time, reply resolved, rating satisfied,
       ruled unreasonable), and ``ord``, the event's place in the case's timeline ordered by
       (``created_at``, id) as the Python fold orders it.
    2. ``days``: one row per (case, rate day) with plain aggregates: bool_or for 派单 and for
       the unreasonable ruling, and "the latest value of the day" as ``max(ord · 4 + value)``.
       Since ``ord`` grows along the timeline, "the latest value over days k..l" is the
       maximum of those codes over the days: a running ``max``.
    3. ``runs``: each day k joined to the later days l of its case, with running aggregates
       over the days k..l, gives F(k, l) for every pair, packed into one bigint: ``unit << 6
       | six counter bits``. The same window aggregates once more with ``FILTER (WHERE day >
       day k)``, which gives F(k+1, l): the run without its first day.
    4. The row keyed (day = day l, since = day k) is F(k,l) − F(k+1,l) − F(k,l−1) + F(k+1,l−1);
       the last two terms are the previous row's two values (``lag``), without a new sort.
       When the four terms name the same unit (nearly always) they make one row, and most
       such rows are zero and dropped, so only a few rows per case reach the ``GROUP BY``;
       when they differ, each term is a row of its own.
    5. The simple rows and these, joined to the case for its community and *current* category
       (as the Python fold files them), are summed per (day, since, region, category,
       unit_key) into a staging table. The same statement stages the batch's ``RollupCase``
       rows (the cases with an event that touches the rollup, with their current category).

A batch is "the cases with id in [a, b]": the ranges start at the first case id of each
submission month (local time); consecutive small months share a batch (``MIN_BATCH_CASES``),
and a range that holds too many cases (months whose ids interleave: nothing here assumes ids
follow time) is cut at id quantiles (``MAX_BATCH_CASES``). The ranges cover every id once.

Then one ``INSERT … SELECT … GROUP BY`` sums the staged rows into ``CaseDayStat`` (rows with a
nonzero counter), another per month into ``CaseMonthStat``, and a third copies ``RollupCase``.

The projections (``stats.models``, ``stats.projections``) are built from the same staged rows,
so they equal the rollup they project. The staged rows are read twice more, not once per
projection: they are summed into a temporary table of day rows per street × category and one
per unit; the other projections are summed from the street × category table (``built_from``),
and each projection's month rows from its own day rows.

Writing the tables: build and swap
    A rollup table is built afresh beside the old one (``<table>_rebuild``), filled in key
    order without indexes or foreign keys, then given the old table's constraints and indexes
    (one sort per index, one join per foreign key, instead of a check per row) and grants;
    at the very end the old table is dropped and the new one takes its name and its objects'
    migration-defined names (``_swap_plan``, ``_build``, ``_switch``). Readers keep reading the
    old rows all along; only the DROP needs them out, and they wait from then until the
    commit that follows at once. (A REPEATABLE READ reader whose snapshot is older than the
    commit would see the new table empty; the dashboards read in READ COMMITTED.) A table
    with something the swap does not copy (a view, a trigger, an inbound foreign key, a
    publication, row security, another owner …) is refilled in place instead: DELETE and
    INSERT in the same transaction, which is what the Python rebuild does, slower.

Transaction and concurrency
    Everything that readers see changes in one transaction. The ``RollupState`` table is
    locked (EXCLUSIVE: plain reads pass, ``select_for_update`` waits) before the transaction
    takes its snapshot, so a refresh that held the row has committed by then and one that
    starts later waits and continues from the new watermark. Every batch reads one snapshot:
    the transaction's own (REPEATABLE READ) when it runs the batches itself, or, with
    ``workers``, the snapshot it exports (``pg_export_snapshot``) and the worker connections
    import: each runs batches into shared UNLOGGED staging tables and commits; the main
    transaction (READ COMMITTED, so it sees their rows) then writes the rollup. Inside an
    outer transaction (tests) the batches run in it, since other connections cannot see its
    rows, and the isolation level is the outer one's.

The watermark and the gaps
    ``last_event_id`` is the largest event id in the snapshot. Ids below it that the snapshot
    does not see (a transaction still open, or rolled back) are ``gaps`` that the refresh
    folds when they appear, as after the Python rebuild, but only the holes among the last
    ``GAP_WINDOW`` ids below the watermark are recorded (``[low, high, now]``). The Python
    rebuild records every hole since the first event and its refreshes drop them after
    ``GAP_TTL`` (an hour) anyway: a hole a hundred thousand ids old is not a transaction still
    in flight, and listing every old hole would make the state row as long as the history.

A difference that does not change any sum: the Python rebuild adds its batches into the rows
one after the other, so a key whose counters cancel across two of its batches stays as an
all-zero row. This rebuild sums before it writes and leaves no all-zero rows.

On SQLite (the laptop default) there is no set-based rebuild: ``rebuild()`` falls back to
``stats.rollup.rebuild_rollup``, which is fast enough for a few thousand demo cases.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time as clock
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from cases.models import Case, CaseEvent, EventType, Outcome
from org.models import Unit
from xining_issues.bulk import analyze

from . import first_call
from .models import COUNTERS, CaseDayStat, CaseMonthStat, RollupCase, RollupState
from .projections import PROJECTIONS, Source, build_order
from .rates import RATE_TYPES, SATISFIED_RATINGS
from .rollup import COUNTED_TYPES, TOUCHING_TYPES, RefreshReport, rebuild_rollup

Progress = Callable[[str], None]

# Consecutive months with fewer cases share a batch: a statement has a fixed cost. A range
# with more (months whose case ids interleave) is cut in pieces.
MIN_BATCH_CASES = 20_000
MAX_BATCH_CASES = 150_000
# Holes in the event ids older than this many ids below the watermark are not gaps.
GAP_WINDOW = 100_000
# Memory for the sorts and hash tables of one statement (SET LOCAL): a month of cases at
# ten million cases a decade is about 700,000 events.
WORK_MEM = "256MB"
# Worker connections at most; the default follows the server's own parallel query setting.
MAX_WORKERS = 8
# The unit id shares a bigint with a sequence number (``ord``) in the SQL.
UNIT_BITS = 40
# The prefix of the shared staging tables (dropped at the end; leftovers of a crashed run are
# dropped by the next run, which holds the rollup lock).
STAGE_PREFIX = "stats_rollup_stage_"

# The small codes the SQL gives the event types. Kinds 3..8 are exactly RATE_TYPES.
KINDS: dict[str, int] = {
    EventType.SUBMIT: 1,
    EventType.REJECT: 2,
    EventType.DISPATCH: 3,
    EventType.REASSIGN: 3,  # a 改派 is counted as a 派单 (``rates.DISPATCH_TYPES``)
    EventType.CONTACT: 4,
    EventType.REPLY: 5,
    EventType.RESOLVE_AT_INTAKE: 5,
    EventType.EVALUATE: 6,
    EventType.CLOSE: 7,
    EventType.MERGE: 8,  # a case merged in the run counts no rate counter (``rates``)
    EventType.RECATEGORISE: 0,  # touches the case (RollupCase), counts nothing
}
SUBMIT, REJECT, DISPATCH, CONTACT, REPLY, EVALUATE, CLOSE, MERGE = 1, 2, 3, 4, 5, 6, 7, 8
GROUP_COUNTERS = ("dispatched", "responded", "replied", "resolved", "evaluated", "satisfied")
SIMPLE_COUNTERS = {"created": SUBMIT, "rejected": REJECT, "closed": CLOSE}
if (
    {t for t, k in KINDS.items() if DISPATCH <= k <= MERGE} != set(RATE_TYPES)
    or {t for t, k in KINDS.items() if k} != set(COUNTED_TYPES)
    or set(KINDS) != set(TOUCHING_TYPES)
    or set(GROUP_COUNTERS) | set(SIMPLE_COUNTERS) != set(COUNTERS)
):
    raise ImproperlyConfigured("stats.rebuild.KINDS no longer matches stats.rollup's counters")


@dataclass
class RebuildReport:
    """What a rebuild did. ``events_read`` counts every event up to the watermark, as the
    Python rebuild's report does."""

    batches: int = 0
    workers: int = 0  # worker connections (0: the batches ran in the transaction itself)
    events_read: int = 0
    cases_touched: int = 0  # RollupCase rows
    rows: int = 0  # CaseDayStat rows
    month_rows: int = 0
    projection_rows: int = 0  # day and month rows of every projection
    first_call_rows: int = 0  # 一次办结率's day rows (stats.first_call)
    staged_rows: int = 0
    last_event_id: int = 0
    gaps: int = 0
    swapped: bool = False
    seconds: float = 0.0
    stage_seconds: float = 0.0
    write_seconds: float = 0.0


@dataclass(frozen=True)
class Batch:
    label: str  # the first month it holds, 2024-01
    low: int  # case ids, inclusive
    high: int
    cases: int


@dataclass(frozen=True)
class Stage:
    """The staging tables: temporary ones in the transaction itself, or unlogged ones that
    worker connections share."""

    rows: str
    cases: str
    temporary: bool

    @classmethod
    def create(cls, *, temporary: bool) -> Stage:
        if temporary:
            return cls("rollup_stage", "rollup_stage_cases", True)
        name = f"{STAGE_PREFIX}{uuid.uuid4().hex[:12]}"
        return cls(name, f"{name}_cases", False)

    def drop(self) -> str:
        # pg_temp: never a table of that name in the search path
        schema = "pg_temp." if self.temporary else ""
        return f"DROP TABLE IF EXISTS {schema}{self.rows}, {schema}{self.cases}"

    def ddl(self) -> list[str]:
        kind, end = ("TEMPORARY", " ON COMMIT DROP") if self.temporary else ("UNLOGGED", "")
        counters = ", ".join(f"{c} integer NOT NULL" for c in COUNTERS)
        return [
            # a rebuild inside an outer transaction leaves its temporary tables to the next
            self.drop(),
            f"CREATE {kind} TABLE {self.rows} (day date NOT NULL, since date NOT NULL, "
            "region_id bigint NOT NULL, category_id bigint NOT NULL, unit_key bigint NOT NULL, "
            f"street_id bigint NOT NULL, district_id bigint NOT NULL, {counters}){end}",
            f"CREATE {kind} TABLE {self.cases} (case_id bigint NOT NULL, "
            f"category_id bigint NOT NULL){end}",
        ]


# --- the SQL ---------------------------------------------------------------------------------


def _literal(value: str) -> str:
    if "'" in value or "%" in value:
        raise ValueError(value)
    return f"'{value}'"


def _in(values: Iterable[str]) -> str:
    return "(" + ", ".join(_literal(v) for v in sorted(values)) + ")"


def _truthy(expr: str) -> str:
    """Python's truth of a JSON value (missing, null, false, 0, "", [] and {} are false)."""
    return f"""coalesce(({expr}) NOT IN ('false', 'null', '0', '""', '[]', '{{}}'), false)"""


def _kind_case() -> str:
    whens = " ".join(f"WHEN {_literal(t)} THEN {k}" for t, k in KINDS.items())
    return f"CASE e.type {whens} END"


def _value_case() -> str:
    """One small code per event, each payload key read once:
    contact 0 not first, 1 first but late, 2 first and on time;
    reply / 即时办结 0 no outcome (null or missing), 1 not resolved, 2 resolved;
    evaluate 0 no rating, 1 unsatisfied or other, 2 satisfied or basically satisfied;
    close 1 ruled unreasonable."""
    first, on_time = _truthy("e.payload -> 'first'"), _truthy("e.payload -> 'on_time'")
    unreasonable = _truthy("e.payload -> 'unreasonable'")
    resolved = f"coalesce((e.payload ->> 'outcome' = {_literal(Outcome.RESOLVED)})::int + 1, 0)"
    satisfied = f"coalesce((e.payload ->> 'rating' IN {_in(SATISFIED_RATINGS)})::int + 1, 0)"
    return (
        "CASE e.type "
        f"WHEN {_literal(EventType.CONTACT)} THEN "
        f"CASE WHEN {first} THEN 1 + ({on_time})::int ELSE 0 END "
        f"WHEN {_literal(EventType.REPLY)} THEN {resolved} "
        f"WHEN {_literal(EventType.RESOLVE_AT_INTAKE)} THEN {resolved} "
        f"WHEN {_literal(EventType.EVALUATE)} THEN {satisfied} "
        f"WHEN {_literal(EventType.CLOSE)} THEN ({unreasonable})::int "
        "ELSE 0 END"
    )


def _bit(code: str, j: int) -> str:
    return f"({code} >> {j} & 1)" if j else f"({code} & 1)"


def _sum_nonzero(columns: Iterable[str]) -> str:
    return " OR ".join(f"sum({c}) <> 0" for c in columns)


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def batch_sql(stage: Stage) -> str:
    """The statement of one batch (parameters ``low``, ``high``, ``watermark``, ``tz``): stage
    its rows and its ``RollupCase`` rows."""
    unit_mask = (1 << UNIT_BITS) - 1
    # The combined row of a pair: counter j of F(k,l) − F(k+1,l) − F(k,l−1) + F(k+1,l−1).
    combined = [
        f"{_bit('c1', j)} - {_bit('c2', j)} - {_bit('c3', j)} + {_bit('c4', j)}"
        for j in range(len(GROUP_COUNTERS))
    ]
    one_unit = " AND ".join(f"(c{i} = 0 OR c{i} >> 6 = u)" for i in (1, 2, 3, 4))
    any_counter = " OR ".join(
        f"{_bit('c1', j)} + {_bit('c4', j)} <> {_bit('c2', j)} + {_bit('c3', j)}"
        for j in range(len(GROUP_COUNTERS))
    )

    def row(day: str, since: str, unit: str, group: list[str], simple: dict[str, str]) -> str:
        values = dict(zip(GROUP_COUNTERS, group, strict=True)) | simple
        return f"{day}, {since}, {unit}, " + ", ".join(values.get(c, "0") for c in COUNTERS)

    # Running aggregates over days k..l (suffix 1) and k+1..l (suffix 2: the same window
    # without its first day). F(k, l-1) and F(k+1, l-1) are then the previous row's.
    aggregates = {
        "disp": "bool_or(b.disp)",
        "unr": "bool_or(b.unr)",
        "mrg": "bool_or(b.mrg)",
        "con": "max(b.con)",
        "rep": "max(b.rep)",
        "eva": "max(b.eva)",
        "unit": "max(b.unit)",
    }
    scope = {"1": "", "2": " FILTER (WHERE b.day > a.day)"}
    running = ", ".join(
        f"{call}{scope[n]} OVER w AS {name}{n}" for n in scope for name, call in aggregates.items()
    )

    def bits(n: str) -> str:
        """The counter bits of F over the run (suffix ``n``)."""
        disp, unr = f"coalesce(disp{n}, false)", f"coalesce(unr{n}, false)"
        con, rep, eva = f"con{n}", f"rep{n}", f"eva{n}"
        # A 合并 in the run: the case counts nothing there.
        return (
            f"CASE WHEN coalesce(mrg{n}, false) THEN 0 ELSE "
            f"CASE WHEN {disp} THEN 1 ELSE 0 END"
            f" | CASE WHEN {disp} AND {con} & 3 = 2 THEN 2 ELSE 0 END"
            f" | CASE WHEN {rep} & 3 > 0 THEN 4 ELSE 0 END"
            f" | CASE WHEN {rep} & 3 = 2 THEN 8 ELSE 0 END"
            f" | CASE WHEN {eva} & 3 > 0 AND NOT {unr} THEN 16 ELSE 0 END"
            f" | CASE WHEN {eva} & 3 = 2 AND NOT {unr} THEN 32 ELSE 0 END"
            " END"
        )

    def packed(n: str) -> str:
        """F as ``unit << 6 | counter bits`` (0: nothing counted)."""
        return f"CASE WHEN b{n} = 0 THEN 0 ELSE coalesce(unit{n} & {unit_mask}, 0) << 6 | b{n} END"

    simple = {name: f"(k = {kind})::int" for name, kind in SIMPLE_COUNTERS.items()}
    term = [f"t.sign * {_bit('t.code', j)}" for j in range(len(GROUP_COUNTERS))]
    columns = ", ".join(COUNTERS)
    return f"""
WITH ev AS MATERIALIZED (
    SELECT case_id, day, k, unit_id, v,
           row_number() OVER (PARTITION BY case_id ORDER BY created_at, id) AS ord
    FROM (
        SELECT e.case_id, e.id, e.created_at, e.unit_id,
               (e.created_at AT TIME ZONE %(tz)s)::date AS day,
               {_kind_case()} AS k,
               {_value_case()} AS v
        FROM {_table(CaseEvent)} e
        WHERE e.case_id BETWEEN %(low)s AND %(high)s AND e.id <= %(watermark)s
          AND e.type IN {_in(TOUCHING_TYPES)}
    ) s
),
touched AS (
    INSERT INTO {stage.cases} (case_id, category_id)
    SELECT c.id, c.category_id FROM {_table(Case)} c
    WHERE c.id BETWEEN %(low)s AND %(high)s AND c.id IN (SELECT case_id FROM ev WHERE ord = 1)
),
days AS (
    SELECT case_id, day,
           bool_or(k = {DISPATCH}) AS disp,
           bool_or(k = {CLOSE} AND v = 1) AS unr,
           bool_or(k = {MERGE}) AS mrg,
           max(CASE WHEN k = {CONTACT} AND v > 0 THEN ord * 4 + v END) AS con,
           max(CASE WHEN k = {REPLY} THEN ord * 4 + v END) AS rep,
           max(CASE WHEN k = {EVALUATE} THEN ord * 4 + v END) AS eva,
           max((ord << {UNIT_BITS}) | unit_id) AS unit
    FROM ev WHERE k BETWEEN {DISPATCH} AND {MERGE}
    GROUP BY case_id, day
),
runs AS (
    SELECT a.case_id, a.day AS k_day, b.day AS l_day, {running}
    FROM days a JOIN days b ON b.case_id = a.case_id AND b.day >= a.day
    WINDOW w AS (PARTITION BY a.case_id, a.day ORDER BY b.day ROWS UNBOUNDED PRECEDING)
),
quads AS (
    SELECT case_id, k_day, l_day, c1, c2, c3, c4, greatest(c1, c2, c3, c4) >> 6 AS u
    FROM (
        SELECT case_id, k_day, l_day, c1, c2,
               coalesce(lag(c1) OVER w, 0) AS c3, coalesce(lag(c2) OVER w, 0) AS c4
        FROM (
            SELECT case_id, k_day, l_day, {packed("1")} AS c1, {packed("2")} AS c2
            FROM (SELECT runs.*, {bits("1")} AS b1, {bits("2")} AS b2 FROM runs) r
        ) f
        WINDOW w AS (PARTITION BY case_id, k_day ORDER BY l_day)
    ) q
    WHERE (c1 | c2 | c3 | c4) <> 0
),
x (case_id, day, since, unit_key, {columns}) AS (
    SELECT case_id, {row("day", "day", "coalesce(unit_id, 0)", ["0"] * 6, simple)}
    FROM ev WHERE k IN ({SUBMIT}, {REJECT}, {CLOSE})
    UNION ALL
    SELECT case_id, {row("l_day", "k_day", "u", combined, {})}
    FROM quads WHERE {one_unit} AND ({any_counter})
    UNION ALL
    SELECT case_id, {row("l_day", "k_day", "t.code >> 6", term, {})}
    FROM quads CROSS JOIN LATERAL (VALUES (c1, 1), (c2, -1), (c3, -1), (c4, 1)) t (code, sign)
    WHERE NOT ({one_unit}) AND t.code <> 0
)
INSERT INTO {stage.rows} (day, since, region_id, category_id, unit_key, street_id,
                          district_id, {columns})
SELECT x.day, x.since, c.region_id, c.category_id, x.unit_key, max(c.street_id),
       max(c.district_id), {", ".join(f"sum(x.{c})" for c in COUNTERS)}
FROM x JOIN {_table(Case)} c ON c.id = x.case_id
WHERE c.id BETWEEN %(low)s AND %(high)s
GROUP BY x.day, x.since, c.region_id, c.category_id, x.unit_key
HAVING {_sum_nonzero(COUNTERS)}
"""  # noqa: S608 - built from this module's constants


@dataclass(frozen=True)
class Refill:
    """A rollup table filled again: its new rows are ``select`` (giving ``columns``), written
    in ``order`` (the unique key: the index builds read sorted input)."""

    model: Any
    columns: tuple[str, ...]
    select: str
    order: str


def _counter_refill(model: Any, stage: Stage, *, month: bool) -> Refill:
    """The staged rows summed into the day rows, or per month into the month rows."""
    day, since = ("day", "since")
    if month:
        day, since = (
            "date_trunc('month', day::timestamp)::date",
            "date_trunc('month', since::timestamp)::date",
        )
    select = f"""
SELECT {day}, {since}, region_id, category_id, unit_key, nullif(unit_key, 0), max(street_id),
       max(district_id), {", ".join(f"sum({c})" for c in COUNTERS)}
FROM {stage.rows}
GROUP BY 1, 2, region_id, category_id, unit_key
HAVING {_sum_nonzero(COUNTERS)}"""  # noqa: S608 - built from this module's constants
    columns = ("day", "since", "region_id", "category_id", "unit_key", "unit_id")
    return Refill(
        model, (*columns, "street_id", "district_id", *COUNTERS), select, "1, 2, 3, 4, 5"
    )


def _projection_stage(projection: Source) -> str:
    return f"rollup_projection_{projection.name}"


def stage_projections(cursor: Any, stage: Stage) -> None:
    """The day rows of every projection, summed from the staged rows or from the projection
    it is built from, into temporary tables (dropped at commit). Zero sums are kept here and
    dropped when the tables are written."""
    for projection in build_order():
        source = (
            stage.rows
            if projection.built_from is None
            else _projection_stage(next(p for p in PROJECTIONS if p.name == projection.built_from))
        )
        name = _projection_stage(projection)
        carried = ", ".join(f"max({_CARRIED.get(c, c)}) AS {c}" for c in projection.carried)
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT day, since, {', '.join(projection.key)}, "
            f"{carried + ', ' if carried else ''}"
            f"{', '.join(f'sum({c})::integer AS {c}' for c in COUNTERS)} "
            f"FROM {source} GROUP BY day, since, {', '.join(projection.key)}"
        )


# How a carried column is computed from rows that lack it (the staged rows have no unit id).
_CARRIED = {"unit_id": "nullif(unit_key, 0)"}


def _projection_refills(projection: Source) -> list[Refill]:
    """A projection's day rows (its staged rows without the all-zero ones) and month rows."""
    columns = ("day", "since", *projection.key, *projection.carried, *COUNTERS)
    staged = _projection_stage(projection)
    order = ", ".join(str(i) for i in range(1, len(projection.key) + 3))
    nonzero = " OR ".join(f"{c} <> 0" for c in COUNTERS)
    month = "date_trunc('month', {}::timestamp)::date"
    carried = "".join(f"max({c}), " for c in projection.carried)
    return [
        Refill(
            projection.day,
            columns,
            f"SELECT {', '.join(columns)} FROM {staged} WHERE {nonzero}",  # noqa: S608
            order,
        ),
        Refill(
            projection.month,
            columns,
            f"SELECT {month.format('day')}, {month.format('since')}, "  # noqa: S608
            f"{', '.join(projection.key)}, {carried}"
            f"{', '.join(f'sum({c})' for c in COUNTERS)} FROM {staged} "
            f"GROUP BY 1, 2, {', '.join(projection.key)} HAVING {_sum_nonzero(COUNTERS)}",
            order,
        ),
    ]


def refills(stage: Stage) -> list[Refill]:
    """Every table a rebuild writes; the projections' after ``stage_projections``."""
    return [
        _counter_refill(CaseDayStat, stage, month=False),
        _counter_refill(CaseMonthStat, stage, month=True),
        Refill(
            RollupCase,
            ("case_id", "category_id"),
            f"SELECT case_id, category_id FROM {stage.cases}",  # noqa: S608
            "1",
        ),
        *(refill for p in PROJECTIONS for refill in _projection_refills(p)),
    ]


# --- build and swap --------------------------------------------------------------------------


@dataclass
class Swap:
    """How a table is replaced by a freshly built copy (see ``_swap_plan``)."""

    schema: str
    table: str
    new: str
    acl: list[tuple[str, str]]  # (privilege, grantee)
    constraints: list[tuple[str, str, str, bool]]  # (name, temporary name, definition, index)
    indexes: list[tuple[str, str, str]]  # (name, temporary name, CREATE INDEX)
    sequences: list[tuple[str, str]]  # (column, the old sequence's name)
    reloptions: list[str]


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


SWAP_CHECK_SQL = """
SELECT c.oid, n.nspname, quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relkind,
       c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user), c.relrowsecurity,
       coalesce(c.reloptions, '{}'),
       EXISTS (SELECT FROM pg_constraint x WHERE x.confrelid = c.oid),
       EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal),
       EXISTS (SELECT FROM pg_depend d WHERE d.refobjid = c.oid
               AND d.classid = 'pg_rewrite'::regclass),
       EXISTS (SELECT FROM pg_publication_rel p WHERE p.prrelid = c.oid)
           OR EXISTS (SELECT FROM pg_publication p WHERE p.puballtables),
       EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = c.oid OR i.inhparent = c.oid),
       EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL),
       EXISTS (SELECT FROM pg_statistic_ext s WHERE s.stxrelid = c.oid),
       EXISTS (SELECT FROM pg_attrdef d WHERE d.adrelid = c.oid
               AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%%')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass(%s)
"""
SWAP_OBSTACLES = (
    "referenced by a foreign key",
    "has triggers",
    "has views or rules",
    "is published",
    "is inherited or partitioned",
    "has column grants",
    "has extended statistics",
    "has a serial column",
)


def _swap_plan(cursor: Any, table: str) -> tuple[Swap | None, str]:
    """How to build ``table`` afresh and put it in place of the old one with the same name,
    columns, constraints, indexes, sequences and grants; or (None, why not) when the table has
    something this does not copy: then its rows are deleted and inserted instead."""
    cursor.execute(SWAP_CHECK_SQL, [_qn(table)])
    found = cursor.fetchone()
    if found is None:
        return None, "not found"
    oid, schema, qualified, kind, owned, rls, reloptions, *obstacles = found
    why = [text for text, present in zip(SWAP_OBSTACLES, obstacles, strict=True) if present]
    if kind != "r":
        why.append("is not a plain table")
    if not owned:
        why.append("is owned by another role")
    if rls:
        why.append("has row security")
    if why:
        return None, ", ".join(why)
    new = f"{table[:50]}_rebuild"
    cursor.execute(
        """
        SELECT a.privilege_type, coalesce(r.rolname, 'PUBLIC')
        FROM pg_class c, aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
        WHERE c.oid = %s AND a.grantee <> c.relowner
        """,
        [oid],
    )
    acl = cursor.fetchall()
    # CHECK and NOT NULL constraints come with LIKE; these are the others. Only the ones with
    # an index need a temporary name (index names are unique in the schema).
    cursor.execute(
        """
        SELECT conname, pg_get_constraintdef(oid), contype IN ('p', 'u', 'x')
        FROM pg_constraint WHERE conrelid = %s AND contype <> 'c'
        ORDER BY contype = 'f', conname
        """,
        [oid],
    )
    constraints = [
        (name, f"rollup_rebuild_{oid}_c{i}", definition, index)
        for i, (name, definition, index) in enumerate(cursor.fetchall())
    ]
    cursor.execute(
        """
        SELECT c.relname, quote_ident(c.relname), pg_get_indexdef(i.indexrelid), i.indisunique
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = %s
          AND NOT EXISTS (SELECT FROM pg_constraint x WHERE x.conindid = i.indexrelid
                          AND x.conrelid = i.indrelid)
        ORDER BY c.relname
        """,
        [oid],
    )
    indexes = []
    for i, (name, quoted, definition, unique) in enumerate(cursor.fetchall()):
        temporary = f"rollup_rebuild_{oid}_i{i}"
        head = "CREATE UNIQUE INDEX" if unique else "CREATE INDEX"
        old = f"{head} {quoted} ON {qualified} USING "
        if not definition.startswith(old):
            return None, f"index {name} reads {definition!r}"
        rest = definition[len(old) :]
        indexes.append(
            (name, temporary, f"{head} {_qn(temporary)} ON {_qn(schema)}.{_qn(new)} USING {rest}")
        )
    cursor.execute(
        """
        SELECT a.attname, pg_get_serial_sequence(%s, a.attname)
        FROM pg_attribute a WHERE a.attrelid = %s AND a.attidentity <> '' AND NOT a.attisdropped
        """,
        [qualified, oid],
    )
    sequences = cursor.fetchall()
    return Swap(schema, table, new, acl, constraints, indexes, sequences, list(reloptions)), ""


def _build(cursor: Any, swap: Swap, refill: Refill, progress: Progress | None) -> int:
    """The new table, filled, with the old one's constraints, indexes and grants (under
    temporary names where names must be unique); returns its rows."""
    old, new = f"{_qn(swap.schema)}.{_qn(swap.table)}", f"{_qn(swap.schema)}.{_qn(swap.new)}"
    began = clock.perf_counter()
    cursor.execute(
        f"CREATE TABLE {new} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY "
        "INCLUDING GENERATED INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION "
        "INCLUDING COMMENTS)"
    )
    if swap.reloptions:
        cursor.execute(f"ALTER TABLE {new} SET ({', '.join(swap.reloptions)})")
    cursor.execute(
        f"INSERT INTO {new} ({', '.join(refill.columns)}) {refill.select} ORDER BY {refill.order}"
    )
    rows = cursor.rowcount
    filled = clock.perf_counter()
    # On the filled table an index is one sort and a foreign key one join, not a check per row.
    for _name, temporary, definition, index in swap.constraints:
        if index:
            cursor.execute(f"ALTER TABLE {new} ADD CONSTRAINT {_qn(temporary)} {definition}")
    for _name, _temporary, create in swap.indexes:
        cursor.execute(create)
    indexed = clock.perf_counter()
    for name, _temporary, definition, index in swap.constraints:
        if not index:
            cursor.execute(f"ALTER TABLE {new} ADD CONSTRAINT {_qn(name)} {definition}")
    for privilege, grantee in swap.acl:
        who = "PUBLIC" if grantee == "PUBLIC" else _qn(grantee)
        cursor.execute(f"GRANT {privilege} ON {new} TO {who}")
    done = clock.perf_counter()
    _say(
        progress,
        f"rollup: {swap.table}: {rows:,} rows in {filled - began:.1f} s, "
        f"{len(swap.indexes) + sum(c[3] for c in swap.constraints)} indexes in "
        f"{indexed - filled:.1f} s, {sum(not c[3] for c in swap.constraints)} other constraints "
        f"checked in {done - indexed:.1f} s",
    )
    return rows


def _switch(cursor: Any, swap: Swap) -> None:
    """Drop the old table and give the new one its name and its objects' names. The DROP
    waits for the old table's readers; new readers wait for the commit, which follows."""
    old, new = f"{_qn(swap.schema)}.{_qn(swap.table)}", f"{_qn(swap.schema)}.{_qn(swap.new)}"
    sequences = []
    for column, sequence in swap.sequences:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [new, column])
        sequences.append((cursor.fetchone()[0], sequence))
    cursor.execute(f"DROP TABLE {old}")
    cursor.execute(f"ALTER TABLE {new} RENAME TO {_qn(swap.table)}")
    for name, temporary, _definition, index in swap.constraints:
        if index:
            cursor.execute(f"ALTER TABLE {old} RENAME CONSTRAINT {_qn(temporary)} TO {_qn(name)}")
    for name, temporary, _create in swap.indexes:
        cursor.execute(f"ALTER INDEX {_qn(swap.schema)}.{_qn(temporary)} RENAME TO {_qn(name)}")
    for current, sequence in sequences:
        if current and sequence and current != sequence:
            cursor.execute(f"ALTER SEQUENCE {current} RENAME TO {sequence.rsplit('.', 1)[-1]}")


def _refill_in_place(cursor: Any, refill: Refill) -> int:
    table = _table(refill.model)
    cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - a model's table
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(refill.columns)}) {refill.select} "
        f"ORDER BY {refill.order}"
    )
    return cursor.rowcount


def _write(
    cursor: Any,
    stage: Stage,
    report: RebuildReport,
    progress: Progress | None,
    *,
    swap: bool,
    nested: bool,
) -> None:
    """Replace the rollup tables' rows by the staged ones."""
    swaps, written = [], {}
    began = clock.perf_counter()
    stage_projections(cursor, stage)
    _say(progress, f"rollup: projections staged in {clock.perf_counter() - began:.1f} s")
    for refill in refills(stage):
        table = refill.model._meta.db_table
        plan, why = _swap_plan(cursor, table) if swap else (None, "")
        if plan is None:
            if why:
                _say(progress, f"rollup: {table} is refilled in place: it {why}")
            written[refill.model] = _refill_in_place(cursor, refill)
        else:
            written[refill.model] = _build(cursor, plan, refill, progress)
            swaps.append(plan)
    if swaps and nested:
        # Rows the outer transaction wrote into a table have foreign key checks pending until
        # its commit, and a table with pending checks cannot be dropped: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    # Last, right before the commit: from the first DROP on, readers wait for the commit.
    for plan in swaps:
        _switch(cursor, plan)
    report.rows = written[CaseDayStat]
    report.month_rows = written[CaseMonthStat]
    report.cases_touched = written[RollupCase]
    report.projection_rows = sum(written[model] for p in PROJECTIONS for model in (p.day, p.month))
    report.swapped = bool(swaps)


# --- planning --------------------------------------------------------------------------------


MONTHS_SQL = """
SELECT to_char(date_trunc('month', created_at AT TIME ZONE %(tz)s), 'YYYY-MM'), min(id)
FROM {cases}
GROUP BY 1
ORDER BY 2
"""
GAPS_SQL = """
SELECT low, high FROM (
    SELECT id + 1 AS low, lead(id) OVER (ORDER BY id) - 1 AS high
    FROM (
        SELECT id FROM {events} WHERE id > %(floor)s AND id <= %(watermark)s
        UNION ALL SELECT %(floor)s
    ) ids
) holes
WHERE high >= low
ORDER BY low
"""


def _ranges(
    months: list[tuple[str, int, int]], last_id: int, min_cases: int
) -> list[tuple[str, int, int, int]]:
    """(label, low, high, cases): each month's range of case ids runs from its first case id
    to the next month's (``months``: label, first id, cases in the range, by first id);
    consecutive months share a range until it holds ``min_cases`` cases."""
    out: list[tuple[str, int, int, int]] = []
    current: tuple[str, int, int, int] | None = None
    following = [first for _label, first, _count in months[1:]] + [last_id + 1]
    for (label, first, count), end in zip(months, following, strict=True):
        label, low, total = (label, first, 0) if current is None else (*current[:2], current[3])
        current = (label, low, end - 1, total + count)
        if current[3] >= min_cases:
            out.append(current)
            current = None
    if current is not None:
        out.append(current)
    return out


def plan_batches(
    cursor: Any, tz: str, *, min_cases: int = MIN_BATCH_CASES, max_cases: int = MAX_BATCH_CASES
) -> list[Batch]:
    """The batches: a month of cases each (small months together), as id ranges. Ids need
    not follow time: each range is counted, and one that holds more than ``max_cases`` cases
    is cut at id quantiles."""
    cases = _table(Case)
    cursor.execute(MONTHS_SQL.format(cases=cases), {"tz": tz})
    starts = cursor.fetchall()
    if not starts:
        return []
    cursor.execute(f"SELECT max(id) FROM {cases}")  # noqa: S608
    last_id = cursor.fetchone()[0]
    cursor.execute(
        f"SELECT width_bucket(id, %s::bigint[]), count(*) FROM {cases} GROUP BY 1",  # noqa: S608
        [[first for _label, first in starts]],
    )
    counts = dict(cursor.fetchall())
    months = [(label, first, counts.get(i, 0)) for i, (label, first) in enumerate(starts, 1)]
    out: list[Batch] = []
    for label, low, high, count in _ranges(months, last_id, min_cases):
        pieces = -(-count // max_cases)
        if pieces <= 1:
            out.append(Batch(label, low, high, count))
            continue
        quantiles = "percentile_disc(%s::float8[]) WITHIN GROUP (ORDER BY id)"
        cursor.execute(
            f"SELECT {quantiles} FROM {cases} WHERE id BETWEEN %s AND %s",  # noqa: S608
            [[i / pieces for i in range(1, pieces)], low, high],
        )
        cuts = sorted({low, *cursor.fetchone()[0]})
        ends = [*cuts[1:], high + 1]
        for i, (a, b) in enumerate(zip(cuts, ends, strict=True), 1):
            out.append(Batch(f"{label} ({i}/{len(cuts)})", a, b - 1, count // len(cuts)))
    return out


def _gaps(cursor: Any, watermark: int, first_id: int, now: dt.datetime) -> list[list[Any]]:
    floor = max(watermark - GAP_WINDOW, first_id - 1)
    cursor.execute(
        GAPS_SQL.format(events=_table(CaseEvent)), {"floor": floor, "watermark": watermark}
    )
    return [[low, high, now.isoformat()] for low, high in cursor.fetchall()]


# --- running the batches ---------------------------------------------------------------------


def _say(progress: Progress | None, text: str) -> None:
    if progress is not None:
        progress(text)


def _settings(cursor: Any) -> None:
    """SET LOCAL for a rebuild's transaction (and each worker's)."""
    # A crash loses only this rebuild, which can run again.
    cursor.execute("SET LOCAL synchronous_commit TO OFF")
    cursor.execute(f"SET LOCAL work_mem TO {_literal(WORK_MEM)}")
    cursor.execute(f"SET LOCAL maintenance_work_mem TO {_literal(WORK_MEM)}")
    # Compiling the expressions costs more than it saves on a month of cases.
    cursor.execute("SET LOCAL jit TO OFF")


def _run_batch(cursor: Any, statement: str, batch: Batch, watermark: int, tz: str) -> str:
    began = clock.perf_counter()
    cursor.execute(
        statement, {"low": batch.low, "high": batch.high, "watermark": watermark, "tz": tz}
    )
    seconds = clock.perf_counter() - began
    rows, seconds = cursor.rowcount, max(seconds, 1e-6)
    return (
        f"{batch.label} ({batch.cases:,} cases): {rows:,} rows in {seconds:.1f} s, "
        f"{rows / seconds:,.0f} rows/s, {batch.cases / seconds:,.0f} cases/s"
    )


def _stage_here(
    cursor: Any, stage: Stage, plan: list[Batch], report: RebuildReport, progress: Progress | None
) -> None:
    statement = batch_sql(stage)
    for batch in plan:
        line = _run_batch(cursor, statement, batch, report.last_event_id, settings.TIME_ZONE)
        report.batches += 1
        _say(progress, f"rollup: batch {report.batches}/{len(plan)} {line}")


def _in_snapshot(db: Any, snapshot: str) -> Any:
    """A cursor of ``db`` in a transaction that sees exactly the exported snapshot."""
    cursor = db.cursor()
    cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
    _settings(cursor)
    return cursor


def _worker(
    snapshot: str,
    stage: Stage,
    jobs: queue.SimpleQueue[Batch],
    lines: queue.SimpleQueue[tuple[str, BaseException | None]],
    stop: threading.Event,
    watermark: int,
) -> None:
    """Run batches from ``jobs`` in the exported snapshot until none is left, then commit the
    staged rows. Reports every batch (or the error) through ``lines``."""
    db = connections.create_connection(DEFAULT_DB_ALIAS)
    error: BaseException | None = None
    try:
        cursor = _in_snapshot(db, snapshot)
        statement = batch_sql(stage)
        while not stop.is_set():
            try:
                batch = jobs.get_nowait()
            except queue.Empty:
                break
            lines.put((_run_batch(cursor, statement, batch, watermark, settings.TIME_ZONE), None))
        cursor.execute("ROLLBACK" if stop.is_set() else "COMMIT")
    except BaseException as exc:  # reported to the main thread, which raises it
        error = exc
    finally:
        db.close()
        lines.put(("", error))


def _stage_in_workers(
    snapshot: str,
    stage: Stage,
    plan: list[Batch],
    workers: int,
    report: RebuildReport,
    progress: Progress | None,
) -> None:
    """The batches in ``workers`` connections at once, each in the exported snapshot."""
    jobs: queue.SimpleQueue[Batch] = queue.SimpleQueue()
    for batch in plan:
        jobs.put(batch)
    lines: queue.SimpleQueue[tuple[str, BaseException | None]] = queue.SimpleQueue()
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=_worker,
            args=(snapshot, stage, jobs, lines, stop, report.last_event_id),
            name=f"rollup-worker-{i}",
        )
        for i in range(min(workers, len(plan)))
    ]
    for thread in threads:
        thread.start()
    error: BaseException | None = None
    try:
        finished = 0
        while finished < len(threads):
            line, failure = lines.get()
            if line:
                report.batches += 1
                _say(progress, f"rollup: batch {report.batches}/{len(plan)} {line}")
                continue
            finished += 1
            if failure is not None and error is None:
                error = failure
                stop.set()  # the other workers stop after their current batch
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    if error is not None:
        raise error


def _side(callback: Callable[[Any], Any]) -> Any:
    """Run ``callback(cursor)`` on a connection of its own, in autocommit."""
    db = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with db.cursor() as cursor:
            return callback(cursor)
    finally:
        db.close()


def _drop_stages(cursor: Any, stage: Stage | None = None) -> None:
    """Drop ``stage``'s shared staging tables, or (``None``) every shared staging table: only
    while holding the rollup lock, when they are the leftovers of a run that crashed."""
    if stage is not None:
        cursor.execute(stage.drop())
        return
    cursor.execute(
        "SELECT quote_ident(relname) FROM pg_class WHERE relkind = 'r' AND relname LIKE %s "
        "AND pg_table_is_visible(oid)",
        [f"{STAGE_PREFIX}%%"],
    )
    for (name,) in cursor.fetchall():
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


def default_workers() -> int:
    """As many connections as one parallel query of the server would use (its leader and
    ``max_parallel_workers_per_gather``), at most ``MAX_WORKERS``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('max_parallel_workers_per_gather')::int")
        return max(1, min(MAX_WORKERS, cursor.fetchone()[0] + 1))


# --- the rebuild -----------------------------------------------------------------------------


def rebuild_rollup_sql(
    *,
    progress: Progress | None = None,
    workers: int | None = None,
    swap: bool = True,
    min_batch_cases: int = MIN_BATCH_CASES,
    max_batch_cases: int = MAX_BATCH_CASES,
) -> RebuildReport:
    """Empty the rollup and compute it again from every event, set-based (PostgreSQL only).

    ``progress`` gets a line per step. ``workers``: connections that run the batches at once
    (default ``default_workers()``); 1, or a call inside a transaction, runs them in the
    rebuild's own transaction. ``swap``: build the tables afresh and put them in place of the
    old ones (where a table allows it); otherwise delete and insert their rows."""
    if connection.vendor != "postgresql":
        raise NotImplementedError("the set-based rebuild needs PostgreSQL")
    started = clock.perf_counter()
    report = RebuildReport()
    RollupState.objects.get_or_create(pk=1)
    outermost = not connection.in_atomic_block
    workers = default_workers() if workers is None else workers
    parallel = outermost and workers > 1
    analyze(CaseEvent, Case)  # outside the transaction, whose locks last until it commits
    stage = Stage.create(temporary=not parallel)
    tz = settings.TIME_ZONE
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if outermost and not parallel:
                # Before the first query: the snapshot every statement below shares.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            # Before the snapshot is taken (no query has run yet): a refresh that held the
            # row has committed by then, and its rows are in the snapshot.
            cursor.execute(f"LOCK TABLE {_table(RollupState)} IN EXCLUSIVE MODE")
            _settings(cursor)
            state = RollupState.objects.select_for_update().get(pk=1)
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {_table(Unit)}")  # noqa: S608
            if cursor.fetchone()[0] >> UNIT_BITS:
                raise ValueError(f"unit ids above 2**{UNIT_BITS} do not fit the packed codes")
            snapshot = "pg_export_snapshot()" if parallel else "NULL"
            cursor.execute(
                f"SELECT {snapshot}, min(id), max(id), count(*) FROM {_table(CaseEvent)}"  # noqa: S608
            )
            exported, first_id, watermark, report.events_read = cursor.fetchone()
            report.last_event_id = watermark or 0
            now = timezone.now()

            def survey(survey_cursor: Any) -> tuple[list[list[Any]], list[Batch]]:
                gaps = _gaps(survey_cursor, watermark, first_id, now) if watermark else []
                plan = plan_batches(
                    survey_cursor, tz, min_cases=min_batch_cases, max_cases=max_batch_cases
                )
                return gaps, plan if watermark else []

            began = clock.perf_counter()
            if parallel:

                def prepare(side: Any) -> tuple[list[list[Any]], list[Batch]]:
                    _drop_stages(side)  # a crashed run's: no other rebuild is past the lock
                    for ddl in stage.ddl():
                        side.execute(ddl)
                    snapshot_cursor = _in_snapshot(side.db, exported)
                    try:
                        return survey(snapshot_cursor)
                    finally:
                        snapshot_cursor.execute("COMMIT")

                gaps, plan = _side(prepare)
                report.workers = min(workers, len(plan))
            else:
                for ddl in stage.ddl():
                    cursor.execute(ddl)
                gaps, plan = survey(cursor)
            _say(
                progress,
                f"rollup: {report.events_read:,} events up to id {report.last_event_id:,}, "
                f"{sum(b.cases for b in plan):,} cases in {len(plan)} batches, "
                f"{report.workers or 'no'} worker connections",
            )
            if parallel:
                _stage_in_workers(exported, stage, plan, workers, report, progress)
            else:
                _stage_here(cursor, stage, plan, report, progress)
            report.stage_seconds = clock.perf_counter() - began

            began = clock.perf_counter()
            _write(cursor, stage, report, progress, swap=swap, nested=not outermost)
            cursor.execute(stage.drop())
            # 一次办结率's counters, from the same events (``stats.first_call``).
            report.first_call_rows = first_call.rebuild_sql(cursor, report.last_event_id, gaps, tz)
            state.last_event_id = report.last_event_id
            state.gaps = gaps
            state.refreshed_at = state.rebuilt_at = now
            state.save(update_fields=["last_event_id", "gaps", "refreshed_at", "rebuilt_at"])
            report.gaps = len(gaps)
        report.write_seconds = clock.perf_counter() - began
    except BaseException:
        if parallel:  # the transaction that would have dropped them is gone
            _side(lambda side: _drop_stages(side, stage))
        raise
    _say(
        progress,
        f"rollup: {report.rows:,} day rows, {report.month_rows:,} month rows, "
        f"{report.projection_rows:,} projection rows and {report.cases_touched:,} cases "
        f"written in {report.write_seconds:.1f} s "
        f"({'tables built and swapped in' if report.swapped else 'rows replaced in place'})",
    )
    if outermost:
        # Fresh tables need statistics only; rows replaced in place leave dead versions too.
        analyze(
            CaseDayStat,
            CaseMonthStat,
            RollupCase,
            *(model for p in PROJECTIONS for model in (p.day, p.month)),
            *(model for day, month, _k in first_call.TABLES for model in (day, month)),
            vacuum=not report.swapped,
        )
    report.seconds = clock.perf_counter() - started
    return report


def rebuild(*, progress: Progress | None = None) -> RebuildReport | RefreshReport:
    """The set-based rebuild on PostgreSQL; elsewhere (SQLite) the Python one."""
    if connection.vendor == "postgresql":
        return rebuild_rollup_sql(progress=progress)
    return rebuild_rollup()
