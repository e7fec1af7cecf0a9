"""One demo case walked through the workflow's steps (``CaseWalk``) until its next step would
fall after ``now``, for the year of demo cases (``demo.history``).

Over 500 lines on purpose: ``CaseWalk`` is one case's life read top to bottom (接, 派, 办, 延期,
督办, 评, 重办, 督查研判, 归档), each step writing the fields and the event that the matching
``cases.workflow`` function writes; cut in two, the order of the random draws (which keeps the
data identical for a seed) would be spread over files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from cases import sla
from cases.models import (
    Case,
    Channel,
    Evaluation,
    EvaluationSource,
    EventType,
    ExtensionRequest,
    ExtensionStatus,
    Outcome,
    Rating,
    RejectReason,
    Status,
    SupervisionLevel,
    SupervisionOrder,
    Urgency,
)
from org.models import RegionLevel, Role

from .catalogue import COMPLEX_SHARE, CONSULTATIONS, HARD, REPLY_GROUP
from .history_world import Suggestion
from .vocabulary import (
    APPOINTMENT_NOTE,
    COMMENTS,
    DISPATCH_NOTE,
    EXTENSION_REASONS,
    INTAKE_REPLIES,
    NOT_EVALUATED_NOTE,
    PROGRESS_NOTES,
    REFUSAL_NOTE,
    REJECT_NOTES,
    REOPEN_REASONS,
    REPLIES,
    RETURN_REASONS,
    REVIEWED_NOTE,
    SUPERVISION_NOTES,
    UNREASONABLE_NOTE,
)

if TYPE_CHECKING:
    from .history import Generator

REOPEN_RESOLVE_DAYS = 5  # as workflow.REOPEN_RESOLVE_DAYS
LEVELS: list[str] = [
    SupervisionLevel.ON_TIME,
    SupervisionLevel.WARNING,
    SupervisionLevel.OVERDUE,
    SupervisionLevel.SUPERVISED,
]
# Cases taken by phone, in person or by a grid inspector: an operator records them and calls back.
PHONE_LIKE = (Channel.PHONE, Channel.WALK_IN, Channel.GRID)


CASE_DEFAULTS = {f.attname: f.get_default() for f in Case._meta.concrete_fields}


class CaseRow:
    """The columns of one ``Case`` while it is simulated (cheaper than a model instance);
    ``category`` holds the Category row for the simulation."""

    __slots__ = (*CASE_DEFAULTS, "category")

    def __init__(self, **values: Any) -> None:
        for name, value in (CASE_DEFAULTS | values).items():
            setattr(self, name, value)

    if TYPE_CHECKING:
        # The columns are slots named at runtime from CASE_DEFAULTS: tell the type checker
        # any column may be read or written (no effect at runtime).
        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...

    @property
    def pk(self) -> int | None:
        return self.id

    @pk.setter
    def pk(self, value: int) -> None:
        self.id = value


@dataclass
class Draft:
    case: CaseRow
    day: dt.date
    events: list[tuple[Any, ...]] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    extensions: list[ExtensionRequest] = field(default_factory=list)
    orders: list[SupervisionOrder] = field(default_factory=list)
    co_units: list[int] = field(default_factory=list)


class Stop(Exception):
    """Control flow: the case's next step lies after ``now``."""


class CaseWalk:
    """Walks one case through the workflow until its next step would fall after ``now``."""

    def __init__(self, gen: Generator, draft: Draft, steer: str | None) -> None:
        self.g = gen
        self.rng = gen.rng
        self.d = draft
        self.c = draft.case
        self.steer = steer
        self.t = draft.case.created_at  # the time of the last event
        self.lead: Suggestion | None = None
        # The supervision level, as the workflow and the scan set it.
        self.level: str = SupervisionLevel.ON_TIME

    # -- time ------------------------------------------------------------------------------

    def at(self, when: dt.datetime) -> dt.datetime:
        """The time of the next step, or stop when it lies after ``now``. A steered case is
        squeezed in before ``now`` instead."""
        now = self.g.now
        if when <= self.t:
            when = self.t + dt.timedelta(seconds=self.rng.randint(30, 300))
        if when > now:
            if self.steer is None:
                raise Stop
            when = self.t + (now - self.t) * self.rng.uniform(0.15, 0.5)
        self.scan(when)
        self.t = when
        return when

    # -- 督: what the supervision scan (``cases.supervision.RULES``) does meanwhile ----------

    def raise_level(self, level: str) -> None:
        if LEVELS.index(level) > LEVELS.index(self.level):
            self.level = level

    def scan(self, until: dt.datetime) -> None:
        """Raise the level for every deadline the case, as it stands, has passed by ``until``
        (the scan runs every minute and never lowers a level)."""
        c = self.c
        if c.status == Status.SUBMITTED:
            if c.accept_by <= until:
                self.raise_level(SupervisionLevel.OVERDUE)
        elif c.status in (Status.DISPATCHED, Status.HANDLING):
            if c.status == Status.DISPATCHED and c.sign_by <= until:
                self.raise_level(SupervisionLevel.OVERDUE)
            if c.contacted_at is None and c.contact_by <= until:
                self.raise_level(SupervisionLevel.OVERDUE)
            if c.warn_at <= until:
                self.raise_level(SupervisionLevel.WARNING)
            if c.resolve_by <= until:
                self.raise_level(SupervisionLevel.OVERDUE)
                if c.resolve_by + self.g.office_after <= until:  # 督查室 above: 督办
                    self.raise_level(SupervisionLevel.SUPERVISED)

    def warn_at(self, start: dt.datetime, deadline: dt.datetime) -> dt.datetime:
        """``sla.warning_point`` with the configured share."""
        return start + (deadline - start) * self.g.warning_share

    def between(self, start: dt.datetime, end: dt.datetime, lo: float, hi: float) -> dt.datetime:
        return start + (end - start) * self.rng.uniform(lo, hi)

    def minutes(self, lo: float, hi: float) -> dt.timedelta:
        return dt.timedelta(minutes=self.rng.uniform(lo, hi))

    # -- people ----------------------------------------------------------------------------

    def staff(self, role: str, region_id: int, local: float = 0.8) -> int | None:
        candidates = self.g.reachers(role, region_id)
        if not candidates:
            return None
        if len(candidates) == 1 or self.rng.random() < local:
            return candidates[0]
        return self.rng.choice(candidates[1:])

    def handler(self) -> int | None:
        users = self.g.world.handlers.get(self.lead.unit_id) if self.lead else None
        return self.rng.choice(users) if users else None

    def intake_actor(self) -> tuple[int | None, str]:
        if self.rng.random() < 0.85:
            return self.staff(Role.OPERATOR, self.c.region_id), Role.OPERATOR
        return self.staff(Role.DISPATCHER, self.c.region_id), Role.DISPATCHER

    # -- events ----------------------------------------------------------------------------

    def event(
        self,
        kind: str,
        when: dt.datetime,
        actor: int | None,
        role: str | None,
        from_status: str,
        payload: dict[str, Any],
        *,
        public: bool = True,
        unit: int | None = None,
        patch: Any = None,
    ) -> dict[str, Any]:
        if unit is None and self.lead is not None:
            unit = self.lead.unit_id
        full = {"role": role, **payload} if role else payload
        self.d.events.append(
            (kind, when, actor, unit, from_status, self.c.status, full, public, patch)
        )
        return full

    def move(self, status: str) -> str:
        previous = self.c.status
        self.c.status = status
        return previous

    # -- the walk --------------------------------------------------------------------------

    def run(self) -> None:
        with contextlib.suppress(Stop):
            self.walk()
        self.scan(self.g.now)
        self.c.supervision_level = self.level

    def walk(self) -> None:
        rng, c, g = self.rng, self.c, self.g
        phone_like = c.channel in PHONE_LIKE
        actor = self.g.operator_for(c) if phone_like else self.d.case.complainant_id
        self.event(
            EventType.SUBMIT, c.created_at, actor, Role.OPERATOR if phone_like else None, "",
            {"channel": c.channel},
        )  # fmt: skip
        if self.steer == Status.SUBMITTED:
            return
        code = g.world.category_codes[c.category_id]
        # 接: accept, answer on the spot, or reject.
        if self.steer == Status.REJECTED:
            decision = "reject"
        elif self.steer in (None, Status.REPLIED, Status.EVALUATED) and phone_like:
            r = rng.random()
            intake_share = 0.75 if code in CONSULTATIONS else 0.04
            decision = "reject" if r < 0.035 else "intake" if r < 0.035 + intake_share else ""
        elif self.steer is None:
            r = rng.random()
            consultation = code in CONSULTATIONS
            decision = "reject" if r < 0.045 else "intake" if consultation and r < 0.3 else ""
        else:
            decision = ""
        if phone_like:
            t1 = c.created_at + self.minutes(1, 15)
        elif rng.random() < 0.05:  # accepted late
            t1 = c.accept_by + self.minutes(10, 360)
        else:
            t1 = self.between(c.created_at, c.accept_by, 0.03, 0.9)
        t1 = self.at(t1)
        actor, role = self.intake_actor()
        if decision == "reject":
            reason = rng.choices(
                (RejectReason.OUT_OF_SCOPE, RejectReason.INSUFFICIENT, RejectReason.MALICIOUS),
                (55, 40, 5),
            )[0]
            c.reject_reason = reason
            c.closed_at = t1
            source = self.move(Status.REJECTED)
            self.event(
                EventType.REJECT, t1, actor, role, source,
                {"reason": reason, "duplicate_of": None, "note": REJECT_NOTES[reason]},
            )  # fmt: skip
            return
        if decision == "intake":
            c.reply_text = rng.choice(INTAKE_REPLIES)
            c.outcome = Outcome.RESOLVED
            c.accepted_at = c.contacted_at = c.replied_at = t1
            source = self.move(Status.REPLIED)
            self.event(
                EventType.RESOLVE_AT_INTAKE, t1, actor, role, source,
                {"reply": c.reply_text, "outcome": Outcome.RESOLVED},
            )  # fmt: skip
            self.after_reply()
            return
        suggestions = g.world.suggestions(c.category_id, g.place_of(c))
        c.duty_level = suggestions[0].level if suggestions else RegionLevel.DISTRICT
        c.dispatch_region_id = g.world.dispatch_region(g.place_of(c), c.duty_level)
        complex_share = COMPLEX_SHARE.get(code, 0.03)
        c.is_complex = not c.category.is_urgent and rng.random() < complex_share
        c.accepted_at = t1
        source = self.move(Status.ACCEPTED)
        self.event(
            EventType.ACCEPT, t1, actor, role, source,
            {
                "category": c.category.name,
                "duty_level": c.duty_level,
                "dispatch_region": g.world.region_names[c.dispatch_region_id],
                "is_complex": c.is_complex,
                "duplicate_of": None,
                "note": "",
            },
        )  # fmt: skip
        if self.steer == Status.ACCEPTED or not suggestions:
            return
        self.dispatch_and_handle(suggestions)

    @property
    def urgent(self) -> bool:
        """Whether the matter runs in clock hours (water, gas, power, heating)."""
        return self.c.category.resolve_unit == sla.TimeUnit.CLOCK_HOURS

    def staff_time(
        self, after: dt.datetime, lo: float, hi: float, *, round_the_clock: bool = False
    ) -> dt.datetime:
        """When staff get to it: ``lo``-``hi`` minutes later, in office hours; an urgent
        matter in waking hours, or at any hour for the emergency steps (``round_the_clock``:
        the 12345 dispatchers and the repair crews work nights)."""
        when = after + self.minutes(lo, hi)
        if not self.urgent:
            return self.g.office(when)
        return when if round_the_clock else self.g.awake(when)

    def work_time(
        self, start: dt.datetime, deadline: dt.datetime, on_time: bool, late_days: float = 2.5
    ) -> dt.datetime:
        """When the unit does something due by ``deadline``: most finish well before it
        (skewed early), in office or waking hours; late ones a while after it."""
        if on_time and deadline > start:
            for _attempt in range(3):
                share = 0.05 + 0.9 * self.rng.random() ** 2
                when = start + (deadline - start) * share
                when = self.g.awake(when) if self.urgent else self.g.office(when)
                if when <= deadline:
                    return when
            return when
        rng = self.rng
        overdue = (
            rng.expovariate(1 / late_days)
            if rng.random() < 0.95
            else rng.uniform(4, 24) * late_days
        )
        if self.urgent:
            overdue /= 8
        when = max(start, deadline) + dt.timedelta(days=overdue, minutes=10)
        return self.g.awake(when) if self.urgent else self.g.office(when)

    def dispatch(self, to: Suggestion) -> None:
        c, g, rng = self.c, self.g, self.rng
        t2 = self.at(self.staff_time(self.t, 3, 90, round_the_clock=True))
        self.lead = to
        c.lead_unit_id = to.unit_id
        c.dispatched_at = t2
        c.signed_at = None
        c.contact_by = sla.contact_deadline(c.category, t2, urgency=c.urgency, calendar=g.cal)
        c.resolve_by = sla.resolve_deadline(
            c.category, t2, urgency=c.urgency, is_complex=c.is_complex, calendar=g.cal
        )
        sign_unit = (
            sla.TimeUnit.CLOCK_HOURS
            if c.category.is_urgent or c.urgency != Urgency.NORMAL
            else sla.TimeUnit.WORKING_HOURS
        )
        c.sign_by = g.cal.add(t2, g.sign_hours, sign_unit)
        c.warn_at = self.warn_at(t2, c.resolve_by)
        if (
            self.level != SupervisionLevel.SUPERVISED
        ):  # new deadlines: earlier flags no longer hold
            self.level = SupervisionLevel.ON_TIME
        co = [u for u in to.co_units if u[0] != to.unit_id] if rng.random() < 0.6 else []
        self.d.co_units = [u for u, _name in co]
        source = self.move(Status.DISPATCHED)
        actor = self.staff(Role.DISPATCHER, c.dispatch_region_id)
        self.event(
            EventType.DISPATCH, t2, actor, Role.DISPATCHER, source,
            {
                "lead_unit": to.unit_name,
                "co_units": [name for _u, name in co],
                "resolve_by": c.resolve_by.isoformat(),
                "note": DISPATCH_NOTE if rng.random() < 0.2 else "",
            },
        )  # fmt: skip

    def dispatch_and_handle(self, suggestions: list[Suggestion]) -> None:
        c, rng, g = self.c, self.rng, self.g
        primary = suggestions[0]
        if len(suggestions) > 1 and rng.random() < 0.1:
            primary = suggestions[1]
        if self.steer is None and rng.random() < 0.03:
            # Sent first to a unit that sends it back (退回), then to the right one.
            office = g.world.street_office(g.place_of(c))
            wrong = next(
                (s for s in suggestions if s.unit_id != primary.unit_id),
                Suggestion(office, g.world.unit_names[office], (), RegionLevel.STREET)
                if office is not None and office != primary.unit_id
                else None,
            )
            if wrong is not None:
                self.dispatch(wrong)
                t = self.at(self.between(self.t, c.contact_by, 0.1, 0.6))
                returned_by = cast(Suggestion, self.lead)  # a handled case has its lead unit
                handler = self.handler()
                c.return_count += 1
                c.lead_unit_id = None
                c.dispatched_at = c.contact_by = c.resolve_by = c.sign_by = c.warn_at = None
                c.contacted_at = None
                self.d.co_units = []
                self.lead = None
                source = self.move(Status.ACCEPTED)
                self.event(
                    EventType.RETURN, t, handler, Role.HANDLER, source,
                    {
                        "reason": rng.choice(RETURN_REASONS),
                        "unit": returned_by.unit_name,
                        "return_count": c.return_count,
                        "escalated_to": None,
                    },
                    unit=returned_by.unit_id,
                )  # fmt: skip
        self.dispatch(primary)
        if self.steer == Status.DISPATCHED:
            return
        # 签收: within the two working hours, mostly.
        if self.urgent:
            t3 = self.staff_time(self.t, 2, 120, round_the_clock=True)
        else:
            t3 = self.work_time(self.t, c.sign_by, rng.random() < 0.93, late_days=0.3)
        t3 = self.at(t3)
        c.signed_at = t3
        source = self.move(Status.HANDLING)
        self.event(
            EventType.SIGN,
            t3,
            self.handler(),
            Role.HANDLER,
            source,
            {"unit": cast(Suggestion, self.lead).unit_name},  # just dispatched: it has one
        )
        self.handle(first_round=True)

    def handle(self, *, first_round: bool) -> None:
        """联系, 进展, 延期, 督办 and 办结答复 of one round of handling."""
        c, rng, g = self.c, self.rng, self.g
        clock_hours = c.category.resolve_unit == sla.TimeUnit.CLOCK_HOURS
        steered = self.steer is not None
        # 联系诉求人: on time nine times in ten.
        if first_round or rng.random() < 0.5:
            if first_round and self.urgent:  # the crew calls on its way, night or day
                on_time = rng.random() < 0.92
                t4 = (
                    self.between(self.t, c.contact_by, 0.05, 0.85)
                    if on_time and c.contact_by > self.t
                    else max(self.t, c.contact_by) + self.minutes(10, 240)
                )
            elif first_round:
                t4 = self.work_time(self.t, c.contact_by, rng.random() < 0.9, late_days=0.8)
            else:
                t4 = self.g.awake(self.t + self.minutes(30, 600))
            t4 = self.at(t4)
            first = c.contacted_at is None
            if first:
                c.contacted_at = t4
            self.event(
                EventType.CONTACT, t4, self.handler(), Role.HANDLER, c.status,
                {
                    "method": "phone" if rng.random() < 0.85 else "visit",
                    "first": first,
                    "on_time": c.contact_by is None or t4 <= c.contact_by,
                    "note": "" if rng.random() < 0.7 else APPOINTMENT_NOTE,
                },
                public=False,
            )  # fmt: skip
        if self.steer == Status.HANDLING:
            return
        # 延期: the unit asks before the deadline; most requests are approved.
        if not steered and not clock_hours and rng.random() < (0.25 if c.is_complex else 0.04):
            asked = self.between(self.t, c.resolve_by, 0.4, 0.9)
            if asked > self.t:
                self.extension(asked)
        # 办结答复: on time nine times in ten; a long tail of late ones.
        late_share = 0.25 if c.is_complex else 0.1
        t5 = self.work_time(self.t, c.resolve_by, steered or rng.random() >= late_share)
        if not steered and not clock_hours and rng.random() < 0.3:
            self.at(self.between(self.t, t5, 0.2, 0.8))
            text, public = rng.choice(PROGRESS_NOTES)
            self.event(
                EventType.PROGRESS, self.t, self.handler(), Role.HANDLER, c.status,
                {"text": text, "public": public}, public=public,
            )  # fmt: skip
        if not steered and t5 > c.resolve_by and rng.random() < 0.4:
            self.supervise(self.between(max(self.t, c.resolve_by), t5, 0.1, 0.5))
        t5 = self.at(t5)
        code = g.world.category_codes[c.category_id]
        group = REPLY_GROUP.get(code, "default")
        outcome_weights = (60, 20, 20) if code in HARD else (82, 9, 9)
        if not first_round:
            outcome_weights = (85, 10, 5)
        outcome = rng.choices(
            (Outcome.RESOLVED, Outcome.PARTLY, Outcome.EXPLAINED), outcome_weights
        )[0]
        c.outcome = outcome
        c.reply_text = rng.choice(REPLIES[group][outcome])
        c.replied_at = t5
        for order in self.d.orders:
            if order.fulfilled_at is None:
                order.fulfilled_at = t5
        source = self.move(Status.REPLIED)
        self.event(
            EventType.REPLY, t5, self.handler(), Role.HANDLER, source,
            {"outcome": outcome, "text": c.reply_text, "on_time": t5 <= c.resolve_by},
        )  # fmt: skip
        self.after_reply()

    def extension(self, asked: dt.datetime) -> None:
        c, rng, g = self.c, self.rng, self.g
        asked = self.at(asked)
        until = g.cal.add(c.resolve_by, rng.randint(3, 10), sla.TimeUnit.WORKING_DAYS)
        handler = self.handler()
        request = ExtensionRequest(
            unit_id=cast(Suggestion, self.lead).unit_id,  # a handled case has its lead unit
            requested_by_id=handler,
            reason=rng.choice(EXTENSION_REASONS),
            requested_until=until,
            created_at=asked,
        )
        self.d.extensions.append(request)
        self.event(
            EventType.REQUEST_EXTENSION, asked, handler, Role.HANDLER, c.status,
            {"request": None, "until": until.isoformat(), "reason": request.reason},
            public=False, patch=("request", request),
        )  # fmt: skip
        decided = self.at(self.staff_time(asked, 30, 480))  # office hours: not urgent
        approve = rng.random() < 0.85
        request.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
        request.decided_by_id = self.staff(Role.DISPATCHER, c.dispatch_region_id)
        request.decided_at = decided
        request.decision_note = "" if approve else REFUSAL_NOTE
        previous = c.resolve_by
        if approve:
            c.resolve_by = until
            c.warn_at = self.warn_at(c.dispatched_at or decided, until)
            if self.level != SupervisionLevel.SUPERVISED:
                self.level = SupervisionLevel.ON_TIME
        self.event(
            EventType.DECIDE_EXTENSION, decided, request.decided_by_id, Role.DISPATCHER, c.status,
            {
                "request": None,
                "approved": approve,
                "from": previous.isoformat(),
                "to": until.isoformat() if approve else None,
                "note": request.decision_note,
            },
            public=False, patch=("request", request),
        )  # fmt: skip

    def supervise(self, when: dt.datetime) -> None:
        c, rng, g = self.c, self.rng, self.g
        when = self.at(when)
        due = g.cal.add(when, 3, sla.TimeUnit.WORKING_DAYS)
        actor = self.staff(Role.SUPERVISOR, c.region_id, local=0.5)
        order = SupervisionOrder(
            issued_by_id=actor, due_at=due, note=rng.choice(SUPERVISION_NOTES), created_at=when
        )
        self.d.orders.append(order)
        self.level = SupervisionLevel.SUPERVISED
        self.event(
            EventType.SUPERVISE, when, actor, Role.SUPERVISOR, c.status,
            {"order": None, "due_at": due.isoformat(), "note": order.note},
            patch=("order", order),
        )  # fmt: skip

    def after_reply(self) -> None:
        """评价 (or the archive scan when nobody evaluates), 重办, 督查研判 and 归档."""
        c, rng = self.c, self.rng
        if self.steer == Status.REPLIED:
            return
        steered = self.steer is not None
        if not steered and rng.random() < 0.08:
            # Nobody evaluates: the supervision scan archives it after the window.
            t = self.at(c.replied_at + self.g.evaluate_window + self.minutes(0.2, 2))
            c.closed_at = t
            source = self.move(Status.CLOSED)
            self.event(
                EventType.CLOSE, t, None, None, source,
                {"unreasonable": False, "not_evaluated": True, "note": NOT_EVALUATED_NOTE},
            )  # fmt: skip
            return
        phone_like = c.channel in PHONE_LIKE
        if phone_like or rng.random() < 0.4:  # 回访 by an operator
            t6 = self.at(self.staff_time(c.replied_at, 60, 2880))
            actor, role = self.staff(Role.OPERATOR, c.region_id), Role.OPERATOR
            source_kind = EvaluationSource.CALLBACK
        else:  # the complainant, signed in or with the SMS link
            t6 = self.at(self.g.awake(c.replied_at + self.minutes(20, 2880)))
            actor, role = c.complainant_id, Role.RESIDENT
            source_kind = EvaluationSource.COMPLAINANT
        if self.steer == Status.REVIEW:
            rating = Rating.UNSATISFIED
        elif self.steer == Status.EVALUATED:
            rating = Rating.SATISFIED
        else:
            weights = {Outcome.RESOLVED: (76, 17, 7), Outcome.PARTLY: (42, 36, 22)}.get(
                c.outcome, (42, 38, 20)
            )
            if c.reopen_count:
                weights = (55, 30, 15)
            rating = rng.choices(
                (Rating.SATISFIED, Rating.BASICALLY, Rating.UNSATISFIED), weights
            )[0]
        comment = rng.choice(COMMENTS[rating])
        self.d.evaluations.append(
            Evaluation(
                round=c.reopen_count,
                rating=rating,
                comment=comment,
                source=source_kind,
                by_id=actor,
                created_at=t6,
            )
        )
        source = self.move(Status.EVALUATED)
        if rating == Rating.UNSATISFIED and c.reopen_count >= 1:
            c.status = Status.REVIEW
        c.rating = rating
        c.evaluated_at = t6
        self.event(
            EventType.EVALUATE, t6, actor, role, source,
            {"rating": rating, "comment": comment, "source": source_kind,
             "round": c.reopen_count},
        )  # fmt: skip
        if self.steer == Status.EVALUATED:
            return
        if c.status == Status.REVIEW:
            if self.steer == Status.REVIEW:
                return
            t = self.at(self.g.office(c.evaluated_at + self.minutes(240, 7200)))
            unreasonable = rng.random() < 0.5
            c.excluded_from_satisfaction = unreasonable
            c.closed_at = t
            source = self.move(Status.CLOSED)
            note = UNREASONABLE_NOTE if unreasonable else REVIEWED_NOTE
            supervisor = self.staff(Role.SUPERVISOR, c.region_id, local=0.5)
            self.event(
                EventType.CLOSE, t, supervisor, Role.SUPERVISOR, source,
                {"unreasonable": unreasonable, "not_evaluated": False, "note": note},
            )  # fmt: skip
            return
        if (
            rating == Rating.UNSATISFIED
            and self.lead is not None
            and (steered or rng.random() < 0.6)
        ):
            self.reopen()
            return
        t = self.at(self.staff_time(c.evaluated_at, 20, 2880))
        actor, role = (
            (self.staff(Role.DISPATCHER, c.dispatch_region_id), Role.DISPATCHER)
            if self.lead is not None and rng.random() < 0.5
            else (self.staff(Role.OPERATOR, c.region_id), Role.OPERATOR)
        )
        c.closed_at = t
        source = self.move(Status.CLOSED)
        self.event(
            EventType.CLOSE, t, actor, role, source,
            {"unreasonable": False, "not_evaluated": False, "note": ""},
        )  # fmt: skip

    def reopen(self) -> None:
        c, rng, g = self.c, self.rng, self.g
        t = self.at(self.staff_time(c.evaluated_at, 30, 1440))
        c.reopen_count += 1
        c.resolve_by = g.cal.add(t, REOPEN_RESOLVE_DAYS, sla.TimeUnit.WORKING_DAYS)
        c.warn_at = self.warn_at(t, c.resolve_by)
        c.outcome = c.rating = ""
        c.replied_at = c.evaluated_at = None
        self.level = SupervisionLevel.ON_TIME
        source = self.move(Status.HANDLING)
        dispatcher = self.staff(Role.DISPATCHER, c.dispatch_region_id)
        self.event(
            EventType.REOPEN, t, dispatcher, Role.DISPATCHER, source,
            {"reason": rng.choice(REOPEN_REASONS), "resolve_by": c.resolve_by.isoformat(),
             "round": c.reopen_count},
        )  # fmt: skip
        self.handle(first_round=False)
