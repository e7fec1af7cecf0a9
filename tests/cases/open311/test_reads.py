"""GeoReport v2 reads over HTTP, in both formats, against the spec's element names: discovery,
services, a service definition, the request list (90-day window, filters, paging), one request
and a token."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from cases import workflow
from cases.models import Case, Category, Rating
from tests.cases.conftest import run_steps
from tests.conftest import Demo

from .conftest import BASE, Keyed, body, heating_request, post

FORMATS = ["json", "xml"]
SERIAL = itertools.count(1)
SERVICE_ELEMENTS = [
    "service_code", "service_name", "description", "metadata", "type", "keywords", "group",
]  # fmt: skip
REQUEST_ELEMENTS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long",
]  # fmt: skip
ATTRIBUTE_ELEMENTS = [
    "variable", "code", "datatype", "required", "datatype_description", "order", "description",
]  # fmt: skip


def records(response: Any, fmt: str, member: str) -> list[dict[str, Any]]:
    """The list a JSON answer is, or the XML root's ``member`` children as dicts of their text;
    in XML each record's elements are checked to be leaves or known lists."""
    data = body(response, fmt)
    if fmt == "json":
        return list(data)
    assert all(child.tag == member for child in data)
    return [{e.tag: e.text or "" for e in record} for record in data]


def filed(client: Client, keyed: Keyed, demo: Demo, **extra: str) -> str:
    """A new request's id (each with its own description: the same post twice is one case)."""
    extra.setdefault("description", f"家里暖气不热，附近管道破损（{next(SERIAL)}）。")
    response = post(client, "json", heating_request(demo, api_key=keyed.key, **extra))
    assert response.status_code == 201, response.content
    return str(response.json()[0]["service_request_id"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_names_the_endpoint_and_its_formats(
    demo: Demo, client: Client, fmt: str
) -> None:
    response = client.get(f"{BASE}/discovery.{fmt}")
    assert response.status_code == 200
    data = body(response, fmt)
    if fmt == "json":
        (endpoint,) = data["endpoints"]
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["url"].endswith("/open311/v2/")
        assert set(endpoint["formats"]) == {"application/json", "text/xml"}
        assert {"changeset", "contact", "key_service"} <= data.keys()
    else:
        assert data.tag == "discovery"
        assert [e.tag for e in data] == ["changeset", "contact", "key_service", "endpoints"]
        (endpoint,) = data.find("endpoints")
        assert endpoint.tag == "endpoint"
        assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
        formats = endpoint.find("formats")
        assert [f.tag for f in formats] == ["format", "format"]
        assert {f.text for f in formats} == {"application/json", "text/xml"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_list_every_active_category_grouped_by_its_top(
    demo: Demo, client: Client, fmt: str
) -> None:
    # Given one category switched off
    Category.objects.filter(code="market").update(is_active=False)
    # When a client lists the services
    response = client.get(f"{BASE}/services.{fmt}")
    # Then every active category offered to residents is there (not the drill), with the
    # spec's elements in its order
    assert response.status_code == 200
    services = {s["service_code"]: s for s in records(response, fmt, "service")}
    active = set(
        Category.objects.filter(is_active=True, offered_to_residents=True).values_list(
            "code", flat=True
        )
    )
    assert set(services) == active and "market" not in services and "drill" not in services
    if fmt == "xml":
        root = body(response, fmt)
        assert root.tag == "services"
        assert all([e.tag for e in service] == SERVICE_ELEMENTS for service in root)
    else:
        assert all(list(s) == SERVICE_ELEMENTS for s in services.values())
    cold = services["heating-cold"]
    assert cold["group"] == "供暖" and cold["service_name"] == "供暖不热"
    assert cold["type"] == "realtime"
    truth = {"json": (True, False), "xml": ("true", "false")}[fmt]
    assert (cold["metadata"], services["water"]["metadata"]) == truth
    assert services["water"]["group"] == "供水"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_definition_carries_its_attributes(demo: Demo, client: Client, fmt: str) -> None:
    response = client.get(f"{BASE}/services/heating.{fmt}")
    assert response.status_code == 200
    data = body(response, fmt)
    if fmt == "json":
        assert data["service_code"] == "heating"
        temperature, vulnerable = data["attributes"]
        assert [k for k in temperature if k != "values"] == ATTRIBUTE_ELEMENTS
        assert (temperature["code"], temperature["datatype"]) == ("room_temperature", "number")
        assert (vulnerable["datatype"], vulnerable["required"]) == ("singlevaluelist", True)
        assert {v["key"] for v in vulnerable["values"]} == {"yes", "no"}
    else:
        assert data.tag == "service_definition"
        assert [e.tag for e in data] == ["service_code", "attributes"]
        temperature, vulnerable = data.find("attributes")
        assert temperature.tag == vulnerable.tag == "attribute"
        assert [e.tag for e in temperature] == ATTRIBUTE_ELEMENTS
        assert [e.tag for e in vulnerable] == [*ATTRIBUTE_ELEMENTS, "values"]
        assert temperature.findtext("datatype") == "number"
        assert vulnerable.findtext("required") == "true"
        values = vulnerable.find("values")
        assert [v.tag for v in values] == ["value", "value"]
        assert [[e.tag for e in v] for v in values] == [["key", "name"], ["key", "name"]]
        assert {v.findtext("key") for v in values} == {"yes", "no"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_category_without_attributes_has_an_empty_definition(
    demo: Demo, client: Client, fmt: str
) -> None:
    response = client.get(f"{BASE}/services/water.{fmt}")
    data = body(response, fmt)
    if fmt == "json":
        assert data == {"service_code": "water", "attributes": []}
    else:
        assert [e.tag for e in data] == ["service_code", "attributes"]
        assert list(data.find("attributes")) == []


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "path",
    [
        "services/no-such-thing",
        "requests/XN-20000101-9999",
        "tokens/XN-20000101-9999",
        "no/such/resource",
    ],
)
def test_unknown_codes_and_addresses_are_404_in_the_spec_error_list(
    demo: Demo, client: Client, fmt: str, path: str
) -> None:
    response = client.get(f"{BASE}/{path}.{fmt}")
    assert response.status_code == 404
    data = body(response, fmt)
    if fmt == "json":
        (error,) = data
        assert list(error) == ["code", "description"] and error["code"] == 404
    else:
        assert data.tag == "errors"
        (error,) = data
        assert error.tag == "error" and [e.tag for e in error] == ["code", "description"]
        assert error.findtext("code") == "404"


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_request_list_and_one_request_read_as_the_spec_names_them(
    demo: Demo, client: Client, keyed: Keyed, fmt: str
) -> None:
    # Given a request filed through Open311 and dispatched to 湟中区
    code = filed(client, keyed, demo)
    run_steps(Case.objects.get(tracking_code=code), ["accept", "dispatch"], demo)
    # When a client reads the list and the request itself
    for path in ("requests", f"requests/{code}"):
        response = client.get(f"{BASE}/{path}.{fmt}")
        assert response.status_code == 200
        if fmt == "xml":
            root = body(response, fmt)
            assert root.tag == "service_requests"
            assert all([e.tag for e in request] == REQUEST_ELEMENTS for request in root)
        (request,) = [
            r for r in records(response, fmt, "request") if r["service_request_id"] == code
        ]
        # Then it reads as the public may read it
        assert list(request) == REQUEST_ELEMENTS
        assert request["status"] == "open"
        assert request["service_code"] == "heating-cold"
        assert request["agency_responsible"] == "湟中区人民政府"
        assert request["status_notes"] == "已转交承办单位"
        assert request["address"] == "湟中区多巴镇多巴一村"
        # Rounded to about 100 m: the exact point of a home says whose it is.
        # (numbers in JSON, as the spec's examples have them; text in XML)
        expected = (36.588, 101.555) if fmt == "json" else ("36.588", "101.555")
        assert (request["lat"], request["long"]) == expected
        assert request["description"].startswith("家里暖气不热")
        assert "【补充信息】室内温度（℃）：12" in request["description"]
        requested = dt.datetime.fromisoformat(request["requested_datetime"])
        assert requested.utcoffset() == dt.timedelta(hours=8)
        assert dt.datetime.fromisoformat(request["expected_datetime"]) > requested


def test_the_list_keeps_to_90_days_and_says_so_when_asked_for_more(
    demo: Demo, client: Client, keyed: Keyed
) -> None:
    # Given a request filed 100 days ago and one filed now
    with time_machine.travel(timezone.now() - dt.timedelta(days=100)):
        old = filed(client, keyed, demo)
    new = filed(client, keyed, demo)
    listed = [r["service_request_id"] for r in client.get(f"{BASE}/requests.json").json()]
    # Then the default list is the last 90 days
    assert new in listed and old not in listed
    # And an older window of at most 90 days finds the old one
    start = (timezone.now() - dt.timedelta(days=120)).isoformat()
    end = (timezone.now() - dt.timedelta(days=95)).isoformat()
    response = client.get(f"{BASE}/requests.json", {"start_date": start, "end_date": end})
    assert [r["service_request_id"] for r in response.json()] == [old]
    # And only a start date reads the 90 days after it
    response = client.get(f"{BASE}/requests.json", {"start_date": start})
    assert [r["service_request_id"] for r in response.json()] == [old]
    # But a window longer than 90 days is a 400 naming the field
    response = client.get(
        f"{BASE}/requests.xml",
        {"start_date": start, "end_date": timezone.now().isoformat()},
    )
    assert response.status_code == 400
    assert body(response, "xml").find("error").findtext("description").startswith("end_date:")
    response = client.get(f"{BASE}/requests.json", {"start_date": "last tuesday"})
    assert response.status_code == 400
    assert response.json()[0]["description"].startswith("start_date:")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end_date": "0001-01-01T00:00:00Z"}, "end_date"),  # 90 days before it: no such date
        ({"start_date": "9999-12-31T00:00:00Z"}, "start_date"),
        ({"page": "²"}, "page"),  # a digit to str.isdigit, not to int()
        ({"page": "9" * 40}, "page"),
    ],
    ids=["year-1", "year-9999", "superscript", "huge"],
)
def test_extreme_values_are_400_naming_the_field(
    demo: Demo, client: Client, params: dict[str, str], field: str
) -> None:
    response = client.get(f"{BASE}/requests.json", params)
    assert response.status_code == 400
    assert response.json()[0]["description"].startswith(f"{field}:")


def test_the_list_filters_by_id_service_and_status_and_pages(
    demo: Demo, client: Client, keyed: Keyed
) -> None:
    # Given three requests: one closed, one of another service, one open
    closed = filed(client, keyed, demo)
    case = run_steps(
        Case.objects.get(tracking_code=closed), ["accept", "dispatch", "sign", "reply"], demo
    )
    # (an Open311 complainant has no account: the hotline's callback records the rating)
    workflow.case_evaluate(case=case, actor=demo.user("operator1"), rating=Rating.SATISFIED)
    run_steps(case, ["close"], demo)
    other = filed(client, keyed, demo, service_code="heating-leak")
    open_ = filed(client, keyed, demo)

    def ids(**params: str) -> list[str]:
        response = client.get(f"{BASE}/requests.json", params)
        assert response.status_code == 200, response.content
        return [r["service_request_id"] for r in response.json()]

    assert ids() == [open_, other, closed]
    assert ids(status="closed") == [closed]
    assert ids(status="open") == [open_, other]
    assert ids(service_code="heating-leak") == [other]
    assert ids(service_request_id=f"{closed},{open_}") == sorted([closed, open_], reverse=True)
    assert ids(page_size="2", page="2") == [closed]
    assert client.get(f"{BASE}/requests.json", {"status": "pending"}).status_code == 400
    assert client.get(f"{BASE}/requests.json", {"page_size": "5000"}).status_code == 400
    closed_row = client.get(f"{BASE}/requests/{closed}.json").json()[0]
    assert closed_row["status"] == "closed"
    assert closed_row["status_notes"] == "管道已修复。"


def test_a_rejected_request_is_answered_by_its_id_only_and_without_its_text(
    demo: Demo, client: Client, keyed: Keyed
) -> None:
    code = filed(client, keyed, demo)
    run_steps(Case.objects.get(tracking_code=code), ["reject"], demo)
    assert code not in [
        r["service_request_id"] for r in client.get(f"{BASE}/requests.json").json()
    ]
    (row,) = client.get(f"{BASE}/requests/{code}.json").json()
    assert row["status"] == "closed" and row["description"] == ""
    assert row["status_notes"].startswith("诉求不予受理：")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_token_names_its_request(demo: Demo, client: Client, keyed: Keyed, fmt: str) -> None:
    code = filed(client, keyed, demo)
    response = client.get(f"{BASE}/tokens/{code}.{fmt}")
    assert response.status_code == 200
    (row,) = records(response, fmt, "request")
    assert row == {"service_request_id": code, "token": code}


def test_jurisdiction_id_is_accepted_for_the_city_and_refused_for_another(
    demo: Demo, client: Client
) -> None:
    ok = client.get(f"{BASE}/services.json", {"jurisdiction_id": "xining.gov.cn"})
    assert ok.status_code == 200
    wrong = client.get(f"{BASE}/services.json", {"jurisdiction_id": "chicago.gov"})
    assert wrong.status_code == 400
    assert wrong.json()[0]["description"].startswith("jurisdiction_id:")


def test_a_submitted_case_of_the_web_form_is_listed_too(demo: Demo, client: Client) -> None:
    case = workflow.case_submit(
        actor=None,
        category=demo.category("noise"),
        region=demo.region("城东区", "大众街街道", "康西社区"),
        description="夜间施工噪音。",
        complainant_name="李四",
        complainant_phone="13800000000",
    )
    (row,) = client.get(f"{BASE}/requests/{case.tracking_code}.json").json()
    assert row["status_notes"] == "提交诉求" and row["lat"] is None


def test_a_page_of_requests_costs_the_same_queries_however_long(
    demo: Demo, client: Client, keyed: Keyed, django_assert_max_num_queries: Any
) -> None:
    # Given a dozen requests, some dispatched
    for n in range(12):
        code = filed(client, keyed, demo)
        if n % 2:
            run_steps(Case.objects.get(tracking_code=code), ["accept", "dispatch"], demo)
    # Then the page reads them in a fixed number of queries (cases, events, regions twice)
    with django_assert_max_num_queries(4):
        response = client.get(f"{BASE}/requests.json")
    assert len(response.json()) == 12


def test_a_control_character_typed_into_the_text_leaves_the_xml_readable(
    demo: Demo, client: Client, keyed: Keyed
) -> None:
    code = filed(client, keyed, demo, description="暖气\x0b不热\x1f。")
    root = body(client.get(f"{BASE}/requests/{code}.xml"), "xml")
    assert root.find("request").findtext("description").startswith("暖气不热。")


@pytest.mark.parametrize(
    "attributes",
    [
        {"code": "x"},
        [{"code": "x", "datatype": "colour", "description": "?"}],
        [{"code": "x", "datatype": "number", "description": ""}],
        [{"code": "x", "datatype": "singlevaluelist", "description": "?"}],
        [{"code": "x", "datatype": "number", "description": "?", "values": [{"key": "a"}]}],
        [{"code": "x", "datatype": "number", "description": "?", "required": "yes"}],
        [{"code": "x y", "datatype": "number", "description": "?"}],
        [{"code": "x", "datatype": "text", "description": "?"}] * 2,
    ],
)
def test_a_malformed_attribute_list_is_refused_when_saved(demo: Demo, attributes: Any) -> None:
    category = demo.category("water")
    category.open311_attributes = attributes
    with pytest.raises(ValidationError):
        category.full_clean()


def test_the_demo_heating_questions_are_well_formed(demo: Demo) -> None:
    demo.category("heating").full_clean()
