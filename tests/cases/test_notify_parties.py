"""Everyone who must act on a case is told, once (issue 14 item 3): the co-handling units when a
case is dispatched or reassigned to a new lead, and the unit a 督办 order targets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

from cases import workflow
from cases.models import Case, Status
from notifications.models import Notification
from tests.conftest import Demo

MakeCase = Callable[..., Case]
HUANGZHONG = {"handler_huangzhong", "leader_huangzhong"}  # 湟中区人民政府's handlers


def told(case: Case, kind: str) -> list[str]:
    """The usernames told of ``kind`` about the case, one per message."""
    return sorted(
        Notification.objects.filter(subject_id=case.pk, kind=kind).values_list(
            "user__username", flat=True
        )
    )


def test_the_co_handling_units_are_told_of_the_dispatch_once(
    demo: Demo, make_case: MakeCase
) -> None:
    # Given an accepted heating case, dispatched to 湟中区 with 华润燃气 co-handling
    case = make_case(Status.ACCEPTED)
    workflow.case_dispatch(
        case=case,
        actor=demo.user("dispatcher_huangzhong"),
        lead_unit=demo.unit("huangzhong-gov"),
        co_units=[demo.unit("xn-gas")],
    )
    # Then the gas company's handler is asked to co-handle, once; the lead unit is assigned it
    assert told(case, "case_cohandle") == ["handler_gas"]
    message = Notification.objects.get(kind="case_cohandle")
    assert (
        message.params["unit"] == "湟中区人民政府" and message.params["code"] == case.tracking_code
    )
    assert set(told(case, "case_assigned")) == HUANGZHONG
    # And a reassignment to another lead tells the co-handling unit who leads now, once more
    case.refresh_from_db()
    workflow.case_reassign(
        case=case,
        actor=demo.user("dispatcher_huangzhong"),
        lead_unit=demo.unit("xn-heating"),
        co_units=[demo.unit("xn-gas")],
    )
    assert told(case, "case_cohandle") == ["handler_gas", "handler_gas"]
    assert Notification.objects.filter(kind="case_cohandle").latest("pk").params["unit"] == (
        "西宁市供热有限公司"
    )


def test_a_dispatch_without_co_units_tells_no_co_unit(demo: Demo, make_case: MakeCase) -> None:
    case = make_case(Status.ACCEPTED)
    workflow.case_dispatch(
        case=case, actor=demo.user("dispatcher_huangzhong"), lead_unit=demo.unit("huangzhong-gov")
    )
    assert told(case, "case_cohandle") == []
    assert set(told(case, "case_assigned")) == HUANGZHONG


def test_a_supervision_order_is_told_to_the_lead_unit_once(
    demo: Demo, make_case: MakeCase
) -> None:
    case = make_case(Status.HANDLING)
    due = timezone.now() + dt.timedelta(days=2)
    workflow.case_supervise(
        case=case, actor=demo.user("supervisor1"), due_at=due, note="请两日内办结。"
    )
    assert set(told(case, "supervision_order")) == HUANGZHONG
    assert len(told(case, "supervision_order")) == len(HUANGZHONG)
    message = Notification.objects.filter(kind="supervision_order").first()
    assert message is not None
    assert dt.datetime.fromisoformat(message.params["deadline"]) == due
    assert "请两日内办结" not in str(message.params)  # the note stays on the case page


def test_an_order_on_a_case_not_yet_dispatched_is_told_to_its_dispatchers(
    demo: Demo, make_case: MakeCase
) -> None:
    case = make_case(Status.ACCEPTED)
    workflow.case_supervise(
        case=case,
        actor=demo.user("supervisor1"),
        due_at=timezone.now() + dt.timedelta(days=1),
        note="尽快派单。",
    )
    assert told(case, "supervision_order") == ["dispatcher_huangzhong"]
