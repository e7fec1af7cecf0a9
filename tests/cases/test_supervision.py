"""督: the supervision scan's rules, run in this process with a travelled clock.

The scan takes ``now`` as an argument, so time travel is just passing a later moment. Each test
sets the deadlines it is about by hand (``given_deadlines`` clears the others), runs the whole
scan and looks at what a user would see: the ``SupervisionMark`` rows (one per case, deadline
kind, step and deadline), the ``CaseEvent`` rows of type 督办提醒 / 督办升级, the in-app messages
and emails, and the case's supervision level.

The deadlines are fixed moments in March 2031 (Asia/Shanghai), well after any real clock the
workflow functions read.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import supervision, workflow
from cases.models import (
    Case,
    CaseEvent,
    EventType,
    Rating,
    Status,
    SupervisionLevel,
    SupervisionMark,
)
from notifications import messages, services
from notifications.models import Notification, OutboxMessage
from stats.rates import compute_rates
from tests.cases.conftest import run_steps
from tests.conftest import Demo

LOCAL = ZoneInfo(settings.TIME_ZONE)
SECOND = dt.timedelta(seconds=1)
HOUR = dt.timedelta(hours=1)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A local (Asia/Shanghai) aware datetime."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=LOCAL)


WARN_AT = at(2031, 3, 12, 9)  # 预警 point of the resolve deadline below
RESOLVE_BY = at(2031, 3, 14, 17)  # 办结时限
LEADER_AT = RESOLVE_BY + 24 * HOUR  # the unit's leader is told
OFFICE_AT = RESOLVE_BY + 72 * HOUR  # the 督查室 one level up is told
CITY_OFFICE = "西宁市委市政府督查室"
HANDLERS = {"handler_huangzhong", "leader_huangzhong"}  # 湟中区人民政府's handlers
DEADLINE_FIELDS = ("accept_by", "sign_by", "contact_by", "resolve_by", "warn_at")

MakeCase = Callable[..., Case]


@pytest.fixture(autouse=True)
def supervision_policy(settings: Any) -> None:
    """The policy the tests spell out, whatever the environment says."""
    settings.SUPERVISION = {
        **settings.SUPERVISION,
        "leader_after_hours": 24,
        "office_after_hours": 72,
        "evaluate_days": 7,
        "batch_size": 200,
    }


# --- helpers -------------------------------------------------------------------------------------


def given_deadlines(case: Case, **values: dt.datetime | None) -> Case:
    """Only the given deadlines are set, the others cleared, so the scan sees just these."""
    Case.objects.filter(pk=case.pk).update(**{f: values.get(f) for f in DEADLINE_FIELDS})
    case.refresh_from_db()
    return case


def supervise(now: dt.datetime) -> dict[str, int]:
    """One whole scan at ``now``, every batch carried out here; {rule: cases chased}."""
    done: Counter[str] = Counter()
    for rule, items in supervision.scan(now):
        done[rule] += supervision.supervise_batch(rule, items, now)
    return {rule: n for rule, n in done.items() if n}


def marks(case: Case) -> list[tuple[str, str, dt.datetime]]:
    return sorted(
        SupervisionMark.objects.filter(case=case).values_list("kind", "step", "deadline")
    )


def chased(case: Case) -> list[tuple[str, str, str]]:
    """The case's 督办提醒 / 督办升级 events: (type, deadline kind, step), oldest first."""
    return [
        (e.type, e.payload["kind"], e.payload["step"])
        for e in CaseEvent.objects.filter(
            case=case, type__in=[EventType.REMIND, EventType.ESCALATE]
        ).order_by("created_at", "id")
    ]


def told(case: Case, kind: str) -> set[str]:
    """Who got an in-app message of ``kind`` about the case."""
    return set(
        Notification.objects.filter(case=case, kind=kind).values_list("user__username", flat=True)
    )


def emailed(kind: str) -> set[str]:
    return set(
        OutboxMessage.objects.filter(channel="email", kind=kind).values_list(
            "recipient", flat=True
        )
    )


def level(case: Case) -> str:
    return Case.objects.values_list("supervision_level", flat=True).get(pk=case.pk)


def clone_cases(template: Case, count: int) -> list[Case]:
    """``count`` copies of ``template`` in one insert: walking hundreds of cases through the
    workflow would dominate the batch tests, and the scan looks only at state and deadlines."""
    values = {
        f.attname: getattr(template, f.attname)
        for f in Case._meta.concrete_fields
        if not f.primary_key
    }
    copies = [Case(**{**values, "tracking_code": f"T{template.pk}-{i:05d}"}) for i in range(count)]
    created = Case.objects.bulk_create(copies)
    assert all(c.pk for c in created)
    return created


@pytest.fixture
def handling(make_case: MakeCase) -> Case:
    """A case 湟中区人民政府 has signed for, with only the fixed resolve deadline and warning
    point above (its other deadlines cleared, so only the resolve rules concern it)."""
    case = make_case(Status.HANDLING)
    return given_deadlines(case, resolve_by=RESOLVE_BY, warn_at=WARN_AT)


# --- the resolve deadline: warning, overdue, leader, office --------------------------------------

RESOLVE_POINTS = [
    ("before the warning point", WARN_AT - SECOND, [], SupervisionLevel.ON_TIME),
    ("at the warning point", WARN_AT, ["warning"], SupervisionLevel.WARNING),
    ("after the warning point", WARN_AT + HOUR, ["warning"], SupervisionLevel.WARNING),
    ("just before the deadline", RESOLVE_BY - SECOND, ["warning"], SupervisionLevel.WARNING),
    # Once the deadline has passed a warning says nothing the overdue reminder does not.
    ("at the deadline", RESOLVE_BY, ["overdue"], SupervisionLevel.OVERDUE),
    ("after the deadline", RESOLVE_BY + HOUR, ["overdue"], SupervisionLevel.OVERDUE),
    ("just before +24 h", LEADER_AT - SECOND, ["overdue"], SupervisionLevel.OVERDUE),
    ("at +24 h", LEADER_AT, ["leader", "overdue"], SupervisionLevel.OVERDUE),
    ("just before +72 h", OFFICE_AT - SECOND, ["leader", "overdue"], SupervisionLevel.OVERDUE),
    ("at +72 h", OFFICE_AT, ["leader", "office", "overdue"], SupervisionLevel.SUPERVISED),
    (
        "after +72 h",
        OFFICE_AT + HOUR,
        ["leader", "office", "overdue"],
        SupervisionLevel.SUPERVISED,
    ),
]


class TestResolveDeadline:
    @pytest.mark.parametrize(
        ("now", "steps", "expected_level"),
        [point[1:] for point in RESOLVE_POINTS],
        ids=[point[0] for point in RESOLVE_POINTS],
    )
    def test_one_scan_at_each_point_does_every_step_due_once(
        self, handling: Case, now: dt.datetime, steps: list[str], expected_level: str
    ) -> None:
        # Given a handled case with its warning point and deadline (handling fixture)
        # When a single scan runs at ``now``
        done = supervise(now)

        # Then exactly the steps due by now happened, each once, for this deadline
        assert done == {f"resolve:{step}": 1 for step in steps}
        assert marks(handling) == [("resolve", step, RESOLVE_BY) for step in steps]
        assert sorted(step for _t, _k, step in chased(handling)) == steps
        assert level(handling) == expected_level
        # And a second scan at the same moment does nothing
        assert supervise(now) == {}
        assert len(chased(handling)) == len(steps)

    def test_scans_as_time_passes_chase_each_step_once_and_tell_the_right_people(
        self, handling: Case
    ) -> None:
        # Given a handled case; When the scan runs every so often from before the warning
        # point to well after the 督查室 was told
        moments = [
            WARN_AT - HOUR,
            WARN_AT,
            WARN_AT + HOUR,
            RESOLVE_BY,
            RESOLVE_BY + HOUR,
            LEADER_AT,
            OFFICE_AT,
            OFFICE_AT + 24 * HOUR,
        ]
        results = [supervise(now) for now in moments]

        # Then each step happened once, at the first scan past its point
        assert results == [
            {},
            {"resolve:warning": 1},
            {},
            {"resolve:overdue": 1},
            {},
            {"resolve:leader": 1},
            {"resolve:office": 1},
            {},
        ]
        assert chased(handling) == [
            (EventType.REMIND, "resolve", "warning"),
            (EventType.REMIND, "resolve", "overdue"),
            (EventType.ESCALATE, "resolve", "leader"),
            (EventType.ESCALATE, "resolve", "office"),
        ]
        # And the unit's handlers hear of the warning and the overdue, its leader alone of the
        # first escalation, the city 督查室 (one level above the district) of the second
        assert told(handling, "reminder_warning") == HANDLERS
        assert told(handling, "reminder_overdue") == HANDLERS
        assert told(handling, "escalation_leader") == {"leader_huangzhong"}
        assert told(handling, "escalation_office") == {"supervisor1"}
        assert emailed("escalation_office") == {"supervisor1@example.invalid"}
        assert Notification.objects.filter(case=handling, kind__in=[
            "reminder_warning", "reminder_overdue", "escalation_leader", "escalation_office"
        ]).count() == 6  # fmt: skip
        # And the office escalation names the office, in the event and in the message
        office_event = CaseEvent.objects.get(case=handling, payload__step="office")
        assert office_event.payload["office"] == CITY_OFFICE
        assert office_event.is_public is False
        note = Notification.objects.get(case=handling, kind="escalation_office")
        assert note.params["office"] == CITY_OFFICE
        _title, body = messages.render(note.kind, note.params, "zh-hans")
        assert CITY_OFFICE in body and handling.tracking_code in body
        assert level(handling) == SupervisionLevel.SUPERVISED

    @pytest.mark.parametrize(
        ("start_level", "now", "expected_level"),
        [
            (SupervisionLevel.OVERDUE, WARN_AT, SupervisionLevel.OVERDUE),
            (SupervisionLevel.SUPERVISED, WARN_AT, SupervisionLevel.SUPERVISED),
            (SupervisionLevel.SUPERVISED, RESOLVE_BY, SupervisionLevel.SUPERVISED),
            (SupervisionLevel.SUPERVISED, LEADER_AT, SupervisionLevel.SUPERVISED),
            (SupervisionLevel.WARNING, RESOLVE_BY, SupervisionLevel.OVERDUE),
        ],
    )
    def test_the_level_only_rises(
        self, handling: Case, start_level: str, now: dt.datetime, expected_level: str
    ) -> None:
        # Given a case already at ``start_level`` (set by hand: the scan is what sets it)
        Case.objects.filter(pk=handling.pk).update(supervision_level=start_level)

        # When the scan reaches a step whose own level is lower or higher
        assert supervise(now)

        # Then the level is the higher of the two
        assert level(handling) == expected_level

    def test_a_supervision_order_keeps_the_case_supervised_through_the_overdue_step(
        self, demo: Demo, handling: Case
    ) -> None:
        # Given a 督办 order on the case (due long after its deadline)
        workflow.case_supervise(
            case=handling, actor=demo.user("supervisor1"), due_at=at(2031, 6, 1), note="限期办结"
        )
        # When the case goes overdue
        assert supervise(RESOLVE_BY) == {"resolve:overdue": 1}
        # Then it stays supervised
        assert level(handling) == SupervisionLevel.SUPERVISED

    def test_an_approved_extension_starts_a_fresh_series(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        # Given a case dispatched now (the workflow sets its deadline and warning point) whose
        # unit has called the complainant, and whose warning has been given
        case = make_case(Status.HANDLING)
        handler = demo.user("handler_huangzhong")
        workflow.case_record_contact(case=case, actor=handler)
        case.refresh_from_db()
        first_deadline, first_warning = case.resolve_by, case.warn_at
        assert first_deadline is not None and first_warning is not None
        assert supervise(first_warning) == {"resolve:warning": 1}
        assert level(case) == SupervisionLevel.WARNING

        # When the dispatcher approves more time
        new_deadline = first_deadline + dt.timedelta(days=20)
        workflow.case_request_extension(
            case=case, actor=handler, until=new_deadline, reason="施工"
        )
        workflow.case_decide_extension(
            case=case, actor=demo.user("dispatcher_huangzhong"), approve=True
        )
        case.refresh_from_db()
        assert case.resolve_by == new_deadline and case.warn_at is not None
        assert case.warn_at > first_deadline + HOUR
        assert level(case) == SupervisionLevel.ON_TIME

        # Then the old warning is not repeated, nor is the old deadline chased as overdue
        assert supervise(first_warning + HOUR) == {}
        assert supervise(first_deadline + HOUR) == {}
        # And the new warning point brings a fresh warning for the new deadline
        assert supervise(case.warn_at) == {"resolve:warning": 1}
        assert marks(case) == [
            ("resolve", "warning", first_deadline),
            ("resolve", "warning", new_deadline),
        ]
        assert chased(case) == [(EventType.REMIND, "resolve", "warning")] * 2
        assert Notification.objects.filter(case=case, kind="reminder_warning").count() == 4
        assert level(case) == SupervisionLevel.WARNING
        # And the new deadline goes overdue once
        assert supervise(new_deadline) == {"resolve:overdue": 1}
        assert supervise(new_deadline + HOUR) == {}


# --- the other deadlines -------------------------------------------------------------------------


class TestOtherDeadlines:
    def test_an_unaccepted_case_is_chased_with_its_districts_dispatchers(
        self, make_case: MakeCase
    ) -> None:
        # Given a submitted case whose accept deadline is fixed
        deadline = at(2031, 3, 3, 11)
        case = given_deadlines(make_case(Status.SUBMITTED), accept_by=deadline)

        # When the scan runs before, at and after it
        assert supervise(deadline - SECOND) == {}
        assert supervise(deadline) == {"accept:overdue": 1}
        assert supervise(deadline + HOUR) == {}

        # Then 湟中区's dispatcher (not the city's or another district's) was told once
        assert told(case, "reminder_overdue") == {"dispatcher_huangzhong"}
        assert chased(case) == [(EventType.REMIND, "accept", "overdue")]
        assert level(case) == SupervisionLevel.OVERDUE

    def test_an_unsigned_case_goes_overdue_once(self, make_case: MakeCase) -> None:
        deadline = at(2031, 3, 3, 11)
        case = given_deadlines(make_case(Status.DISPATCHED), sign_by=deadline)

        assert supervise(deadline - SECOND) == {}
        assert supervise(deadline) == {"sign:overdue": 1}
        assert supervise(deadline + HOUR) == {}

        assert told(case, "reminder_overdue") == HANDLERS
        assert chased(case) == [(EventType.REMIND, "sign", "overdue")]
        assert marks(case) == [("sign", "overdue", deadline)]

    def test_a_signed_case_is_not_chased_for_signing(self, make_case: MakeCase) -> None:
        deadline = at(2031, 3, 3, 11)
        case = given_deadlines(make_case(Status.HANDLING), sign_by=deadline)
        assert supervise(deadline + HOUR) == {}
        assert chased(case) == []

    @pytest.mark.parametrize(("contacted", "expected"), [(False, 1), (True, 0)])
    def test_the_contact_deadline_is_chased_only_while_nobody_has_called(
        self, demo: Demo, make_case: MakeCase, contacted: bool, expected: int
    ) -> None:
        # Given a handled case with a contact deadline, called back or not
        deadline = at(2031, 3, 3, 11)
        case = given_deadlines(make_case(Status.HANDLING), contact_by=deadline)
        if contacted:
            workflow.case_record_contact(case=case, actor=demo.user("handler_huangzhong"))

        # When the deadline has passed
        done = supervise(deadline)

        # Then it is chased only if nobody has made the first contact
        assert done == ({"contact:overdue": 1} if expected else {})
        assert len(told(case, "reminder_overdue")) == 2 * expected
        assert supervise(deadline + HOUR) == {}

    def test_a_late_supervision_order_tells_its_issuer_and_the_units_leaders_once(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        # Given a 督办 order on a handled case (no other deadline set)
        due = at(2031, 3, 5, 17)
        case = given_deadlines(make_case(Status.HANDLING))
        workflow.case_supervise(
            case=case, actor=demo.user("supervisor1"), due_at=due, note="请于三月五日前办结"
        )

        # When the scan runs before, at and after its due date
        assert supervise(due - SECOND) == {}
        assert supervise(due) == {"order:overdue": 1}
        assert supervise(due + 24 * HOUR) == {}

        # Then its issuer and the unit's leader heard once; the case is supervised
        assert told(case, "order_overdue") == {"supervisor1", "leader_huangzhong"}
        assert Notification.objects.filter(case=case, kind="order_overdue").count() == 2
        assert chased(case) == [(EventType.ESCALATE, "order", "overdue")]
        assert marks(case) == [("order", "overdue", due)]
        assert level(case) == SupervisionLevel.SUPERVISED

    def test_a_fulfilled_supervision_order_is_not_chased(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        due = at(2031, 3, 5, 17)
        case = given_deadlines(make_case(Status.HANDLING))
        workflow.case_supervise(case=case, actor=demo.user("supervisor1"), due_at=due, note="督办")
        run_steps(case, ["reply"], demo)  # the reply fulfils the order

        assert "order:overdue" not in supervise(due + HOUR)
        assert told(case, "order_overdue") == set()

    def test_two_late_orders_on_one_case_are_both_chased_by_one_scan(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        # Given two 督办 orders on one case, by two supervisors, both past due
        case = given_deadlines(make_case(Status.HANDLING))
        first, second = at(2031, 3, 5, 17), at(2031, 3, 6, 17)
        workflow.case_supervise(
            case=case, actor=demo.user("supervisor1"), due_at=first, note="市督查室督办"
        )
        workflow.case_supervise(
            case=case, actor=demo.user("supervisor_huangzhong"), due_at=second, note="区督办"
        )
        # When one scan runs after both due dates
        supervise(at(2031, 3, 7))
        # Then both orders were chased
        assert marks(case) == [("order", "overdue", first), ("order", "overdue", second)]

    def test_a_late_order_is_reported_to_its_own_issuer(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        # Given two 督办 orders on one case by two supervisors; only the first is late
        case = given_deadlines(make_case(Status.HANDLING))
        due = at(2031, 3, 5, 17)
        workflow.case_supervise(case=case, actor=demo.user("supervisor1"), due_at=due, note="a")
        workflow.case_supervise(
            case=case, actor=demo.user("supervisor_huangzhong"), due_at=at(2031, 6, 1), note="b"
        )
        # When the scan runs after the first due date
        assert supervise(due + HOUR) == {"order:overdue": 1}
        # Then the first order's issuer and the unit's leader hear of it, not the other issuer
        assert told(case, "order_overdue") == {"supervisor1", "leader_huangzhong"}

    @pytest.mark.parametrize(
        ("unit_code", "supervisor", "office"),
        [
            # the district government: the city's 督查室 is the level above
            ("huangzhong-gov", "supervisor1", CITY_OFFICE),
            # a town government in the district: the district's 督查室
            ("street", "supervisor_huangzhong", "湟中区督查室"),
        ],
    )
    def test_the_office_escalation_goes_one_level_above_the_lead_unit(
        self, demo: Demo, make_case: MakeCase, unit_code: str, supervisor: str, office: str
    ) -> None:
        # Given a case dispatched to the unit and run three days past its deadline
        case = make_case(Status.ACCEPTED)
        if unit_code == "street":
            unit_code = f"huangzhong-s{demo.region('湟中区', '多巴镇').pk}"
        workflow.case_dispatch(
            case=case, actor=demo.user("dispatcher_huangzhong"), lead_unit=demo.unit(unit_code)
        )
        given_deadlines(case, resolve_by=RESOLVE_BY)
        # When the scan runs; Then that office's supervisor is told, by name
        assert supervise(OFFICE_AT)["resolve:office"] == 1
        assert told(case, "escalation_office") == {supervisor}
        note = Notification.objects.get(case=case, kind="escalation_office")
        assert note.params["office"] == office


class TestUnevaluatedReplies:
    def test_a_reply_nobody_evaluates_is_archived_and_not_counted_as_satisfied(
        self, demo: Demo, make_case: MakeCase, settings: Any
    ) -> None:
        # Given the policy gives 3 days to evaluate, one case evaluated 满意 and one replied but
        # never evaluated, both handled by 湟中区人民政府
        settings.SUPERVISION = {**settings.SUPERVISION, "evaluate_days": 3}
        start = timezone.now() - HOUR
        satisfied = make_case(Status.EVALUATED)
        assert satisfied.rating == Rating.SATISFIED
        case = given_deadlines(make_case(Status.REPLIED))
        assert case.replied_at is not None
        due = case.replied_at + dt.timedelta(days=3)

        # When the scan runs just before and at the end of the evaluation period
        assert supervise(due - SECOND) == {}
        assert supervise(due) == {"evaluate:auto_close": 1}

        # Then the case is archived by the system with a close event saying why
        case.refresh_from_db()
        assert case.status == Status.CLOSED
        close = CaseEvent.objects.get(case=case, type=EventType.CLOSE)
        assert close.actor is None
        assert (close.from_status, close.to_status) == (Status.REPLIED, Status.CLOSED)
        assert close.payload["not_evaluated"] is True
        assert close.payload["unreasonable"] is False
        assert marks(case) == [("evaluate", "auto_close", case.replied_at)]
        # And the complainant is told it is archived
        assert OutboxMessage.objects.filter(
            channel="sms", kind="case_closed", recipient=case.complainant_phone
        ).exists()
        # And a second scan does nothing
        assert supervise(due + HOUR) == {}
        assert CaseEvent.objects.filter(case=case, type=EventType.CLOSE).count() == 1
        # And the unit's 满意率 counts only the case that was rated 满意
        rates = compute_rates(
            demo.user("supervisor1"), start=start, end=timezone.now() + HOUR, group_by="unit"
        )
        row = next(r for r in rates if r["key"] == demo.unit("huangzhong-gov").pk)
        assert (row["evaluated"], row["satisfied"]) == (1, 1)
        assert row["satisfaction_rate"] == 1.0

    def test_an_evaluated_case_is_not_archived_by_the_scan(self, make_case: MakeCase) -> None:
        case = make_case(Status.EVALUATED)
        assert supervise(timezone.now() + dt.timedelta(days=30)) == {}
        case.refresh_from_db()
        assert case.status == Status.EVALUATED


# --- running it again, by hand, and the daily digest ---------------------------------------------


class TestOnceOnly:
    def test_the_same_scan_twice_does_nothing_the_second_time(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        # Given cases with every kind of deadline passed
        now = OFFICE_AT + HOUR
        given_deadlines(make_case(Status.SUBMITTED), accept_by=WARN_AT)
        given_deadlines(make_case(Status.DISPATCHED), sign_by=WARN_AT)
        given_deadlines(
            make_case(Status.HANDLING), contact_by=WARN_AT, resolve_by=RESOLVE_BY, warn_at=WARN_AT
        )
        ordered = given_deadlines(make_case(Status.HANDLING))
        workflow.case_supervise(
            case=ordered, actor=demo.user("supervisor1"), due_at=RESOLVE_BY, note="督办"
        )

        # When the scan runs twice at the same moment
        first = supervise(now)
        counts = [
            model.objects.count()
            for model in (SupervisionMark, CaseEvent, Notification, OutboxMessage)
        ]
        second = supervise(now)

        # Then the first did everything and the second nothing
        assert first == {
            "accept:overdue": 1,
            "sign:overdue": 1,
            "contact:overdue": 1,
            "resolve:overdue": 1,
            "resolve:leader": 1,
            "resolve:office": 1,
            "order:overdue": 1,
        }
        assert second == {}
        assert counts == [
            model.objects.count()
            for model in (SupervisionMark, CaseEvent, Notification, OutboxMessage)
        ]

    def test_a_batch_given_twice_chases_once(self, handling: Case) -> None:
        items = [(handling.pk, RESOLVE_BY.isoformat())]
        assert supervision.supervise_batch("resolve:overdue", items, RESOLVE_BY) == 1
        assert supervision.supervise_batch("resolve:overdue", items, RESOLVE_BY) == 0
        assert chased(handling) == [(EventType.REMIND, "resolve", "overdue")]

    def test_a_batch_for_a_deadline_that_has_moved_does_nothing(self, handling: Case) -> None:
        # Given the scan saw the old deadline, then the deadline moved (an extension)
        items = [(handling.pk, RESOLVE_BY.isoformat())]
        given_deadlines(handling, resolve_by=RESOLVE_BY + 24 * HOUR, warn_at=WARN_AT)
        # Then the batch does not chase the deadline that no longer holds
        assert supervision.supervise_batch("resolve:overdue", items, LEADER_AT) == 0
        assert marks(handling) == []

    def test_an_unknown_rule_is_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown supervision rule"):
            supervision.supervise_batch("resolve:never", [], RESOLVE_BY)


def command(*args: str) -> dict[str, tuple[int, str]]:
    """Run ``manage.py supervision_scan``; {rule: (count, verb)} from its output."""
    out = io.StringIO()
    call_command("supervision_scan", *args, stdout=out)
    rows = {}
    for line in out.getvalue().splitlines():
        rule, count, verb = line.split()
        rows[rule] = (int(count), verb)
    return rows


class TestCommand:
    def test_dry_run_prints_what_is_due_and_changes_nothing(self, handling: Case) -> None:
        rows = command("--dry-run", "--now", LEADER_AT.isoformat())
        assert list(rows) == supervision.RULE_NAMES
        assert {rule: row for rule, row in rows.items() if row[0]} == {
            "resolve:overdue": (1, "due"),
            "resolve:leader": (1, "due"),
        }
        assert {verb for _count, verb in rows.values()} == {"due"}
        assert marks(handling) == []
        assert chased(handling) == []
        assert level(handling) == SupervisionLevel.ON_TIME

    def test_without_dry_run_it_does_the_work(self, handling: Case) -> None:
        rows = command("--now", LEADER_AT.isoformat())
        assert {rule: row for rule, row in rows.items() if row[0]} == {
            "resolve:overdue": (1, "done"),
            "resolve:leader": (1, "done"),
        }
        assert [step for _k, step, _d in marks(handling)] == ["leader", "overdue"]
        assert told(handling, "escalation_leader") == {"leader_huangzhong"}
        assert level(handling) == SupervisionLevel.OVERDUE
        # And run again, there is nothing left to do
        again = command("--now", LEADER_AT.isoformat())
        assert {count for count, _verb in again.values()} == {0}

    @pytest.mark.parametrize("value", ["yesterday", "2031-13-01T09:00+08:00", "2031-03-14T09:00"])
    def test_a_bad_now_is_refused(self, handling: Case, value: str) -> None:
        with pytest.raises(CommandError, match="--now"):
            command("--now", value)
        assert marks(handling) == []


class TestDailyDigest:
    def test_each_units_handlers_hear_once_a_day(self, make_case: MakeCase) -> None:
        # Given 湟中区人民政府 has one case overdue, one due today and one due tomorrow
        day = dt.date(2031, 3, 14)
        given_deadlines(make_case(Status.HANDLING), resolve_by=at(2031, 3, 13, 17))
        given_deadlines(make_case(Status.HANDLING), resolve_by=at(2031, 3, 14, 17))
        given_deadlines(make_case(Status.HANDLING), resolve_by=at(2031, 3, 15, 17))

        # When the digest runs twice that day
        assert supervision.daily_digest(day) == 1
        assert supervision.daily_digest(day) == 1

        # Then each handler got one message with the counts
        notes = Notification.objects.filter(kind="daily_digest")
        assert sorted(n.user.username for n in notes) == sorted(HANDLERS)
        assert {tuple(sorted(n.params.items())) for n in notes} == {
            (("due_today", 1), ("overdue", 1), ("unit", "湟中区人民政府"))
        }
        # And the next day is a new digest
        assert supervision.daily_digest(day + dt.timedelta(days=1)) == 1
        assert Notification.objects.filter(kind="daily_digest").count() == 4


# --- one event or a batch: the same rows ---------------------------------------------------------

DUE = at(2031, 3, 3, 11)


def chasing_rows(case: Case) -> dict[str, list[dict[str, Any]]]:
    """What chasing ``case`` wrote: its 督办提醒 / 督办升级 events, in-app messages and emails,
    every column but the id, in the order written."""
    prefix = f"supervision:{case.pk}:"
    found = {
        "events": CaseEvent.objects.filter(
            case=case, type__in=[EventType.REMIND, EventType.ESCALATE]
        ),
        "messages": Notification.objects.filter(key__startswith=prefix),
        "emails": OutboxMessage.objects.filter(key__startswith=prefix),
    }
    return {
        name: list(
            qs.order_by("id").values(
                *[f.attname for f in qs.model._meta.concrete_fields if not f.primary_key]
            )
        )
        for name, qs in found.items()
    }


@pytest.mark.parametrize(
    ("rule", "status", "deadlines", "now"),
    [
        ("accept:overdue", Status.SUBMITTED, {"accept_by": DUE}, DUE),
        ("sign:overdue", Status.DISPATCHED, {"sign_by": DUE}, DUE),
        (
            "resolve:warning",
            Status.HANDLING,
            {"resolve_by": RESOLVE_BY, "warn_at": WARN_AT},
            WARN_AT,
        ),
        ("resolve:overdue", Status.HANDLING, {"resolve_by": RESOLVE_BY}, RESOLVE_BY),
        ("resolve:leader", Status.HANDLING, {"resolve_by": RESOLVE_BY}, LEADER_AT),
        ("resolve:office", Status.HANDLING, {"resolve_by": RESOLVE_BY}, OFFICE_AT),
        ("order:overdue", Status.HANDLING, {}, DUE),
    ],
)
def test_one_event_recorded_by_the_kernel_tells_what_the_scans_batch_tells(
    demo: Demo,
    make_case: MakeCase,
    rule: str,
    status: str,
    deadlines: dict[str, dt.datetime],
    now: dt.datetime,
) -> None:
    # Given a case due for one step of supervision (for the order rule: a late 督办 order)
    case = given_deadlines(make_case(status), **deadlines)
    if rule == "order:overdue":
        workflow.case_supervise(case=case, actor=demo.user("supervisor1"), due_at=DUE, note="督办")
    items = dict(supervision.scan(now))[rule]

    # When the scan's batch chases it (and is rolled back)
    with transaction.atomic():
        assert supervision.supervise_batch(rule, items, now) == 1
        by_batch = chasing_rows(case)
        transaction.set_rollback(True)
    assert chasing_rows(case) == {"events": [], "messages": [], "emails": []}
    # And the same step is recorded instead as one event through the kernel (FLOW.record, whose
    # on_record is notifications.on_event)
    [event] = by_batch["events"]
    case.refresh_from_db()
    with transaction.atomic():
        workflow.FLOW.record(
            case,
            event["type"],
            None,
            None,
            case.status,
            event["payload"],
            is_public=False,
            now=now,
        )

    # Then the event and its messages are the very rows the batch wrote
    assert chasing_rows(case) == by_batch
    assert by_batch["messages"] and by_batch["emails"]
    assert event["actor_id"] is None and "role" not in event["payload"]


# --- cost: indexes and queries -------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("rule", ["resolve:overdue", "resolve:warning", "accept:overdue"])
def test_the_scan_query_uses_an_index(db: None, rule: str) -> None:
    # Given the planner may not fall back to reading the whole table (an almost empty one
    # here: which index is the rule's is tests/cases/test_scan_volume.py's question, asked
    # on thousands of cases)
    qs = supervision.candidate_query(rule, RESOLVE_BY)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = qs.explain()
    # Then the main query reads cases_case through an index, and the marks by their own
    assert "Seq Scan on cases_case" not in plan, plan
    assert re.search(r"(Scan (Backward )?using|Bitmap Index Scan on) case_", plan), plan
    assert "supervision_mark_once" in plan, plan


def _select_cases(queries: list[dict[str, Any]]) -> int:
    return sum(
        1 for q in queries if q["sql"].lstrip().upper().startswith("SELECT")
        and '"cases_case"' in q["sql"]
    )  # fmt: skip


def test_a_batch_costs_the_same_queries_whatever_its_size(
    make_case: MakeCase, is_postgres: bool
) -> None:
    # Given overdue cases (SQLite splits inserts of more than 999 parameters, so there the
    # larger batch stays under that: 40 cases x 2 handlers' emails x 11 columns)
    template = given_deadlines(make_case(Status.HANDLING), resolve_by=RESOLVE_BY)
    small, large = (5, 50) if is_postgres else (5, 40)
    cases = clone_cases(template, small + large)

    def run(batch: list[Case]) -> int:
        items = [(c.pk, RESOLVE_BY.isoformat()) for c in batch]
        with CaptureQueriesContext(connection) as ctx:
            assert supervision.supervise_batch("resolve:overdue", items, RESOLVE_BY) == len(batch)
        return len(ctx.captured_queries)

    # When a batch of each size is carried out; Then both cost the same number of queries
    assert run(cases[:small]) == run(cases[small:])
    assert Notification.objects.filter(kind="reminder_overdue").count() == 2 * (small + large)


def test_the_scan_reads_one_query_a_page_whatever_the_page_size(make_case: MakeCase) -> None:
    # Given 50 cases past their accept deadline (the scan's first rule)
    template = given_deadlines(make_case(Status.SUBMITTED), accept_by=WARN_AT)
    clone_cases(template, 49)

    for size in (5, 50):
        pages = []
        scan = supervision.scan(RESOLVE_BY, batch_size=size)
        while True:
            with CaptureQueriesContext(connection) as ctx:
                page = next(scan, None)
            if page is None:
                break
            pages.append((page[0], len(page[1]), _select_cases(ctx.captured_queries)))
        # Then every page of the rule was read with one query
        assert pages == [("accept:overdue", size, 1)] * (50 // size)


# --- two scans at once (PostgreSQL: SQLite runs one writer at a time) ----------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_chase_each_case_once(
    django_db_setup: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from demo.organisation import seed_organisation
    from demo.reference import seed_reference
    from tests.cases.test_concurrency import fresh_case, race

    # (commits really happen here: keep the outbox kicks off the shared broker)
    monkeypatch.setattr(services, "kick_outbox", lambda: None)
    # Given 40 overdue cases (transactional test: seed the organisation again)
    seed_organisation()
    seed_reference()
    template = given_deadlines(
        fresh_case(Demo(), Status.HANDLING), resolve_by=RESOLVE_BY, warn_at=WARN_AT
    )
    cases = [template, *clone_cases(template, 39)]

    # When two whole scans run at the same moment in two connections, a day after the deadline
    def scan_all() -> dict[str, int]:
        return supervise(LEADER_AT)

    results = race(scan_all, scan_all)
    # (a row one scan holds locked is skipped by the other and left for the next scan, which
    # runs a minute later: run it)
    assert all(isinstance(r, dict) for r in results), results
    results.append(supervise(LEADER_AT))

    # Then nothing failed, and together they chased every case once per step
    total: Counter[str] = Counter()
    for r in results:
        total.update(r)  # type: ignore[arg-type]
    assert total == {"resolve:overdue": 40, "resolve:leader": 40}
    assert supervise(LEADER_AT) == {}
    per_step = Counter(
        (e.case_id, e.payload["step"])
        for e in CaseEvent.objects.filter(
            type__in=[EventType.REMIND, EventType.ESCALATE], case__in=cases
        )
    )
    assert len(per_step) == 80 and set(per_step.values()) == {1}
    assert SupervisionMark.objects.count() == 80
    assert Notification.objects.filter(kind="reminder_overdue").count() == 80
    assert Notification.objects.filter(kind="escalation_leader").count() == 40


def _holder() -> Any:
    """Another session, in a transaction of its own (as a workflow step's would be)."""
    import psycopg2

    db = connection.settings_dict
    return psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None,
        host=db["HOST"] or None, port=db["PORT"] or None,
    )  # fmt: skip


def _overdue_cases(count: int) -> list[Case]:
    from demo.organisation import seed_organisation
    from demo.reference import seed_reference
    from tests.cases.test_concurrency import fresh_case

    seed_organisation()
    seed_reference()
    template = given_deadlines(
        fresh_case(Demo(), Status.HANDLING), resolve_by=RESOLVE_BY, warn_at=WARN_AT
    )
    return [template, *clone_cases(template, count - 1)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_waits_for_a_case_held_for_a_moment_and_chases_it_in_the_same_tick(
    django_db_setup: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from tests.cases.test_concurrency import race

    monkeypatch.setattr(services, "kick_outbox", lambda: None)
    # Given 3 overdue cases, one of them held by another transaction (a workflow step, or a
    # batch of the same tick chasing another step of it)
    cases = _overdue_cases(3)
    holder = _holder()
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT id FROM cases_case WHERE id = %s FOR UPDATE", [cases[1].pk])

        # When a scan runs meanwhile, and the other transaction ends while its batch waits
        def release_once_waiting() -> None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND datname = current_database() AND query LIKE %s",
                        ['%FOR UPDATE OF "cases_case"%'],
                    )
                    if cursor.fetchone()[0]:
                        break
                time.sleep(0.02)
            holder.commit()

        results = race(lambda: supervise(RESOLVE_BY), release_once_waiting)
    finally:
        holder.close()

    # Then the tick chased all three, and left nothing for the next one
    assert results[0] == {"resolve:overdue": 3}, results
    assert supervise(RESOLVE_BY) == {}
    assert {level(c) for c in cases} == {SupervisionLevel.OVERDUE}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_case_held_past_the_lock_wait_is_left_to_the_next_tick(
    django_db_setup: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "kick_outbox", lambda: None)
    monkeypatch.setattr(supervision, "LOCK_WAIT", "50ms")
    # Given 3 overdue cases, one of them held by a transaction that does not end
    cases = _overdue_cases(3)
    holder = _holder()
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT id FROM cases_case WHERE id = %s FOR UPDATE", [cases[1].pk])

        # When a scan runs meanwhile
        first = supervise(RESOLVE_BY)
    finally:
        holder.rollback()
        holder.close()

    # Then its batch chased the two it could lock, not stuck behind the third, and the next
    # tick chases the third
    assert first == {"resolve:overdue": 2}
    assert level(cases[1]) == SupervisionLevel.ON_TIME
    assert supervise(RESOLVE_BY) == {"resolve:overdue": 1}
    assert {level(c) for c in cases} == {SupervisionLevel.OVERDUE}
    assert SupervisionMark.objects.count() == 3


def test_a_reminder_reaches_each_handler_by_the_channels_they_chose(
    demo: Demo, make_case: MakeCase
) -> None:
    # Given two handlers of the lead unit with addresses and phones; one chose SMS, no e-mail
    from notifications.models import NotificationPreference

    for username, phone in (("handler_huangzhong", "13909710001"), ("leader_huangzhong", "")):
        user = demo.user(username)
        user.email, user.phone = f"{username}@example.invalid", phone
        user.save(update_fields=["email", "phone"])
    NotificationPreference.objects.create(
        user=demo.user("handler_huangzhong"), kind="reminder_overdue", email=False, sms=True
    )
    deadline = at(2031, 3, 3, 11)
    case = given_deadlines(make_case(Status.DISPATCHED), sign_by=deadline)
    # When the scan chases the unsigned case, twice
    assert supervise(deadline) == {"sign:overdue": 1}
    supervise(deadline + HOUR)
    # Then both have the in-app message, the one an SMS, the other an e-mail, each once
    assert told(case, "reminder_overdue") == HANDLERS
    sent = sorted(
        OutboxMessage.objects.filter(kind="reminder_overdue").values_list("channel", "recipient")
    )
    assert sent == [("email", "leader_huangzhong@example.invalid"), ("sms", "13909710001")]
