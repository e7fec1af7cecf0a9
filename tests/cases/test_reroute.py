"""重新派单 (issue 14): re-routing a case after it was dispatched, called as functions.

The lead unit that has signed may ask to give the case back (申请退回); a dispatcher of the
dispatch level approves (the case goes back to 待派单 as the unit's 退回) or refuses; before a
reply a dispatcher may take the case back (撤回) or move it to another unit (改派). Who may take
each step from which state is the permission table's (tests/cases/api/test_permission_table.py);
this file checks what each step changes, writes and tells.

The seed's case: 赵先生's heating complaint in 湟中区多巴一村, dispatched to 湟中区人民政府
(lead, handled by handler_huangzhong and leader_huangzhong) with 华润燃气 (co-handler).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from cases import workflow
from cases.models import (
    Case,
    CaseEvent,
    EventType,
    ExtensionRequest,
    ExtensionStatus,
    ReturnRequest,
    ReturnStatus,
    Status,
    SupervisionLevel,
)
from notifications.models import Notification, OutboxMessage
from org.models import Role
from tests.cases.test_concurrency import fresh_case, race, seeded  # noqa: F401 - seeded: a fixture
from tests.conftest import Demo
from tests.factories import MembershipFactory, UserFactory
from xining_issues.errors import InvalidInput, NotAllowed, WorkflowError, WrongState

MakeCase = Callable[..., Case]
REASON = "该管段属市供热公司产权，不属于本单位职责。"
PHONE = "13897123456"  # the complainant's, as make_case files it


def events_of(case: Case, kind: str) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case, type=kind).order_by("pk"))


def refused(
    case: Case, error: type[WorkflowError], call: Callable[[], Any], field: str | None = None
) -> WorkflowError:
    """Run ``call``, expect ``error``; the case row, its timeline and its requests stay."""
    before = (
        Case.objects.values().get(pk=case.pk),
        CaseEvent.objects.filter(case=case).count(),
        list(ReturnRequest.objects.filter(case=case).values_list("pk", "status")),
    )
    with pytest.raises(error) as caught:
        call()
    after = (
        Case.objects.values().get(pk=case.pk),
        CaseEvent.objects.filter(case=case).count(),
        list(ReturnRequest.objects.filter(case=case).values_list("pk", "status")),
    )
    assert after == before
    if field is not None:
        assert field in caught.value.fields, caught.value.fields
    return caught.value


def told(case: Case, kind: str) -> list[str]:
    """The usernames whose inbox holds ``kind`` about ``case``, sorted (repeats kept)."""
    return sorted(
        Notification.objects.filter(case=case, kind=kind).values_list("user__username", flat=True)
    )


@pytest.fixture
def handling(make_case: MakeCase) -> Case:
    return make_case(Status.HANDLING)


def ask(demo: Demo, case: Case, reason: str = REASON) -> ReturnRequest:
    return workflow.case_request_return(
        case=case, actor=demo.user("handler_huangzhong"), reason=reason
    )


def decide(demo: Demo, case: Case, *, approve: bool, note: str = "") -> Case:
    return workflow.case_decide_return(
        case=case, actor=demo.user("dispatcher_huangzhong"), approve=approve, note=note
    )


# --- 申请退回 ---------------------------------------------------------------------------------


class TestRequestReturn:
    def test_the_unit_asks_and_keeps_the_case(self, demo: Demo, handling: Case) -> None:
        before = Case.objects.values().get(pk=handling.pk)
        # When the lead unit asks to give the signed case back
        request = ask(demo, handling)
        # Then a pending request names the unit, who asked and why
        assert request.status == ReturnStatus.PENDING
        assert (request.unit, request.requested_by, request.reason) == (
            demo.unit("huangzhong-gov"),
            demo.user("handler_huangzhong"),
            REASON,
        )
        # And the case stays with the unit, deadlines and all, until a dispatcher decides
        after = Case.objects.values().get(pk=handling.pk)
        assert {k: v for k, v in after.items() if k != "updated_at"} == {
            k: v for k, v in before.items() if k != "updated_at"
        }
        # And one staff-only event records it
        (event,) = events_of(handling, EventType.REQUEST_RETURN)
        assert (event.actor, event.unit, event.is_public) == (
            demo.user("handler_huangzhong"),
            demo.unit("huangzhong-gov"),
            False,
        )
        assert (event.from_status, event.to_status) == (Status.HANDLING, Status.HANDLING)
        assert event.payload == {"role": Role.HANDLER, "request": request.pk, "reason": REASON}

    def test_reason_is_required(self, demo: Demo, handling: Case) -> None:
        refused(handling, InvalidInput, lambda: ask(demo, handling, "  "), field="reason")
        assert not ReturnRequest.objects.exists()

    def test_one_pending_request_at_a_time(self, demo: Demo, handling: Case) -> None:
        ask(demo, handling)
        error = refused(handling, WrongState, lambda: ask(demo, handling, "再次申请"))
        assert "已有一份退回申请" in str(error)
        assert ReturnRequest.objects.filter(case=handling).count() == 1

    def test_the_constraint_decides_if_the_guard_is_passed(
        self, demo: Demo, handling: Case, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Given a pending request the guard does not see (a stale annotation)
        ask(demo, handling)
        monkeypatch.setattr(workflow, "_pending_return", lambda case: False)
        # Then the unique constraint refuses the second one, as a 409
        refused(handling, WrongState, lambda: ask(demo, handling, "再次申请"))

    def test_a_co_unit_cannot_ask(self, demo: Demo, handling: Case) -> None:
        refused(
            handling,
            NotAllowed,
            lambda: workflow.case_request_return(
                case=handling, actor=demo.user("handler_gas"), reason=REASON
            ),
        )

    def test_before_signing_the_unit_returns_it_directly(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        case = make_case(Status.DISPATCHED)
        refused(case, WrongState, lambda: ask(demo, case))

    def test_a_case_the_level_above_took_cannot_be_given_back(
        self, demo: Demo, handling: Case
    ) -> None:
        # Given a case returned three times, so the city had to take it (兜底)
        Case.objects.filter(pk=handling.pk).update(return_count=workflow.MAX_RETURNS)
        refused(handling, WrongState, lambda: ask(demo, handling))

    def test_nobody_is_told_of_the_request(self, demo: Demo, handling: Case) -> None:
        # Requests for more time tell nobody either: the dispatcher's queue shows them.
        notes, mails = Notification.objects.count(), OutboxMessage.objects.count()
        ask(demo, handling)
        assert (Notification.objects.count(), OutboxMessage.objects.count()) == (notes, mails)


# --- 退回审批 ---------------------------------------------------------------------------------


class TestDecideReturn:
    def test_approval_sends_the_case_back_to_dispatch(self, demo: Demo, handling: Case) -> None:
        request = ask(demo, handling)
        dispatcher = demo.user("dispatcher_huangzhong")
        earlier = list(CaseEvent.objects.filter(case=handling).values_list("pk", flat=True))
        # When the dispatcher approves
        decide(demo, handling, approve=True, note="同意，转市供热公司。")
        # Then the case waits for dispatch as after a 退回: no unit, no deadlines, no contact
        case = Case.objects.get(pk=handling.pk)
        assert case.status == Status.ACCEPTED
        assert case.lead_unit is None
        assert not case.co_units.exists()
        assert (case.dispatched_at, case.signed_at, case.contacted_at) == (None, None, None)
        assert (case.contact_by, case.resolve_by, case.sign_by, case.warn_at) == (None,) * 4
        assert case.return_count == 1
        assert case.dispatch_region == demo.region("湟中区")
        # And the request is approved by that dispatcher, with the note
        request.refresh_from_db()
        assert (request.status, request.decided_by, request.decision_note) == (
            ReturnStatus.APPROVED,
            dispatcher,
            "同意，转市供热公司。",
        )
        assert request.decided_at is not None
        # And one public event counts the return against the unit that asked
        (event,) = events_of(case, EventType.DECIDE_RETURN)
        assert (event.actor, event.unit, event.is_public) == (
            dispatcher,
            demo.unit("huangzhong-gov"),
            True,
        )
        assert (event.from_status, event.to_status) == (Status.HANDLING, Status.ACCEPTED)
        assert event.payload == {
            "role": Role.DISPATCHER,
            "request": request.pk,
            "approved": True,
            "reason": REASON,
            "note": "同意，转市供热公司。",
            "unit": "湟中区人民政府",
            "return_count": 1,
            "escalated_to": None,
        }
        # And the history stays
        assert set(earlier) < set(CaseEvent.objects.filter(case=case).values_list("pk", flat=True))

    def test_the_approved_case_is_dispatched_again(self, demo: Demo, handling: Case) -> None:
        ask(demo, handling)
        decide(demo, handling, approve=True)
        workflow.case_dispatch(
            case=handling,
            actor=demo.user("dispatcher_huangzhong"),
            lead_unit=demo.unit("xn-heating"),
        )
        case = Case.objects.get(pk=handling.pk)
        assert (case.status, case.lead_unit) == (Status.DISPATCHED, demo.unit("xn-heating"))

    def test_the_third_return_goes_to_the_city(self, demo: Demo, handling: Case) -> None:
        # Given a case returned twice before
        Case.objects.filter(pk=handling.pk).update(return_count=workflow.MAX_RETURNS - 1)
        ask(demo, handling)
        # When its third return is approved
        decide(demo, handling, approve=True)
        # Then the city's dispatchers take it over (兜底), as on a third 退回
        case = Case.objects.get(pk=handling.pk)
        assert case.return_count == workflow.MAX_RETURNS
        assert case.dispatch_region == demo.region()
        (event,) = events_of(case, EventType.DECIDE_RETURN)
        assert event.payload["escalated_to"] == demo.region().name
        refused(
            case,
            NotAllowed,
            lambda: workflow.case_dispatch(
                case=case,
                actor=demo.user("dispatcher_huangzhong"),
                lead_unit=demo.unit("huangzhong-gov"),
            ),
        )

    def test_refusal_leaves_the_case_with_the_unit(self, demo: Demo, handling: Case) -> None:
        request = ask(demo, handling)
        before = Case.objects.values().get(pk=handling.pk)
        # When the dispatcher refuses
        decide(demo, handling, approve=False, note="管段由区政府协调修复。")
        # Then the case is unchanged: still the unit's, deadlines and count as they were
        after = Case.objects.values().get(pk=handling.pk)
        assert {k: v for k, v in after.items() if k != "updated_at"} == {
            k: v for k, v in before.items() if k != "updated_at"
        }
        assert set(handling.co_units.values_list("code", flat=True)) == {"xn-gas"}
        # And the request is refused with the note, in a staff-only event
        request.refresh_from_db()
        assert (request.status, request.decision_note) == (
            ReturnStatus.REFUSED,
            "管段由区政府协调修复。",
        )
        (event,) = events_of(handling, EventType.DECIDE_RETURN)
        assert (event.unit, event.is_public, event.to_status) == (
            demo.unit("huangzhong-gov"),
            False,
            Status.HANDLING,
        )
        assert event.payload["approved"] is False
        assert "return_count" not in event.payload
        # And the unit may ask again later
        assert ask(demo, handling, "情况有变，再次申请。").status == ReturnStatus.PENDING

    def test_nothing_to_decide(self, demo: Demo, handling: Case) -> None:
        error = refused(handling, WrongState, lambda: decide(demo, handling, approve=True))
        assert "没有待审批的退回申请" in str(error)

    def test_a_decided_request_is_not_decided_again(self, demo: Demo, handling: Case) -> None:
        ask(demo, handling)
        decide(demo, handling, approve=False)
        refused(handling, WrongState, lambda: decide(demo, handling, approve=True))
        assert ReturnRequest.objects.get(case=handling).status == ReturnStatus.REFUSED

    def test_a_dispatcher_of_another_district_cannot_decide(
        self, demo: Demo, handling: Case
    ) -> None:
        ask(demo, handling)
        refused(
            handling,
            NotAllowed,
            lambda: workflow.case_decide_return(
                case=handling, actor=demo.user("dispatcher_chengdong"), approve=True
            ),
        )

    def test_a_pending_extension_lapses_on_approval(self, demo: Demo, handling: Case) -> None:
        assert handling.resolve_by is not None
        workflow.case_request_extension(
            case=handling,
            actor=demo.user("handler_huangzhong"),
            until=handling.resolve_by + dt.timedelta(days=5),
            reason="缺配件",
        )
        ask(demo, handling)
        decide(demo, handling, approve=True)
        assert ExtensionRequest.objects.get(case=handling).status == ExtensionStatus.LAPSED

    @pytest.mark.parametrize(
        ("approve", "kind"), [(True, "return_approved"), (False, "return_refused")]
    )
    def test_the_unit_is_told_the_answer_once(
        self, demo: Demo, handling: Case, approve: bool, kind: str
    ) -> None:
        ask(demo, handling)
        decide(demo, handling, approve=approve)
        # The unit's handlers, each once; nobody else hears of it
        assert told(handling, kind) == ["handler_huangzhong", "leader_huangzhong"]
        other = "return_refused" if approve else "return_approved"
        assert told(handling, other) == []
        assert not OutboxMessage.objects.filter(kind=kind, channel="sms").exists()


# --- 撤回 -------------------------------------------------------------------------------------


class TestWithdraw:
    @pytest.mark.parametrize("state", [Status.DISPATCHED, Status.HANDLING])
    def test_the_dispatcher_takes_the_case_back(
        self, demo: Demo, make_case: MakeCase, state: str
    ) -> None:
        case = make_case(state)
        dispatcher = demo.user("dispatcher_huangzhong")
        earlier = CaseEvent.objects.filter(case=case).count()
        # When the dispatcher withdraws it from 湟中区人民政府
        workflow.case_withdraw(case=case, actor=dispatcher, reason="派单有误。")
        # Then it waits for dispatch with no unit and no deadlines
        case = Case.objects.get(pk=case.pk)
        assert case.status == Status.ACCEPTED
        assert case.lead_unit is None
        assert not case.co_units.exists()
        assert (case.dispatched_at, case.signed_at, case.contacted_at) == (None, None, None)
        assert (case.contact_by, case.resolve_by, case.sign_by, case.warn_at) == (None,) * 4
        # And it is not the unit's 退回: the count and the dispatch level stay
        assert case.return_count == 0
        assert case.dispatch_region == demo.region("湟中区")
        # And one event names the unit it was taken from; the history stays
        assert CaseEvent.objects.filter(case=case).count() == earlier + 1
        (event,) = events_of(case, EventType.WITHDRAW)
        assert (event.actor, event.unit, event.from_status, event.to_status) == (
            dispatcher,
            demo.unit("huangzhong-gov"),
            state,
            Status.ACCEPTED,
        )
        assert event.payload == {
            "role": Role.DISPATCHER,
            "reason": "派单有误。",
            "unit": "湟中区人民政府",
        }

    def test_a_pending_request_to_return_lapses(self, demo: Demo, handling: Case) -> None:
        request = ask(demo, handling)
        workflow.case_withdraw(
            case=handling, actor=demo.user("dispatcher_huangzhong"), reason="改由市级派单。"
        )
        request.refresh_from_db()
        assert request.status == ReturnStatus.LAPSED
        assert request.decision_note == str(workflow.WITHDRAWN_NOTE)
        assert request.decided_at is not None

    def test_reason_is_required(self, demo: Demo, handling: Case) -> None:
        refused(
            handling,
            InvalidInput,
            lambda: workflow.case_withdraw(
                case=handling, actor=demo.user("dispatcher_huangzhong"), reason=""
            ),
            field="reason",
        )

    def test_not_after_the_reply(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.REPLIED)
        refused(
            case,
            WrongState,
            lambda: workflow.case_withdraw(
                case=case, actor=demo.user("dispatcher_huangzhong"), reason="撤回"
            ),
        )

    def test_the_withdrawn_case_is_dispatched_again(self, demo: Demo, handling: Case) -> None:
        dispatcher = demo.user("dispatcher_huangzhong")
        workflow.case_withdraw(case=handling, actor=dispatcher, reason="派单有误。")
        workflow.case_dispatch(case=handling, actor=dispatcher, lead_unit=demo.unit("xn-heating"))
        case = Case.objects.get(pk=handling.pk)
        assert (case.status, case.lead_unit) == (Status.DISPATCHED, demo.unit("xn-heating"))


# --- 改派 -------------------------------------------------------------------------------------


@pytest.fixture
def heating_handler(demo: Demo) -> Any:
    """A handler of 西宁市供热有限公司 (the seed has none)."""
    user = UserFactory(username="handler_heating")
    MembershipFactory(user=user, unit=demo.unit("xn-heating"), role=Role.HANDLER)
    return user


class TestReassign:
    @pytest.mark.parametrize("state", [Status.DISPATCHED, Status.HANDLING])
    def test_the_case_moves_to_the_new_unit_with_new_deadlines(
        self, demo: Demo, make_case: MakeCase, state: str
    ) -> None:
        dispatcher = demo.user("dispatcher_huangzhong")
        later = timezone.now() + dt.timedelta(days=1, hours=3)
        case = make_case(state)
        workflow.case_record_contact(case=case, actor=demo.user("handler_huangzhong"))
        # When, a day later, the dispatcher moves it to the city heating company alone
        with time_machine.travel(later, tick=False):
            workflow.case_reassign(
                case=case,
                actor=dispatcher,
                lead_unit=demo.unit("xn-heating"),
                co_units=[],
                note="市政管网，转市供热公司。",
            )
            # (the deadlines a 派单 to the same unit at the same moment sets)
            reference = make_case(Status.ACCEPTED)
            workflow.case_dispatch(
                case=reference, actor=dispatcher, lead_unit=demo.unit("xn-heating")
            )
        reference.refresh_from_db()
        # Then it waits for the new unit's 签收, from now on
        case = Case.objects.get(pk=case.pk)
        assert case.status == Status.DISPATCHED
        assert case.lead_unit == demo.unit("xn-heating")
        assert not case.co_units.exists()
        assert case.dispatched_at == later
        assert (case.signed_at, case.contacted_at) == (None, None)
        for field in ("sign_by", "contact_by", "resolve_by", "warn_at"):
            assert getattr(case, field) == getattr(reference, field), field
        assert case.supervision_level == SupervisionLevel.ON_TIME
        # And it is not a 退回 of the unit it left
        assert case.return_count == 0
        # And one event names both units, and counts the new one (its unit)
        (event,) = events_of(case, EventType.REASSIGN)
        assert (event.unit, event.from_status, event.to_status, event.is_public) == (
            demo.unit("xn-heating"),
            state,
            Status.DISPATCHED,
            True,
        )
        assert event.payload == {
            "role": Role.DISPATCHER,
            "lead_unit": "西宁市供热有限公司",
            "co_units": [],
            "resolve_by": events_of(reference, EventType.DISPATCH)[0].payload["resolve_by"],
            "note": "市政管网，转市供热公司。",
            "from_unit": "湟中区人民政府",
        }

    def test_co_units_are_set_as_on_dispatch(self, demo: Demo, handling: Case) -> None:
        workflow.case_reassign(
            case=handling,
            actor=demo.user("dispatcher_huangzhong"),
            lead_unit=demo.unit("xn-heating"),
            co_units=[demo.unit("xn-gas"), demo.unit("xn-heating")],
        )
        # the new lead is never its own co-unit
        assert set(handling.co_units.values_list("code", flat=True)) == {"xn-gas"}

    def test_the_same_unit_is_refused(self, demo: Demo, handling: Case) -> None:
        refused(
            handling,
            InvalidInput,
            lambda: workflow.case_reassign(
                case=handling,
                actor=demo.user("dispatcher_huangzhong"),
                lead_unit=demo.unit("huangzhong-gov"),
            ),
            field="lead_unit",
        )

    @pytest.mark.parametrize(
        ("lead", "co", "field"),
        [
            pytest.param(None, [], "lead_unit", id="no-unit"),
            pytest.param("xn-water", [], "lead_unit", id="lead-out-of-reach"),
            pytest.param("xn-heating", ["chengdong-gov"], "co_units", id="co-out-of-reach"),
        ],
    )
    def test_units_are_checked_as_on_dispatch(
        self, demo: Demo, handling: Case, lead: str | None, co: list[str], field: str
    ) -> None:
        refused(
            handling,
            InvalidInput,
            lambda: workflow.case_reassign(
                case=handling,
                actor=demo.user("dispatcher_huangzhong"),
                lead_unit=demo.unit(lead) if lead else None,
                co_units=[demo.unit(code) for code in co],
            ),
            field=field,
        )

    def test_a_pending_request_to_return_lapses(self, demo: Demo, handling: Case) -> None:
        request = ask(demo, handling)
        workflow.case_reassign(
            case=handling,
            actor=demo.user("dispatcher_huangzhong"),
            lead_unit=demo.unit("xn-heating"),
        )
        request.refresh_from_db()
        assert (request.status, request.decision_note) == (
            ReturnStatus.LAPSED,
            str(workflow.REASSIGNED_NOTE),
        )

    def test_the_new_unit_and_the_complainant_are_told_as_on_dispatch(
        self, demo: Demo, handling: Case, heating_handler: Any
    ) -> None:
        assert told(handling, "case_assigned") == ["handler_huangzhong", "leader_huangzhong"]
        workflow.case_reassign(
            case=handling,
            actor=demo.user("dispatcher_huangzhong"),
            lead_unit=demo.unit("xn-heating"),
        )
        # The new unit's handler, once (the old unit's messages are the 派单's)
        assert told(handling, "case_assigned") == [
            "handler_heating",
            "handler_huangzhong",
            "leader_huangzhong",
        ]
        # The complainant, by SMS, once per 派单 and once for the 改派
        sms = OutboxMessage.objects.filter(channel="sms", recipient=PHONE, kind="case_dispatched")
        assert sms.count() == 2
        assert sms.order_by("pk").last().params["unit"] == "西宁市供热有限公司"  # type: ignore[union-attr]


# --- the other steps meet a pending request ---------------------------------------------------


def test_the_reply_lapses_a_pending_request_to_return(demo: Demo, handling: Case) -> None:
    request = ask(demo, handling)
    workflow.case_reply(
        case=handling, actor=demo.user("handler_huangzhong"), outcome="resolved", text="已修复。"
    )
    request.refresh_from_db()
    assert request.status == ReturnStatus.LAPSED


def test_the_buttons_follow_the_request(demo: Demo, handling: Case) -> None:
    handler, dispatcher = demo.user("handler_huangzhong"), demo.user("dispatcher_huangzhong")
    assert "request_return" in workflow.allowed_actions(handler, handling)
    assert "decide_return" not in workflow.allowed_actions(dispatcher, handling)
    ask(demo, handling)
    handling.refresh_from_db()
    assert "request_return" not in workflow.allowed_actions(handler, handling)
    assert {"decide_return", "withdraw", "reassign"} <= set(
        workflow.allowed_actions(dispatcher, handling)
    )


# --- two dispatchers at once (PostgreSQL: SQLite serialises whole transactions) ---------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded")
def test_two_dispatchers_decide_the_same_request_one_wins() -> None:
    demo = Demo()
    case = fresh_case(demo, Status.HANDLING)
    ask(demo, case)
    city, district = demo.user("dispatcher_city"), demo.user("dispatcher_huangzhong")
    # When one approves while the other refuses
    results = race(
        lambda: workflow.case_decide_return(case=case, actor=city, approve=True),
        lambda: workflow.case_decide_return(case=case, actor=district, approve=False),
    )
    # Then exactly one decides; the other hears there is nothing left to decide
    wins = [r for r in results if isinstance(r, Case)]
    losses = [r for r in results if isinstance(r, WrongState)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert len(events_of(case, EventType.DECIDE_RETURN)) == 1
    request = ReturnRequest.objects.get(case=case)
    final = Case.objects.get(pk=case.pk)
    if request.status == ReturnStatus.APPROVED:
        assert (final.status, final.return_count) == (Status.ACCEPTED, 1)
    else:
        assert (request.status, final.status) == (ReturnStatus.REFUSED, Status.HANDLING)


# --- the case page ------------------------------------------------------------------------------


def test_the_case_page_shows_staff_the_pending_request(demo: Demo, handling: Case) -> None:
    def pending(username: str) -> Any:
        client = APIClient()
        client.force_authenticate(demo.user(username))
        response = client.get(f"/api/v1/cases/{handling.pk}/")
        assert response.status_code == 200
        return response.json()["pending_return"]

    assert pending("dispatcher_huangzhong") is None
    request = ask(demo, handling)
    shown = pending("dispatcher_huangzhong")
    assert {k: shown[k] for k in ("id", "unit", "requested_by", "reason")} == {
        "id": request.pk,
        "unit": "湟中区人民政府",
        "requested_by": "韩承办",
        "reason": REASON,
    }
    # A note between staff: the complainant does not read it
    assert pending("resident1") is None


@pytest.mark.parametrize(
    ("username", "whole"),
    [
        ("dispatcher_huangzhong", True),  # decides it
        ("handler_huangzhong", True),  # asked
        ("committee1", False),  # reads the case, does not handle it
        ("supervisor1", False),
    ],
)
def test_the_pending_request_is_masked_for_readers_without_the_need(
    demo: Demo, handling: Case, username: str, whole: bool
) -> None:
    # Given a reason that names the complainant and another phone
    ask(demo, handling, "赵先生（电话13909719876）称管道属市供热公司。")
    client = APIClient()
    client.force_authenticate(demo.user(username))
    # When a reader opens the case
    reason = client.get(f"/api/v1/cases/{handling.pk}/").json()["pending_return"]["reason"]
    # Then only those who handle it read it whole
    assert ("13909719876" in reason) is whole, reason
    assert reason.endswith("称管道属市供热公司。")
