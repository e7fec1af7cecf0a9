"""`make run`'s drill case: yellow after three minutes, red after four, each in the inbox; one a
day while it is open, however often `make run` starts."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import time_machine
from django.core.management import call_command
from django.utils import timezone

from cases import supervision, workflow
from cases.models import Case, Outcome, Rating, SupervisionLevel
from demo.reference import live_case, seed_live_case
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


def test_the_drill_is_logged_by_the_hotline_for_a_fictional_caller(demo: Demo) -> None:
    case = seed_live_case()
    assert (case.channel, case.category.code) == ("phone", "drill")
    assert case.complainant_id is None and "赵" not in case.complainant_name
    assert "新村巷" not in case.address + case.description  # the real case is in the archive


def test_a_restart_keeps_todays_open_drill(demo: Demo) -> None:
    first, added = live_case()
    again, added_again = live_case()
    assert added and not added_again and again.pk == first.pk
    assert Case.objects.filter(category__code="drill").count() == 1


def test_seed_demo_live_case_twice_adds_one_drill(demo: Demo) -> None:
    out = StringIO()
    call_command("seed_demo", live_case=True, stdout=out)
    call_command("seed_demo", live_case=True, stdout=out)
    drill = Case.objects.get(category__code="drill")
    assert f"live case {drill.tracking_code} (today's drill, still open): warning at" in (
        out.getvalue()
    )


def test_a_new_drill_once_todays_is_evaluated(demo: Demo) -> None:
    first, _added = live_case()
    workflow.case_reply(
        case=first,
        actor=demo.user("handler_huangzhong"),
        outcome=Outcome.RESOLVED,
        text="演练结束",
    )
    workflow.case_evaluate(case=first, actor=demo.user("operator1"), rating=Rating.SATISFIED)
    second, added = live_case()
    assert added and second.pk != first.pk


def test_a_new_drill_the_next_day(demo: Demo) -> None:
    first, _added = live_case()
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        second, added = live_case()
    assert added and second.pk != first.pk
