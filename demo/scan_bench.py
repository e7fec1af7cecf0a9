"""The overdue scan at volume (issue 11, point 5): one beat tick through a real worker.

Over 500 lines on purpose: one measurement whose parts (the cases, the worker process, the
ticks, the checks against the snapshot of what was due) share the snapshot and the worker.

``measure_scan`` puts a city's worth of open cases into the current PostgreSQL database,
set-based, a given number of them past a point of the supervision rules, and measures what beat
would set off: one ``cases.supervision_scan`` task sent through Redis to a ``celery worker``
process started here, and the batches it publishes, until the last of them has finished. It
counts the batches against ``ceil(due / batch size)`` per rule and every mark, event and message
the tick wrote against a snapshot of what was due (each due case chased once per step, nothing
else touched), times a tick with nothing newly due (right after, and again once VACUUM has been
where autovacuum would go) and one on a database where nothing is due, and EXPLAINs the scan's
queries (``cases.supervision.candidate_query`` and ``page_query``).

The cases
    ``SCAN-<id>`` tracking codes; each row has the state the workflow leaves in its status:
    lead unit and the dispatch/sign/contact times once dispatched, deadlines and the warning
    point, the first contact, the reply, the supervision level, 督办 orders. Category, place and
    lead unit come from the demo organisation's 权责清单 (``demo.city.World``), so every lead
    unit has handlers to tell. The deadlines are placed around the measured moment ``T`` (now):
    the due cases crossed their point in the eight days before ``T``, the others cross theirs
    four hours after it or later. So a tick at ``T - 8 days`` finds nothing due at all (the idle
    tick), the tick at ``T`` finds exactly the due set, and a tick right after it nothing new.
    The cases have no timeline (the scan does not read it); ``bench_city`` makes cities with
    histories. Called on such a city, the function adds its cases to it, and counts whatever is
    due there as well.

The worker
    ``celery worker`` (prefork, two processes by default: the machine has two cores; one: the
    solo pool, where the scan finishes before the first batch starts), on a queue of its own in
    Redis database 9 (``BENCH_REDIS_URL`` names the server). The batches kick the outbox drain
    when they commit; those kicks are routed to a side queue nobody consumes (and removed
    afterwards): sending mail is the drain's job, not the scan's, and is not timed here.

Figures are wall times on whatever else the machine is doing; they are printed, never asserted.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from cases import supervision
from cases.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    Status,
    SupervisionLevel,
    SupervisionMark,
    SupervisionOrder,
)
from demo.city import World, defer_indexes, restore_indexes, server_version
from demo.organisation import seed_organisation
from demo.reference import seed_reference
from notifications.models import Notification, OutboxMessage
from org.models import Membership, Role
from xining_issues.bulk import analyze

Out = Callable[[str], None]

PREFIX = "SCAN-"  # the tracking codes of the cases made here
BASE_DIR = Path(__file__).resolve().parent.parent
IDLE_BEFORE = dt.timedelta(days=8)  # the idle tick runs this long before T: nothing is due yet
CHUNK = 100_000  # cases per INSERT (one transaction each)
DEFER_FROM = 200_000  # cases in one run from which the secondary indexes are built after it
TARGET_TICK_SECONDS = 30.0
TARGET_IDLE_MS = 200.0
WORKER_TIMEOUT = float(os.environ.get("BENCH_SCAN_TIMEOUT", "900"))
# The worker's default queue is the bench's own (the scan publishes its batches without naming
# a queue) and the outbox kicks go to a side queue that no worker reads.
WORKER_MAIN = (
    "import sys; from xining_issues.celery import app; "
    "app.conf.task_default_queue = sys.argv[1]; "
    "app.conf.task_routes = {'notifications.drain_outbox': {'queue': sys.argv[1] + '.outbox'}}; "
    "app.worker_main(sys.argv[2:])"
)
RECEIVED = re.compile(r"Task (?P<name>[\w.]+)\[(?P<id>[\w-]+)\] received")
FINISHED = re.compile(
    r"Task (?P<name>[\w.]+)\[(?P<id>[\w-]+)\] (?P<how>succeeded|retry|raised)"
    r"(?: in (?P<seconds>[\d.e-]+)s: (?P<result>.*))?"
)
ANNOUNCED = re.compile(r"supervision scan at \S+: (?P<batches>\d+) batches (?P<rules>\{.*\})")

H = 3600
D = 86400


# --- the scenario --------------------------------------------------------------------------------

Span = tuple[int, int]  # seconds relative to T: [lo, hi)


@dataclass(frozen=True)
class Kind:
    """One sort of generated case: its state, and where its times fall around ``T``."""

    label: str
    status: str
    share: int  # weight within its group (due or not)
    due: tuple[str, ...] = ()  # the rules due at T
    created: Span = (-30 * D, -20 * D)
    accept_by: Span | None = None
    sign_by: Span | None = None
    contact_by: Span | None = None
    warn_at: Span | None = None
    resolve_by: Span | None = None
    replied_at: Span | None = None
    order_due: Span | None = None  # a 督办 order, unfulfilled, due then
    contacted: bool = True
    level: str = SupervisionLevel.ON_TIME

    @property
    def stage(self) -> int:
        """How far the workflow got: 0 submitted, 1 accepted, 2 dispatched, 3 signed,
        4 replied, 5 evaluated."""
        order: list[str] = [
            Status.SUBMITTED,
            Status.ACCEPTED,
            Status.DISPATCHED,
            Status.HANDLING,
            Status.REPLIED,
            Status.EVALUATED,
        ]
        return order.index(self.status) if self.status in order else 5


# Nothing not due at T becomes due within this: a bench may take its time (and a tick at T run
# a while after the cases were written).
AHEAD = 4 * H
LATER = (AHEAD, 20 * D)  # a point not reached by T (nor, a fortiori, by T - 8 days)
# The open cases with nothing due at T: the shape of a city's open book.
NOT_DUE = [
    Kind("submitted", Status.SUBMITTED, 4, created=(-2 * H, -H), accept_by=LATER),
    Kind("accepted", Status.ACCEPTED, 3, created=(-6 * H, -3 * H), accept_by=(-2 * H, -H)),
    Kind(
        "dispatched",
        Status.DISPATCHED,
        6,
        created=(-9 * H, -5 * H),
        accept_by=(-4 * H, -3 * H),
        sign_by=(AHEAD, AHEAD + 2 * H),
        contact_by=(AHEAD + 2 * H, D),
        warn_at=(2 * D, 5 * D),
        resolve_by=(6 * D, 15 * D),
        contacted=False,
    ),
    Kind(
        "handling",
        Status.HANDLING,
        50,
        accept_by=(-29 * D, -28 * D),
        sign_by=(-28 * D, -27 * D),
        contact_by=(-27 * D, -26 * D),
        warn_at=(AHEAD, 4 * D),
        resolve_by=(4 * D, 20 * D),
    ),
    Kind(
        "handling, not yet called",
        Status.HANDLING,
        5,
        created=(-2 * D, -D),
        accept_by=(-D, -20 * H),
        sign_by=(-20 * H, -18 * H),
        contact_by=(AHEAD, 2 * D),
        warn_at=(3 * D, 5 * D),
        resolve_by=(6 * D, 15 * D),
        contacted=False,
    ),
    Kind(
        "handling under a 督办 order",
        Status.HANDLING,
        2,
        warn_at=(AHEAD, 4 * D),
        resolve_by=(4 * D, 20 * D),
        order_due=LATER,
        level=SupervisionLevel.SUPERVISED,
    ),
    Kind("replied", Status.REPLIED, 20, replied_at=(-7 * D + AHEAD, -H)),
    Kind("evaluated", Status.EVALUATED, 5, replied_at=(-6 * D, -3 * D)),
    Kind("review", Status.REVIEW, 5, replied_at=(-15 * D, -10 * D)),
]
PAST = (-2 * D, -60)  # crossed in the two days before T
# The cases due at T, each crossing its point(s) between T - 8 days and T.
DUE = [
    Kind(
        "not accepted in time",
        Status.SUBMITTED,
        8,
        ("accept:overdue",),
        created=(-3 * D, -2 * D - H),
        accept_by=PAST,
    ),
    Kind(
        "not signed for in time",
        Status.DISPATCHED,
        6,
        ("sign:overdue",),
        created=(-3 * D, -2 * D - H),
        accept_by=PAST,
        sign_by=PAST,
        contact_by=LATER,
        warn_at=(3 * D, 5 * D),
        resolve_by=(6 * D, 15 * D),
        contacted=False,
    ),
    Kind(
        "complainant not called in time",
        Status.HANDLING,
        8,
        ("contact:overdue",),
        created=(-3 * D, -2 * D - H),
        accept_by=(-2 * D - H, -2 * D),
        sign_by=(-2 * D - H, -2 * D),
        contact_by=PAST,
        warn_at=(2 * D, 5 * D),
        resolve_by=(6 * D, 15 * D),
        contacted=False,
    ),
    Kind(
        "past the warning point",
        Status.HANDLING,
        25,
        ("resolve:warning",),
        warn_at=PAST,
        resolve_by=(AHEAD, 3 * D),
    ),
    Kind(
        "late by under a day",
        Status.HANDLING,
        25,
        ("resolve:overdue",),
        warn_at=(-5 * D, -4 * D),
        resolve_by=(-24 * H + 60, -60),
    ),
    Kind(
        "late by one to three days",
        Status.HANDLING,
        15,
        ("resolve:overdue", "resolve:leader"),
        warn_at=(-6 * D, -5 * D),
        resolve_by=(-72 * H + 60, -24 * H - 60),
    ),
    Kind(
        "late by three days or more",
        Status.HANDLING,
        8,
        ("resolve:overdue", "resolve:leader", "resolve:office"),
        warn_at=(-7 * D - 12 * H, -7 * D),
        resolve_by=(-7 * D + 60, -72 * H - 60),
    ),
    Kind(
        "reply never evaluated",
        Status.REPLIED,
        1,
        ("evaluate:auto_close",),
        replied_at=(-13 * D, -7 * D - 60),
    ),
    Kind(
        "督办 order past due",
        Status.HANDLING,
        2,
        ("order:overdue",),
        warn_at=(AHEAD, 4 * D),
        resolve_by=(4 * D, 20 * D),
        order_due=PAST,
        level=SupervisionLevel.SUPERVISED,
    ),
]
KINDS = [*NOT_DUE, *DUE]
SLOTS = 100


def _slots(kinds: list[Kind], offset: int) -> list[int]:
    """``SLOTS`` kind numbers (``offset`` + index in ``kinds``), each as often as its share."""
    total = sum(k.share for k in kinds)
    counts = [SLOTS * k.share // total for k in kinds]
    for i in range(SLOTS - sum(counts)):
        counts[i % len(kinds)] += 1
    return [offset + i for i, n in enumerate(counts) for _ in range(n)]


def _span_columns(span: Span | None) -> tuple[int | None, int | None]:
    return (span[0], span[1]) if span else (None, None)


def _kind_rows() -> list[tuple[Any, ...]]:
    rows = []
    for number, kind in enumerate(KINDS):
        spans = [
            kind.created,
            kind.accept_by,
            kind.sign_by,
            kind.contact_by,
            kind.warn_at,
            kind.resolve_by,
            kind.replied_at,
            kind.order_due,
        ]
        rows.append(
            (
                number,
                kind.status,
                kind.stage,
                kind.contacted,
                kind.level,
                *[value for span in spans for value in _span_columns(span)],
            )
        )
    return rows


KIND_COLUMNS = (
    "kind int PRIMARY KEY, status text, stage int, contacted bool, level text, "
    + ", ".join(
        f"{name}_lo int, {name}_hi int"
        for name in (
            "created",
            "accept_by",
            "sign_by",
            "contact_by",
            "warn_at",
            "resolve_by",
            "replied_at",
            "order_due",
        )
    )
)


def _at(column: str, salt: int) -> str:
    """SQL: T plus a deterministic point of the kind's span ``column`` (NULL without one)."""
    return (
        f"CASE WHEN k.{column}_lo IS NOT NULL THEN to_timestamp(%(t)s + k.{column}_lo + "
        f"(k.{column}_hi - k.{column}_lo) * (((n.i * {salt}) %% 9973) / 9973.0)) END"
    )


# One chunk: the ids and kinds of its cases first (the due ones spread evenly among the rest),
# then the cases, then the 督办 orders of the kinds that have one.
PLAN = """
INSERT INTO xs_new (id, i, kind)
SELECT nextval(%(seq)s), g.i,
       CASE WHEN g.d_next > g.d_here
            THEN (SELECT kind FROM xs_slot WHERE due AND slot = (g.d_here * 37) %% 100)
            ELSE (SELECT kind FROM xs_slot WHERE NOT due AND slot = ((g.i - g.d_here) * 37) %% 100)
       END
FROM (SELECT i, (i * %(due)s::bigint) / %(n)s AS d_here,
             ((i + 1) * %(due)s::bigint) / %(n)s AS d_next
      FROM generate_series(%(lo)s::bigint, %(hi)s::bigint - 1) AS i) AS g
ORDER BY g.i
"""
CASES = f"""
INSERT INTO cases_case (
    id, tracking_code, channel, category_id, region_id, district_id, street_id,
    dispatch_region_id, address, title, description, complainant_name, complainant_phone,
    hide_identity, status, urgency, is_complex, duty_level, lead_unit_id,
    accept_by, contact_by, resolve_by, sign_by, warn_at, supervision_level, return_count,
    reopen_count, outcome, reply_text, rating, excluded_from_satisfaction, reject_reason,
    created_at, accepted_at, dispatched_at, signed_at, contacted_at, replied_at, evaluated_at,
    updated_at)
SELECT n.id, '{PREFIX}' || n.id, (ARRAY['phone','phone','phone','mini_program','web','grid',
        'walk_in'])[1 + n.i %% 7],
       l.category_id, l.region_id, l.district_id, l.street_id, l.district_id,
       l.place || (1 + n.i %% 120) || '号', l.category || '问题', l.place || '：' || l.category
           || '的问题已经持续一段时间，影响居民正常生活，希望有关部门尽快核实处理并答复。',
       (ARRAY['张','王','李','赵','刘','陈','马','韩'])[1 + n.i %% 8]
           || CASE WHEN n.i %% 2 = 0 THEN '先生' ELSE '女士' END,
       '13' || lpad(((n.i * 7919) %% 1000000000)::text, 9, '0'),
       false, k.status, l.urgency, false, CASE WHEN k.stage >= 2 THEN l.level END,
       CASE WHEN k.stage >= 2 THEN l.lead_unit_id END,
       {_at("accept_by", 101)}, {_at("contact_by", 103)}, {_at("resolve_by", 107)},
       {_at("sign_by", 109)}, {_at("warn_at", 113)}, k.level, 0, 0,
       CASE WHEN k.stage >= 4 THEN 'resolved' ELSE '' END,
       CASE WHEN k.stage >= 4 THEN '已处理完毕，感谢您的反映。' ELSE '' END,
       CASE WHEN k.stage >= 5 THEN 'satisfied' ELSE '' END, false, '',
       c.created_at,
       CASE WHEN k.stage >= 1 THEN c.created_at + interval '20 minutes' END,
       CASE WHEN k.stage >= 2 THEN c.created_at + interval '40 minutes' END,
       CASE WHEN k.stage >= 3 THEN c.created_at + interval '1 hour' END,
       CASE WHEN k.stage >= 4 OR (k.stage = 3 AND k.contacted)
            THEN c.created_at + interval '2 hours' END,
       r.replied_at,
       CASE WHEN k.stage >= 5 THEN r.replied_at + interval '1 day' END,
       %(now)s
FROM xs_new n
JOIN xs_kind k USING (kind)
JOIN xs_lead l ON l.slot = (n.i * 7919) %% %(leads)s
CROSS JOIN LATERAL (SELECT {_at("created", 127)} AS created_at) c
CROSS JOIN LATERAL (SELECT {_at("replied_at", 131)} AS replied_at) r
"""  # noqa: S608 - built from this module's constants
ORDERS = f"""
INSERT INTO cases_supervisionorder (case_id, issued_by_id, due_at, note, created_at)
SELECT n.id, %(issuer)s, {_at("order_due", 137)}, '限期办结，逾期追责。',
       to_timestamp(%(t)s - 10 * 86400)
FROM xs_new n JOIN xs_kind k USING (kind)
WHERE k.order_due_lo IS NOT NULL
"""  # noqa: S608 - built from this module's constants


@dataclass
class Generated:
    cases: int = 0
    orders: int = 0
    seconds: float = 0.0
    index_seconds: float = 0.0
    per_kind: dict[str, int] = field(default_factory=dict)


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        raise ScanBenchError(
            "bench_scan needs PostgreSQL: it writes its cases with INSERT … SELECT over "
            "generate_series, EXPLAINs PostgreSQL plans and drives a worker against the same "
            "database. Set DATABASE_URL to a scratch PostgreSQL database "
            "(postgres://user@host:5432/name) and run it again. / bench_scan 只能在 PostgreSQL "
            "上运行，请将 DATABASE_URL 指向一个临时的 PostgreSQL 数据库。"
        )


class ScanBenchError(Exception):
    """The benchmark cannot run here."""


def _leads() -> tuple[list[tuple[Any, ...]], int]:
    """(slot, category, place and lead unit rows of the 权责清单, the supervisor who issues
    the 督办 orders)."""
    seed_organisation()
    seed_reference()
    world = World.load()
    places = {p["region_id"]: p for p in world.places}
    categories = {c.pk: c for c in world.eligible}
    rows: list[tuple[Any, ...]] = []
    for lead in sorted(world.leads, key=lambda x: (x["category_id"], x["region_id"])):
        place = places[lead["region_id"]]
        category = categories[lead["category_id"]]
        rows.append(
            (
                len(rows),
                category.pk,
                str(category.name),
                "urgent" if category.is_urgent else "normal",
                place["region_id"],
                place["district_id"],
                place["street_id"],
                f"{place['district_name']}{place['name']}",
                lead["lead1"],
                lead["level"],
            )
        )
    issuer = (
        Membership.objects.filter(role=Role.SUPERVISOR, user__is_active=True)
        .order_by("unit__region__level", "user_id")
        .values_list("user_id", flat=True)
        .first()
    )
    if not rows or issuer is None:
        raise ScanBenchError("The demo organisation has no 权责清单 or no supervisor.")
    return rows, issuer


def _may_skip_fk_checks() -> bool:
    """Whether this role may set ``session_replication_role`` (as ``demo.city`` asks)."""
    with connection.cursor() as cursor:
        if server_version() >= 150000:
            cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
        else:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        return bool(cursor.fetchone()[0])


def generate(*, open_cases: int, due: int, now: dt.datetime, out: Out) -> Generated:
    """Write ``open_cases`` open cases, ``due`` of them due at ``now``, set-based."""
    report = Generated()
    if open_cases <= 0:
        return report
    due = max(0, min(due, open_cases))
    started = time.perf_counter()
    leads, issuer = _leads()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_case")
        existing = cursor.fetchone()[0]
    defer = open_cases >= DEFER_FROM and open_cases > existing
    if defer:
        dropped = defer_indexes()
        out(f"generate: {dropped} secondary indexes set aside for the load (built again after)")
    skip_fk = _may_skip_fk_checks()
    slots = [(True, s, kind) for s, kind in enumerate(_slots(DUE, len(NOT_DUE)))]
    slots += [(False, s, kind) for s, kind in enumerate(_slots(NOT_DUE, 0))]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence('cases_case', 'id')")
        seq = cursor.fetchone()[0]
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS xs_new (id bigint, i bigint, kind int)")
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS xs_kind ({KIND_COLUMNS})")
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS xs_slot (due bool, slot int, kind int, "
            "PRIMARY KEY (due, slot))"
        )
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS xs_lead (slot int PRIMARY KEY, category_id int, "
            "category text, urgency text, region_id int, district_id int, street_id int, "
            "place text, lead_unit_id int, level int)"
        )
        for table in ("xs_new", "xs_kind", "xs_slot", "xs_lead"):
            cursor.execute(f"TRUNCATE {table}")
        rows = _kind_rows()
        cursor.executemany(
            f"INSERT INTO xs_kind VALUES ({', '.join(['%s'] * len(rows[0]))})",  # noqa: S608
            rows,
        )
        cursor.executemany("INSERT INTO xs_slot VALUES (%s, %s, %s)", slots)
        cursor.executemany(
            f"INSERT INTO xs_lead VALUES ({', '.join(['%s'] * len(leads[0]))})",  # noqa: S608
            leads,
        )
    params = {
        "seq": seq,
        "due": due,
        "n": open_cases,
        "t": int(now.timestamp()),
        "now": now,
        "leads": len(leads),
        "issuer": issuer,
    }
    for lo in range(0, open_cases, CHUNK):
        hi = min(lo + CHUNK, open_cases)
        began = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            if skip_fk:
                # Every reference is to a row read in this session (regions, units, the
                # supervisor): the deferred foreign-key checks would only cost time.
                cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("TRUNCATE xs_new")
            cursor.execute(PLAN, {**params, "lo": lo, "hi": hi})
            cursor.execute(CASES, params)
            report.cases += cursor.rowcount
            cursor.execute(ORDERS, params)
            report.orders += cursor.rowcount
            cursor.execute("SELECT kind, count(*) FROM xs_new GROUP BY kind")
            for kind, count in cursor.fetchall():
                label = KINDS[kind].label
                report.per_kind[label] = report.per_kind.get(label, 0) + count
            if skip_fk:
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        took = time.perf_counter() - began
        out(
            f"generate: {hi:,}/{open_cases:,} open cases ({hi - lo:,} in {took:.1f} s, "
            f"{(hi - lo) / took if took else 0:,.0f} cases/s)"
        )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS xs_new, xs_kind, xs_slot, xs_lead")
    report.seconds = time.perf_counter() - started
    if defer:
        report.index_seconds = restore_indexes(lambda _line: None)
        out(f"generate: indexes built again in {report.index_seconds:.1f} s")
    # A city's open cases have mostly been vacuumed since they last changed (all-visible).
    if not connection.in_atomic_block:
        analyze(Case, SupervisionOrder, vacuum=True)
    else:
        analyze(Case, SupervisionOrder)
    return report


# --- what was due: a snapshot to count against ---------------------------------------------------


def snapshot_due(now: dt.datetime) -> dict[str, int]:
    """Record in ``xs_due`` every (rule, case, deadline) due at ``now``; {rule: count}."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS xs_due (rule text, case_id bigint, "
            "deadline timestamptz)"
        )
        cursor.execute("TRUNCATE xs_due")
        counts = {}
        for name in supervision.RULE_NAMES:
            if name == supervision.ORDER_RULE:
                qs = supervision.candidate_query(name, now).values_list("case_id", "due_at")
            else:
                field_name = supervision.RULES[name].deadline_field
                qs = supervision.candidate_query(name, now).values_list("pk", field_name)
            qs = qs.order_by()  # a set: the models' default order would only sort it
            sql, sql_params = qs.query.sql_with_params()
            cursor.execute(
                # the rule's own query, compiled by Django with its parameters apart
                f"INSERT INTO xs_due SELECT %s, q.* FROM ({sql}) AS q",  # noqa: S608
                [name, *sql_params],
            )
            counts[name] = cursor.rowcount
        cursor.execute("ANALYZE xs_due")
    return counts


def due_cases() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT case_id) FROM xs_due")
        return int(cursor.fetchone()[0])


@dataclass
class Ledger:
    """The ids before a tick: what the tick wrote is what lies above them."""

    mark: int
    event: int
    note: int
    mail: int
    since: dt.datetime

    @classmethod
    def take(cls) -> Ledger:
        def last(model: Any) -> int:
            return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

        return cls(
            last(SupervisionMark),
            last(CaseEvent),
            last(Notification),
            last(OutboxMessage),
            timezone.now(),
        )


# What a tick wrote, copied into analysed temporary tables so that every check below is a
# hash join (the marks of a tick are a table the planner has not seen yet).
ACCOUNT_SETUP = [
    "DROP TABLE IF EXISTS xs_marks, xs_events",
    "CREATE TEMP TABLE xs_marks AS SELECT kind || ':' || step AS rule, case_id, deadline, "
    "xmin::text AS tx FROM cases_supervisionmark WHERE id > %(mark)s",
    "CREATE TEMP TABLE xs_events AS SELECT (payload ->> 'kind') || ':' || (payload ->> 'step') "
    "AS rule, case_id, (payload ->> 'deadline')::timestamptz AS deadline FROM cases_caseevent "
    "WHERE id > %(event)s AND type IN ('remind', 'escalate')",
    "DROP TABLE IF EXISTS xs_touched",
    "CREATE TEMP TABLE xs_touched AS SELECT id FROM cases_case WHERE updated_at >= %(since)s",
    "ANALYZE xs_marks",
    "ANALYZE xs_events",
    "ANALYZE xs_touched",
]
ACCOUNT = """
SELECT
    (SELECT json_object_agg(rule, n) FROM (
        SELECT rule, count(*) AS n FROM xs_marks GROUP BY rule) x),
    (SELECT json_object_agg(rule, n) FROM (
        SELECT rule, count(DISTINCT tx) AS n FROM xs_marks GROUP BY rule) x),
    (SELECT count(*) FROM xs_due d WHERE NOT EXISTS (
        SELECT 1 FROM xs_marks m
        WHERE m.rule = d.rule AND m.case_id = d.case_id AND m.deadline = d.deadline)),
    (SELECT count(*) FROM xs_marks m WHERE NOT EXISTS (
        SELECT 1 FROM xs_due d
        WHERE m.rule = d.rule AND m.case_id = d.case_id AND m.deadline = d.deadline)),
    (SELECT count(*) FROM xs_events),
    (SELECT count(*) FROM (
        SELECT 1 FROM xs_events GROUP BY rule, case_id, deadline HAVING count(*) > 1) x),
    (SELECT count(*) FROM xs_marks m WHERE m.rule <> 'evaluate:auto_close' AND NOT EXISTS (
        SELECT 1 FROM xs_events e
        WHERE e.rule = m.rule AND e.case_id = m.case_id AND e.deadline = m.deadline)),
    (SELECT count(*) FROM cases_caseevent WHERE id > %(event)s AND type = 'close'),
    (SELECT count(*) FROM cases_notification
       WHERE id > %(note)s AND key LIKE 'supervision:%%'),
    (SELECT count(*) FROM (SELECT 1 FROM cases_notification
       WHERE id > %(note)s GROUP BY user_id, key HAVING count(*) > 1) x),
    (SELECT count(*) FROM cases_outboxmessage WHERE id > %(mail)s AND channel = 'email'),
    (SELECT count(*) FROM xs_touched t
       WHERE NOT EXISTS (SELECT 1 FROM xs_due d WHERE d.case_id = t.id)),
    (SELECT count(DISTINCT case_id) FROM xs_marks)
"""


@dataclass
class Account:
    marks: dict[str, int]
    transactions: dict[str, int]  # batch transactions that wrote marks, per rule
    missed: int  # due (rule, case, deadline) without a mark
    unexpected: int  # marks for what was not due
    events: int
    duplicate_events: int
    marks_without_event: int
    closed: int
    notifications: int
    duplicate_notifications: int
    emails: int
    others_touched: int  # cases changed that were not due
    cases_chased: int

    @property
    def marked(self) -> int:
        return sum(self.marks.values())

    @property
    def exact(self) -> bool:
        return not (
            self.missed
            or self.unexpected
            or self.duplicate_events
            or self.marks_without_event
            or self.duplicate_notifications
            or self.others_touched
        )


def account(ledger: Ledger) -> Account:
    """What a tick wrote, checked against ``xs_due`` (``snapshot_due`` before the tick)."""
    params: dict[str, Any] = {
        "mark": ledger.mark,
        "event": ledger.event,
        "note": ledger.note,
        "mail": ledger.mail,
        "since": ledger.since,
    }
    with connection.cursor() as cursor:
        for statement in ACCOUNT_SETUP:
            cursor.execute(statement, params)
        cursor.execute(ACCOUNT, params)
        row = cursor.fetchone()
    marks, transactions = row[0] or {}, row[1] or {}
    if isinstance(marks, str):
        marks = json.loads(marks)
    if isinstance(transactions, str):
        transactions = json.loads(transactions)
    return Account(marks, transactions, *row[2:])


# --- the worker ---------------------------------------------------------------------------------


def database_url() -> str:
    s = connection.settings_dict
    user = s.get("USER") or ""
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def broker_url() -> str:
    """Redis database 9 of ``BENCH_REDIS_URL`` (default the local server)."""
    return os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/") + "/9"


@dataclass
class Tick:
    """One scan task and the batches it published, as the worker's log tells it."""

    sent: float
    scan_id: str = ""
    scan_seconds: float | None = None  # the task's own run time, in the worker
    batches: int | None = None  # as the scan announced them
    per_rule: dict[str, int] = field(default_factory=dict)
    finished_at: float | None = None
    batch_ids: set[str] = field(default_factory=set)
    done: dict[str, str] = field(default_factory=dict)
    batch_seconds: list[float] = field(default_factory=list)
    chased: int = 0

    @property
    def wall(self) -> float:
        return (self.finished_at or time.perf_counter()) - self.sent


class Worker:
    """A ``celery worker`` process on a queue of its own, for the life of a ``with`` block."""

    def __init__(
        self, *, concurrency: int, batch_size: int, out: Out, broker: str | None = None
    ) -> None:
        self.queue = f"bench-scan-{uuid.uuid4().hex[:10]}"
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.out = out
        self.broker = broker or broker_url()
        self.folder = Path(tempfile.mkdtemp(prefix="bench-scan-"))
        self.log = self.folder / "worker.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._offset = 0
        self._partial = ""
        self.lines: list[tuple[float, str]] = []

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": self.broker,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "EMAIL_URL": "dummymail://",
            "SMS_BACKEND": "logging",
            "SUPERVISION_BATCH_SIZE": str(self.batch_size),
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("CELERY_BROKER_WRITE_URL", None)
        env.pop("DJANGO_SETTINGS_MODULE", None)
        return env

    def pool(self) -> list[str]:
        """One process runs the scan and then its batches in turn; more run them side by
        side (prefork), as a deployment's workers do."""
        if self.concurrency <= 1:
            return ["--pool=solo"]
        return ["--pool=prefork", f"--concurrency={self.concurrency}"]

    def __enter__(self) -> Worker:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - this interpreter, our arguments
                [
                    sys.executable, "-c", WORKER_MAIN, self.queue,
                    "worker", *self.pool(),
                    "--loglevel=INFO", "-Q", self.queue, "-n", f"{self.queue}@%h",
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                    "--prefetch-multiplier=1",
                ],
                cwd=BASE_DIR, env=self.environment(), stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self._wait(lambda: any(" ready." in line for _t, line in self.lines), "the worker")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._forget_queues()
        if exc[0] is None:
            shutil.rmtree(self.folder, ignore_errors=True)
        else:
            self.out(f"scan: the worker's log is kept in {self.log}")

    def _forget_queues(self) -> None:
        """Remove the bench's queues (and the outbox kicks parked in the side queue) from
        Redis, with kombu's bindings of them."""
        from xining_issues.celery import app

        name = self.queue.encode()
        with app.connection_for_write(self.broker) as conn:
            client = conn.default_channel.client
            for key in client.scan_iter(match=f"{self.queue}*"):
                client.delete(key)
            for key in client.scan_iter(match="_kombu.binding*"):
                if name in key:
                    client.delete(key)
                elif client.type(key) == b"set":
                    for member in client.smembers(key):
                        if name in member:
                            client.srem(key, member)
                elif client.type(key) == b"zset":
                    for member in client.zrange(key, 0, -1):
                        if name in member:
                            client.zrem(key, member)

    def read(self) -> None:
        """Take in the log lines written since the last call, stamped with when seen."""
        with self.log.open("rb") as log:
            log.seek(self._offset)
            chunk = log.read()
        self._offset += len(chunk)
        text = self._partial + chunk.decode("utf-8", errors="replace")
        *complete, self._partial = text.split("\n")
        now = time.perf_counter()
        self.lines.extend((now, line) for line in complete)

    def _wait(self, check: Callable[[], bool], what: str, poll: float = 0.005) -> None:
        deadline = time.perf_counter() + WORKER_TIMEOUT
        while True:
            self.read()
            if check():
                return
            if self.process is not None and self.process.poll() is not None:
                raise ScanBenchError(f"the worker stopped:\n{self.text()[-3000:]}")
            if time.perf_counter() > deadline:
                raise ScanBenchError(f"timed out waiting for {what}:\n{self.text()[-3000:]}")
            time.sleep(poll)

    def text(self) -> str:
        self.read()
        return "\n".join(line for _t, line in self.lines)

    def tick(self, now: dt.datetime | None) -> Tick:
        """Send one scan (as beat does; ``now`` travels the clock) and wait until it and every
        batch it published have finished."""
        from cases.tasks import supervision_scan_task
        from xining_issues.celery import app

        self.read()
        start = len(self.lines)
        with app.connection_for_write(self.broker) as conn:
            tick = Tick(sent=time.perf_counter())
            result = supervision_scan_task.apply_async(
                args=[now.isoformat()] if now else [], queue=self.queue, connection=conn
            )
        tick.scan_id = result.id

        def settled() -> bool:
            for seen, line in self.lines[start:]:
                self._follow(tick, seen, line)
            del self.lines[start:]
            if tick.batches is None:
                return False
            finished = sum(1 for i in tick.batch_ids if tick.done.get(i))
            return finished >= tick.batches and len(tick.batch_ids) >= tick.batches

        self._wait(settled, "the tick and its batches")
        if tick.finished_at is None:
            tick.finished_at = time.perf_counter()
        return tick

    @staticmethod
    def _follow(tick: Tick, seen: float, line: str) -> None:
        if match := ANNOUNCED.search(line):
            tick.per_rule = json.loads(match["rules"])
        elif match := RECEIVED.search(line):
            if match["name"] == "cases.supervise_batch":
                tick.batch_ids.add(match["id"])
        elif match := FINISHED.search(line):
            if match["id"] == tick.scan_id and match["how"] == "succeeded":
                tick.scan_seconds = float(match["seconds"])
                tick.batches = int(match["result"])
                tick.finished_at = seen
            elif match["name"] == "cases.supervise_batch":
                if match["how"] == "retry":
                    return
                tick.done[match["id"]] = match["how"]
                if match["how"] == "succeeded":
                    tick.batch_seconds.append(float(match["seconds"]))
                    tick.chased += int(match["result"])
                tick.finished_at = seen


# --- query plans --------------------------------------------------------------------------------


def _walk(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _walk(child)


@dataclass
class Plan:
    rule: str
    query: str
    milliseconds: float
    rows: int
    indexes: list[str]
    seq_scans: list[str]
    hit: int
    read: int

    def line(self) -> str:
        used = ", ".join(self.indexes) or "no index"
        seq = f"; Seq Scan on {', '.join(self.seq_scans)}" if self.seq_scans else ""
        return (
            f"{self.rule} ({self.query}): {self.milliseconds:.1f} ms, {self.rows:,} rows, "
            f"{used}{seq}; buffers hit {self.hit:,} read {self.read:,}"
        )


def explain(rule: str, query: str, qs: QuerySet[Any]) -> Plan:
    """EXPLAIN (ANALYZE, BUFFERS) the query, rolled back (the scan's pages lock rows)."""
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = qs.query.sql_with_params()
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
        raw = cursor.fetchone()[0]
        transaction.set_rollback(True)
    document = json.loads(raw) if isinstance(raw, str) else raw
    top = document[0]
    nodes = list(_walk(top["Plan"]))
    indexes = []
    for node in nodes:
        name = node.get("Index Name")
        if name and name not in indexes:
            indexes.append(name)
    seq_scans = {n["Relation Name"] for n in nodes if n.get("Node Type") == "Seq Scan"}
    return Plan(
        rule=rule,
        query=query,
        milliseconds=float(top.get("Execution Time", 0.0)) + float(top.get("Planning Time", 0.0)),
        rows=int(top["Plan"].get("Actual Rows", 0)),
        indexes=indexes,
        seq_scans=sorted(seq_scans),
        hit=int(top["Plan"].get("Shared Hit Blocks", 0)),
        read=int(top["Plan"].get("Shared Read Blocks", 0)),
    )


def explain_rules(now: dt.datetime, batch_size: int) -> list[Plan]:
    """The candidate query of each rule, and the scan's first page of it, at ``now``."""
    plans = []
    for name in supervision.RULE_NAMES:
        plans.append(explain(name, "candidates", supervision.candidate_query(name, now)))
        plans.append(explain(name, "page", supervision.page_query(name, now, None, batch_size)))
    return plans


# --- the measurement ----------------------------------------------------------------------------


@contextmanager
def _quiet() -> Iterator[None]:
    from xining_issues.bulk import sql_log_off

    with sql_log_off():
        yield


def measure_scan(
    *,
    open_cases: int,
    due: int,
    out: Out,
    batch_size: int | None = None,
    concurrency: int = 2,
) -> dict[str, Any]:
    """Make ``open_cases`` open cases, ``due`` of them due now, and measure the scan on them
    (see the module's docstring). Returns the figures; ``lines`` (what was printed) and
    ``missed`` (the targets missed) are for a report."""
    require_postgresql()
    with _quiet():
        now = timezone.now().replace(microsecond=0)
        made = generate(open_cases=open_cases, due=due, now=now, out=lambda s: out(f"scan: {s}"))
        figures = measure_at(now, out=out, batch_size=batch_size, concurrency=concurrency)
    figures.update(
        open_cases=open_cases,
        due=due,
        generated={
            "cases": made.cases,
            "orders": made.orders,
            "seconds": round(made.seconds, 1),
            "index_seconds": round(made.index_seconds, 1),
            "per_kind": made.per_kind,
        },
    )
    return figures


def measure_at(
    now: dt.datetime, *, out: Out, batch_size: int | None = None, concurrency: int = 2
) -> dict[str, Any]:
    """Measure the scan on the database as it is, ``now`` being the moment ``T`` the cases
    were placed around (``generate``)."""
    size = batch_size or int(settings.SUPERVISION["batch_size"])
    figures: dict[str, Any] = {"batch_size": size, "concurrency": concurrency}
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        out(f"scan: {line}")

    idle_at = now - IDLE_BEFORE
    say(
        f"{Case.objects.filter(status__in=OPEN_STATUSES).count():,} open cases, "
        f"{SupervisionMark.objects.count():,} supervision marks in the database"
    )
    idle_due = snapshot_due(idle_at)
    expected = snapshot_due(now)
    cases_due = due_cases()
    figures["expected"] = {
        "cases": cases_due,
        "pairs": expected,
        "batches": {r: math.ceil(n / size) for r, n in expected.items() if n},
    }
    say(
        f"due at T: {cases_due:,} cases, {sum(expected.values()):,} (case, step) pairs: "
        + ", ".join(f"{r} {n:,}" for r, n in expected.items() if n)
    )
    plans_before = explain_rules(now, size)
    with Worker(concurrency=concurrency, batch_size=size, out=out) as worker:
        pool = f"prefork × {concurrency}" if concurrency > 1 else "solo"
        say(f"worker: celery {pool}, Redis {worker.broker}, queue {worker.queue}, batch {size}")
        # The idle tick: nothing due anywhere (T - 8 days). The first one warms the worker's
        # processes and connections, as a worker that has been running would have them.
        worker.tick(idle_at)
        idle = [worker.tick(idle_at) for _ in range(5)]
        figures["idle_tick"] = _tick_figures(idle, idle_due)
        idle_label = "idle tick (T - 8 days: nothing due"
        if figures["idle_tick"]["due"]:
            # On a city of bench_city's, its own long-overdue cases are due then already.
            idle_label += f" but {figures['idle_tick']['due']:,} pairs of the database's own"
        say(_tick_line(idle_label + ")", idle))

        snapshot_due(now)  # the due set again, for the accounts (the idle ticks wrote nothing)
        ledger = Ledger.take()
        wal = _wal_position()
        big = worker.tick(now)
        written = _wal_since(wal)
        books = account(ledger)
        figures["tick"] = _big_figures(big, books, expected, size)
        figures["tick"]["wal_mb"] = round(written / 2**20, 1)
        figures["tick"]["case_indexes"] = _index_count(Case)
        say(_big_line(big, books, expected, size))
        say(
            f"the tick wrote {written / 2**20:,.0f} MB of WAL; cases_case has "
            f"{figures['tick']['case_indexes']} indexes (each updated case enters every one)"
        )

        plans_after = explain_rules(now, size)
        after = snapshot_due(now)
        ledger = Ledger.take()
        second = [worker.tick(now) for _ in range(5)]
        again = account(ledger)
        figures["second_tick"] = {
            **_tick_figures(second, after),
            "marks_written": again.marked,
            "batches": sum(t.batches or 0 for t in second),
        }
        say(
            _tick_line(
                f"second tick (nothing newly due; the {cases_due:,} cases chased still open)",
                second,
            )
            + f"; {sum(after.values()):,} due, {again.marked:,} marks written"
        )
        # What autovacuum does in time (it is off on some machines): the chased rows' pages
        # become all-visible again and the marks' statistics known.
        began = time.perf_counter()
        analyze(Case, SupervisionMark, vacuum=True)
        vacuumed = [worker.tick(now) for _ in range(5)]
        figures["second_tick_vacuumed"] = {
            **_tick_figures(vacuumed, after),
            "vacuum_seconds": round(time.perf_counter() - began, 1),
        }
        say(_tick_line("the same after VACUUM (ANALYZE) of the cases and marks", vacuumed))
    figures["plans"] = {
        "before": [p.__dict__ for p in plans_before],
        "after": [p.__dict__ for p in plans_after],
    }
    for plan in plans_before:
        say(f"plan at T, before the tick: {plan.line()}")
    for plan in plans_after:
        say(f"plan at T, after the tick: {plan.line()}")
    missed = []
    tick = figures["tick"]
    if tick["wall_seconds"] > TARGET_TICK_SECONDS:
        missed.append(f"tick at volume {tick['wall_seconds']:.1f} s (target ≤ 30 s)")
    if not tick["exact"]:
        missed.append("tick at volume: not every due case chased exactly once")
    if tick["batches_per_rule"] != tick["expected_batches_per_rule"]:
        missed.append("tick at volume: batches per rule differ from ceil(due / batch size)")
    for key, label in (("idle_tick", "idle tick"), ("second_tick", "second tick")):
        if figures[key]["p50_ms"] > TARGET_IDLE_MS:
            missed.append(f"{label} {figures[key]['p50_ms']:.0f} ms (target ≤ 200 ms)")
    figures["missed"] = missed
    say("targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    say(
        "figures are wall times on a shared machine (other tests and benchmarks may run beside "
        "it): rough"
    )
    figures["lines"] = lines
    return figures


def _wal_position() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return str(cursor.fetchone()[0])


def _wal_since(position: str) -> int:
    """Bytes of WAL written (by everyone: the machine is shared) since ``position``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", [position])
        return int(cursor.fetchone()[0])


def _index_count(model: Any) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", [model._meta.db_table]
        )
        return int(cursor.fetchone()[0])


def _tick_figures(ticks: list[Tick], due: dict[str, int]) -> dict[str, Any]:
    walls = sorted(t.wall * 1000 for t in ticks)
    inside = sorted((t.scan_seconds or 0) * 1000 for t in ticks)
    return {
        "p50_ms": round(walls[len(walls) // 2], 1),
        "max_ms": round(walls[-1], 1),
        "task_p50_ms": round(inside[len(inside) // 2], 1),
        "batches": sum(t.batches or 0 for t in ticks),
        "due": sum(due.values()),
    }


def _tick_line(label: str, ticks: list[Tick]) -> str:
    f = _tick_figures(ticks, {})
    return (
        f"{label}: p50 {f['p50_ms']:.0f} ms, max {f['max_ms']:.0f} ms sent to done over "
        f"{len(ticks)} ticks (the scan task itself {f['task_p50_ms']:.0f} ms), "
        f"{f['batches']} batches"
    )


def _big_figures(
    tick: Tick, books: Account, expected: dict[str, int], size: int
) -> dict[str, Any]:
    want = {r: math.ceil(n / size) for r, n in expected.items() if n}
    batch = sorted(tick.batch_seconds)
    return {
        "wall_seconds": round(tick.wall, 2),
        "scan_task_seconds": tick.scan_seconds,
        "batches": tick.batches,
        "batches_per_rule": tick.per_rule,
        "expected_batches_per_rule": want,
        "batch_transactions_per_rule": books.transactions,
        "failed_batches": sum(1 for how in tick.done.values() if how != "succeeded"),
        "batch_p50_seconds": batch[len(batch) // 2] if batch else None,
        "batch_max_seconds": batch[-1] if batch else None,
        "chased": tick.chased,
        "marks": books.marks,
        "cases_chased": books.cases_chased,
        "missed": books.missed,
        "unexpected": books.unexpected,
        "events": books.events,
        "marks_without_event": books.marks_without_event,
        "closed": books.closed,
        "duplicate_events": books.duplicate_events,
        "notifications": books.notifications,
        "duplicate_notifications": books.duplicate_notifications,
        "emails": books.emails,
        "others_touched": books.others_touched,
        "exact": books.exact,
    }


def _big_line(tick: Tick, books: Account, expected: dict[str, int], size: int) -> str:
    f = _big_figures(tick, books, expected, size)
    per_rule = ", ".join(
        f"{rule} {f['batches_per_rule'].get(rule, 0)}/{n}"
        for rule, n in f["expected_batches_per_rule"].items()
    )
    return (
        f"tick at T: {f['wall_seconds']:.1f} s from sending the tick to the last batch done "
        f"(the scan task {f['scan_task_seconds'] or 0:.1f} s), {f['batches']} batches "
        f"(sent/expected per rule: {per_rule}), {f['failed_batches']} failed; batch p50 "
        f"{f['batch_p50_seconds'] or 0:.2f} s, max {f['batch_max_seconds'] or 0:.2f} s; "
        f"{books.marked:,} marks on {books.cases_chased:,} cases, "
        f"{books.events:,} reminder events + {books.closed:,} archived, "
        f"{books.notifications:,} messages, {books.emails:,} emails; duplicates: "
        f"{books.duplicate_events} events, {books.duplicate_notifications} messages; "
        f"marks without their event {books.marks_without_event}; missed {books.missed}, not "
        f"due but chased {books.unexpected}, other cases touched {books.others_touched}"
    )
