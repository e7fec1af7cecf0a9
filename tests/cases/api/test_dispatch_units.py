"""GET /api/v1/cases/{id}/dispatch-units/: the units the dispatch dialog's pickers offer.

A dispatcher may send a case only within their 派单范围 (cases/services.py dispatch_targets):
the units of their own area and the units the 权责清单 names for the case's category in its
region. The pickers offer exactly those, so a dispatcher is never shown a unit the dispatch
would refuse. The expected units below are written from the demo's 权责清单 (供暖: the district
government with 华润燃气, and the city's 供热公司), not read from the code under test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from cases.models import Case, Status
from org.models import Unit
from tests.conftest import Demo
from tests.factories import UnitFactory

pytestmark = pytest.mark.django_db

# The 权责清单 names these city units for heating in 湟中区 (demo/reference.py RESPONSIBILITIES).
NAMED_FOR_HEATING = {"xn-gas", "xn-heating"}


def client_for(demo: Demo, username: str | None) -> APIClient:
    client = APIClient()
    if username:
        client.force_authenticate(demo.user(username))
    return client


def url(case: Case) -> str:
    return f"/api/v1/cases/{case.pk}/dispatch-units/"


def all_units(client: APIClient, address: str, **params: Any) -> list[dict[str, Any]]:
    """Every unit of the list, page after page."""
    response = client.get(address, {"page_size": 100, **params})
    assert response.status_code == 200, response.json()
    body = response.json()
    units = body["results"]
    while body["next"]:
        body = client.get(body["next"]).json()
        units += body["results"]
    assert len(units) == response.json()["count"]
    return units


def district_units(demo: Demo, district: str) -> set[str]:
    return set(
        Unit.objects.filter(
            is_active=True, region__path__startswith=demo.region(district).path
        ).values_list("code", flat=True)
    )


@pytest.fixture
def accepted(make_case: Callable[..., Case]) -> Case:
    """赵先生's heating complaint in 湟中区多巴镇多巴一村, waiting for dispatch."""
    return make_case(Status.ACCEPTED)


def test_a_district_dispatcher_is_offered_their_district_and_the_named_units(
    demo: Demo, accepted: Case
) -> None:
    # When 湟中区's dispatcher opens the pickers
    units = all_units(client_for(demo, "dispatcher_huangzhong"), url(accepted))

    # Then they are offered 湟中区's units and those the 权责清单 names, and nothing else
    codes = [u["code"] for u in units]
    assert set(codes) == district_units(demo, "湟中区") | NAMED_FOR_HEATING
    assert len(codes) == len(set(codes))
    assert "xn-housing" not in codes  # a city department the list does not name for heating
    assert not set(codes) & district_units(demo, "城东区")
    # in the units endpoint's shape, by name
    assert set(units[0]) == {"id", "code", "name", "kind", "region", "region_name", "parent"}
    assert [u["name"] for u in units] == sorted(u["name"] for u in units)


def test_every_unit_offered_is_one_the_dispatch_accepts(demo: Demo, accepted: Case) -> None:
    client = client_for(demo, "dispatcher_huangzhong")
    offered = all_units(client, url(accepted), name="住房和城乡建设局")
    assert [u["name"] for u in offered] == ["湟中区住房和城乡建设局"]

    response = client.post(
        f"/api/v1/cases/{accepted.pk}/dispatch/",
        {"lead_unit": demo.unit("xn-heating").pk, "co_units": [offered[0]["id"]]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == Status.DISPATCHED


def test_the_name_filter_keeps_names_that_contain_it(demo: Demo, accepted: Case) -> None:
    client = client_for(demo, "dispatcher_huangzhong")
    assert [u["code"] for u in all_units(client, url(accepted), name="燃气")] == ["xn-gas"]
    assert all_units(client, url(accepted), name="城东区") == []
    villages = all_units(client, url(accepted), name="多巴")
    assert {u["name"] for u in villages} == {
        "多巴镇人民政府",
        "多巴一村村民委员会",
        "多巴二村村民委员会",
        "多巴三村村民委员会",
    }


def test_the_city_dispatcher_is_offered_every_unit_of_the_city(demo: Demo, accepted: Case) -> None:
    # The city's dispatcher (12345 hotline) dispatches for the whole city.
    codes = {u["code"] for u in all_units(client_for(demo, "dispatcher_city"), url(accepted))}
    assert codes == set(Unit.objects.filter(is_active=True).values_list("code", flat=True))


def test_an_inactive_unit_is_not_offered(demo: Demo, accepted: Case) -> None:
    Unit.objects.filter(code="huangzhong-housing").update(is_active=False)
    client = client_for(demo, "dispatcher_huangzhong")
    assert all_units(client, url(accepted), name="住房和城乡建设局") == []


# Who may ask: dispatchers who see the case. The rest hear 403 (they see the case but do not
# dispatch) or 404 (they do not see it); the anonymous are asked to sign in.
@pytest.mark.parametrize(
    ("username", "expected"),
    [
        (None, "not_authenticated"),
        ("resident1", 403),  # the complainant
        ("resident2", 404),
        ("operator1", 403),
        ("dispatcher_huangzhong", 200),
        ("dispatcher_chengdong", 404),
        ("handler_huangzhong", 404),  # not dispatched yet: not their case
        ("supervisor1", 403),
        ("committee1", 403),
        ("admin", 403),  # the administrator sees everything but does not dispatch
    ],
)
def test_who_may_list_the_dispatch_units(
    demo: Demo, accepted: Case, username: str | None, expected: int | str
) -> None:
    response = client_for(demo, username).get(url(accepted))
    body = response.json()
    if expected == "not_authenticated":
        assert response.status_code == 403 and body["code"] == "not_authenticated"
        return
    assert response.status_code == expected, body
    if expected == 403:
        assert body == {
            "code": "forbidden",
            "message": "只有派单人员可以查看可派单位。",
            "fields": {},
        }
    if expected == 404:
        assert body["code"] == "not_found"


def test_queries_do_not_grow_with_the_units(demo: Demo, accepted: Case) -> None:
    client = client_for(demo, "dispatcher_huangzhong")
    client.get(url(accepted))  # warm the content-type cache
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(accepted), {"page_size": 100}).status_code == 200
    town = demo.region("湟中区", "多巴镇")
    UnitFactory.create_batch(30, region=town, parent=demo.unit("huangzhong-gov"))
    with CaptureQueriesContext(connection) as many:
        body = client.get(url(accepted), {"page_size": 100}).json()
    assert len(body["results"]) >= 30
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
