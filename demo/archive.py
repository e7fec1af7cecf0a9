"""The real case of the source articles, archived in the demo history: on 2023-10-19 赵先生
phoned the 12345 hotline, his home at 湟中区多巴镇多巴一村新村巷38号 had no heating because a
nearby pipe was damaged; 湟中区 sent staff the same day with 华润燃气's repair crew, and the
pipe was repaired that afternoon.

Written as rows, the way ``demo.history`` writes its year (a ``Draft`` of case fields, events
and the evaluation, ``write_drafts``), not through ``cases.workflow`` with a patched clock:
the workflow's effects would tell the complainant today, by SMS, about a case of 2023. Each
step sets the fields and writes the event payload the matching workflow function writes; the
deadlines come from ``cases.sla`` for that category at those times. ``tests/demo/test_archive``
replays the same steps through the workflow and compares the two.

Idempotent: the case is found again by its marker (its title at its minute of submission).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from cases import sla
from cases.models import (
    Case,
    Category,
    Channel,
    Evaluation,
    EvaluationSource,
    EventType,
    Outcome,
    Rating,
    Status,
    SupervisionLevel,
    Urgency,
)
from org.models import Region, RegionLevel, Role, Unit, User

from .history import GenerateReport, write_drafts
from .history_case import CaseRow, Draft
from .history_writer import Writer

TZ = ZoneInfo("Asia/Shanghai")
TITLE = "多巴一村新村巷38号停暖"  # with SUBMITTED_AT, the marker that finds the case again
DAY = dt.date(2023, 10, 19)


def _at(day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(2023, 10, day, hour, minute, tzinfo=TZ)


# The day as the source articles tell it, in office hours (Thursday 19 and Friday 20 October).
SUBMITTED_AT = _at(19, 9, 12)
ACCEPTED_AT = _at(19, 9, 18)
DISPATCHED_AT = _at(19, 9, 31)
SIGNED_AT = _at(19, 9, 40)
CONTACTED_AT = _at(19, 9, 52)
PROGRESS_AT = _at(19, 11, 5)
REPLIED_AT = _at(19, 15, 40)
EVALUATED_AT = _at(20, 9, 25)
CLOSED_AT = _at(20, 10, 5)

COMPLAINT = {
    "title": TITLE,
    "description": "我家在多巴一村新村巷38号，家里暖气不热，已经停暖了。附近有一处管道破损，"
    "麻烦尽快派人来修。",
    "complainant_name": "赵先生",
    "complainant_phone": "13909718356",
    "address": "新村巷38号",
}
DISPATCH_NOTE = "区政府牵头处置，华润燃气配合抢修破损管道。"
CONTACT_NOTE = "已电话联系诉求人，说明抢修安排。"
PROGRESS_TEXT = "华润燃气抢修队到场，正在抢修破损管道。"
REPLY_TEXT = (
    "经查，新村巷附近管道破损导致停暖。区政府当日派员到场，协调华润燃气抢修队抢修，"
    "管道已修复，恢复供暖。"
)
EVALUATION_COMMENT = "当天就修好了，家里暖和了，谢谢。"
CLOSE_NOTE = "已回访满意，归档。"

ACTORS = ("operator1", "dispatcher_huangzhong", "handler_huangzhong", "handler_gas")


def find_archived_case() -> Case | None:
    """The archived 赵先生 case, if it was written."""
    return Case.objects.filter(title=TITLE, created_at=SUBMITTED_AT).first()


class _Timeline:
    """One case's rows, step by step, as the workflow would have written them."""

    def __init__(self, row: CaseRow) -> None:
        self.c = row
        self.draft = Draft(case=row, day=DAY)
        self.lead_unit: int | None = None

    def event(
        self,
        kind: str,
        when: dt.datetime,
        actor: User,
        role: str,
        from_status: str,
        payload: dict[str, Any],
        *,
        public: bool = True,
    ) -> None:
        # The kernel's step: the acting role first in the payload; the unit is the lead unit.
        self.draft.events.append(
            (
                kind,
                when,
                actor.pk,
                self.lead_unit,
                from_status,
                self.c.status,
                {"role": role, **payload},
                public,
                None,
            )
        )

    def move(self, status: str) -> str:
        previous, self.c.status = self.c.status, status
        return previous


def _draft(users: dict[str, User]) -> Draft:
    """The case, its nine events, its evaluation and its co-unit link."""
    category = Category.objects.get(code="heating-cold")
    region = Region.objects.get(name="多巴一村", parent__name="多巴镇")
    lead = Unit.objects.get(code="huangzhong-gov")
    gas = Unit.objects.get(code="xn-gas")
    operator, dispatcher = users["operator1"], users["dispatcher_huangzhong"]
    handler, crew = users["handler_huangzhong"], users["handler_gas"]
    calendar = sla.WorkCalendar.load(DAY - dt.timedelta(days=7), DAY + dt.timedelta(days=30))
    district_id, street_id = region.ancestor_ids[1], region.ancestor_ids[2]
    row = CaseRow(
        category=category,
        category_id=category.pk,
        channel=Channel.PHONE,
        region_id=region.pk,
        district_id=district_id,
        street_id=street_id,
        dispatch_region_id=district_id,
        status=Status.SUBMITTED,
        urgency=Urgency.NORMAL,
        accept_by=sla.accept_deadline(category, SUBMITTED_AT, calendar=calendar),
        created_at=SUBMITTED_AT,
        **COMPLAINT,
    )
    t = _Timeline(row)
    c = row
    # 接: the hotline operator logs the call (case_submit), then accepts it at district level.
    t.event(EventType.SUBMIT, SUBMITTED_AT, operator, Role.OPERATOR, "", {"channel": c.channel})
    c.duty_level = RegionLevel.DISTRICT
    c.accepted_at = ACCEPTED_AT
    t.event(
        EventType.ACCEPT,
        ACCEPTED_AT,
        operator,
        Role.OPERATOR,
        t.move(Status.ACCEPTED),
        {
            "category": category.name,
            "duty_level": c.duty_level,
            "dispatch_region": region.parent.parent.name,  # the district's dispatchers
            "is_complex": False,
            "duplicate_of": None,
            "note": "",
        },
    )
    # 派: to 湟中区政府 with 华润燃气 co-handling; deadlines as ``workflow._assign`` sets them.
    c.lead_unit_id = t.lead_unit = lead.pk
    c.dispatched_at = DISPATCHED_AT
    c.contact_by = sla.contact_deadline(category, DISPATCHED_AT, calendar=calendar)
    c.resolve_by = sla.resolve_deadline(category, DISPATCHED_AT, calendar=calendar)
    # 签收: an urgent matter (heating) is signed for round the clock.
    sign_unit = sla.TimeUnit.CLOCK_HOURS if category.is_urgent else sla.TimeUnit.WORKING_HOURS
    c.sign_by = calendar.add(DISPATCHED_AT, settings.SUPERVISION["sign_hours"], sign_unit)
    c.warn_at = sla.warning_point(
        DISPATCHED_AT, c.resolve_by, settings.SUPERVISION["warning_share"]
    )
    c.supervision_level = SupervisionLevel.ON_TIME
    t.draft.co_units = [gas.pk]
    t.event(
        EventType.DISPATCH,
        DISPATCHED_AT,
        dispatcher,
        Role.DISPATCHER,
        t.move(Status.DISPATCHED),
        {
            "lead_unit": lead.name,
            "co_units": [gas.name],
            "resolve_by": c.resolve_by.isoformat(),
            "note": DISPATCH_NOTE,
        },
    )
    # 办: signed, the complainant called, the gas company's crew on site, fixed that afternoon.
    c.signed_at = SIGNED_AT
    t.event(
        EventType.SIGN,
        SIGNED_AT,
        handler,
        Role.HANDLER,
        t.move(Status.HANDLING),
        {"unit": lead.name},
    )
    c.contacted_at = CONTACTED_AT
    t.event(
        EventType.CONTACT,
        CONTACTED_AT,
        handler,
        Role.HANDLER,
        c.status,
        {
            "method": "phone",
            "first": True,
            "on_time": c.contact_by >= CONTACTED_AT,
            "note": CONTACT_NOTE,
        },
        public=False,
    )
    t.event(
        EventType.PROGRESS,
        PROGRESS_AT,
        crew,
        Role.HANDLER,
        c.status,
        {"text": PROGRESS_TEXT, "public": True},
    )
    c.outcome = Outcome.RESOLVED
    c.reply_text = REPLY_TEXT
    c.replied_at = REPLIED_AT
    t.event(
        EventType.REPLY,
        REPLIED_AT,
        handler,
        Role.HANDLER,
        t.move(Status.REPLIED),
        {"outcome": c.outcome, "text": REPLY_TEXT, "on_time": c.resolve_by >= REPLIED_AT},
    )
    # 评: the hotline calls back (回访) the next morning: 满意. 报: archived.
    t.draft.evaluations.append(
        Evaluation(
            round=0,
            rating=Rating.SATISFIED,
            comment=EVALUATION_COMMENT,
            source=EvaluationSource.CALLBACK,
            by_id=operator.pk,
            created_at=EVALUATED_AT,
        )
    )
    c.rating = Rating.SATISFIED
    c.evaluated_at = EVALUATED_AT
    t.event(
        EventType.EVALUATE,
        EVALUATED_AT,
        operator,
        Role.OPERATOR,
        t.move(Status.EVALUATED),
        {
            "rating": c.rating,
            "comment": EVALUATION_COMMENT,
            "source": EvaluationSource.CALLBACK,
            "round": 0,
        },
    )
    c.closed_at = CLOSED_AT
    t.event(
        EventType.CLOSE,
        CLOSED_AT,
        operator,
        Role.OPERATOR,
        t.move(Status.CLOSED),
        {"unreasonable": False, "not_evaluated": False, "note": CLOSE_NOTE},
    )
    return t.draft


def seed_archived_case() -> tuple[Case, bool]:
    """Write the archived 赵先生 case unless it is there; the case, and whether it was added."""
    existing = find_archived_case()
    if existing is not None:
        return existing, False
    users = {u.username: u for u in User.objects.filter(username__in=ACTORS)}
    draft = _draft(users)
    write_drafts(Writer(), [draft], GenerateReport())
    # ``updated_at`` is stamped on insert; the case last changed when it was archived (Open311
    # clients read it as the request's updated_datetime).
    written = Case.objects.filter(pk=draft.case.id)  # the key the insert set
    written.update(updated_at=CLOSED_AT)
    return written.get(), True
