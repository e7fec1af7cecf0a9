"""The case workflow's rules beyond the role table, called as functions (HTTP is tested apart).

Every expected deadline is worked out by hand in a comment. Office hours are 09:00-12:00 and
13:30-17:30 Asia/Shanghai; late November and early December 2026 have no public holidays, and
2026-11-24 is a Tuesday, 2026-11-26 a Thursday.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cases import services, workflow
from cases.models import (
    Case,
    CaseEvent,
    Category,
    Channel,
    DailySequence,
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
    TimeUnit,
    Urgency,
)
from org.models import RegionLevel, Unit
from tests.cases.conftest import PATH_TO, run_steps
from tests.conftest import Demo
from tests.factories import CaseFactory, CategoryFactory
from xining_issues.errors import InvalidInput, NotAllowed, WorkflowError, WrongState

LOCAL = ZoneInfo(settings.TIME_ZONE)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A local (Asia/Shanghai) aware datetime."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=LOCAL)


TUESDAY_10 = at(2026, 11, 24, 10)  # an ordinary working morning
THURSDAY_15 = at(2026, 11, 26, 15)

MakeCase = Callable[..., Case]


def travel(when: dt.datetime) -> Any:
    return time_machine.travel(when, tick=False)


def timeline(case: Case) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case).order_by("created_at", "id"))


def last_event(case: Case) -> CaseEvent:
    return timeline(case)[-1]


def submit_fields(demo: Demo, **overrides: Any) -> dict[str, Any]:
    """What resident1 fills in on the web form for 赵先生's heating complaint."""
    fields: dict[str, Any] = {
        "actor": demo.user("resident1"),
        "category": demo.category("heating-cold"),
        "region": demo.region("湟中区", "多巴镇", "多巴一村"),
        "description": "家里暖气不热，附近管道破损。",
        "complainant_name": "赵先生",
        "complainant_phone": "13897123456",
        "address": "新村巷38号",
    }
    fields.update(overrides)
    return fields


def refused(
    case: Case, error: type[WorkflowError], call: Callable[[], Any], field: str | None = None
) -> WorkflowError:
    """Run ``call``, expect ``error``, and check the case row and its timeline are untouched."""
    before = Case.objects.values().get(pk=case.pk)
    events_before = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(error) as caught:
        call()
    assert Case.objects.values().get(pk=case.pk) == before
    assert CaseEvent.objects.filter(case=case).count() == events_before
    if field is not None:
        assert field in caught.value.fields, caught.value.fields
    return caught.value


@contextlib.contextmanager
def nothing_written() -> Iterator[None]:
    """No case, no event, and no tracking number spent."""
    sequences = list(DailySequence.objects.order_by("day").values_list("day", "last"))
    cases, events = Case.objects.count(), CaseEvent.objects.count()
    yield
    assert Case.objects.count() == cases
    assert CaseEvent.objects.count() == events
    assert list(DailySequence.objects.order_by("day").values_list("day", "last")) == sequences


@pytest.fixture
def committed() -> Iterator[list[CaseEvent]]:
    """The events ``case_event_committed`` announced during the test."""
    received: list[CaseEvent] = []

    def receiver(sender: object, event: CaseEvent, **kwargs: object) -> None:
        received.append(event)

    workflow.case_event_committed.connect(receiver, weak=False)
    yield received
    workflow.case_event_committed.disconnect(receiver)


# --- 接 submit --------------------------------------------------------------------------------


class TestSubmit:
    def test_tracking_codes_are_numbered_per_local_day(self, db: None) -> None:
        # Given two complaints late on Thursday evening in Xining (15:30 and 15:50 UTC)
        with travel(at(2026, 11, 26, 23, 30)):
            first = CaseFactory()
        with travel(at(2026, 11, 26, 23, 50)):
            second = CaseFactory()
        # When a third arrives ten minutes after local midnight (still the 26th in UTC)
        with travel(at(2026, 11, 27, 0, 10)):
            third = CaseFactory()

        # Then the 26th's cases are 0001 and 0002, and the new local day starts again at 0001
        assert first.tracking_code == "XN-20261126-0001"
        assert second.tracking_code == "XN-20261126-0002"
        assert third.tracking_code == "XN-20261127-0001"

    def test_tracking_day_is_xinings_whatever_timezone_is_active(self, db: None) -> None:
        # Given a request that has activated UTC, ten minutes after midnight in Xining
        with travel(at(2026, 11, 27, 0, 10)), timezone.override("UTC"):
            # When a complaint is submitted
            case = CaseFactory()
        # Then it is numbered on Xining's day
        assert case.tracking_code == "XN-20261127-0001"

    def test_resident_web_complaint_is_registered(self, demo: Demo) -> None:
        # Given resident1 on the web form at 11:00 on a Thursday
        with travel(at(2026, 11, 26, 11)):
            # When they submit, asking to stay anonymous to the handling units
            case = workflow.case_submit(**submit_fields(demo, hide_identity=True))

        # Then the case waits for acceptance, placed in its district and street
        case.refresh_from_db()
        assert case.status == Status.SUBMITTED
        assert case.channel == Channel.WEB
        assert case.complainant == demo.user("resident1")
        assert case.hide_identity is True
        assert case.district == demo.region("湟中区")
        assert case.street == demo.region("湟中区", "多巴镇")
        assert case.dispatch_region == demo.region("湟中区")
        # 2 working hours from 11:00: 11:00-12:00, then 13:30-14:30
        assert case.accept_by == at(2026, 11, 26, 14, 30)
        [event] = timeline(case)
        assert (event.type, event.actor, event.from_status, event.to_status) == (
            EventType.SUBMIT,
            demo.user("resident1"),
            "",
            Status.SUBMITTED,
        )

    def test_emergency_is_accepted_within_two_clock_hours(self, demo: Demo) -> None:
        # Given an 特急 complaint at 11:00
        with travel(at(2026, 11, 26, 11)):
            case = workflow.case_submit(**submit_fields(demo, urgency=Urgency.EMERGENCY))
        # Then the earlier of 14:30 (2 working hours) and 13:00 (2 clock hours) applies
        assert case.accept_by == at(2026, 11, 26, 13)

    def test_accept_deadline_follows_the_category(self, demo: Demo) -> None:
        # Given a category the city accepts within 1 clock hour
        quick = CategoryFactory(accept_amount=1, accept_unit=TimeUnit.CLOCK_HOURS)
        # When a complaint of that kind arrives at 18:20
        with travel(at(2026, 11, 26, 18, 20)):
            case = workflow.case_submit(**submit_fields(demo, category=quick))
        # Then it must be accepted by 19:20, office hours or not
        assert case.accept_by == at(2026, 11, 26, 19, 20)

    def test_operator_logs_a_phone_call(self, demo: Demo) -> None:
        operator = demo.user("operator1")
        # When operator1 logs 赵先生's call
        case = workflow.case_submit(**submit_fields(demo, actor=operator, channel=Channel.PHONE))
        # Then the case has no resident account behind it and the operator is the actor
        case.refresh_from_db()
        assert case.channel == Channel.PHONE
        assert case.complainant is None
        assert case.hide_identity is False
        [event] = timeline(case)
        assert event.actor == operator
        assert event.payload == {"role": "operator", "channel": "phone"}

    def test_anonymous_visitor_may_submit_on_the_web(self, demo: Demo) -> None:
        case = workflow.case_submit(**submit_fields(demo, actor=None))
        assert case.complainant is None
        assert timeline(case)[0].actor is None

    def test_a_resident_cannot_log_a_phone_call(self, demo: Demo) -> None:
        with nothing_written(), pytest.raises(NotAllowed):
            workflow.case_submit(**submit_fields(demo, channel=Channel.PHONE))

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            pytest.param({"region": ("湟中区",)}, "region", id="district-not-community"),
            pytest.param({"region": ("湟中区", "多巴镇")}, "region", id="street-not-community"),
            pytest.param({"region": None}, "region", id="no-region"),
            pytest.param({"description": "   "}, "description", id="blank-description"),
            pytest.param({"complainant_name": ""}, "complainant_name", id="no-name"),
            pytest.param({"complainant_phone": "12345"}, "complainant_phone", id="bad-phone"),
            pytest.param({"complainant_phone": "2389712345"}, "complainant_phone", id="bad-mob"),
            pytest.param({"channel": "fax"}, "channel", id="bad-channel"),
            pytest.param({"urgency": "whenever"}, "urgency", id="bad-urgency"),
            pytest.param({"title": "长" * 121}, "title", id="title-too-long"),
        ],
    )
    def test_invalid_submission_writes_nothing(
        self, demo: Demo, overrides: dict[str, Any], field: str
    ) -> None:
        # Given a day on which one case has already been numbered
        workflow.case_submit(**submit_fields(demo))
        if isinstance(overrides.get("region"), tuple):
            overrides = {**overrides, "region": demo.region(*overrides["region"])}

        # When a form with a wrong field is submitted
        with nothing_written(), pytest.raises(InvalidInput) as caught:
            workflow.case_submit(**submit_fields(demo, **overrides))

        # Then the field is named, and the next good submission takes the next number
        assert field in caught.value.fields
        assert workflow.case_submit(**submit_fields(demo)).tracking_code.endswith("-0002")

    def test_inactive_category_is_refused(self, demo: Demo) -> None:
        retired = CategoryFactory(is_active=False)
        with nothing_written(), pytest.raises(InvalidInput) as caught:
            workflow.case_submit(**submit_fields(demo, category=retired))
        assert "category" in caught.value.fields

    def test_phone_numbers_are_normalised(self, demo: Demo) -> None:
        case = workflow.case_submit(**submit_fields(demo, complainant_phone="+86 138 9712 3456"))
        assert case.complainant_phone == "13897123456"
        landline = workflow.case_submit(**submit_fields(demo, complainant_phone="0971-6123456"))
        assert landline.complainant_phone == "0971-6123456"


# --- 接 accept / reject / resolve at intake ---------------------------------------------------


class TestAccept:
    def test_accept_with_classification(self, demo: Demo, make_case: MakeCase) -> None:
        # Given a submitted case and an earlier case about the same pipe
        operator = demo.user("operator1")
        with travel(TUESDAY_10):
            earlier = make_case(Status.SUBMITTED)
            case = make_case(Status.SUBMITTED)

            # When the operator accepts it as a complex, urgent street-level noise case
            workflow.case_accept(
                case=case,
                actor=operator,
                category=demo.category("noise"),
                urgency=Urgency.URGENT,
                is_complex=True,
                duty_level=RegionLevel.STREET,
                duplicate_of=earlier,
                note="同一管道",
            )

        # Then the classification is stored and the timeline says so
        case.refresh_from_db()
        assert case.status == Status.ACCEPTED
        assert case.category == demo.category("noise")
        assert case.urgency == Urgency.URGENT
        assert case.is_complex is True
        assert case.duty_level == RegionLevel.STREET
        assert case.duplicate_of == earlier
        assert case.accepted_at == TUESDAY_10
        event = last_event(case)
        assert (event.type, event.actor, event.from_status, event.to_status) == (
            EventType.ACCEPT,
            operator,
            Status.SUBMITTED,
            Status.ACCEPTED,
        )
        assert event.payload["category"] == "噪音"
        assert event.payload["duty_level"] == RegionLevel.STREET
        assert event.payload["is_complex"] is True
        assert event.payload["duplicate_of"] == earlier.tracking_code

    def test_plain_accept_defaults_to_district_level(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        case = make_case(Status.ACCEPTED)
        assert case.duty_level == RegionLevel.DISTRICT
        assert case.is_complex is False
        assert case.duplicate_of is None
        assert case.category == demo.category("heating-cold")

    def test_a_case_cannot_duplicate_itself(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.SUBMITTED)
        refused(
            case,
            InvalidInput,
            lambda: workflow.case_accept(
                case=case, actor=demo.user("operator1"), duplicate_of=case
            ),
            field="duplicate_of",
        )

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [({"duty_level": 9}, "duty_level"), ({"urgency": "soon"}, "urgency")],
    )
    def test_bad_classification_is_refused(
        self, demo: Demo, make_case: MakeCase, kwargs: dict[str, Any], field: str
    ) -> None:
        case = make_case(Status.SUBMITTED)
        refused(
            case,
            InvalidInput,
            lambda: workflow.case_accept(case=case, actor=demo.user("operator1"), **kwargs),
            field=field,
        )


class TestReject:
    @pytest.mark.parametrize("reason", RejectReason.values)
    def test_reject_with_each_reason(self, demo: Demo, make_case: MakeCase, reason: str) -> None:
        # Given a submitted case (and, for a duplicate, the case it repeats)
        with travel(TUESDAY_10):
            original = make_case(Status.SUBMITTED)
            case = make_case(Status.SUBMITTED)
            duplicate_of = original if reason == RejectReason.DUPLICATE else None

            # When the operator rejects it
            workflow.case_reject(
                case=case, actor=demo.user("operator1"), reason=reason, duplicate_of=duplicate_of
            )

        # Then it is closed off as rejected with the reason on record
        case.refresh_from_db()
        assert case.status == Status.REJECTED
        assert case.reject_reason == reason
        assert case.closed_at == TUESDAY_10
        assert case.duplicate_of == duplicate_of
        event = last_event(case)
        assert (event.type, event.from_status, event.to_status) == (
            EventType.REJECT,
            Status.SUBMITTED,
            Status.REJECTED,
        )
        assert event.payload["reason"] == reason

    def test_duplicate_must_name_the_case_it_repeats(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        case = make_case(Status.SUBMITTED)
        refused(
            case,
            InvalidInput,
            lambda: workflow.case_reject(
                case=case, actor=demo.user("operator1"), reason=RejectReason.DUPLICATE
            ),
            field="duplicate_of",
        )

    def test_unknown_reason_is_refused(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.SUBMITTED)
        refused(
            case,
            InvalidInput,
            lambda: workflow.case_reject(case=case, actor=demo.user("operator1"), reason="lazy"),
            field="reason",
        )


class TestResolveAtIntake:
    def test_answered_on_the_spot(self, demo: Demo, make_case: MakeCase) -> None:
        with travel(TUESDAY_10):
            case = make_case(Status.SUBMITTED, category=demo.category("consult"))
            # When the operator answers the consultation during the call
            workflow.case_resolve_at_intake(
                case=case, actor=demo.user("operator1"), reply="已告知办理流程。"
            )
        # Then it waits for the complainant's rating, resolved and counted as contacted
        case.refresh_from_db()
        assert case.status == Status.REPLIED
        assert case.outcome == Outcome.RESOLVED
        assert case.contacted_at == TUESDAY_10
        assert case.accepted_at == TUESDAY_10
        assert case.replied_at == TUESDAY_10
        assert case.reply_text == "已告知办理流程。"
        assert last_event(case).to_status == Status.REPLIED

    def test_needs_an_answer(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.SUBMITTED)
        refused(
            case,
            InvalidInput,
            lambda: workflow.case_resolve_at_intake(
                case=case, actor=demo.user("operator1"), reply=" "
            ),
            field="reply",
        )


# --- 派 dispatch, sign, return ----------------------------------------------------------------


class TestDispatch:
    def test_heating_runs_in_clock_hours(self, demo: Demo, make_case: MakeCase) -> None:
        with travel(TUESDAY_10):
            case = make_case(Status.ACCEPTED)
            # When the 湟中 dispatcher sends it at 10:00 on a Tuesday
            workflow.case_dispatch(
                case=case,
                actor=demo.user("dispatcher_huangzhong"),
                lead_unit=demo.unit("huangzhong-gov"),
                co_units=[demo.unit("xn-gas"), demo.unit("huangzhong-gov")],
            )
        # Then contact within 2 clock hours and resolution within 24, and the lead unit is not
        # listed again among the co-units
        case.refresh_from_db()
        assert case.status == Status.DISPATCHED
        assert case.lead_unit == demo.unit("huangzhong-gov")
        assert list(case.co_units.all()) == [demo.unit("xn-gas")]
        assert case.dispatched_at == TUESDAY_10
        assert case.contact_by == at(2026, 11, 24, 12)
        assert case.resolve_by == at(2026, 11, 25, 10)
        event = last_event(case)
        assert event.unit == demo.unit("huangzhong-gov")
        assert event.payload["co_units"] == ["西宁华润燃气有限公司"]

    @pytest.mark.parametrize(
        ("is_complex", "resolve_by"),
        [
            # 7 working days after Tue 11-24: 25 26 27 30, 12-01 02 03
            pytest.param(False, at(2026, 12, 3, 17, 30), id="general-7-working-days"),
            # 15 working days: … 12-04 07 08 09 10 11 14 15
            pytest.param(True, at(2026, 12, 15, 17, 30), id="complex-15-working-days"),
        ],
    )
    def test_general_category_runs_in_working_days(
        self, demo: Demo, make_case: MakeCase, is_complex: bool, resolve_by: dt.datetime
    ) -> None:
        with travel(TUESDAY_10):
            case = make_case(Status.SUBMITTED, category=demo.category("noise"))
            workflow.case_accept(case=case, actor=demo.user("operator1"), is_complex=is_complex)
            workflow.case_dispatch(
                case=case,
                actor=demo.user("dispatcher_huangzhong"),
                lead_unit=demo.unit("huangzhong-gov"),
            )
        case.refresh_from_db()
        assert case.contact_by == at(2026, 11, 25, 17, 30)  # 1 working day
        assert case.resolve_by == resolve_by

    def test_deadlines_count_from_dispatch_not_submission(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        with travel(at(2026, 11, 20, 9)):
            case = make_case(Status.ACCEPTED)
        with travel(TUESDAY_10):
            workflow.case_dispatch(
                case=case,
                actor=demo.user("dispatcher_huangzhong"),
                lead_unit=demo.unit("huangzhong-gov"),
            )
        case.refresh_from_db()
        assert case.resolve_by == at(2026, 11, 25, 10)

    @pytest.mark.parametrize("level", [SupervisionLevel.WARNING, SupervisionLevel.OVERDUE])
    def test_redispatch_starts_the_new_unit_on_time(
        self, demo: Demo, make_case: MakeCase, level: str
    ) -> None:
        # Given a case the first unit let run late (flagged by the supervision scan) and returned
        case = make_case(Status.DISPATCHED)
        Case.objects.filter(pk=case.pk).update(supervision_level=level)
        workflow.case_return(case=case, actor=demo.user("handler_huangzhong"), reason="非本单位")
        # When the dispatcher sends it to the gas company with new deadlines
        workflow.case_dispatch(
            case=case, actor=demo.user("dispatcher_huangzhong"), lead_unit=demo.unit("xn-gas")
        )
        # Then the gas company does not start with the other unit's red flag
        case.refresh_from_db()
        assert case.supervision_level == SupervisionLevel.ON_TIME

    def test_redispatch_keeps_a_supervision_order(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.DISPATCHED)
        workflow.case_supervise(
            case=case,
            actor=demo.user("supervisor1"),
            due_at=timezone.now() + dt.timedelta(days=3),
            note="限期办结",
        )
        workflow.case_return(case=case, actor=demo.user("handler_huangzhong"), reason="非本单位")
        workflow.case_dispatch(
            case=case, actor=demo.user("dispatcher_huangzhong"), lead_unit=demo.unit("xn-gas")
        )
        case.refresh_from_db()
        assert case.supervision_level == SupervisionLevel.SUPERVISED

    @pytest.mark.parametrize(
        ("lead", "co", "field"),
        [
            pytest.param("xn-heating", [], "lead_unit", id="inactive-lead"),
            pytest.param("huangzhong-gov", ["xn-heating"], "co_units", id="inactive-co-unit"),
            pytest.param(None, [], "lead_unit", id="no-lead"),
        ],
    )
    def test_inactive_or_missing_unit_is_refused(
        self, demo: Demo, make_case: MakeCase, lead: str | None, co: list[str], field: str
    ) -> None:
        case = make_case(Status.ACCEPTED)
        Unit.objects.filter(code="xn-heating").update(is_active=False)
        refused(
            case,
            InvalidInput,
            lambda: workflow.case_dispatch(
                case=case,
                actor=demo.user("dispatcher_huangzhong"),
                lead_unit=demo.unit(lead) if lead else None,
                co_units=[demo.unit(c) for c in co],
            ),
            field=field,
        )
        assert not case.co_units.exists()


class TestDispatchScope:
    """派单范围: a dispatcher sends a case only to units of the area they dispatch for, or to
    the units the 权责清单 names for the matter in the case's region (a city-wide utility), so
    a district dispatcher cannot hand a complainant's full phone to any unit of the city.

    The case is 赵先生's heating complaint in 湟中区多巴镇多巴一村. For 供暖 the list names the
    district government of the case's district (lead) with 华润燃气 (co-handler), and the city
    heating company."""

    @staticmethod
    def duobatown(demo: Demo) -> str:
        return f"huangzhong-s{demo.region('湟中区', '多巴镇').pk}"

    @pytest.mark.parametrize(
        "unit_code",
        [
            pytest.param("huangzhong-gov", id="district-government"),
            pytest.param("huangzhong-housing", id="district-department"),
            pytest.param("town", id="town-in-the-district"),
            pytest.param("xn-gas", id="named-by-the-list-as-co-handler"),
            pytest.param("xn-heating", id="named-by-the-list-as-owner"),
        ],
    )
    def test_a_district_dispatcher_reaches_the_district_and_the_units_the_list_names(
        self, demo: Demo, make_case: MakeCase, unit_code: str
    ) -> None:
        case = make_case(Status.ACCEPTED)
        unit = demo.unit(self.duobatown(demo) if unit_code == "town" else unit_code)
        # When the 湟中 dispatcher sends it there, as lead and as co-handler of the district
        workflow.case_dispatch(
            case=case,
            actor=demo.user("dispatcher_huangzhong"),
            lead_unit=unit,
            co_units=[demo.unit("huangzhong-gov")],
        )
        # Then it is dispatched there
        case.refresh_from_db()
        assert case.status == Status.DISPATCHED
        assert case.lead_unit == unit

    @pytest.mark.parametrize(
        ("lead", "co", "field"),
        [
            pytest.param("chengdong-gov", [], "lead_unit", id="another-district-as-lead"),
            pytest.param("xn-water", [], "lead_unit", id="a-city-utility-not-named-as-lead"),
            pytest.param("xn-urban", [], "lead_unit", id="a-city-department-as-lead"),
            pytest.param("huangzhong-gov", ["chengdong-gov"], "co_units", id="outside-co-unit"),
            pytest.param(
                "huangzhong-gov", ["xn-gas", "xn-water"], "co_units", id="one-co-unit-outside"
            ),
        ],
    )
    def test_a_unit_outside_is_refused_and_nothing_changes(
        self, demo: Demo, make_case: MakeCase, lead: str, co: list[str], field: str
    ) -> None:
        case = make_case(Status.ACCEPTED)
        # When the 湟中 dispatcher names a unit outside their reach; Then a 400 on that field,
        # which names the unit, and the case is as it was
        error = refused(
            case,
            InvalidInput,
            lambda: workflow.case_dispatch(
                case=case,
                actor=demo.user("dispatcher_huangzhong"),
                lead_unit=demo.unit(lead),
                co_units=[demo.unit(c) for c in co],
            ),
            field=field,
        )
        outside = demo.unit(co[-1] if co else lead)
        assert outside.name in error.fields[field][0]
        assert not case.co_units.exists()

    @pytest.mark.parametrize("unit_code", ["chengdong-gov", "xn-water", "xn-urban"])
    def test_the_city_dispatcher_reaches_every_unit_of_the_city(
        self, demo: Demo, make_case: MakeCase, unit_code: str
    ) -> None:
        case = make_case(Status.ACCEPTED)
        workflow.case_dispatch(
            case=case, actor=demo.user("dispatcher_city"), lead_unit=demo.unit(unit_code)
        )
        case.refresh_from_db()
        assert case.lead_unit == demo.unit(unit_code)

    def test_the_list_follows_the_category(self, demo: Demo, make_case: MakeCase) -> None:
        # Given a water complaint in 多巴一村, graded for the district (the 权责清单 would make it
        # a city matter, 分级派单): the list names the water company, not 华润燃气
        case = make_case(Status.SUBMITTED, category=demo.category("water-outage"))
        workflow.case_accept(
            case=case, actor=demo.user("operator1"), duty_level=RegionLevel.DISTRICT
        )
        dispatcher = demo.user("dispatcher_huangzhong")
        refused(
            case,
            InvalidInput,
            lambda: workflow.case_dispatch(
                case=case, actor=dispatcher, lead_unit=demo.unit("xn-gas")
            ),
            field="lead_unit",
        )
        workflow.case_dispatch(case=case, actor=dispatcher, lead_unit=demo.unit("xn-water"))
        case.refresh_from_db()
        assert case.lead_unit == demo.unit("xn-water")

    def test_after_escalation_only_the_city_dispatches_anywhere(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        # Given a case the city took over after three returns (兜底)
        case = make_case(Status.ACCEPTED)
        Case.objects.filter(pk=case.pk).update(dispatch_region=demo.region(), return_count=3)
        # Then the city dispatcher may send it to a city department
        workflow.case_dispatch(
            case=case, actor=demo.user("dispatcher_city"), lead_unit=demo.unit("xn-urban")
        )
        assert Case.objects.get(pk=case.pk).lead_unit == demo.unit("xn-urban")

    def test_dispatch_targets_lists_what_the_dispatcher_may_pick(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        case = make_case(Status.ACCEPTED)
        codes = set(
            services.dispatch_targets(
                case=case, actor=demo.user("dispatcher_huangzhong")
            ).values_list("code", flat=True)
        )
        assert {"huangzhong-gov", "huangzhong-housing", self.duobatown(demo)} <= codes
        assert {"xn-gas", "xn-heating"} <= codes
        assert not {"chengdong-gov", "xn-water", "xn-urban", "xn-hotline"} & codes
        assert all(c.startswith(("huangzhong-", "xn-gas", "xn-heating")) for c in codes)
        city = services.dispatch_targets(case=case, actor=demo.user("dispatcher_city"))
        assert city.count() == Unit.objects.filter(is_active=True).count()
        assert not services.dispatch_targets(case=case, actor=demo.user("handler_huangzhong"))


class TestReturn:
    def test_reason_is_required(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.DISPATCHED)
        refused(
            case,
            InvalidInput,
            lambda: workflow.case_return(
                case=case, actor=demo.user("handler_huangzhong"), reason=""
            ),
            field="reason",
        )

    def test_return_goes_back_to_the_dispatcher(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.DISPATCHED)
        handler = demo.user("handler_huangzhong")
        # When 湟中区 sends it back as not its duty
        workflow.case_return(case=case, actor=handler, reason="属于市供热公司管网")
        # Then it waits for dispatch again with no unit and no deadlines
        case.refresh_from_db()
        assert case.status == Status.ACCEPTED
        assert case.lead_unit is None
        assert not case.co_units.exists()
        assert (case.contact_by, case.resolve_by, case.dispatched_at) == (None, None, None)
        assert case.return_count == 1
        assert case.dispatch_region == demo.region("湟中区")
        # And the return is counted against the unit that sent it back
        event = last_event(case)
        assert (event.type, event.actor, event.unit) == (
            EventType.RETURN,
            handler,
            demo.unit("huangzhong-gov"),
        )
        assert (event.from_status, event.to_status) == (Status.DISPATCHED, Status.ACCEPTED)
        assert event.payload["reason"] == "属于市供热公司管网"
        assert event.payload["escalated_to"] is None

    def test_third_return_sends_the_case_to_the_city(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        case = make_case(Status.ACCEPTED)
        dispatcher = demo.user("dispatcher_huangzhong")
        handler = demo.user("handler_huangzhong")
        city = demo.region()

        # Given two returns, the district still dispatches
        for n in (1, 2):
            workflow.case_dispatch(
                case=case, actor=dispatcher, lead_unit=demo.unit("huangzhong-gov")
            )
            workflow.case_return(case=case, actor=handler, reason=f"第{n}次退回")
        case.refresh_from_db()
        assert case.dispatch_region == demo.region("湟中区")

        # When it is returned a third time
        workflow.case_dispatch(case=case, actor=dispatcher, lead_unit=demo.unit("huangzhong-gov"))
        workflow.case_return(case=case, actor=handler, reason="第3次退回")

        # Then the city's dispatchers take over (兜底)
        case.refresh_from_db()
        assert case.return_count == 3
        assert case.dispatch_region == city
        assert last_event(case).payload["escalated_to"] == city.name
        refused(
            case,
            NotAllowed,
            lambda: workflow.case_dispatch(
                case=case, actor=dispatcher, lead_unit=demo.unit("huangzhong-gov")
            ),
        )
        workflow.case_dispatch(
            case=case, actor=demo.user("dispatcher_city"), lead_unit=demo.unit("huangzhong-gov")
        )
        case.refresh_from_db()
        assert case.status == Status.DISPATCHED

        # And the unit it lands on can no longer send it back
        refused(
            case,
            WrongState,
            lambda: workflow.case_return(case=case, actor=handler, reason="第4次退回"),
        )

    def test_sign_takes_the_case(self, demo: Demo, make_case: MakeCase) -> None:
        with travel(TUESDAY_10):
            case = make_case(Status.DISPATCHED)
            workflow.case_sign(case=case, actor=demo.user("handler_huangzhong"))
        case.refresh_from_db()
        assert case.status == Status.HANDLING
        assert case.signed_at == TUESDAY_10

    def test_a_co_unit_cannot_sign_or_return(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.DISPATCHED)
        gas = demo.user("handler_gas")
        refused(case, NotAllowed, lambda: workflow.case_sign(case=case, actor=gas))
        refused(case, NotAllowed, lambda: workflow.case_return(case=case, actor=gas, reason="x"))


# --- 办 contact, extension, reply -------------------------------------------------------------


class TestContact:
    def test_first_and_second_contact(self, demo: Demo) -> None:
        handler = demo.user("handler_huangzhong")
        with travel(TUESDAY_10) as clock:
            case = _make_at(demo, Status.DISPATCHED)  # contact_by 12:00
            clock.shift(dt.timedelta(minutes=30))
            workflow.case_record_contact(case=case, actor=handler, method="phone")
            clock.shift(dt.timedelta(hours=3))
            workflow.case_record_contact(case=case, actor=handler, method="visit", note="上门")

        case.refresh_from_db()
        assert case.contacted_at == at(2026, 11, 24, 10, 30)
        first, second = timeline(case)[-2:]
        assert first.payload["first"] is True
        assert first.payload["on_time"] is True
        assert second.payload["first"] is False
        assert (second.type, second.from_status, second.to_status) == (
            EventType.CONTACT,
            Status.DISPATCHED,
            Status.DISPATCHED,
        )
        assert first.is_public is False

    def test_late_first_contact(self, demo: Demo) -> None:
        with travel(TUESDAY_10) as clock:
            case = _make_at(demo, Status.HANDLING)
            clock.move_to(at(2026, 11, 24, 12, 1))  # a minute past contact_by
            workflow.case_record_contact(case=case, actor=demo.user("handler_huangzhong"))
        event = last_event(case)
        assert event.payload["first"] is True
        assert event.payload["on_time"] is False

    def test_a_co_unit_may_record_contact(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.HANDLING)
        workflow.case_record_contact(case=case, actor=demo.user("handler_gas"))
        case.refresh_from_db()
        assert case.contacted_at == last_event(case).created_at  # the contact's own moment
        assert last_event(case).actor == demo.user("handler_gas")


def _make_at(demo: Demo, status: str) -> Case:
    """A heating case walked to ``status`` at the current (travelled) time."""
    case = workflow.case_submit(**submit_fields(demo))
    return run_steps(case, PATH_TO[status], demo)


class TestExtension:
    @pytest.fixture
    def handling(self, demo: Demo) -> Iterator[Case]:
        """A heating case dispatched Tuesday 10:00, so resolve_by is Wednesday 10:00."""
        with travel(TUESDAY_10):
            yield _make_at(demo, Status.HANDLING)

    @pytest.mark.parametrize(
        "until",
        [
            pytest.param(at(2026, 11, 24, 9), id="past"),
            pytest.param(at(2026, 11, 25, 9), id="before-resolve-by"),
            pytest.param(at(2026, 11, 25, 10), id="equal-to-resolve-by"),
            pytest.param(dt.datetime(2026, 11, 30, 17), id="naive"),
            pytest.param(None, id="missing"),
        ],
    )
    def test_requested_date_must_be_later_than_the_deadline(
        self, demo: Demo, handling: Case, until: dt.datetime | None
    ) -> None:
        refused(
            handling,
            InvalidInput,
            lambda: workflow.case_request_extension(
                case=handling, actor=demo.user("handler_huangzhong"), until=until, reason="缺配件"
            ),
            field="until",
        )
        assert not ExtensionRequest.objects.filter(case=handling).exists()

    def test_reason_is_required(self, demo: Demo, handling: Case) -> None:
        refused(
            handling,
            InvalidInput,
            lambda: workflow.case_request_extension(
                case=handling,
                actor=demo.user("handler_huangzhong"),
                until=at(2026, 11, 30, 17),
                reason="",
            ),
            field="reason",
        )

    def test_one_pending_request_at_a_time(self, demo: Demo, handling: Case) -> None:
        handler = demo.user("handler_huangzhong")
        # Given a pending request
        request = workflow.case_request_extension(
            case=handling, actor=handler, until=at(2026, 11, 30, 17), reason="缺配件"
        )
        assert request.status == ExtensionStatus.PENDING
        assert request.unit == demo.unit("huangzhong-gov")
        handling.refresh_from_db()
        assert handling.resolve_by == at(2026, 11, 25, 10)  # unchanged until approved
        # When the unit asks again
        refused(
            handling,
            WrongState,
            lambda: workflow.case_request_extension(
                case=handling, actor=handler, until=at(2026, 12, 1, 17), reason="再延"
            ),
        )
        # Then only the first request exists
        assert ExtensionRequest.objects.filter(case=handling).count() == 1

    def test_refusal_keeps_the_deadline(self, demo: Demo, handling: Case) -> None:
        workflow.case_request_extension(
            case=handling,
            actor=demo.user("handler_huangzhong"),
            until=at(2026, 11, 30, 17),
            reason="缺配件",
        )
        request = workflow.case_decide_extension(
            case=handling, actor=demo.user("dispatcher_huangzhong"), approve=False, note="可先修"
        )
        handling.refresh_from_db()
        assert request.status == ExtensionStatus.REFUSED
        assert request.decided_by == demo.user("dispatcher_huangzhong")
        assert handling.resolve_by == at(2026, 11, 25, 10)
        assert last_event(handling).payload["approved"] is False
        # and a new request may be made afterwards
        workflow.case_request_extension(
            case=handling,
            actor=demo.user("handler_huangzhong"),
            until=at(2026, 11, 27, 17),
            reason="仍缺配件",
        )

    @pytest.mark.parametrize(
        ("level", "after"),
        [
            (SupervisionLevel.WARNING, SupervisionLevel.ON_TIME),
            (SupervisionLevel.OVERDUE, SupervisionLevel.ON_TIME),
            (SupervisionLevel.ON_TIME, SupervisionLevel.ON_TIME),
        ],
    )
    def test_approval_moves_the_deadline_and_clears_flags(
        self, demo: Demo, handling: Case, level: str, after: str
    ) -> None:
        # Given a flagged case (the supervision scan sets the level; it is not a status)
        Case.objects.filter(pk=handling.pk).update(supervision_level=level)
        workflow.case_request_extension(
            case=handling,
            actor=demo.user("handler_huangzhong"),
            until=at(2026, 11, 30, 17),
            reason="缺配件",
        )
        # When the dispatcher approves
        request = workflow.case_decide_extension(
            case=handling, actor=demo.user("dispatcher_huangzhong"), approve=True
        )
        # Then the new deadline stands and the warning is gone
        handling.refresh_from_db()
        assert request.status == ExtensionStatus.APPROVED
        assert handling.resolve_by == at(2026, 11, 30, 17)
        assert handling.supervision_level == after
        event = last_event(handling)
        assert event.type == EventType.DECIDE_EXTENSION
        assert event.payload["approved"] is True

    def test_approval_keeps_a_supervision_order(self, demo: Demo, handling: Case) -> None:
        workflow.case_supervise(
            case=handling, actor=demo.user("supervisor1"), due_at=at(2026, 11, 26, 17), note="速办"
        )
        workflow.case_request_extension(
            case=handling,
            actor=demo.user("handler_huangzhong"),
            until=at(2026, 11, 30, 17),
            reason="缺配件",
        )
        workflow.case_decide_extension(
            case=handling, actor=demo.user("dispatcher_huangzhong"), approve=True
        )
        handling.refresh_from_db()
        assert handling.resolve_by == at(2026, 11, 30, 17)
        assert handling.supervision_level == SupervisionLevel.SUPERVISED

    @staticmethod
    def _reply_with_request_pending_then_reopen(demo: Demo, case: Case) -> Case:
        """The unit asks for time until Mon 11-30 17:00, then replies anyway; the complainant
        is unsatisfied and the case is reopened on Thursday 15:00 (new deadline Thu 12-03)."""
        handler = demo.user("handler_huangzhong")
        workflow.case_request_extension(
            case=case, actor=handler, until=at(2026, 11, 30, 17), reason="缺配件"
        )
        workflow.case_reply(case=case, actor=handler, outcome="resolved", text="已修复")
        workflow.case_evaluate(case=case, actor=demo.user("resident1"), rating=Rating.UNSATISFIED)
        with travel(THURSDAY_15):
            workflow.case_reopen(
                case=case, actor=demo.user("dispatcher_huangzhong"), reason="诉求人不满意"
            )
        case.refresh_from_db()
        assert case.resolve_by == at(2026, 12, 3, 17, 30)
        return case

    def test_a_reopened_case_may_ask_for_time_again(self, demo: Demo, handling: Case) -> None:
        # Given a request left pending when the unit replied, and the case reopened
        case = self._reply_with_request_pending_then_reopen(demo, handling)
        # When the unit asks for more time in the new round
        with travel(THURSDAY_15):
            request = workflow.case_request_extension(
                case=case,
                actor=demo.user("handler_huangzhong"),
                until=at(2026, 12, 10, 17, 30),
                reason="需更换整段管道",
            )
        # Then the new request is the one waiting for the dispatcher
        assert request.status == ExtensionStatus.PENDING
        assert request.requested_until == at(2026, 12, 10, 17, 30)

    def test_approving_never_shortens_the_deadline(self, demo: Demo, handling: Case) -> None:
        case = self._reply_with_request_pending_then_reopen(demo, handling)
        # When the dispatcher approves what is pending (if anything still is)
        # (refusing the stale request is a correct answer too)
        with travel(THURSDAY_15), contextlib.suppress(WorkflowError):
            workflow.case_decide_extension(
                case=case, actor=demo.user("dispatcher_huangzhong"), approve=True
            )
        # Then the re-handling deadline has not been brought forward
        case.refresh_from_db()
        assert case.resolve_by == at(2026, 12, 3, 17, 30)

    def test_nothing_to_decide(self, demo: Demo, handling: Case) -> None:
        refused(
            handling,
            WrongState,
            lambda: workflow.case_decide_extension(
                case=handling, actor=demo.user("dispatcher_huangzhong"), approve=True
            ),
        )


class TestReply:
    def test_reply_fulfils_open_supervision_orders(self, demo: Demo) -> None:
        with travel(TUESDAY_10) as clock:
            case = _make_at(demo, Status.HANDLING)
            order = workflow.case_supervise(
                case=case, actor=demo.user("supervisor1"), due_at=at(2026, 11, 25, 9), note="速办"
            )
            clock.move_to(at(2026, 11, 24, 16))
            workflow.case_reply(
                case=case,
                actor=demo.user("handler_huangzhong"),
                outcome=Outcome.PARTLY,
                text="已临时供暖，管道明日更换。",
            )
        case.refresh_from_db()
        order.refresh_from_db()
        assert case.status == Status.REPLIED
        assert case.outcome == Outcome.PARTLY
        assert case.replied_at == at(2026, 11, 24, 16)
        assert order.fulfilled_at == at(2026, 11, 24, 16)
        event = last_event(case)
        assert (event.type, event.from_status, event.to_status) == (
            EventType.REPLY,
            Status.HANDLING,
            Status.REPLIED,
        )
        assert event.payload["on_time"] is True

    def test_late_reply_is_marked(self, demo: Demo) -> None:
        with travel(TUESDAY_10) as clock:
            case = _make_at(demo, Status.HANDLING)
            clock.move_to(at(2026, 11, 25, 10, 1))
            workflow.case_reply(
                case=case, actor=demo.user("handler_huangzhong"), outcome="resolved", text="已修"
            )
        assert last_event(case).payload["on_time"] is False

    @pytest.mark.parametrize(
        ("outcome", "text", "field"),
        [("fixed", "已修复", "outcome"), ("", "已修复", "outcome"), ("resolved", " ", "text")],
    )
    def test_outcome_and_text_are_checked(
        self, demo: Demo, make_case: MakeCase, outcome: str, text: str, field: str
    ) -> None:
        case = make_case(Status.HANDLING)
        refused(
            case,
            InvalidInput,
            lambda: workflow.case_reply(
                case=case, actor=demo.user("handler_huangzhong"), outcome=outcome, text=text
            ),
            field=field,
        )


# --- 评 evaluate, reopen ----------------------------------------------------------------------


class TestEvaluate:
    def test_complainant_rates_the_result(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.REPLIED)
        resident = demo.user("resident1")
        workflow.case_evaluate(case=case, actor=resident, rating=Rating.SATISFIED, comment="快")
        case.refresh_from_db()
        assert case.status == Status.EVALUATED
        assert case.rating == Rating.SATISFIED
        evaluation = Evaluation.objects.get(case=case)
        assert (evaluation.round, evaluation.source, evaluation.by, evaluation.rating) == (
            0,
            EvaluationSource.COMPLAINANT,
            resident,
            Rating.SATISFIED,
        )
        assert last_event(case).payload["source"] == EvaluationSource.COMPLAINANT

    def test_operator_callback(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.REPLIED)
        workflow.case_evaluate(case=case, actor=demo.user("operator1"), rating=Rating.BASICALLY)
        evaluation = Evaluation.objects.get(case=case)
        assert evaluation.source == EvaluationSource.CALLBACK
        assert evaluation.by == demo.user("operator1")

    def test_a_round_is_rated_once(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.EVALUATED)
        refused(
            case,
            WrongState,
            lambda: workflow.case_evaluate(
                case=case, actor=demo.user("resident1"), rating=Rating.UNSATISFIED
            ),
        )
        refused(
            case,
            WrongState,
            lambda: workflow.case_evaluate_by_tracking(
                case=case, phone_last4="3456", rating=Rating.UNSATISFIED
            ),
        )
        assert Evaluation.objects.filter(case=case).count() == 1

    def test_someone_else_cannot_rate(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.REPLIED)
        refused(
            case,
            NotAllowed,
            lambda: workflow.case_evaluate(
                case=case, actor=demo.user("resident2"), rating=Rating.UNSATISFIED
            ),
        )

    def test_unknown_rating(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.REPLIED)
        refused(
            case,
            InvalidInput,
            lambda: workflow.case_evaluate(case=case, actor=demo.user("resident1"), rating="ok"),
            field="rating",
        )

    @pytest.mark.parametrize("last4", ["0000", "", "456", "13897123456"])
    def test_tracking_page_needs_the_phones_last_four(
        self, make_case: MakeCase, last4: str
    ) -> None:
        case = make_case(Status.REPLIED)  # phone 13897123456
        refused(
            case,
            NotAllowed,
            lambda: workflow.case_evaluate_by_tracking(
                case=case, phone_last4=last4, rating=Rating.SATISFIED
            ),
        )
        assert not Evaluation.objects.filter(case=case).exists()

    def test_tracking_page_evaluation(self, make_case: MakeCase) -> None:
        case = make_case(Status.REPLIED)
        workflow.case_evaluate_by_tracking(case=case, phone_last4="3456", rating=Rating.SATISFIED)
        case.refresh_from_db()
        assert case.status == Status.EVALUATED
        evaluation = Evaluation.objects.get(case=case)
        assert (evaluation.source, evaluation.by, evaluation.round) == (
            EvaluationSource.COMPLAINANT,
            None,
            0,
        )
        event = last_event(case)
        assert event.actor is None
        assert (event.from_status, event.to_status) == (Status.REPLIED, Status.EVALUATED)


class TestReopen:
    def test_satisfied_case_is_not_reopened(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.EVALUATED)
        refused(
            case,
            WrongState,
            lambda: workflow.case_reopen(
                case=case, actor=demo.user("dispatcher_huangzhong"), reason="复查"
            ),
        )

    def test_unsatisfied_case_goes_back_with_five_working_days(self, demo: Demo) -> None:
        with travel(TUESDAY_10) as clock:
            case = _make_at(demo, Status.REPLIED)
            workflow.case_evaluate(
                case=case, actor=demo.user("resident1"), rating=Rating.UNSATISFIED
            )
            # When the dispatcher reopens it on Thursday 15:00
            clock.move_to(THURSDAY_15)
            workflow.case_reopen(
                case=case, actor=demo.user("dispatcher_huangzhong"), reason="诉求人不满意"
            )
        case.refresh_from_db()
        assert case.status == Status.HANDLING
        assert case.reopen_count == 1
        # 5 working days after Thu 11-26: 27, 30, 12-01, 02, 03
        assert case.resolve_by == at(2026, 12, 3, 17, 30)
        assert case.rating == ""
        assert case.outcome == ""
        assert case.replied_at is None
        event = last_event(case)
        assert (event.type, event.from_status, event.to_status) == (
            EventType.REOPEN,
            Status.EVALUATED,
            Status.HANDLING,
        )
        assert event.payload["round"] == 1

    def test_second_unsatisfied_rating_goes_to_review(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        case = make_case(Status.REVIEW)
        assert case.status == Status.REVIEW
        assert list(Evaluation.objects.filter(case=case).values_list("round", "rating")) == [
            (0, Rating.UNSATISFIED),
            (1, Rating.UNSATISFIED),
        ]
        event = last_event(case)
        assert (event.type, event.from_status, event.to_status) == (
            EventType.EVALUATE,
            Status.REPLIED,
            Status.REVIEW,
        )

    @pytest.mark.parametrize("username", ["dispatcher_huangzhong", "operator1"])
    def test_in_review_only_a_supervisor_decides(
        self, demo: Demo, make_case: MakeCase, username: str
    ) -> None:
        case = make_case(Status.REVIEW)
        staff = demo.user(username)
        refused(
            case, NotAllowed, lambda: workflow.case_reopen(case=case, actor=staff, reason="再办")
        )
        refused(case, NotAllowed, lambda: workflow.case_close(case=case, actor=staff))

    def test_supervisor_orders_another_round(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.REVIEW)
        workflow.case_reopen(case=case, actor=demo.user("supervisor1"), reason="督查研判：再办")
        case.refresh_from_db()
        assert case.status == Status.HANDLING
        assert case.reopen_count == 2

    def test_supervisor_closes_an_unreasonable_demand(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        case = make_case(Status.REVIEW)
        workflow.case_close(case=case, actor=demo.user("supervisor1"), unreasonable=True)
        case.refresh_from_db()
        assert case.status == Status.CLOSED
        assert case.excluded_from_satisfaction is True
        assert case.closed_at == last_event(case).created_at  # the CLOSE event's moment
        assert last_event(case).payload["unreasonable"] is True

    def test_unsatisfied_intake_answer_offers_only_what_works(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        # Given a consultation answered on the spot and rated 不满意
        case = make_case(Status.SUBMITTED, category=demo.category("consult"))
        workflow.case_resolve_at_intake(case=case, actor=demo.user("operator1"), reply="已答复")
        workflow.case_evaluate(case=case, actor=demo.user("resident1"), rating=Rating.UNSATISFIED)
        case.refresh_from_db()
        dispatcher = demo.user("dispatcher_huangzhong")
        # When the dispatcher is offered 重办, then taking it works
        if "reopen" in workflow.allowed_actions(dispatcher, case):
            workflow.case_reopen(case=case, actor=dispatcher, reason="诉求人不满意")
            case.refresh_from_db()
            assert case.status in (Status.HANDLING, Status.ACCEPTED)

    def test_unreasonable_is_judged_only_in_review(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.EVALUATED)
        refused(
            case,
            InvalidInput,
            lambda: workflow.case_close(
                case=case, actor=demo.user("dispatcher_huangzhong"), unreasonable=True
            ),
            field="unreasonable",
        )


# --- 督 supervise, re-route, 报 close ---------------------------------------------------------


class TestSupervise:
    @pytest.mark.parametrize(
        "status",
        [
            Status.SUBMITTED,
            Status.ACCEPTED,
            Status.DISPATCHED,
            Status.HANDLING,
            Status.REPLIED,
            Status.EVALUATED,
            Status.REVIEW,
        ],
    )
    def test_any_open_case_can_be_supervised(
        self, demo: Demo, make_case: MakeCase, status: str
    ) -> None:
        case = make_case(status)
        supervisor = demo.user("supervisor1")
        due = timezone.now() + dt.timedelta(days=2)
        order = workflow.case_supervise(case=case, actor=supervisor, due_at=due, note="限期办结")
        case.refresh_from_db()
        assert case.status == status
        assert case.supervision_level == SupervisionLevel.SUPERVISED
        assert (order.case, order.issued_by, order.due_at, order.fulfilled_at) == (
            case,
            supervisor,
            due,
            None,
        )
        event = last_event(case)
        assert (event.type, event.from_status, event.to_status) == (
            EventType.SUPERVISE,
            status,
            status,
        )

    @pytest.mark.parametrize("status", [Status.CLOSED, Status.REJECTED])
    def test_finished_case_is_not_supervised(
        self, demo: Demo, make_case: MakeCase, status: str
    ) -> None:
        case = make_case(status)
        refused(
            case,
            WrongState,
            lambda: workflow.case_supervise(
                case=case,
                actor=demo.user("supervisor1"),
                due_at=timezone.now() + dt.timedelta(days=1),
                note="限期办结",
            ),
        )
        assert not SupervisionOrder.objects.filter(case=case).exists()

    @pytest.mark.parametrize(
        ("due", "note", "field"),
        [
            pytest.param(dt.timedelta(minutes=-1), "限期", "due_at", id="past"),
            pytest.param(dt.timedelta(0), "限期", "due_at", id="now"),
            pytest.param(None, "限期", "due_at", id="missing"),
            pytest.param(dt.timedelta(days=1), "", "note", id="no-note"),
        ],
    )
    def test_due_date_in_the_future_and_a_note(
        self,
        demo: Demo,
        make_case: MakeCase,
        due: dt.timedelta | None,
        note: str,
        field: str,
    ) -> None:
        with travel(TUESDAY_10):
            case = make_case(Status.HANDLING)
            refused(
                case,
                InvalidInput,
                lambda: workflow.case_supervise(
                    case=case,
                    actor=demo.user("supervisor1"),
                    due_at=None if due is None else TUESDAY_10 + due,
                    note=note,
                ),
                field=field,
            )
        assert not SupervisionOrder.objects.filter(case=case).exists()


class TestRecategorise:
    def test_same_category_is_refused(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.SUBMITTED)
        refused(
            case,
            InvalidInput,
            lambda: workflow.case_recategorise(
                case=case,
                actor=demo.user("operator1"),
                category=demo.category("heating-cold"),
                reason="核实",
            ),
            field="category",
        )

    def test_submitted_case_gets_the_new_accept_deadline(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        quick = Category.objects.create(
            code="quick", name="快速受理", accept_amount=1, accept_unit=TimeUnit.CLOCK_HOURS
        )
        with travel(at(2026, 11, 26, 11)):
            case = make_case(Status.SUBMITTED)
        assert case.accept_by == at(2026, 11, 26, 14, 30)
        # When the operator re-routes it an hour later
        with travel(at(2026, 11, 26, 11, 30)):
            workflow.case_recategorise(
                case=case, actor=demo.user("operator1"), category=quick, reason="分类有误"
            )
        # Then the accept deadline counts from submission with the new SLA
        case.refresh_from_db()
        assert case.category == quick
        assert case.accept_by == at(2026, 11, 26, 12)
        event = last_event(case)
        assert event.payload["from"] == "供暖不热"
        assert event.payload["to"] == "快速受理"
        assert event.payload["reason"] == "分类有误"
        assert event.is_public is False

    def test_handling_case_keeps_its_deadlines(self, demo: Demo) -> None:
        with travel(TUESDAY_10):
            case = _make_at(demo, Status.HANDLING)
            before = Case.objects.values("accept_by", "contact_by", "resolve_by").get(pk=case.pk)
            workflow.case_recategorise(
                case=case,
                actor=demo.user("dispatcher_huangzhong"),
                category=demo.category("noise"),
                reason="实为噪音",
            )
        case.refresh_from_db()
        assert case.category == demo.category("noise")
        assert case.status == Status.HANDLING
        assert Case.objects.values("accept_by", "contact_by", "resolve_by").get(pk=case.pk) == (
            before
        )
        event = last_event(case)
        assert (event.payload["from"], event.payload["to"]) == ("供暖不热", "噪音")
        assert (event.from_status, event.to_status) == (Status.HANDLING, Status.HANDLING)


class TestClose:
    def test_staff_cannot_close_an_unrated_case(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.REPLIED)
        refused(
            case,
            WrongState,
            lambda: workflow.case_close(case=case, actor=demo.user("dispatcher_huangzhong")),
        )

    def test_system_closes_an_unrated_case(self, make_case: MakeCase) -> None:
        case = make_case(Status.REPLIED)
        workflow.case_close(case=case, actor=None, system=True)
        case.refresh_from_db()
        assert case.status == Status.CLOSED
        assert case.excluded_from_satisfaction is False
        event = last_event(case)
        assert event.actor is None
        assert (event.from_status, event.to_status) == (Status.REPLIED, Status.CLOSED)
        assert event.payload["not_evaluated"] is True
        assert "role" not in event.payload

    def test_system_close_only_from_replied(self, make_case: MakeCase) -> None:
        case = make_case(Status.EVALUATED)
        refused(case, WrongState, lambda: workflow.case_close(case=case, actor=None, system=True))

    def test_dispatcher_archives_a_rated_case(self, demo: Demo, make_case: MakeCase) -> None:
        dispatcher = demo.user("dispatcher_huangzhong")
        with travel(TUESDAY_10):
            case = make_case(Status.EVALUATED)
            workflow.case_close(case=case, actor=dispatcher, note="归档")
        case.refresh_from_db()
        assert case.status == Status.CLOSED
        assert case.closed_at == TUESDAY_10
        event = last_event(case)
        assert (event.actor, event.from_status, event.to_status) == (
            dispatcher,
            Status.EVALUATED,
            Status.CLOSED,
        )
        assert event.payload["not_evaluated"] is False

    def test_closed_case_stays_closed(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.CLOSED)
        refused(
            case,
            WrongState,
            lambda: workflow.case_close(case=case, actor=demo.user("dispatcher_huangzhong")),
        )


# --- the timeline and its signal --------------------------------------------------------------


def _pending_extension(case: Case, demo: Demo) -> None:
    workflow.case_request_extension(
        case=case,
        actor=demo.user("handler_huangzhong"),
        until=timezone.now() + dt.timedelta(days=30),
        reason="缺配件",
    )


# (start status, actor, action, expected to_status); from_status is the start status.
TRANSITION_TABLE: list[tuple[str, str, str, Callable[[Case, Any, Demo], Any], str]] = [
    (
        "accept",
        Status.SUBMITTED,
        "operator1",
        lambda c, a, d: workflow.case_accept(case=c, actor=a),
        Status.ACCEPTED,
    ),
    (
        "reject",
        Status.SUBMITTED,
        "dispatcher_huangzhong",
        lambda c, a, d: workflow.case_reject(case=c, actor=a, reason="out_of_scope"),
        Status.REJECTED,
    ),
    (
        "resolve_at_intake",
        Status.SUBMITTED,
        "operator1",
        lambda c, a, d: workflow.case_resolve_at_intake(case=c, actor=a, reply="已答复"),
        Status.REPLIED,
    ),
    (
        "dispatch",
        Status.ACCEPTED,
        "dispatcher_huangzhong",
        lambda c, a, d: workflow.case_dispatch(
            case=c, actor=a, lead_unit=d.unit("huangzhong-gov")
        ),
        Status.DISPATCHED,
    ),
    (
        "sign",
        Status.DISPATCHED,
        "handler_huangzhong",
        lambda c, a, d: workflow.case_sign(case=c, actor=a),
        Status.HANDLING,
    ),
    (
        "return",
        Status.DISPATCHED,
        "handler_huangzhong",
        lambda c, a, d: workflow.case_return(case=c, actor=a, reason="非本单位职责"),
        Status.ACCEPTED,
    ),
    (
        "progress",
        Status.HANDLING,
        "handler_gas",
        lambda c, a, d: workflow.case_add_progress(case=c, actor=a, text="抢修队已到场"),
        Status.HANDLING,
    ),
    (
        "contact",
        Status.HANDLING,
        "handler_huangzhong",
        lambda c, a, d: workflow.case_record_contact(case=c, actor=a),
        Status.HANDLING,
    ),
    (
        "request_extension",
        Status.HANDLING,
        "handler_huangzhong",
        lambda c, a, d: workflow.case_request_extension(
            case=c, actor=a, until=timezone.now() + dt.timedelta(days=30), reason="缺配件"
        ),
        Status.HANDLING,
    ),
    (
        "decide_extension",
        Status.HANDLING,
        "dispatcher_huangzhong",
        lambda c, a, d: workflow.case_decide_extension(case=c, actor=a, approve=True),
        Status.HANDLING,
    ),
    (
        "reply",
        Status.HANDLING,
        "handler_huangzhong",
        lambda c, a, d: workflow.case_reply(case=c, actor=a, outcome="resolved", text="已修复"),
        Status.REPLIED,
    ),
    (
        "evaluate",
        Status.REPLIED,
        "resident1",
        lambda c, a, d: workflow.case_evaluate(case=c, actor=a, rating="satisfied"),
        Status.EVALUATED,
    ),
    (
        "reopen",
        Status.REVIEW,
        "supervisor1",
        lambda c, a, d: workflow.case_reopen(case=c, actor=a, reason="再办"),
        Status.HANDLING,
    ),
    (
        "supervise",
        Status.DISPATCHED,
        "supervisor_huangzhong",
        lambda c, a, d: workflow.case_supervise(
            case=c, actor=a, due_at=timezone.now() + dt.timedelta(days=1), note="限期"
        ),
        Status.DISPATCHED,
    ),
    (
        "recategorise",
        Status.ACCEPTED,
        "operator1",
        lambda c, a, d: workflow.case_recategorise(
            case=c, actor=a, category=d.category("heating-leak"), reason="核实"
        ),
        Status.ACCEPTED,
    ),
    (
        "close",
        Status.EVALUATED,
        "dispatcher_huangzhong",
        lambda c, a, d: workflow.case_close(case=c, actor=a),
        Status.CLOSED,
    ),
]


class TestTimeline:
    @pytest.mark.parametrize(
        ("action", "start", "username", "call", "to_status"),
        TRANSITION_TABLE,
        ids=[row[0] for row in TRANSITION_TABLE],
    )
    def test_each_transition_writes_one_event_and_announces_it_after_commit(
        self,
        demo: Demo,
        make_case: MakeCase,
        committed: list[CaseEvent],
        django_capture_on_commit_callbacks: Any,
        action: str,
        start: str,
        username: str,
        call: Callable[[Case, Any, Demo], Any],
        to_status: str,
    ) -> None:
        # Given a case in the start state
        case = make_case(start)
        if action == "decide_extension":
            _pending_extension(case, demo)
        events_before = CaseEvent.objects.filter(case=case).count()
        actor = demo.user(username)

        # When the transition runs in its own transaction
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            call(case, actor, demo)
            # Then nothing is announced before the commit
            assert committed == []

        # Then exactly one event records who moved it from where to where
        assert CaseEvent.objects.filter(case=case).count() == events_before + 1
        event = last_event(case)
        assert event.type == action
        assert event.actor == actor
        assert (event.from_status, event.to_status) == (start, to_status)
        case.refresh_from_db()
        assert case.status == to_status
        # And it is announced once, after the commit (the other callbacks, if any, only ask a
        # worker to send the messages the event queued in the outbox)
        from notifications.services import kick_outbox

        assert sum(c is not kick_outbox for c in callbacks) == 1
        assert committed == [event]

    def test_refused_transition_announces_nothing(
        self,
        demo: Demo,
        make_case: MakeCase,
        committed: list[CaseEvent],
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        case = make_case(Status.ACCEPTED)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            for attempt in (
                lambda: workflow.case_accept(case=case, actor=demo.user("operator1")),
                lambda: workflow.case_sign(case=case, actor=demo.user("handler_huangzhong")),
                lambda: workflow.case_dispatch(
                    case=case, actor=demo.user("dispatcher_huangzhong"), lead_unit=None
                ),
            ):
                with pytest.raises(WorkflowError):
                    attempt()
        assert callbacks == []
        assert committed == []

    def test_a_refusal_after_other_work_does_not_cancel_its_announcement(
        self,
        demo: Demo,
        make_case: MakeCase,
        committed: list[CaseEvent],
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        case = make_case(Status.SUBMITTED)
        with django_capture_on_commit_callbacks(execute=True):
            workflow.case_accept(case=case, actor=demo.user("operator1"))
            with pytest.raises(InvalidInput):
                workflow.case_dispatch(
                    case=case,
                    actor=demo.user("dispatcher_huangzhong"),
                    lead_unit=demo.unit("huangzhong-gov"),
                    note="长" * 2001,  # refused after the row was changed: rolled back
                )
        case.refresh_from_db()
        assert case.status == Status.ACCEPTED
        assert case.lead_unit is None
        assert [e.type for e in committed] == [EventType.ACCEPT]

    def test_the_timeline_tells_the_story_in_order(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.CLOSED)
        events = timeline(case)
        assert [e.type for e in events] == [
            EventType.SUBMIT,
            EventType.ACCEPT,
            EventType.DISPATCH,
            EventType.SIGN,
            EventType.REPLY,
            EventType.EVALUATE,
            EventType.CLOSE,
        ]
        # each event starts where the previous one left the case
        for previous, event in itertools.pairwise(events):
            assert event.from_status == previous.to_status
            assert (event.created_at, event.pk) > (previous.created_at, previous.pk)
        assert list(case.events.all()) == events  # the model's default order is the same
        assert [e.actor.username for e in events] == [
            "resident1",
            "operator1",
            "dispatcher_huangzhong",
            "handler_huangzhong",
            "handler_huangzhong",
            "resident1",
            "dispatcher_huangzhong",
        ]


# --- PostgreSQL: the timeline cannot be rewritten ---------------------------------------------


@pytest.mark.postgres
class TestAppendOnlyOnPostgres:
    @pytest.mark.parametrize(
        "sql",
        [
            "UPDATE cases_caseevent SET payload = '{}'::jsonb WHERE id = %s",
            "DELETE FROM cases_caseevent WHERE id = %s",
        ],
        ids=["update", "delete"],
    )
    def test_raw_update_and_delete_are_refused(self, make_case: MakeCase, sql: str) -> None:
        case = make_case(Status.SUBMITTED)
        [event] = timeline(case)
        # ERRCODE integrity_constraint_violation (SQLSTATE 23000) arrives as IntegrityError
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
        event.refresh_from_db()
        assert event.payload == {"channel": "web"}

    def test_orm_update_and_delete_are_refused(self, make_case: MakeCase) -> None:
        case = make_case(Status.SUBMITTED)
        [event] = timeline(case)
        with pytest.raises(IntegrityError), transaction.atomic():
            CaseEvent.objects.filter(pk=event.pk).update(is_public=False)
        with pytest.raises(IntegrityError), transaction.atomic():
            event.delete()
        assert CaseEvent.objects.filter(pk=event.pk, is_public=True).exists()

    def test_insert_still_works(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.SUBMITTED)
        workflow.case_accept(case=case, actor=demo.user("operator1"))
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM cases_caseevent WHERE case_id = %s", [case.pk])
            (count,) = cursor.fetchone()
        assert count == 2
