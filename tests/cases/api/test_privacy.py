"""PIPL: the complainant's full name and phone reach only those who need them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from cases.models import Case, Status
from tests.conftest import Demo

NAME, PHONE = "赵先生", "13909712345"


def strings(value: Any) -> Iterator[str]:
    """Every string anywhere in a JSON body: keys, values, nested lists and objects."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif value is not None:
        yield str(value)


def leaks(body: Any) -> list[str]:
    return [s for s in strings(body) if NAME in s or PHONE in s]


def bodies(client: APIClient, case: Case) -> dict[str, Any]:
    """Every response a user can get about this case and its queue."""
    url = f"/api/v1/cases/{case.pk}/"
    return {
        "list": client.get("/api/v1/cases/").json(),
        "detail": client.get(url).json(),
        "events": client.get(url + "events/").json(),
    }


@pytest.fixture
def handled_case(make_case: Callable[..., Case]) -> Case:
    return make_case(Status.HANDLING, complainant_name=NAME, complainant_phone=PHONE)


def client_for(demo: Demo, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(demo.user(username))
    return client


@pytest.mark.parametrize("username", ["committee1", "supervisor1", "handler_chengdong"])
def test_bodies_for_people_who_do_not_handle_it_never_hold_the_identity(
    demo: Demo, handled_case: Case, username: str
) -> None:
    for where, body in bodies(client_for(demo, username), handled_case).items():
        assert leaks(body) == [], (username, where)


def test_committee_sees_the_masked_identity(demo: Demo, handled_case: Case) -> None:
    detail = client_for(demo, "committee1").get(f"/api/v1/cases/{handled_case.pk}/").json()
    assert detail["complainant_name"] == "赵**"
    assert detail["complainant_phone"] == "139****2345"


def test_unrelated_handler_does_not_even_see_the_case(demo: Demo, handled_case: Case) -> None:
    response = client_for(demo, "handler_chengdong").get(f"/api/v1/cases/{handled_case.pk}/")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "username", ["dispatcher_huangzhong", "handler_huangzhong", "handler_gas", "operator1"]
)
def test_intake_dispatch_and_assigned_units_see_it_whole(
    demo: Demo, handled_case: Case, username: str
) -> None:
    detail = client_for(demo, username).get(f"/api/v1/cases/{handled_case.pk}/").json()
    assert (detail["complainant_name"], detail["complainant_phone"]) == (NAME, PHONE)


@pytest.mark.parametrize(
    ("username", "whole"),
    [
        ("dispatcher_huangzhong", True),
        ("handler_huangzhong", False),
        ("handler_gas", False),
        ("operator1", False),
        ("resident1", True),
    ],
)
def test_hide_identity_leaves_only_the_dispatcher_and_the_complainant(
    demo: Demo, make_case: Callable[..., Case], username: str, whole: bool
) -> None:
    case = make_case(
        Status.HANDLING, complainant_name=NAME, complainant_phone=PHONE, hide_identity=True
    )
    body = bodies(client_for(demo, username), case)
    if whole:
        assert (body["detail"]["complainant_name"], body["detail"]["complainant_phone"]) == (
            NAME,
            PHONE,
        )
    else:
        assert leaks(body) == [], username


def test_public_tracking_never_holds_the_identity(
    demo: Demo, make_case: Callable[..., Case]
) -> None:
    case = make_case(Status.REPLIED, complainant_name=NAME, complainant_phone=PHONE)
    response = APIClient().get(
        "/api/v1/track/", {"code": case.tracking_code, "phone_last4": "2345"}
    )
    assert response.status_code == 200
    assert leaks(response.json()) == []
    assert "赵" not in json.dumps(response.json(), ensure_ascii=False)


def test_tracking_with_the_wrong_digits_reveals_nothing(
    demo: Demo, make_case: Callable[..., Case]
) -> None:
    case = make_case(Status.HANDLING, complainant_phone=PHONE)
    wrong = APIClient().get("/api/v1/track/", {"code": case.tracking_code, "phone_last4": "0000"})
    unknown = APIClient().get(
        "/api/v1/track/", {"code": "XN-20000101-0001", "phone_last4": "2345"}
    )
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()


def test_logs_never_hold_the_identity(
    demo: Demo, make_case: Callable[..., Case], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    case = make_case(Status.CLOSED, complainant_name=NAME, complainant_phone=PHONE)
    bodies(client_for(demo, "committee1"), case)
    assert [
        r.getMessage() for r in caplog.records if NAME in r.getMessage() or PHONE in r.getMessage()
    ] == []
