"""分级派单 (issue 14): the duty level chosen at 受理 decides whose dispatchers dispatch.

Community matters go to the street's dispatchers, street and district ones to the district's,
city ones to the city's; a level with no active dispatcher hands its cases to the nearest level
above that has one (``cases.grading``). The 待派单 queue of a dispatcher holds the cases of their
own level only (``selectors.dispatch_level_filter``).

The demo has dispatchers at the city (dispatcher_city), in 湟中区 and 城东区, and in two streets:
多巴镇 (dispatcher_duoba) and 东关大街街道 (dispatcher_dongguan). 城西区 has none.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from cases import grading, workflow
from cases.models import Case, CaseEvent, EventType, Status
from org.models import Membership, RegionLevel, Role
from tests.conftest import Demo
from xining_issues.errors import NotAllowed

MakeCase = Callable[..., Case]
L = RegionLevel
ALL_DISPATCHERS = ("dispatcher_city", "dispatcher_huangzhong", "dispatcher_duoba")


def client_for(demo: Demo, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(demo.user(username))
    return client


def waiting_for(demo: Demo, username: str) -> set[int]:
    """The ids in ``username``'s 待派单 tab, and its count agreeing with the list."""
    client = client_for(demo, username)
    page = client.get("/api/v1/cases/", {"queue": "accepted", "page_size": 100})
    assert page.status_code == 200, page.content
    ids = {row["id"] for row in page.json()["results"]}
    counts = client.get("/api/v1/cases/counts/").json()
    assert counts["accepted"] == len(ids), (username, counts, ids)
    return ids


def accept(demo: Demo, case: Case, duty_level: int | None) -> Case:
    body = {} if duty_level is None else {"duty_level": duty_level}
    answer = client_for(demo, "operator1").post(
        f"/api/v1/cases/{case.pk}/accept/", body, format="json"
    )
    assert answer.status_code == 200, answer.content
    case.refresh_from_db()
    return case


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("place", "level", "dispatched_by"),
    [
        # 多巴镇 has its own dispatcher
        (("湟中区", "多巴镇", "多巴一村"), L.COMMUNITY, ("湟中区", "多巴镇")),
        (("湟中区", "多巴镇", "多巴一村"), L.STREET, ("湟中区",)),
        (("湟中区", "多巴镇", "多巴一村"), L.DISTRICT, ("湟中区",)),
        (("湟中区", "多巴镇", "多巴一村"), L.CITY, ()),
        # 鲁沙尔镇 has none: its community matters go up to the district
        (("湟中区", "鲁沙尔镇", "东山村"), L.COMMUNITY, ("湟中区",)),
        # 城西区 has none at any level below the city
        (("城西区", "虎台街道", "虎台社区"), L.COMMUNITY, ()),
        (("城西区", "虎台街道", "虎台社区"), L.DISTRICT, ()),
        (("城东区", "东关大街街道", "东关社区"), L.COMMUNITY, ("城东区", "东关大街街道")),
        (("城东区", "东关大街街道", "东关社区"), L.STREET, ("城东区",)),
    ],
)
def test_the_duty_level_decides_the_dispatch_level(
    demo: Demo,
    make_case: MakeCase,
    place: tuple[str, ...],
    level: int,
    dispatched_by: tuple[str, ...],
) -> None:
    case = make_case(region=demo.region(*place))
    case = accept(demo, case, level)
    assert case.duty_level == level
    assert case.dispatch_region_id == demo.region(*dispatched_by).pk
    event = CaseEvent.objects.get(case=case, type=EventType.ACCEPT)
    assert event.payload["dispatch_region"] == demo.region(*dispatched_by).name
    detail = client_for(demo, "dispatcher_city").get(f"/api/v1/cases/{case.pk}/").json()
    assert detail["dispatch_region"] == {
        "id": case.dispatch_region_id,
        "name": event.payload["dispatch_region"],
    }


@pytest.mark.django_db
def test_a_community_case_waits_for_the_street_dispatcher_not_the_district(
    demo: Demo, make_case: MakeCase
) -> None:
    case = accept(demo, make_case(), L.COMMUNITY)
    assert case.pk in waiting_for(demo, "dispatcher_duoba")
    assert case.pk not in waiting_for(demo, "dispatcher_huangzhong")
    assert case.pk not in waiting_for(demo, "dispatcher_city")
    # Operators and supervisors do not dispatch: their tab shows every accepted case they see.
    assert case.pk in waiting_for(demo, "operator1")
    # The street's dispatcher dispatches it, to its community's committee.
    committee = demo.region("湟中区", "多巴镇", "多巴一村").units.get()
    units = client_for(demo, "dispatcher_duoba").get(
        f"/api/v1/cases/{case.pk}/dispatch-units/", {"page_size": 200}
    )
    assert committee.pk in {u["id"] for u in units.json()["results"]}
    answer = client_for(demo, "dispatcher_duoba").post(
        f"/api/v1/cases/{case.pk}/dispatch/",
        {"lead_unit": committee.pk, "co_units": []},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert Case.objects.get(pk=case.pk).status == Status.DISPATCHED


@pytest.mark.django_db
def test_a_city_case_waits_only_for_the_city(demo: Demo, make_case: MakeCase) -> None:
    case = accept(demo, make_case(), L.CITY)
    assert {u for u in ALL_DISPATCHERS if case.pk in waiting_for(demo, u)} == {"dispatcher_city"}
    # Nobody below the city may dispatch it.
    for username in ("dispatcher_huangzhong", "dispatcher_duoba"):
        answer = client_for(demo, username).post(
            f"/api/v1/cases/{case.pk}/dispatch/",
            {"lead_unit": demo.unit("huangzhong-gov").pk, "co_units": []},
            format="json",
        )
        assert answer.status_code == 403, (username, answer.content)


@pytest.mark.django_db
def test_a_district_case_waits_for_the_district_and_the_street_may_not_dispatch_it(
    demo: Demo, make_case: MakeCase
) -> None:
    case = accept(demo, make_case(), L.DISTRICT)
    assert {u for u in ALL_DISPATCHERS if case.pk in waiting_for(demo, u)} == {
        "dispatcher_huangzhong"
    }
    with pytest.raises(NotAllowed):
        workflow.case_dispatch(
            case=case,
            actor=demo.user("dispatcher_duoba"),
            lead_unit=demo.unit("huangzhong-gov"),
            co_units=[],
        )


@pytest.mark.django_db
def test_the_upper_level_may_still_step_in(demo: Demo, make_case: MakeCase) -> None:
    """Graded dispatch orders the queues; it does not take the district's right to act on a
    case in its area (a street dispatcher on leave must not strand a case)."""
    case = accept(demo, make_case(), L.COMMUNITY)
    workflow.case_dispatch(
        case=case,
        actor=demo.user("dispatcher_huangzhong"),
        lead_unit=demo.unit("huangzhong-gov"),
        co_units=[],
    )
    assert Case.objects.get(pk=case.pk).status == Status.DISPATCHED


@pytest.mark.django_db
def test_without_a_level_the_responsibility_list_grades_the_case(
    demo: Demo, make_case: MakeCase
) -> None:
    # 小区物业服务 is a community matter in the 权责清单; 供暖 a district one; 供水 a city one.
    expectations = {
        "property-service": (L.COMMUNITY, ("湟中区", "多巴镇")),
        "heating-cold": (L.DISTRICT, ("湟中区",)),
        "water-outage": (L.CITY, ()),
    }
    for code, (level, dispatched_by) in expectations.items():
        case = accept(demo, make_case(category=demo.category(code)), None)
        assert (case.duty_level, case.dispatch_region_id) == (
            level,
            demo.region(*dispatched_by).pk,
        ), code
        assert grading.suggested_duty_level(case) == level


@pytest.mark.django_db
def test_a_street_whose_dispatcher_left_hands_its_waiting_cases_to_the_level_above(
    demo: Demo, make_case: MakeCase
) -> None:
    case = accept(demo, make_case(), L.COMMUNITY)
    assert case.pk not in waiting_for(demo, "dispatcher_huangzhong")
    duoba = demo.user("dispatcher_duoba")
    duoba.is_active = False
    duoba.save(update_fields=["is_active"])
    assert case.pk in waiting_for(demo, "dispatcher_huangzhong")
    assert case.pk in waiting_for(demo, "dispatcher_city")
    # A case accepted now goes to the district at once.
    later = accept(demo, make_case(), L.COMMUNITY)
    assert later.dispatch_region_id == demo.region("湟中区").pk


@pytest.mark.django_db
def test_the_third_return_sends_a_street_case_to_the_district(
    demo: Demo, make_case: MakeCase
) -> None:
    case = accept(demo, make_case(), L.COMMUNITY)
    committee = demo.region("湟中区", "多巴镇", "多巴一村").units.get()
    handler = Membership.objects.create(
        user=demo.user("handler_chengdong"), unit=committee, role=Role.HANDLER
    ).user
    for _ in range(workflow.MAX_RETURNS):
        workflow.case_dispatch(
            case=case, actor=demo.user("dispatcher_duoba"), lead_unit=committee, co_units=[]
        )
        case.refresh_from_db()
        workflow.case_return(case=case, actor=handler, reason="不属于本村职责。")
        case.refresh_from_db()
    assert case.dispatch_region_id == demo.region("湟中区").pk
    assert case.pk in waiting_for(demo, "dispatcher_huangzhong")
    assert case.pk not in waiting_for(demo, "dispatcher_duoba")
