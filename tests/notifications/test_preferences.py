"""消息设置: each staff user chooses e-mail and SMS per kind of message (the inbox always on),
through the API and its page; ``notify_users`` sends what was chosen, once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from notifications import messages, services
from notifications.models import Notification, NotificationPreference, OutboxMessage
from org.models import User
from tests.conftest import Demo

URL = "/api/v1/notifications/preferences/"


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def send(users: list[User], key: str = "k1") -> None:
    services.notify_users(
        users,
        kind="case_assigned",
        params={"code": "XN-20310314-0007", "category": "供暖", "deadline": ""},
        key=key,
        subject=None,
        now=timezone.now(),
    )


def outbox() -> set[tuple[str, str, str]]:
    return set(OutboxMessage.objects.values_list("channel", "recipient", "key"))


@pytest.fixture
def handler(demo: Demo) -> User:
    user = demo.user("handler_huangzhong")
    user.email, user.phone = "zhang@example.invalid", "13909710001"
    user.save(update_fields=["email", "phone"])
    return user


def test_without_a_choice_a_user_gets_the_inbox_and_an_email(handler: User) -> None:
    send([handler])
    assert Notification.objects.filter(user=handler, kind="case_assigned").count() == 1
    assert outbox() == {("email", "zhang@example.invalid", f"k1:{handler.pk}")}


def test_the_chosen_channels_are_used_once_each(handler: User, demo: Demo) -> None:
    # Given a user who wants SMS and no e-mail for new dispatches, and one who made no choice
    NotificationPreference.objects.create(
        user=handler, kind="case_assigned", email=False, sms=True
    )
    other = demo.user("handler_chengdong")
    other.email = "li@example.invalid"
    other.save(update_fields=["email"])
    # When the same message is sent twice (a retry)
    send([handler, other])
    send([handler, other])
    # Then the inbox has one each, the first an SMS, the second an e-mail, each once
    assert Notification.objects.filter(kind="case_assigned").count() == 2
    assert outbox() == {
        ("sms", "13909710001", f"k1:{handler.pk}:sms"),
        ("email", "li@example.invalid", f"k1:{other.pk}"),
    }


def test_no_sms_without_a_phone_and_no_email_without_an_address(demo: Demo) -> None:
    user = demo.user("handler_gas")
    user.email, user.phone = "", ""
    user.save(update_fields=["email", "phone"])
    NotificationPreference.objects.create(user=user, kind="case_assigned", email=True, sms=True)
    send([user])
    assert Notification.objects.filter(user=user).count() == 1
    assert outbox() == set()


def test_the_api_lists_every_staff_kind_and_saves_a_choice(handler: User) -> None:
    client = client_for(handler)
    rows = client.get(URL).json()
    assert [r["kind"] for r in rows] == messages.STAFF_KINDS
    assert {"topic_task_late", "case_assigned"} <= {r["kind"] for r in rows}
    assert not {"case_accepted", "case_replied"} & {r["kind"] for r in rows}  # the public's
    assert all((r["email"], r["sms"]) == (True, False) for r in rows)
    assert all(r["title"] for r in rows)
    # When the user turns SMS on for late topic tasks and e-mail off for digests
    r = client.put(
        URL,
        [{"kind": "topic_task_late", "email": True, "sms": True},
         {"kind": "daily_digest", "email": False, "sms": False}],
        format="json",
    )  # fmt: skip
    assert r.status_code == 200, r.json()
    chosen = {row["kind"]: (row["email"], row["sms"]) for row in r.json()}
    assert chosen["topic_task_late"] == (True, True)
    assert chosen["daily_digest"] == (False, False)
    assert chosen["case_assigned"] == (True, False)  # untouched
    # And saving again replaces, never duplicates
    client.put(URL, [{"kind": "topic_task_late", "email": False, "sms": False}], format="json")
    assert NotificationPreference.objects.filter(user=handler).count() == 2
    assert services.channels([handler.pk], "topic_task_late")[handler.pk] == services.Channels(
        email=False, sms=False
    )


@pytest.mark.parametrize(
    "body",
    [
        [{"kind": "case_accepted", "email": False, "sms": True}],  # the complainant's SMS
        [{"kind": "no_such_kind", "email": True, "sms": True}],
        [{"kind": "case_assigned", "email": "maybe", "sms": True}],
        {"kind": "case_assigned", "email": True, "sms": True},  # not a list
    ],
)
def test_a_bad_choice_is_a_400_and_saves_nothing(handler: User, body: Any) -> None:
    r = client_for(handler).put(URL, body, format="json")
    assert r.status_code == 400
    assert not NotificationPreference.objects.exists()


def test_each_user_sees_and_changes_only_their_own(handler: User, demo: Demo) -> None:
    NotificationPreference.objects.create(user=handler, kind="case_assigned", email=False)
    other = demo.user("handler_chengdong")
    rows = client_for(other).get(URL).json()
    assert {r["kind"]: r["email"] for r in rows}["case_assigned"] is True
    assert client_for(None).get(URL).status_code == 403


def test_the_page_is_for_staff(handler: User, demo: Demo) -> None:
    page = Client()
    assert page.get("/notifications/preferences/").status_code == 302  # to sign in
    page.force_login(demo.user("resident1"))
    assert page.get("/notifications/preferences/").status_code == 403
    page.force_login(handler)
    answer = page.get("/notifications/preferences/")
    assert answer.status_code == 200
    assert "notification-preferences.js" in answer.content.decode()
    assert "/notifications/preferences/" in page.get("/workbench/inbox/").content.decode()


def test_the_inbox_links_a_topic_message_to_the_topic_page(handler: User, demo: Demo) -> None:
    from topics import workflow
    from topics.models import TopicTheme

    topic = workflow.topic_create(
        actor=demo.user("committee1"), title="推进基层减负", month=dt.date(2031, 3, 1),
        theme=TopicTheme.BURDEN_REDUCTION, lead_unit=demo.unit("xn-civil"),
    )  # fmt: skip
    services.notify_users(
        [handler],
        kind="topic_report_due",
        params={"title": topic.title, "week": "2031-03-10"},
        key="t1",
        subject=topic,
        now=timezone.now() - dt.timedelta(minutes=1),
    )
    (row,) = client_for(handler).get("/api/v1/notifications/").json()["results"]
    assert row["url"] == f"/dashboard/topics/{topic.pk}/"
    assert (row["case"], row["case_code"]) == (None, None)
    assert row["subject_label"] == f"每月一题 {topic.month:%Y-%m} #{topic.pk}"
