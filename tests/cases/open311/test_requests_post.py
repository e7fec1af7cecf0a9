"""POST requests over HTTP: a key is needed, a keyed request becomes a case in the dispatchers'
queue through the web form's workflow function, and every bad input is a 400 naming its field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from cases import workflow
from cases.models import Case, Channel, Open311Submission
from cases.open311 import keys, views
from org.models import Region, RegionLevel
from tests.conftest import Demo
from xining_issues.errors import NotAllowed
from xining_issues.throttling import GuessLimit

from .conftest import Keyed, body, heating_request, post

FORMATS = ["json", "xml"]


def errors_of(response: Any, fmt: str) -> list[tuple[int, str]]:
    data = body(response, fmt)
    if fmt == "json":
        assert all(list(e) == ["code", "description"] for e in data)
        return [(e["code"], e["description"]) for e in data]
    assert data.tag == "errors"
    assert all(e.tag == "error" and [c.tag for c in e] == ["code", "description"] for e in data)
    return [(int(e.findtext("code")), e.findtext("description")) for e in data]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_keyed_post_files_a_case_the_dispatcher_sees_with_its_place_and_channel(
    demo: Demo, client: Client, keyed: Keyed, fmt: str
) -> None:
    # When a client posts a request with its key
    response = post(client, fmt, heating_request(demo, api_key=keyed.key))
    # Then the answer is the spec's: the new request's id and a notice
    assert response.status_code == 201
    data = body(response, fmt)
    if fmt == "json":
        (answer,) = data
        assert list(answer) == ["service_request_id", "service_notice", "account_id"]
        code = answer["service_request_id"]
    else:
        assert data.tag == "service_requests"
        (answer,) = data
        assert answer.tag == "request"
        assert [e.tag for e in answer] == ["service_request_id", "service_notice", "account_id"]
        code = answer.findtext("service_request_id")
    case = Case.objects.get(tracking_code=code)
    assert case.channel == Channel.OPEN311 and case.open311_client == keyed.client
    assert case.complainant_name == "赵建国" and case.complainant_phone == "13909712345"
    assert case.address == "新村巷38号"
    assert case.description == (
        "家里暖气不热，附近管道破损。\n【补充信息】室内温度（℃）：12；家中是否有老人或婴幼儿受影响？：是"
    )
    assert case.events.get().payload == {"channel": "open311"}
    keyed.client.refresh_from_db()
    assert keyed.client.last_used_at is not None
    # And the district's dispatcher finds it in the queue with its place and channel
    staff = APIClient()
    staff.force_authenticate(demo.user("dispatcher_huangzhong"))
    queue = staff.get("/api/v1/cases/", {"queue": "submitted"}).json()["results"]
    (row,) = [r for r in queue if r["tracking_code"] == code]
    assert row["channel"] == "open311"
    detail = staff.get(f"/api/v1/cases/{row['id']}/").json()
    assert (detail["lat"], detail["lng"]) == ("36.588321", "101.555210")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_post_without_a_live_key_is_refused_and_files_nothing(
    demo: Demo, client: Client, keyed: Keyed, fmt: str
) -> None:
    other, other_key = keys.open311_client_create(name="旧系统")
    keys.open311_client_revoke(client=other)
    for key in (None, "", "not-a-key", other_key, keyed.key + "x"):
        data = heating_request(demo) if key is None else heating_request(demo, api_key=key)
        response = post(client, fmt, data)
        assert response.status_code == 403
        ((code, description),) = errors_of(response, fmt)
        assert code == 403 and description.startswith("api_key:")
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"service_code": ""}, "service_code"),
        ({"lat": "north"}, "lat"),
        ({"address_id": "²"}, "address_id"),
        ({"address_id": "9" * 30}, "address_id"),
        ({"lat": "91"}, "lat"),
        ({"long": ""}, "long"),
        ({"address_id": "", "address_string": "", "lat": "", "long": ""}, "address_string"),
        ({"address_id": "999999"}, "address_id"),
        ({"address_id": "", "address_string": "火星基地"}, "address_string"),
        ({"last_name": "", "first_name": ""}, "last_name"),
        ({"phone": ""}, "phone"),
        ({"phone": "12345"}, "phone"),
        ({"description": ""}, "description"),
        ({"description": "冷" * 2000}, "description"),
        ({"attribute[vulnerable_affected]": ""}, "attribute[vulnerable_affected]"),
        ({"attribute[vulnerable_affected]": "maybe"}, "attribute[vulnerable_affected]"),
        ({"attribute[room_temperature]": "cold"}, "attribute[room_temperature]"),
        ({"attribute[shoe_size]": "42"}, "attribute[shoe_size]"),
        ({"jurisdiction_id": "boston.gov"}, "jurisdiction_id"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    demo: Demo, client: Client, keyed: Keyed, change: dict[str, str], field: str
) -> None:
    response = post(client, "json", heating_request(demo, api_key=keyed.key, **change))
    assert response.status_code == 400, response.content
    assert [d.split(":")[0] for _c, d in errors_of(response, "json")] == [field]
    assert not Case.objects.exists()


def test_an_unknown_service_is_a_404(demo: Demo, client: Client, keyed: Keyed) -> None:
    response = post(client, "xml", heating_request(demo, api_key=keyed.key, service_code="ufo"))
    assert response.status_code == 404
    assert errors_of(response, "xml")[0][0] == 404


def test_the_community_is_found_in_the_address(demo: Demo, client: Client, keyed: Keyed) -> None:
    # Given an address naming a community, without an address id or coordinates
    data = heating_request(
        demo,
        api_key=keyed.key,
        service_code="water",
        address_id="",
        lat="",
        long="",
        address_string="城东区大众街街道康西社区建国路12号",
    )
    for name in ("attribute[room_temperature]", "attribute[vulnerable_affected]"):
        data.pop(name)
    response = post(client, "json", data)
    assert response.status_code == 201, response.content
    case = Case.objects.get(tracking_code=response.json()[0]["service_request_id"])
    assert case.region == demo.region("城东区", "大众街街道", "康西社区")
    assert case.lat is None


def place_only(demo: Demo, keyed: Keyed, lat: str, lng: str) -> dict[str, str]:
    """A heating request placed by its coordinates alone."""
    return heating_request(
        demo, api_key=keyed.key, address_id="", address_string="", lat=lat, long=lng
    )


def test_lat_long_alone_place_the_case_in_the_nearest_community(
    demo: Demo, client: Client, keyed: Keyed
) -> None:
    # Given two communities' points about 1.1 km apart, and no other community with a point
    Region.objects.update(lat=None, lng=None)
    kangxi = demo.region("城东区", "大众街街道", "康西社区")
    shulin = demo.region("城东区", "大众街街道", "树林巷社区")
    Region.objects.filter(pk=kangxi.pk).update(lat=Decimal("36.600000"), lng=Decimal("101.8"))
    Region.objects.filter(pk=shulin.pk).update(lat=Decimal("36.610000"), lng=Decimal("101.8"))
    # When a client posts a point 330 m from 树林巷 and 780 m from 康西, and then one nearer 康西
    near_shulin = post(client, "json", place_only(demo, keyed, "36.607", "101.8"))
    near_kangxi = post(client, "xml", place_only(demo, keyed, "36.6031", "101.8012"))
    # Then each case lies in the nearest community, its coordinates kept as posted
    assert (near_shulin.status_code, near_kangxi.status_code) == (201, 201)
    first = Case.objects.get(tracking_code=near_shulin.json()[0]["service_request_id"])
    second_id = body(near_kangxi, "xml").findtext("request/service_request_id")
    second = Case.objects.get(tracking_code=second_id)
    assert (first.region, (first.lat, first.lng)) == (
        shulin,
        (Decimal("36.607"), Decimal("101.8")),
    )
    assert second.region == kangxi and second.district_id == kangxi.ancestor_ids[1]


@pytest.mark.parametrize("fmt", FORMATS)
def test_lat_long_far_from_every_community_point_is_a_400_naming_lat(
    demo: Demo, client: Client, keyed: Keyed, fmt: str
) -> None:
    # Given one community with a point, 11 km south of the posted one (OPEN311_PLACE_KM is 5)
    Region.objects.update(lat=None, lng=None)
    kangxi = demo.region("城东区", "大众街街道", "康西社区")
    Region.objects.filter(pk=kangxi.pk).update(lat=Decimal("36.600000"), lng=Decimal("101.8"))
    for lat, lng in (("36.7", "101.8"), ("-36.6", "101.8"), ("36.6", "-101.8")):
        response = post(client, fmt, place_only(demo, keyed, lat, lng))
        assert response.status_code == 400, response.content
        assert [d.split(":")[0] for _c, d in errors_of(response, fmt)] == ["lat"]
    # And with no community point at all, the same answer
    Region.objects.update(lat=None, lng=None)
    response = post(client, fmt, place_only(demo, keyed, "36.6", "101.8"))
    assert [d.split(":")[0] for _c, d in errors_of(response, fmt)] == ["lat"]
    assert not Case.objects.exists()


def test_the_demo_communities_have_points_a_phone_near_them_can_use(
    demo: Demo, client: Client, keyed: Keyed
) -> None:
    # The seeded demo places every community, so a client with only a GPS fix files a case
    community = demo.region("湟中区", "多巴镇", "多巴一村")
    assert not Region.objects.filter(level=RegionLevel.COMMUNITY, lat__isnull=True).exists()
    lat, lng = community.lat + Decimal("0.001"), community.lng
    response = post(client, "json", place_only(demo, keyed, str(lat), str(lng)))
    assert response.status_code == 201, response.content
    case = Case.objects.get(tracking_code=response.json()[0]["service_request_id"])
    assert case.district_id == community.ancestor_ids[1]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("method", "address", "allowed"),
    [
        ("put", "services", "GET"),
        ("post", "discovery", "GET"),
        ("delete", "requests", "GET, POST"),
        ("patch", "tokens/XN-20231019-0001", "GET"),
    ],
)
def test_a_method_an_address_does_not_take_is_the_specs_405(
    client: Client, fmt: str, method: str, address: str, allowed: str
) -> None:
    response = getattr(client, method)(f"/open311/v2/{address}.{fmt}")
    assert response.status_code == 405
    assert response["Allow"] == allowed
    ((code, _description),) = errors_of(response, fmt)
    assert code == 405


def test_wrong_keys_lock_the_address_out_before_any_key_is_looked_up(
    demo: Demo, client: Client, keyed: Keyed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "KEY_GUESSES", GuessLimit("open311-key", limit=3, lock_seconds=600))
    # Given a guesser who sends wrong keys, each with a different forged X-Forwarded-For
    answers = [
        post(
            client,
            "json",
            heating_request(demo, api_key=f"guess-{n}"),
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n in range(5)
    ]
    # Then the third miss locks the address: even the right key is refused from it now
    assert answers == [403, 403, 403, 429, 429]
    right = post(client, "json", heating_request(demo, api_key=keyed.key))
    assert right.status_code == 429 and right["Retry-After"] == "60"
    # While the same key from another address files, and right keys do not use up the count
    for n in range(4):
        other = post(
            client,
            "json",
            heating_request(demo, api_key=keyed.key, description=f"暖气不热（{n}）"),
            REMOTE_ADDR="203.0.113.9",
        )
        assert other.status_code == 201
    assert Case.objects.count() == 4


def test_posts_are_throttled_per_key_whatever_address_they_claim(
    demo: Demo, client: Client, keyed: Keyed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "KEY_RATE", views.Rate("post", 2))
    answers = [
        post(
            client,
            "json",
            heating_request(demo, api_key=keyed.key, description=f"暖气不热（{n}）"),
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n in range(4)
    ]
    assert answers == [201, 201, 429, 429]
    # Another client's key has its own count
    _other, other_key = keys.open311_client_create(name="邻市热线")
    assert post(client, "json", heating_request(demo, api_key=other_key)).status_code == 201


def test_reads_are_throttled_per_address_and_a_forged_header_does_not_reset_it(
    demo: Demo, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "READ_RATE", views.Rate("read", 3))
    answers = [
        client.get("/open311/v2/services.json", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(5)
    ]
    assert answers == [200, 200, 200, 429, 429]


def test_only_a_keyed_client_files_on_the_open311_channel(demo: Demo, keyed: Keyed) -> None:
    place = {
        "actor": None,
        "category": demo.category("water"),
        "region": demo.region("城东区", "大众街街道", "康西社区"),
        "description": "停水了。",
        "complainant_name": "李四",
        "complainant_phone": "13800000000",
    }
    with pytest.raises(NotAllowed):
        workflow.case_submit(**place, channel=Channel.OPEN311)
    with pytest.raises(NotAllowed):
        workflow.case_submit(**place, channel=Channel.WEB, open311_client=keyed.client)


def test_the_same_post_again_answers_its_first_case(
    demo: Demo, client: Client, keyed: Keyed
) -> None:
    # Given a request filed once
    data = heating_request(demo, api_key=keyed.key)
    first = post(client, "json", data)
    assert first.status_code == 201
    # When the client posts the same form again (a retry after a timeout), in either format
    again = post(client, "xml", data)
    # Then it gets the same request back, and no second case is made
    assert again.status_code == 200
    assert (
        body(again, "xml").find("request").findtext("service_request_id")
        == (first.json()[0]["service_request_id"])
    )
    assert Case.objects.count() == 1
    # But another client's identical post is its own
    _other, other_key = keys.open311_client_create(name="邻市热线")
    assert post(client, "json", {**data, "api_key": other_key}).status_code == 201
    assert Case.objects.count() == 2


def test_a_refused_post_is_judged_afresh_when_sent_again(
    demo: Demo, client: Client, keyed: Keyed
) -> None:
    bad = heating_request(demo, api_key=keyed.key, phone="12345")
    assert post(client, "json", bad).status_code == 400
    assert post(client, "json", bad).status_code == 400
    assert not Open311Submission.objects.exists()
    assert post(client, "json", {**bad, "phone": "13909712345"}).status_code == 201


def test_a_same_post_still_being_filed_is_a_409_until_its_claim_is_stale(
    demo: Demo, client: Client, keyed: Keyed
) -> None:
    # Given a same post claimed a moment ago whose case is not written yet
    data = heating_request(demo, api_key=keyed.key)
    first = post(client, "json", data)
    claim = Open311Submission.objects.get()
    Open311Submission.objects.filter(pk=claim.pk).update(case=None, created_at=timezone.now())
    # Then the same post waits for it
    response = post(client, "json", data)
    assert response.status_code == 409
    assert errors_of(response, "json")[0][0] == 409
    # And a claim left by a post that died long ago is taken over
    Open311Submission.objects.update(created_at=timezone.now() - dt.timedelta(minutes=6))
    retried = post(client, "json", data)
    assert retried.status_code == 201
    assert retried.json()[0]["service_request_id"] != first.json()[0]["service_request_id"]
