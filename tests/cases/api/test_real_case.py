"""The seed's real case, end to end through HTTP.

On 2023-10-19 赵先生 phoned: no heating at 湟中区多巴镇多巴一村新村巷38号, a nearby pipe was
damaged. 湟中区 sent staff the same day with 华润燃气's repair crew; the pipe was fixed that day.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from cases.models import Case, CaseEvent, EventType, Status
from tests.conftest import Demo

TZ = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2023, 10, 19, hour, minute, tzinfo=TZ)


def as_user(demo: Demo, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(demo.user(username))
    return client


def post(client: APIClient, url: str, data: dict | None = None, expect: int = 200) -> dict:
    response = client.post(url, data or {}, format="json")
    assert response.status_code == expect, response.content.decode()
    return response.json()


@pytest.mark.django_db
def test_zhao_heating_case_from_call_to_archive(demo: Demo) -> None:
    duoba_yi = demo.region("湟中区", "多巴镇", "多巴一村")
    heating = demo.category("heating-cold")
    huangzhong = demo.unit("huangzhong-gov")
    gas = demo.unit("xn-gas")
    operator = as_user(demo, "operator1")

    # 接: operator1 logs the call at 09:05
    with time_machine.travel(at(9, 5), tick=False):
        created = post(
            operator,
            "/api/v1/cases/",
            {
                "channel": "phone",
                "category": heating.pk,
                "region": duoba_yi.pk,
                "address": "新村巷38号",
                "title": "家中无暖气",
                "description": "家里没有暖气，附近一处管道破损。",
                "complainant_name": "赵先生",
                "complainant_phone": "13909712345",
            },
            expect=201,
        )
    assert created["tracking_code"] == "XN-20231019-0001"
    url = f"/api/v1/cases/{created['id']}/"

    with time_machine.travel(at(9, 10), tick=False):
        accepted = post(operator, url + "accept/", {"note": "供暖不热，紧急"})
    assert accepted["status"] == Status.ACCEPTED

    # 派: the suggestion names 湟中区人民政府 with 华润燃气 as co-handler
    dispatcher = as_user(demo, "dispatcher_huangzhong")
    suggestions = dispatcher.get(url + "suggestions/").json()
    first = suggestions["lead_units"][0]
    assert first["unit"]["name"] == "湟中区人民政府"
    assert [u["name"] for u in first["co_units"]] == ["西宁华润燃气有限公司"]

    with time_machine.travel(at(9, 20), tick=False):
        dispatched = post(
            dispatcher, url + "dispatch/", {"lead_unit": huangzhong.pk, "co_units": [gas.pk]}
        )
    assert dispatched["status"] == Status.DISPATCHED
    assert [u["name"] for u in dispatched["co_units"]] == ["西宁华润燃气有限公司"]
    # Heating runs in clock hours: contact within 2 hours, resolve within 24.
    assert dt.datetime.fromisoformat(dispatched["contact_by"]) == at(11, 20)
    assert dt.datetime.fromisoformat(dispatched["resolve_by"]) == at(9, 20) + dt.timedelta(
        hours=24
    )

    # 办: 湟中区 signs, calls 赵先生, and replies the same day
    handler = as_user(demo, "handler_huangzhong")
    with time_machine.travel(at(9, 30), tick=False):
        assert post(handler, url + "sign/")["status"] == Status.HANDLING
    with time_machine.travel(at(9, 40), tick=False):
        post(handler, url + "contact/", {"method": "phone", "note": "已电话联系，抢修队出发"})
    gas_handler = as_user(demo, "handler_gas")
    with time_machine.travel(at(13, 0), tick=False):
        post(gas_handler, url + "progress/", {"text": "华润燃气抢修队到场", "public": True})
    with time_machine.travel(at(16, 30), tick=False):
        replied = post(
            handler,
            url + "reply/",
            {"outcome": "resolved", "text": "破损管道当天修复，已恢复供暖。"},
        )
    assert replied["status"] == Status.REPLIED

    # 评: 赵先生 rates it 满意 from the public tracking page
    anonymous = APIClient()
    track = anonymous.get(
        "/api/v1/track/", {"code": created["tracking_code"], "phone_last4": "2345"}
    )
    assert track.status_code == 200
    assert track.json()["can_evaluate"] is True
    with time_machine.travel(at(18, 0), tick=False):
        rated = post(
            anonymous,
            "/api/v1/track/evaluate/",
            {"code": created["tracking_code"], "phone_last4": "2345", "rating": "satisfied"},
        )
    assert rated["status"] == Status.EVALUATED

    # 报: the dispatcher archives it
    with time_machine.travel(at(18, 30), tick=False):
        closed = post(dispatcher, url + "close/")
    assert closed["status"] == Status.CLOSED

    # One event per step, each with its actor and time
    events = list(CaseEvent.objects.filter(case_id=created["id"]).order_by("created_at", "id"))
    assert [(e.type, e.actor.username if e.actor else None, e.created_at) for e in events] == [
        (EventType.SUBMIT, "operator1", at(9, 5)),
        (EventType.ACCEPT, "operator1", at(9, 10)),
        (EventType.DISPATCH, "dispatcher_huangzhong", at(9, 20)),
        (EventType.SIGN, "handler_huangzhong", at(9, 30)),
        (EventType.CONTACT, "handler_huangzhong", at(9, 40)),
        (EventType.PROGRESS, "handler_gas", at(13, 0)),
        (EventType.REPLY, "handler_huangzhong", at(16, 30)),
        (EventType.EVALUATE, None, at(18, 0)),
        (EventType.CLOSE, "dispatcher_huangzhong", at(18, 30)),
    ]
    case = Case.objects.get(pk=created["id"])
    assert case.closed_at == at(18, 30)

    # The rates count it as responded, resolved and satisfied
    committee = as_user(demo, "committee1")
    rates = committee.get(
        "/api/v1/stats/rates/", {"group_by": "unit", "from": "2023-10-01", "to": "2023-10-31"}
    ).json()["results"]
    row = next(r for r in rates if r["name"] == "湟中区人民政府")
    assert row["dispatched"] == row["responded"] == 1
    assert row["replied"] == row["resolved"] == 1
    assert row["evaluated"] == row["satisfied"] == 1
    assert row["response_rate"] == row["resolution_rate"] == row["satisfaction_rate"] == 1.0
    by_region = committee.get(
        "/api/v1/stats/rates/", {"group_by": "region", "from": "2023-10-19", "to": "2023-10-19"}
    ).json()["results"]
    assert [(r["name"], r["satisfaction_rate"]) for r in by_region] == [("湟中区", 1.0)]

    # The public timeline never names anyone or shows the phone
    public = anonymous.get(
        "/api/v1/track/", {"code": created["tracking_code"], "phone_last4": "2345"}
    ).content.decode()
    assert "赵先生" not in public and "13909712345" not in public
    assert "华润燃气抢修队到场" in public
