"""督: finding what is late and chasing it, exactly once.

The deadlines live on the case (and on 督办 orders), so nothing is scheduled ahead: every minute
the scan asks the database, by indexed queries on the deadline columns, which open cases have
crossed a point they have not yet been chased for, and hands them on in bounded batches.

``RULES`` is the whole policy: for each deadline kind, the steps 预警 (warning) → 超期 (overdue)
→ the unit's leader → the 督查室 of the level above, and the archive of a reply nobody evaluated.
A step happens once per (case, deadline kind, step, deadline): ``SupervisionMark``'s unique
constraint says so, and the batch writes the mark, the level, the event and the messages in one
transaction, so a batch that dies half-way leaves nothing behind and is simply done again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from org.models import Membership, Role, User

from . import workflow
from .models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    DeadlineKind,
    EventType,
    Notification,
    OutboxMessage,
    Status,
    SupervisionLevel,
    SupervisionMark,
    SupervisionOrder,
    SupervisionStep,
)

WORKING = (Status.DISPATCHED, Status.HANDLING)
LEVEL_ORDER = [
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
    recipients: str = "handlers"  # handlers | leaders | office | dispatchers
    message: str = "reminder_overdue"
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
            "accept_by", level=SupervisionLevel.OVERDUE, recipients="dispatchers",
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
            level=SupervisionLevel.WARNING, message="reminder_warning",
            only_before_deadline=True,
        ),
        Rule(
            DeadlineKind.RESOLVE, SupervisionStep.OVERDUE, WORKING, "resolve_by", "resolve_by",
            level=SupervisionLevel.OVERDUE,
        ),
        Rule(
            DeadlineKind.RESOLVE, SupervisionStep.LEADER, WORKING, "resolve_by", "resolve_by",
            delay=lambda: _hours("leader_after_hours"), recipients="leaders",
            message="escalation_leader",
        ),
        Rule(
            DeadlineKind.RESOLVE, SupervisionStep.OFFICE, WORKING, "resolve_by", "resolve_by",
            delay=lambda: _hours("office_after_hours"), level=SupervisionLevel.SUPERVISED,
            recipients="office", message="escalation_office",
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


# --- the scan ---------------------------------------------------------------------------------


def _candidates(rule: Rule, now: dt.datetime) -> QuerySet[Case]:
    done = SupervisionMark.objects.filter(
        case=OuterRef("pk"),
        kind=rule.kind,
        step=rule.step,
        deadline=OuterRef(rule.deadline_field),
    )
    return Case.objects.filter(rule.due(now)).exclude(Exists(done))


def _order_candidates(now: dt.datetime) -> QuerySet[SupervisionOrder]:
    done = SupervisionMark.objects.filter(
        case=OuterRef("case_id"),
        kind=DeadlineKind.ORDER,
        step=SupervisionStep.OVERDUE,
        deadline=OuterRef("due_at"),
    )
    return SupervisionOrder.objects.filter(
        fulfilled_at__isnull=True, due_at__lte=now, case__status__in=OPEN_STATUSES
    ).exclude(Exists(done))


def candidate_query(rule_name: str, now: dt.datetime) -> QuerySet:  # type: ignore[type-arg]
    """The main query of one rule, for EXPLAIN in the tests."""
    if rule_name == ORDER_RULE:
        return _order_candidates(now)
    return _candidates(RULES[rule_name], now)


Item = tuple[int, str]  # (case id, deadline as ISO text): what a batch task receives


def scan(now: dt.datetime, batch_size: int | None = None) -> Iterator[tuple[str, list[Item]]]:
    """Yield (rule name, batch of items) for everything due at ``now``.

    Keyset pages by id, one query a page whatever its size; rows that another transaction holds
    (a workflow step under way) are skipped and found again by the next scan.
    """
    size = batch_size or settings.SUPERVISION["batch_size"]
    for name in RULE_NAMES:
        last = 0
        while True:
            with transaction.atomic():
                if name == ORDER_RULE:
                    rows = list(
                        _order_candidates(now)
                        .filter(pk__gt=last)
                        .select_for_update(skip_locked=True, of=("self",))
                        .order_by("pk")
                        .values_list("pk", "case_id", "due_at")[:size]
                    )
                    items = [(case_id, due.isoformat()) for _pk, case_id, due in rows]
                else:
                    rule = RULES[name]
                    rows = list(
                        _candidates(rule, now)
                        .filter(pk__gt=last)
                        .select_for_update(skip_locked=True, of=("self",))
                        .order_by("pk")
                        .values_list("pk", "pk", rule.deadline_field)[:size]
                    )
                    items = [(case_id, deadline.isoformat()) for _pk, case_id, deadline in rows]
            if not rows:
                break
            last = rows[-1][0]
            yield name, items
            if len(rows) < size:
                break


# --- one batch --------------------------------------------------------------------------------


class _Recipients:
    """Who hears about which case, loaded once per batch (a few queries whatever its size)."""

    def __init__(self, cases: list[Case]) -> None:
        units = {c.lead_unit_id for c in cases if c.lead_unit_id}
        memberships = list(
            Membership.objects.filter(
                Q(unit_id__in=units, role=Role.HANDLER)
                | Q(role__in=[Role.SUPERVISOR, Role.DISPATCHER])
            ).select_related("user", "unit")
        )
        self.handlers: dict[int, list[User]] = defaultdict(list)
        self.leaders: dict[int, list[User]] = defaultdict(list)
        self.by_region: dict[tuple[str, int], list[User]] = defaultdict(list)
        self.office_name: dict[int, str] = {}
        for m in memberships:
            if m.role == Role.HANDLER:
                self.handlers[m.unit_id].append(m.user)
                if m.is_leader:
                    self.leaders[m.unit_id].append(m.user)
            else:
                self.by_region[(m.role, m.unit.region_id)].append(m.user)
                if m.role == Role.SUPERVISOR:
                    self.office_name[m.unit.region_id] = m.unit.name
        unit_regions = {
            c.lead_unit_id: c.lead_unit.region for c in cases if c.lead_unit_id and c.lead_unit
        }
        self.unit_region = {uid: region.ancestor_ids for uid, region in unit_regions.items()}

    def office(self, case: Case) -> tuple[list[User], str]:
        """Supervisors of the 督查室 one level above the lead unit (the nearest there is)."""
        ancestors = self.unit_region.get(case.lead_unit_id or 0, case.district.ancestor_ids)
        above = ancestors[:-1] or ancestors
        for region_id in reversed(above):
            users = self.by_region.get((Role.SUPERVISOR, region_id))
            if users:
                return users, self.office_name[region_id]
        return [], ""

    def for_rule(self, rule: Rule, case: Case) -> tuple[list[User], dict[str, str]]:
        if rule.recipients == "dispatchers":
            return self.by_region.get((Role.DISPATCHER, case.dispatch_region_id), []), {}
        if rule.recipients == "leaders":
            return self.leaders.get(case.lead_unit_id or 0, []), {}
        if rule.recipients == "office":
            users, office = self.office(case)
            return users, {"office": office}
        return self.handlers.get(case.lead_unit_id or 0, []), {}


def _raise_level(cases: list[Case], level: str) -> None:
    """Raise the supervision level of these cases to ``level``, never lower it."""
    lower = LEVEL_ORDER[: LEVEL_ORDER.index(level)]
    Case.objects.filter(pk__in=[c.pk for c in cases], supervision_level__in=lower).update(
        supervision_level=level, updated_at=timezone.now()
    )


def supervise_batch(rule_name: str, items: list[Item], now: dt.datetime) -> int:
    """Carry out one rule for one batch; returns how many (case, deadline) pairs were chased.

    Runs twice, or after a crash, without doing anything twice: the cases are locked, the marks
    already written are skipped, and a conflicting mark rolls the whole batch back. A case may
    come twice in one batch (two late 督办 orders): each deadline is chased on its own.
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
        locked = Case.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            pk__in={case_id for case_id, _deadline in wanted}
        )
        if rule is not None:
            locked = locked.filter(rule.due(now))
        else:
            locked = locked.filter(status__in=OPEN_STATUSES)
        cases = {
            c.pk: c for c in locked.select_related("lead_unit__region", "district", "category")
        }
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
        SupervisionMark.objects.bulk_create(
            [
                SupervisionMark(
                    case=cases[pk], kind=kind, step=step, deadline=deadline, created_at=now
                )
                for pk, deadline in todo
            ]
        )
        chased = [(cases[pk], deadline) for pk, deadline in todo]
        if step == SupervisionStep.AUTO_CLOSE:
            for case, _deadline in chased:
                workflow.case_close(case=case, actor=None, system=True)
            return len(chased)
        level = rule.level if rule is not None else SupervisionLevel.SUPERVISED
        if level:
            _raise_level([case for case, _deadline in chased], level)
        _record_and_notify(chased, rule, kind, step, now)
    return len(chased)


def _record_and_notify(
    chased: list[tuple[Case, dt.datetime]],
    rule: Rule | None,
    kind: str,
    step: str,
    now: dt.datetime,
) -> None:
    recipients = _Recipients([case for case, _deadline in chased])
    issuers: dict[tuple[int, dt.datetime], User] = {}
    if rule is None:
        # A late 督办 order is reported to the supervisor who issued that order.
        for order in SupervisionOrder.objects.filter(
            case__in=[case for case, _deadline in chased], fulfilled_at__isnull=True
        ).select_related("issued_by"):
            issuers[(order.case_id, order.due_at)] = order.issued_by
    event_type = (
        EventType.REMIND
        if step in (SupervisionStep.WARNING, SupervisionStep.OVERDUE) and rule is not None
        else EventType.ESCALATE
    )
    events, notes, mails = [], [], []
    for case, when in chased:
        deadline = when.isoformat()
        if rule is None:
            issuer = issuers.get((case.pk, when))
            users = ([issuer] if issuer else []) + recipients.leaders.get(
                case.lead_unit_id or 0, []
            )
            extra: dict[str, str] = {}
            message = "order_overdue"
        else:
            users, extra = recipients.for_rule(rule, case)
            message = rule.message
        events.append(
            CaseEvent(
                case=case,
                type=event_type,
                unit_id=case.lead_unit_id,
                from_status=case.status,
                to_status=case.status,
                payload={"kind": kind, "step": step, "deadline": deadline, **extra},
                is_public=False,
                created_at=now,
            )
        )
        params = {"code": case.tracking_code, "deadline": deadline, "deadline_kind": kind, **extra}
        key = f"supervision:{case.pk}:{kind}:{step}:{deadline}"
        for user in {u.pk: u for u in users}.values():
            notes.append(
                Notification(
                    user=user, case=case, kind=message, params=params, key=key, created_at=now
                )
            )
            if user.email:
                mails.append(
                    OutboxMessage(
                        channel="email",
                        recipient=user.email,
                        kind=message,
                        params=params,
                        key=f"{key}:{user.pk}",
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
    CaseEvent.objects.bulk_create(events)
    Notification.objects.bulk_create(notes, ignore_conflicts=True)
    OutboxMessage.objects.bulk_create(mails, ignore_conflicts=True)
    if mails:
        from .notifications import kick_outbox_on_commit

        kick_outbox_on_commit()


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
    handlers: dict[int, list[User]] = defaultdict(list)
    for m in Membership.objects.filter(unit_id__in=units, role=Role.HANDLER).select_related(
        "user"
    ):
        handlers[m.unit_id].append(m.user)
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
        for user in handlers[unit_id]
    ]
    Notification.objects.bulk_create(notes, ignore_conflicts=True)
    return len(units)
