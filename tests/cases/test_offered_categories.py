"""A category not offered to residents (the demo's 应急演练 drill): residents and Open311
clients never see it nor may file it; staff see it and operators log it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from cases import workflow
from cases.models import Case, Category, Channel
from cases.open311 import keys
from demo.reference import seed_reference
from tests.cases.open311.conftest import BASE, heating_request, post
from tests.conftest import Demo
from xining_issues.errors import InvalidInput

DRILL = "drill"


def codes_listed(demo: Demo, username: str | None) -> set[str]:
    client = APIClient()
    if username is not None:
        client.force_authenticate(demo.user(username))
    response = client.get("/api/v1/categories/")
    assert response.status_code == 200
    return {c["code"] for c in response.json()}


def submit_fields(demo: Demo, **overrides: Any) -> dict[str, Any]:
    return {
        "category": demo.category(DRILL),
        "region": demo.region("湟中区", "多巴镇", "多巴一村"),
        "description": "演练",
        "complainant_name": "演练人员",
        "complainant_phone": "13800138000",
        **overrides,
    }


def test_the_demo_drill_is_not_offered_and_a_reseed_withholds_it_again(demo: Demo) -> None:
    assert not demo.category(DRILL).offered_to_residents
    assert demo.category("heating-cold").offered_to_residents
    # A demo database seeded before the field existed had the drill offered (the default).
    Category.objects.filter(code=DRILL).update(offered_to_residents=True)
    assert seed_reference() == (0, 0)
    assert not demo.category(DRILL).offered_to_residents


@pytest.mark.parametrize(
    ("username", "sees_drill"),
    [
        (None, False),
        ("resident1", False),
        ("operator1", True),
        ("dispatcher_huangzhong", True),
        ("handler_huangzhong", True),
    ],
)
def test_the_categories_api_offers_the_drill_to_staff_only(
    demo: Demo, username: str | None, sees_drill: bool
) -> None:
    listed = codes_listed(demo, username)
    assert "heating-cold" in listed
    assert (DRILL in listed) is sees_drill


@pytest.mark.parametrize(
    ("username", "channel"),
    [
        (None, Channel.WEB),
        ("resident1", Channel.WEB),
        ("resident1", Channel.MINI_PROGRAM),
        (None, Channel.MINI_PROGRAM),
    ],
)
def test_a_resident_may_not_file_the_drill(demo: Demo, username: str | None, channel: str) -> None:
    actor = demo.user(username) if username else None
    with pytest.raises(InvalidInput) as caught:
        workflow.case_submit(actor=actor, channel=channel, **submit_fields(demo))
    assert "category" in caught.value.fields
    assert not Case.objects.exists()


def test_an_open311_client_may_not_file_the_drill_through_the_workflow(demo: Demo) -> None:
    client, _key = keys.open311_client_create(name="第三方", contact="张工")
    with pytest.raises(InvalidInput) as caught:
        workflow.case_submit(
            actor=None, channel=Channel.OPEN311, open311_client=client, **submit_fields(demo)
        )
    assert "category" in caught.value.fields


def test_an_operator_logs_the_drill(demo: Demo) -> None:
    case = workflow.case_submit(
        actor=demo.user("operator1"), channel=Channel.PHONE, **submit_fields(demo)
    )
    assert case.category.code == DRILL


def test_the_submit_api_refuses_the_drill_naming_the_category(demo: Demo) -> None:
    client = APIClient()
    client.force_authenticate(demo.user("resident1"))
    fields = submit_fields(demo)
    response = client.post(
        "/api/v1/cases/",
        {**fields, "category": fields["category"].pk, "region": fields["region"].pk},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "category" in response.json()["fields"]
    assert not Case.objects.exists()


def test_open311_lists_no_drill_and_its_definition_is_404(demo: Demo, client: Client) -> None:
    services = client.get(f"{BASE}/services.json").json()
    codes = {s["service_code"] for s in services}
    assert "heating-cold" in codes and DRILL not in codes
    assert client.get(f"{BASE}/services/{DRILL}.json").status_code == 404


def test_an_open311_post_of_the_drill_is_404_and_files_nothing(demo: Demo, client: Client) -> None:
    _client, key = keys.open311_client_create(name="第三方", contact="张工")
    response = post(client, "json", heating_request(demo, api_key=key, service_code=DRILL))
    assert response.status_code == 404, response.content
    assert not Case.objects.exists()
