"""Similar open cases while intake types (issue 14 item 5): ``GET /api/v1/cases/similar/``.

Intake staff get the cases as their queue shows them; a resident or a visitor only a count and
names, never by phone; the look-up is bounded (open, 30 days, the community, phone or street)
and limited per user or client address. The dispatch dialog's possible duplicates read the same
criteria (``cases.similar``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from cases import services, similar
from cases.models import Case, Status
from org.models import Region, RegionLevel
from tests.conftest import Demo

MakeCase = Callable[..., Case]
URL = "/api/v1/cases/similar/"
PHONE = "13897123456"  # make_case's complainant


def community(demo: Demo, district: str, index: int = 0) -> Region:
    return (
        Region.objects.filter(level=RegionLevel.COMMUNITY, parent__parent__name=district)
        .order_by("pk")
        .select_related("parent")[index]
    )


def client_for(demo: Demo, username: str | None) -> APIClient:
    client = APIClient()
    if username:
        client.force_authenticate(demo.user(username))
    return client


def ask(client: APIClient, demo: Demo, **params: Any) -> Any:
    query = {
        "category": demo.category("heating-cold").pk,
        "region": demo.region("湟中区", "多巴镇", "多巴一村").pk,
        **params,
    }
    response = client.get(URL, query)
    assert response.status_code == 200, response.content
    return response.json()


def codes(data: dict[str, Any]) -> set[str]:
    return {row["tracking_code"] for row in data["cases"]}


@pytest.fixture
def world(demo: Demo, make_case: MakeCase) -> dict[str, Case]:
    """Cases around 多巴一村's heating: which the typing operator should and should not see."""
    duoba = demo.region("湟中区", "多巴镇", "多巴一村")
    neighbour = Region.objects.filter(parent=duoba.parent).exclude(pk=duoba.pk).order_by("pk")[0]
    water = demo.category("water")
    old = make_case()
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    return {
        # same community and category, open
        "same_place": make_case(Status.HANDLING),
        # the same phone, another place and category
        "same_phone": make_case(region=neighbour, category=water, description="自来水停水三天。"),
        # similar text in the same street (another community, another category)
        "same_text": make_case(
            region=neighbour,
            category=water,
            complainant_phone="13900000001",
            description="新村巷38号附近的供暖管道破损漏水，暖气不热。",
        ),
        # same place and category, but answered and closed
        "closed": make_case(Status.CLOSED),
        # same place and category, but older than 30 days
        "old": old,
        # another district: out of the 湟中区 dispatcher's sight
        "elsewhere": make_case(region=community(demo, "城东区"), complainant_phone="13900000002"),
    }


def test_intake_staff_see_open_recent_cases_by_place_phone_and_text(
    demo: Demo, world: dict[str, Case]
) -> None:
    data = ask(
        client_for(demo, "dispatcher_huangzhong"),
        demo,
        phone=PHONE,
        text="新村巷供暖管道破损，暖气不热",
    )
    assert data["rows"] is True
    found = codes(data)
    for name in ("same_place", "same_phone", "same_text"):
        assert world[name].tracking_code in found, name
    for name in ("closed", "old", "elsewhere"):
        assert world[name].tracking_code not in found, name
    # the queue's row: masked as the queue masks it (the dispatcher sees the identity whole)
    row = next(r for r in data["cases"] if r["tracking_code"] == world["same_place"].tracking_code)
    assert {"id", "tracking_code", "status", "category"} <= set(row)


def test_each_criterion_alone(demo: Demo, world: dict[str, Case]) -> None:
    operator = client_for(demo, "operator1")
    # place and category only
    assert codes(ask(operator, demo)) == {world["same_place"].tracking_code}
    # the phone only (no place)
    by_phone = ask(operator, demo, category="", region="", phone=PHONE)
    assert world["same_phone"].tracking_code in codes(by_phone)
    assert world["same_text"].tracking_code not in codes(by_phone)
    # text too short to compare adds nothing
    assert codes(ask(operator, demo, text="暖气")) == {world["same_place"].tracking_code}


def test_the_operator_of_another_district_sees_only_their_cases(
    demo: Demo, world: dict[str, Case], make_case: MakeCase
) -> None:
    # a 城东区 operator (made here) typing about 多巴一村 sees nothing they may not see
    from org.models import Role
    from tests.factories import MembershipFactory, UserFactory

    MembershipFactory(
        user=UserFactory(username="operator_chengdong"),
        unit=demo.unit("chengdong-gov"),
        role=Role.OPERATOR,
    )
    data = ask(client_for(demo, "operator_chengdong"), demo, phone=PHONE)
    assert data["rows"] is True and codes(data) == set()


@pytest.mark.parametrize("username", [None, "resident2", "handler_huangzhong"])
def test_residents_and_visitors_get_a_count_and_names_only(
    demo: Demo, world: dict[str, Case], username: str | None
) -> None:
    client = client_for(demo, username)
    data = ask(client, demo, phone=PHONE, text="新村巷供暖管道破损，暖气不热")
    # one open heating case in 多巴一村 in the last 30 days: same_place
    assert set(data) == {"rows", "count", "category", "street", "cases"}
    assert data["rows"] is False and data["cases"] == []
    assert data["count"] == 1
    assert data["category"] == demo.category("heating-cold").name
    assert data["street"] == "多巴镇"
    body = str(data)
    for case in world.values():
        assert case.tracking_code not in body
    for secret in ("赵先生", PHONE, "新村巷"):
        assert secret not in body


def test_the_phone_is_never_used_for_residents(demo: Demo, world: dict[str, Case]) -> None:
    client = client_for(demo, None)
    # the phone of a complainant elsewhere: the answer is the same as without it
    assert ask(client, demo, phone=PHONE) == ask(client, demo)
    # a place with nothing open but a phone that has complained: nothing to see
    empty = ask(client, demo, region=community(demo, "城西区").pk, phone=PHONE)
    assert empty["count"] == 0


def test_bad_input_is_a_400(demo: Demo) -> None:
    client = client_for(demo, None)
    street = demo.region("湟中区", "多巴镇", "多巴一村").parent
    assert client.get(URL, {"region": street.pk}).status_code == 400  # not a community
    assert client.get(URL, {"category": "x"}).status_code == 400


def test_visitors_are_limited_and_a_forged_forwarded_for_does_not_reset_it(demo: Demo) -> None:
    client = APIClient()
    answers = [
        client.get(URL, {"text": "暖气"}, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
        for i in range(35)
    ]
    assert answers[:30] == [200] * 30
    assert answers[30:] == [429] * 5


def test_residents_are_limited_per_user(demo: Demo) -> None:
    client = client_for(demo, "resident1")
    answers = [client.get(URL).status_code for _ in range(31)]
    assert answers[-1] == 429 and answers[:30] == [200] * 30
    # intake staff are not
    operator = client_for(demo, "operator1")
    assert {operator.get(URL).status_code for _ in range(35)} == {200}


def test_the_dispatch_dialog_reads_the_same_criteria(demo: Demo, world: dict[str, Case]) -> None:
    case = world["same_place"]
    found = set(services.possible_duplicates(case, demo.user("dispatcher_huangzhong")))
    # the dispatch dialog looks either side of a filed case and at any status
    assert {world["same_phone"], world["closed"]} <= found
    assert world["elsewhere"] not in found and case not in found
    # and the criteria are one function
    same = similar.matches(category_id=case.category_id, region_id=case.region_id, phone="")
    assert world["closed"] in Case.objects.filter(same)


@pytest.mark.postgres
def test_the_text_look_up_counts_bigrams_in_the_database_on_postgresql(
    demo: Demo, world: dict[str, Case]
) -> None:
    """On PostgreSQL the shared bigrams are counted by ``xn_bigrams``, the search index's own
    function; the answer is the one the Python count gives on SQLite."""
    assert connection.vendor == "postgresql"
    probe = similar.Probe(
        text="新村巷供暖管道破损，暖气不热",
        region=demo.region("湟中区", "多巴镇", "多巴一村"),
    )
    visible = Case.objects.filter(status__in=similar.OPEN_STATUSES)
    # same_text shares most bigrams; same_place (家里暖气不热，附近管道破损。) shares fewer
    found = similar._similar_text_ids(visible, probe)
    assert found[0] == world["same_text"].pk
    assert world["elsewhere"].pk not in found and world["closed"].pk not in found
