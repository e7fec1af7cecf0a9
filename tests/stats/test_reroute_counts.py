"""How 重新派单 is counted (issue 14): a 改派 is a 派单 of the new unit; a 撤回 and an approved
退回申请 count nothing themselves (the 派单 after them does), like a 退回. The rollup, its
Python rebuild and (on PostgreSQL) its set-based rebuild find what ``compute_rates`` finds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from cases import workflow
from cases.models import Case, EventType, Status
from org.models import Role
from stats.rates import DISPATCH_TYPES, RATE_TYPES
from stats.rebuild import rebuild_rollup_sql
from stats.rollup import rebuild_rollup, refresh_rollup
from tests.cases.conftest import PATH_TO, run_steps
from tests.conftest import Demo
from tests.factories import MembershipFactory, UserFactory
from tests.stats.conftest import TZ
from tests.stats.test_rebuild_sql import snapshot
from tests.stats.test_rollup import direct, rolled

DAY1 = dt.date(2026, 11, 24)  # a Tuesday
DAY2, DAY3 = DAY1 + dt.timedelta(days=1), DAY1 + dt.timedelta(days=2)


def at(day: dt.date, hour: int = 10) -> Any:
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), tzinfo=TZ), tick=False)


def test_which_steps_count() -> None:
    assert EventType.REASSIGN in DISPATCH_TYPES and DISPATCH_TYPES <= RATE_TYPES
    for kind in (EventType.WITHDRAW, EventType.DECIDE_RETURN, EventType.REQUEST_RETURN):
        assert kind not in RATE_TYPES
    assert EventType.RETURN not in RATE_TYPES


@pytest.fixture
def rerouted(demo: Demo) -> dict[str, Case]:
    """Three heating cases dispatched to 湟中区人民政府 on day 1 and moved on day 2: reassigned
    to the city heating company (which contacts on time), withdrawn and dispatched there again,
    given back on approval and dispatched there on day 3."""
    dispatcher, handler = demo.user("dispatcher_huangzhong"), demo.user("handler_huangzhong")
    heating = UserFactory(username="handler_heating")
    MembershipFactory(user=heating, unit=demo.unit("xn-heating"), role=Role.HANDLER)
    cases: dict[str, Case] = {}
    with at(DAY1):
        for name in ("reassigned", "withdrawn", "returned"):
            case = workflow.case_submit(
                actor=demo.user("resident1"),
                category=demo.category("heating-cold"),
                region=demo.region("湟中区", "多巴镇", "多巴一村"),
                description="家里暖气不热。",
                complainant_name="赵先生",
                complainant_phone="13897123456",
            )
            cases[name] = run_steps(case, PATH_TO[Status.HANDLING], demo)
            workflow.case_record_contact(case=case, actor=handler)
        workflow.case_request_return(case=cases["returned"], actor=handler, reason="非本单位职责")
    new_unit = demo.unit("xn-heating")
    with at(DAY2):
        workflow.case_reassign(case=cases["reassigned"], actor=dispatcher, lead_unit=new_unit)
        workflow.case_withdraw(case=cases["withdrawn"], actor=dispatcher, reason="派单有误")
        workflow.case_dispatch(case=cases["withdrawn"], actor=dispatcher, lead_unit=new_unit)
        workflow.case_decide_return(case=cases["returned"], actor=dispatcher, approve=True)
    with at(DAY2, 11):  # within the hour: on time
        workflow.case_record_contact(case=cases["reassigned"], actor=heating)
    with at(DAY3):
        workflow.case_dispatch(case=cases["returned"], actor=dispatcher, lead_unit=new_unit)
    return cases


@pytest.mark.django_db
def test_the_new_unit_is_counted_as_dispatched(
    demo: Demo, rerouted: dict[str, Case], superuser: Any
) -> None:
    # Over days 2 and 3 the three cases were dispatched to the heating company, not 湟中区
    rates = direct(superuser, DAY2, DAY3, "unit")
    heating, district = demo.unit("xn-heating").pk, demo.unit("huangzhong-gov").pk
    assert rates[heating]["dispatched"] == 3
    assert rates[heating]["responded"] == 1  # the reassigned case, contacted on time
    assert district not in rates
    # And day 1 counts the three 派单 to 湟中区, answered on time
    assert direct(superuser, DAY1, DAY1, "unit") == {
        district: {
            "dispatched": 3,
            "responded": 3,
            "replied": 0,
            "resolved": 0,
            "evaluated": 0,
            "satisfied": 0,
        }
    }


@pytest.mark.django_db
def test_the_rollup_and_its_rebuild_agree(rerouted: dict[str, Case], superuser: Any) -> None:
    refresh_rollup()
    for start, end in [(DAY1, DAY1), (DAY2, DAY2), (DAY2, DAY3), (DAY1, DAY3), (DAY3, DAY3)]:
        for group_by in ("unit", "district"):
            assert rolled(superuser, start, end, group_by) == direct(
                superuser, start, end, group_by
            ), (start, end, group_by)
    incremental = snapshot()
    rebuild_rollup()
    assert snapshot() == incremental


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_set_based_rebuild_agrees(rerouted: dict[str, Case]) -> None:
    rebuild_rollup()
    python = snapshot()
    rebuild_rollup_sql()
    assert snapshot() == python
