"""`make run`'s drill case: yellow after three minutes, red after four, each in the inbox."""

from __future__ import annotations

import datetime as dt

from cases import supervision
from cases.models import SupervisionLevel
from demo.reference import seed_live_case
from notifications.models import Notification
from tests.conftest import Demo


def scan_at(moment: dt.datetime) -> None:
    for rule, items in supervision.scan(moment):
        supervision.supervise_batch(rule, items, moment)


def test_the_drill_case_turns_yellow_then_red(demo: Demo) -> None:
    case = seed_live_case()
    assert case.warn_at is not None and case.resolve_by is not None
    assert case.resolve_by - case.dispatched_at == dt.timedelta(minutes=4)
    handler = demo.user("handler_huangzhong")

    scan_at(case.warn_at - dt.timedelta(seconds=1))
    case.refresh_from_db()
    assert case.supervision_level == SupervisionLevel.ON_TIME

    scan_at(case.warn_at + dt.timedelta(seconds=1))
    case.refresh_from_db()
    assert case.supervision_level == SupervisionLevel.WARNING

    scan_at(case.resolve_by + dt.timedelta(seconds=1))
    case.refresh_from_db()
    assert case.supervision_level == SupervisionLevel.OVERDUE
    kinds = set(
        Notification.objects.filter(user=handler, case=case).values_list("kind", flat=True)
    )
    assert {"case_assigned", "reminder_warning", "reminder_overdue"} <= kinds
