"""No Open311 answer carries the complainant's name or phone, a phone or ID number typed into
the description, or an internal note (issue 13, privacy acceptance)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from cases import workflow
from cases.models import Case, Open311Client
from tests.cases.conftest import run_steps
from tests.conftest import Demo

from .conftest import BASE, Keyed, heating_request, post

NAME = "赵建国"
PHONE = "13909712345"
TYPED_PHONE = "13812345678"
TYPED_ID = "11010519491231002X"
INTERNAL = "内部备注勿外传"
SECRETS = [NAME, PHONE, TYPED_PHONE, TYPED_ID, INTERNAL, "zhao@example.com", "新村巷38号"]


def test_no_open311_answer_holds_personal_data_or_an_internal_note(
    demo: Demo, client: Client, keyed: Keyed
) -> None:
    # Given a request whose description names the complainant and holds a phone and an ID number
    description = f"我是{NAME}，家里暖气不热，电话{TYPED_PHONE}，身份证{TYPED_ID}。"
    answers = []
    for fmt in ("json", "xml"):
        data = heating_request(demo, api_key=keyed.key, description=description)
        answers.append(post(client, fmt, data))
    code = answers[0].json()[0]["service_request_id"]
    case = Case.objects.get(tracking_code=code)
    # And staff who wrote an internal note and a public reply that repeats the name and number
    run_steps(case, ["accept", "dispatch", "sign"], demo)
    handler = demo.user("handler_huangzhong")
    workflow.case_add_progress(case=case, actor=handler, text=INTERNAL)
    workflow.case_reply(
        case=case, actor=handler, outcome="resolved", text=f"已联系{NAME}（{PHONE}），管道已修复。"
    )
    # When every Open311 resource is read in both formats
    for fmt in ("json", "xml"):
        for path in (
            "discovery",
            "services",
            "services/heating-cold",
            "requests",
            f"requests/{code}",
            f"tokens/{code}",
        ):
            answers.append(client.get(f"{BASE}/{path}.{fmt}"))
        answers.append(client.get(f"{BASE}/requests.{fmt}", {"service_request_id": code}))
    # Then none of them holds a name, a number or the note
    assert all(a.status_code in (200, 201) for a in answers)
    for answer in answers:
        text = answer.content.decode()
        leaked = [secret for secret in SECRETS if secret in text]
        assert leaked == [], (answer.request["PATH_INFO"], leaked)
    # While the reply itself is read, masked
    (row,) = client.get(f"{BASE}/requests/{code}.json").json()
    assert row["status_notes"] == "已联系赵**（139****2345），管道已修复。"
    assert "赵**" in row["description"]


def test_the_command_prints_a_key_once_and_keeps_only_its_hash(
    demo: Demo, client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    # When an administrator makes a key
    call_command("open311_key", "微信小程序", "--contact", "张工")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    # Then the key is not in the database, only its hash and prefix
    stored = Open311Client.objects.get(name="微信小程序")
    assert stored.contact == "张工" and stored.key_prefix == key[:8]
    assert key not in (stored.key_hash, stored.key_prefix) and len(key) >= 40
    # And the key files a request
    response = post(client, "json", heating_request(demo, api_key=key))
    assert response.status_code == 201


def test_the_admin_shows_a_new_key_once(demo: Demo, admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/cases/open311client/add/", {"name": "邻市热线", "contact": ""}, follow=True
    )
    assert response.status_code == 200
    client = Open311Client.objects.get(name="邻市热线")
    (message,) = [str(m) for m in response.context["messages"] if "接口密钥" in str(m)]
    key = message.rsplit("：", 1)[1]
    assert key[:8] == client.key_prefix and key != client.key_hash
    page = admin_client.get(f"/admin/cases/open311client/{client.pk}/change/").content.decode()
    assert key not in page
