"""A message may be about any model that names itself (``Subject``): the inbox shows the same
JSON for a case as before the move, and a message about something else is no case."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Status
from notifications import services
from notifications.models import Notification
from notifications.subjects import subject_fields
from org.models import Region
from tests.conftest import Demo
from tests.notifications.test_notifications import MakeCase

INBOX = "/api/v1/notifications/"


def read_inbox(user: object) -> list[dict[str, object]]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(INBOX)
    assert response.status_code == 200
    return response.json()["results"]


def test_a_message_about_a_case_names_it_by_its_tracking_code(
    demo: Demo, make_case: MakeCase
) -> None:
    # Given a message about a case
    handler = demo.user("handler_huangzhong")
    case = make_case(Status.SUBMITTED)
    Notification.objects.filter(user=handler).delete()
    services.notify_users(
        [handler],
        kind="case_assigned",
        params={"code": case.tracking_code, "category": "供暖", "deadline": ""},
        key="subject:case",
        subject=case,
        now=timezone.now(),
    )
    # Then the case finds it, and the inbox shows the case's id and code as before
    assert list(case.notifications.values_list("key", flat=True)) == ["subject:case"]
    (row,) = read_inbox(handler)
    assert (row["case"], row["case_code"]) == (case.pk, case.tracking_code)


def test_a_message_about_another_model_is_not_about_a_case(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a model of another app that names itself (as a topic will), and a message about it
    monkeypatch.setattr(
        Region, "notification_label", lambda self: f"区划 {self.pk}", raising=False
    )
    handler = demo.user("handler_huangzhong")
    region = Region.objects.order_by("pk").first()
    assert region is not None
    Notification.objects.filter(user=handler).delete()
    services.notify_users(
        [handler],
        kind="daily_digest",
        params={"unit": "湟中区人民政府", "overdue": 1, "due_today": 0},
        key="subject:region",
        subject=region,
        now=timezone.now(),
    )
    # Then the message points at it with its label, and the inbox's case fields stay empty
    note = Notification.objects.get(user=handler)
    assert (note.subject, note.subject_label) == (region, f"区划 {region.pk}")
    (row,) = read_inbox(handler)
    assert (row["case"], row["case_code"]) == (None, None)


def test_a_subject_must_be_a_model_instance() -> None:
    with pytest.raises(TypeError):
        subject_fields("XN-20260302-0001")  # type: ignore[arg-type]
