"""Inputs that must not tell more than the reader may know, nor break the server: a duplicate's
tracking code outside one's sight, and dates at the edge of the calendar."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from cases.models import Case, Status
from tests.conftest import Demo

MakeCase = Callable[..., Case]


def client_for(demo: Demo, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(demo.user(username))
    return client


@pytest.fixture
def chengdong_case(demo: Demo, make_case: MakeCase) -> Case:
    return make_case(Status.SUBMITTED, region=demo.region("城东区", "大众街街道", "康西社区"))


# --- duplicate_of names only a case the actor may see ---------------------------------------


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("accept", {}),
        ("reject", {"reason": "duplicate"}),
    ],
)
def test_a_code_outside_the_dispatchers_area_is_refused_like_a_code_that_does_not_exist(
    demo: Demo, make_case: MakeCase, chengdong_case: Case, action: str, body: dict[str, str]
) -> None:
    # Given a 城东 dispatcher and a case in 湟中, out of their sight
    elsewhere = make_case(Status.SUBMITTED)
    client = client_for(demo, "dispatcher_chengdong")
    url = f"/api/v1/cases/{chengdong_case.pk}/{action}/"
    # When they name it, and a code that does not exist, as the case repeated
    unseen = client.post(url, {**body, "duplicate_of": elsewhere.tracking_code}, format="json")
    missing = client.post(url, {**body, "duplicate_of": "XN-20000101-0001"}, format="json")
    # Then both are the same 400 on the field, with nothing to tell them apart but the code
    assert unseen.status_code == missing.status_code == 400
    assert set(unseen.json()["fields"]) == {"duplicate_of"}
    assert unseen.json()["fields"]["duplicate_of"] == [
        message.replace("XN-20000101-0001", elsewhere.tracking_code)
        for message in missing.json()["fields"]["duplicate_of"]
    ]
    # and nothing changed
    chengdong_case.refresh_from_db()
    assert chengdong_case.status == Status.SUBMITTED


def test_a_code_in_the_dispatchers_area_is_accepted(
    demo: Demo, make_case: MakeCase, chengdong_case: Case
) -> None:
    earlier = make_case(Status.SUBMITTED, region=demo.region("城东区", "大众街街道", "康西社区"))
    response = client_for(demo, "dispatcher_chengdong").post(
        f"/api/v1/cases/{chengdong_case.pk}/reject/",
        {"reason": "duplicate", "duplicate_of": earlier.tracking_code.lower()},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["duplicate_of"] == earlier.tracking_code


def test_no_duplicate_shows_as_null(demo: Demo, chengdong_case: Case) -> None:
    body = client_for(demo, "dispatcher_chengdong").get(f"/api/v1/cases/{chengdong_case.pk}/")
    assert body.json()["duplicate_of"] is None


# --- the rates' dates stay within a sane calendar -------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"to": "9999-12-31"},
        {"from": "0001-01-01"},
        {"from": "1999-12-31", "to": "2000-01-31"},
        {"to": "2200-01-01"},
        {"from": "2024-02-30"},
        {"to": "\x00"},
    ],
)
def test_rates_refuse_dates_outside_the_calendar_with_a_400(
    demo: Demo, query: dict[str, str]
) -> None:
    response = client_for(demo, "committee1").get("/api/v1/stats/rates/", query)
    assert response.status_code == 400
    assert set(response.json()["fields"]) <= {"from", "to"} and response.json()["fields"]


@pytest.mark.parametrize(
    ("moment", "status"),
    [
        ("1133-04-23T15:18:25+17:12", 200),  # an offset Python takes and PostgreSQL does not
        ("2026-01-01T00:00:00-23:59", 200),
        ("0001-01-01T00:00:00+05:00", 400),  # before the first moment of UTC
        ("9999-12-31T23:59:59-05:00", 400),  # after the last
        ("2026-02-30T00:00:00Z", 400),
    ],
)
def test_queue_dates_reach_the_database_in_utc_or_are_a_400(
    demo: Demo, make_case: MakeCase, moment: str, status: int
) -> None:
    make_case(Status.SUBMITTED)
    client = client_for(demo, "dispatcher_city")
    for name in ("created_after", "created_before"):
        response = client.get("/api/v1/cases/", {name: moment})
        assert response.status_code == status, (name, response.content)
        if status == 400:
            assert set(response.json()["fields"]) == {name}


@pytest.mark.parametrize("query", [{}, {"from": "2000-01-01", "to": "2000-12-31"}])
def test_rates_answer_within_the_calendar(demo: Demo, query: dict[str, str]) -> None:
    response = client_for(demo, "committee1").get("/api/v1/stats/rates/", query)
    assert response.status_code == 200
    assert "results" in response.json()


def test_the_duplicate_field_resolves_only_the_readers_cases(
    demo: Demo, make_case: MakeCase, chengdong_case: Case
) -> None:
    # Given the accept form as the API builds it for a 城东 dispatcher
    from types import SimpleNamespace

    from cases.api.serializers import AcceptSerializer

    elsewhere = make_case(Status.SUBMITTED)
    context = {"request": SimpleNamespace(user=demo.user("dispatcher_chengdong"))}

    def duplicate(code: str) -> Case | None:
        form = AcceptSerializer(data={"duplicate_of": code}, context=context)
        return form.validated_data["duplicate_of"] if form.is_valid() else None

    # Then a code in their area resolves, typed loosely; one outside it does not
    assert duplicate(f" {chengdong_case.tracking_code.lower()} ") == chengdong_case
    assert duplicate(elsewhere.tracking_code) is None
