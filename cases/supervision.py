"""督: finding what is late and chasing it, exactly once.

The deadlines live on the case (and on 督办 orders), so nothing is scheduled ahead: every minute
the scan asks the database, by indexed queries on the deadline columns, which open cases have
crossed a point they have not yet been chased for, and hands them on in bounded batches.

``RULES`` is the whole policy of when: for each deadline kind, the steps 预警 (warning) → 超期
(overdue) → the unit's leader → the 督查室 of the level above, and the archive of a reply nobody
evaluated. Who hears of each step is written with the case's other messages
(``notifications.SUPERVISION_AUDIENCE``). A step happens once per (case, deadline kind, step,
deadline): ``SupervisionMark``'s unique constraint says so, and the batch writes the mark, the
level, the event (through the workflow kernel, like every case event) and the messages in one
transaction, so a batch that dies half-way leaves nothing behind and is simply done again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import OuterRef, Q, QuerySet
from django.utils import timezone

from notifications.models import Notification
from org import jurisdiction
from org.models import Unit
from xining_issues.bulk import insert_rows
from xining_issues.workflow import Step

from . import notifications, workflow
from .models import (
    OPEN_STATUSES,
    Case,
    DeadlineKind,
    EventType,
    Status,
    SupervisionLevel,
    SupervisionMark,
    SupervisionOrder,
    SupervisionStep,
)

WORKING = (Status.DISPATCHED, Status.HANDLING)
LEVEL_ORDER: list[str] = [
    SupervisionLevel.ON_TIME,
    SupervisionLevel.WARNING,
    SupervisionLevel.OVERDUE,
    SupervisionLevel.SUPERVISED,
]


def _hours(name: str) -> dt.timedelta:
    return dt.timedelta(hours=settings.SUPERVISION[name])


@dataclass(frozen=True)
class Rule:
    """One step of supervision for one kind of deadline."""

    kind: str
    step: str
    statuses: tuple[str, ...]
    deadline_field: str  # the case column the mark remembers
    trigger_field: str  # the indexed column compared with now
    delay: Callable[[], dt.timedelta] = lambda: dt.timedelta(0)  # how long after the trigger
    extra: Q = field(default_factory=Q)
    level: str | None = None  # the supervision level the case rises to
    # A warning is pointless once the deadline itself has passed (the overdue step says more).
    only_before_deadline: bool = False

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.step}"

    def due(self, now: dt.datetime) -> Q:
        threshold = now - self.delay()
        condition = (
            Q(status__in=self.statuses, **{f"{self.trigger_field}__lte": threshold})
            & Q(**{f"{self.deadline_field}__isnull": False})
            & self.extra
        )
        if self.only_before_deadline:
            condition &= Q(**{f"{self.deadline_field}__gt": now})
        return condition


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in [
        Rule(
            DeadlineKind.ACCEPT, SupervisionStep.OVERDUE, (Status.SUBMITTED,), "accept_by",
            "accept_by", level=SupervisionLevel.OVERDUE,
        ),
        Rule(
            DeadlineKind.SIGN, SupervisionStep.OVERDUE, (Status.DISPATCHED,), "sign_by",
            "sign_by", level=SupervisionLevel.OVERDUE,
        ),
        Rule(
            DeadlineKind.CONTACT, SupervisionStep.OVERDUE, WORKING, "contact_by", "contact_by",
            extra=Q(contacted_at__isnull=True), level=SupervisionLevel.OVERDUE,
        ),
        Rule(
            DeadlineKind.RESOLVE, SupervisionStep.WARNING, WORKING, "resolve_by", "warn_at",
            level=SupervisionLevel.WARNING, only_before_deadline=True,
        ),
        Rule(
            DeadlineKind.RESOLVE, SupervisionStep.OVERDUE, WORKING, "resolve_by", "resolve_by",
            level=SupervisionLevel.OVERDUE,
        ),
        Rule(
            DeadlineKind.RESOLVE, SupervisionStep.LEADER, WORKING, "resolve_by", "resolve_by",
            delay=lambda: _hours("leader_after_hours"),
        ),
        Rule(
            DeadlineKind.RESOLVE, SupervisionStep.OFFICE, WORKING, "resolve_by", "resolve_by",
            delay=lambda: _hours("office_after_hours"), level=SupervisionLevel.SUPERVISED,
        ),
        Rule(
            DeadlineKind.EVALUATE, SupervisionStep.AUTO_CLOSE, (Status.REPLIED,), "replied_at",
            "replied_at", delay=lambda: dt.timedelta(days=settings.SUPERVISION["evaluate_days"]),
        ),
    ]
}  # fmt: skip
# 督办 orders past their due date are a rule of their own: the deadline is on the order.
ORDER_RULE = "order:overdue"
RULE_NAMES = [*RULES, ORDER_RULE]
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout expires


# --- the scan ---------------------------------------------------------------------------------


# Marked rows are left out with a correlated NOT IN, not NOT EXISTS: PostgreSQL never turns a
# NOT IN into a join, so each candidate costs one probe of the marks' unique index whatever the
# statistics say. As an anti-join, the plan depended on them: on a marks table not analysed
# since it was small (a fresh deployment; autovacuum off), the planner chose to compare every
# candidate with every mark of the step, and a tick over 100,000 chased cases took minutes.


def _candidates(rule: Rule, now: dt.datetime) -> QuerySet[Case]:
    done = SupervisionMark.objects.filter(
        case=OuterRef("pk"),
        kind=rule.kind,
        step=rule.step,
        deadline=OuterRef(rule.deadline_field),
    ).values("case_id")
    return Case.objects.filter(rule.due(now)).exclude(pk__in=done)


def _order_candidates(now: dt.datetime) -> QuerySet[SupervisionOrder]:
    done = SupervisionMark.objects.filter(
        case=OuterRef("case_id"),
        kind=DeadlineKind.ORDER,
        step=SupervisionStep.OVERDUE,
        deadline=OuterRef("due_at"),
    ).values("case_id")
    return SupervisionOrder.objects.filter(
        fulfilled_at__isnull=True, due_at__lte=now, case__status__in=OPEN_STATUSES
    ).exclude(case_id__in=done)


def candidate_query(rule_name: str, now: dt.datetime) -> QuerySet:  # type: ignore[type-arg]
    """The main query of one rule, for EXPLAIN in the tests."""
    if rule_name == ORDER_RULE:
        return _order_candidates(now)
    return _candidates(RULES[rule_name], now)


Item = tuple[int, str]  # (case id, deadline as ISO text): what a batch task receives
Key = tuple[dt.datetime, int]  # where a page ended: (trigger, id) of its last row


def page_query(rule_name: str, now: dt.datetime, after: Key | None, size: int) -> QuerySet[Any]:
    """One page of a rule's candidates as the scan reads it: rows (trigger, id, case id,
    deadline) in the order of the rule's index, (trigger, id), from just after ``after``.

    The order is the index's, not the ids': a page reads its ``size`` rows and stops, where
    ordering by id made PostgreSQL walk the whole table (or sort every due row) for each page,
    and a million open cases cost seconds a rule.
    """
    qs: QuerySet[Any]
    if rule_name == ORDER_RULE:
        qs, trigger, case, deadline = _order_candidates(now), "due_at", "case_id", "due_at"
    else:
        rule = RULES[rule_name]
        qs, trigger = _candidates(rule, now), rule.trigger_field
        case, deadline = "pk", rule.deadline_field
    if after is not None:
        at, last = after
        # The ``>=`` bounds the index range; the OR places the page within equal triggers.
        qs = qs.filter(
            Q(**{f"{trigger}__gt": at}) | Q(**{trigger: at, "pk__gt": last}),
            **{f"{trigger}__gte": at},
        )
    return qs.order_by(trigger, "pk").values_list(trigger, "pk", case, deadline)[:size]


def scan(now: dt.datetime, batch_size: int | None = None) -> Iterator[tuple[str, list[Item]]]:
    """Yield (rule name, batch of items) for everything due at ``now``.

    Keyset pages along each rule's index, one query a page whatever its size. The scan only
    reads: the batch locks its cases (``_lock_cases``), waiting its turn behind another batch
    or a workflow step, and a case held longer is skipped and found again by the next scan.
    (The pages used to lock their rows too, for the instant of the query: at a hundred
    thousand due cases that was a lock record and a dirtied page per case, 650 MB of WAL and
    two thirds of the scan's time, for a lock the batch takes again anyway.)
    """
    size = batch_size or settings.SUPERVISION["batch_size"]
    for name in RULE_NAMES:
        after: Key | None = None
        while True:
            rows = list(page_query(name, now, after, size))
            if not rows:
                break
            after = (rows[-1][0], rows[-1][1])
            yield name, [(case_id, deadline.isoformat()) for _t, _pk, case_id, deadline in rows]
            if len(rows) < size:
                break


# --- one batch --------------------------------------------------------------------------------


# What a batch reads of a case under its lock (and its rule's deadline): what the event and the
# messages need, not the whole row.
_CASE_COLUMNS = (
    "pk",
    "status",
    "tracking_code",
    "lead_unit_id",
    "dispatch_region_id",
    "district_id",
)


def _raise_level(pks: list[int], level: str) -> None:
    """Raise the supervision level of these cases to ``level``, never lower it."""
    lower = LEVEL_ORDER[: LEVEL_ORDER.index(level)]
    Case.objects.filter(pk__in=pks, supervision_level__in=lower).update(
        supervision_level=level, updated_at=timezone.now()
    )


# How long a batch waits for a case that someone else holds before it leaves it to the next
# scan: longer than a batch of the same tick takes (a case late for three steps comes in three
# batches at once), far shorter than a batch's time limit.
LOCK_WAIT = "5s"


def _lock_cases(chosen: QuerySet[Case], columns: list[str]) -> list[Case]:
    """Lock the chosen cases and read ``columns`` of them (the others deferred), in id order.

    The batch waits for a case that another batch or a workflow step holds, up to
    ``LOCK_WAIT``, rather than skipping it at once: the batches of one tick meet on the cases
    late for several steps, and SKIP LOCKED left those to the next tick, which then chased
    thousands of pairs at volume. Batches lock in the same (id) order, so two never wait for
    each other in a circle. A case held longer (an open transaction somewhere) is skipped after
    all, as before: the batch does what it can and the next scan finds the rest.
    """
    in_order = chosen.select_for_update(of=("self",)).order_by("pk").only(*columns)
    if connection.vendor != "postgresql":  # SQLite: one writer at a time, nothing to wait for
        return list(in_order)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # set_config(…, true) is SET LOCAL: it would outlive the savepoint, so it is put
            # back as soon as the cases are locked (the batch's writes must not time out).
            cursor.execute("SELECT current_setting('lock_timeout')")
            before = cursor.fetchone()[0]
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_WAIT])
            rows = list(in_order)
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [before])
            return rows
    except OperationalError as error:
        if getattr(error.__cause__, "pgcode", None) != LOCK_NOT_AVAILABLE:
            raise
    # (the savepoint rolled back, and the lock timeout with it)
    skipping = chosen.select_for_update(skip_locked=True, of=("self",)).order_by("pk")
    return list(skipping.only(*columns))


def supervise_batch(rule_name: str, items: list[Item], now: dt.datetime) -> int:
    """Carry out one rule for one batch; returns how many (case, deadline) pairs were chased.

    Runs twice, or after a crash, without doing anything twice: the cases are locked, the marks
    already written are skipped, and a conflicting mark rolls the whole batch back. A case may
    come twice in one batch (two late 督办 orders): each deadline is chased on its own.

    A constant number of queries whatever the batch's size, and only the columns it needs:
    a tick at volume runs hundreds of these.
    """
    wanted: set[tuple[int, dt.datetime]] = {
        (case_id, dt.datetime.fromisoformat(deadline)) for case_id, deadline in items
    }
    rule: Rule | None
    if rule_name in RULES:
        rule = RULES[rule_name]
        kind, step = rule.kind, rule.step
    elif rule_name == ORDER_RULE:
        rule, kind, step = None, DeadlineKind.ORDER, SupervisionStep.OVERDUE
    else:
        raise ValueError(f"unknown supervision rule {rule_name!r}")

    with transaction.atomic():
        chosen = Case.objects.filter(pk__in={case_id for case_id, _deadline in wanted})
        if rule is not None:
            chosen = chosen.filter(rule.due(now))
            columns = [*_CASE_COLUMNS, rule.deadline_field]
        else:
            chosen = chosen.filter(status__in=OPEN_STATUSES)
            columns = list(_CASE_COLUMNS)
        cases = {case.pk: case for case in _lock_cases(chosen, columns)}
        if rule is not None:
            # The deadline may have moved since the scan (an extension): chase only what is due.
            due = {(pk, getattr(c, rule.deadline_field)) for pk, c in cases.items()}
        else:
            due = set(
                SupervisionOrder.objects.filter(
                    case_id__in=list(cases), fulfilled_at__isnull=True, due_at__lte=now
                ).values_list("case_id", "due_at")
            )
        done = set(
            SupervisionMark.objects.filter(
                case_id__in=list(cases), kind=kind, step=step
            ).values_list("case_id", "deadline")
        )
        todo = sorted((wanted & due) - done)
        if not todo:
            return 0
        # No ignore_conflicts: a mark written by someone else meanwhile must fail this batch
        # (it is retried) rather than send its messages a second time.
        insert_rows(
            SupervisionMark,
            [
                {
                    "case_id": pk,
                    "kind": kind,
                    "step": step,
                    "deadline": deadline,
                    "created_at": now,
                }
                for pk, deadline in todo
            ],
        )
        if step == SupervisionStep.AUTO_CLOSE:
            # 归档 is a transition: the workflow's own function, case by case.
            whole = Case.objects.in_bulk([pk for pk, _deadline in todo])
            for pk, _deadline in todo:
                workflow.case_close(case=whole[pk], actor=None, system=True)
            return len(todo)
        chased = [(cases[pk], deadline) for pk, deadline in todo]
        level = rule.level if rule is not None else SupervisionLevel.SUPERVISED
        if level:
            _raise_level(sorted({pk for pk, _deadline in todo}), level)
        # 督办提醒 for a rule's own warning and overdue steps; the rest escalate (督办升级).
        remind = rule is not None and step in (SupervisionStep.WARNING, SupervisionStep.OVERDUE)
        _record(chased, kind, step, EventType.REMIND if remind else EventType.ESCALATE, now)
    return len(chased)


def _record(
    chased: list[tuple[Case, dt.datetime]], kind: str, step: str, event_type: str, now: dt.datetime
) -> None:
    """The batch's events, written by the workflow kernel as ``FLOW.record`` writes a step of
    the system (no actor, no role) but in one INSERT, and their messages by the case's
    notification rules for the whole batch at once (its ``on_batch``)."""
    cases = [case for case, _deadline in chased]
    audience = notifications.SupervisionAudience(cases, kind, step)
    # The event names the lead unit (event_row's default), read once for the batch: the locked
    # cases hold its id only, and reading it through each case was a query per case.
    units = Unit.objects.in_bulk({c.lead_unit_id for c in cases if c.lead_unit_id})
    rows: list[tuple[Case, Step, dict[str, Any]]] = []
    for case, deadline in chased:
        payload = {"kind": kind, "step": step, "deadline": deadline.isoformat()}
        payload.update(audience.details(case))
        taken = workflow.FLOW.step(case, event_type, None, None, case.status, payload)
        extra = {"is_public": False, "now": now, "unit": units.get(case.lead_unit_id or 0)}
        rows.append((case, taken, extra))
    workflow.FLOW.record_events(rows, on_batch=audience.notify)


# --- the daily digest -------------------------------------------------------------------------


def daily_digest(day: dt.date) -> int:
    """每日提醒: each unit's handlers hear how many of its cases are overdue or due today.
    Returns how many units were told; running it twice on a day tells nobody twice."""
    from django.db.models import Count

    zone = timezone.get_default_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = start + dt.timedelta(days=1)
    rows = (
        Case.objects.filter(status__in=WORKING, lead_unit__isnull=False, resolve_by__lt=end)
        .values("lead_unit_id", "lead_unit__name")
        .annotate(
            overdue=Count("pk", filter=Q(resolve_by__lt=start)),
            due_today=Count("pk", filter=Q(resolve_by__gte=start)),
        )
    )
    units = {r["lead_unit_id"]: r for r in rows}
    handlers = jurisdiction.handlers_by_unit(units)
    now = timezone.now()
    notes = [
        Notification(
            user=user,
            kind="daily_digest",
            params={
                "unit": row["lead_unit__name"],
                "overdue": row["overdue"],
                "due_today": row["due_today"],
            },
            key=f"digest:{day.isoformat()}:{unit_id}",
            created_at=now,
        )
        for unit_id, row in units.items()
        for user in handlers.get(unit_id, [])
    ]
    Notification.objects.bulk_create(notes, ignore_conflicts=True)
    return len(units)
