"""The real 赵先生 case of 2023-10-19, archived in the demo history (``demo.archive``): written
once, shaped exactly as the workflow would have written it, counted in October 2023's figures
and shown masked to the public."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Sum
from rest_framework.test import APIClient

from cases import sla, workflow
from cases.models import (
    Case,
    CaseEvent,
    DailySequence,
    Evaluation,
    EvaluationSource,
    EventType,
    Outcome,
    Rating,
    Status,
)
from demo import archive
from demo.archive import find_archived_case, seed_archived_case
from stats.models import COUNTERS, CaseMonthStat
from stats.rollup import refresh_rollup
from tests.conftest import Demo

STEPS = [
    EventType.SUBMIT,
    EventType.ACCEPT,
    EventType.DISPATCH,
    EventType.SIGN,
    EventType.CONTACT,
    EventType.PROGRESS,
    EventType.REPLY,
    EventType.EVALUATE,
    EventType.CLOSE,
]
# Case columns that hold the complaint's own words or its identity, not the workflow's doing.
OWN_WORDS = {
    "id",
    "tracking_code",
    "title",
    "description",
    "complainant_name",
    "complainant_phone",
    "address",
    "reply_text",
}


def timeline(case: Case) -> list[CaseEvent]:
    return list(case.events.order_by("created_at", "pk"))


@pytest.fixture
def archived(demo: Demo) -> Case:
    case, added = seed_archived_case()
    assert added
    return case


def replay(demo: Demo) -> Case:
    """The same call, handled at the same minutes, through ``cases.workflow``."""
    operator, dispatcher = demo.user("operator1"), demo.user("dispatcher_huangzhong")
    handler, crew = demo.user("handler_huangzhong"), demo.user("handler_gas")

    def at(moment: dt.datetime) -> Any:
        return time_machine.travel(moment, tick=False)

    with at(archive.SUBMITTED_AT):
        case = workflow.case_submit(
            actor=operator,
            channel="phone",
            category=demo.category("heating-cold"),
            region=demo.region("湟中区", "多巴镇", "多巴一村"),
            **archive.COMPLAINT,
        )
    with at(archive.ACCEPTED_AT):
        workflow.case_accept(case=case, actor=operator)
    with at(archive.DISPATCHED_AT):
        workflow.case_dispatch(
            case=case,
            actor=dispatcher,
            lead_unit=demo.unit("huangzhong-gov"),
            co_units=[demo.unit("xn-gas")],
            note=archive.DISPATCH_NOTE,
        )
    with at(archive.SIGNED_AT):
        workflow.case_sign(case=case, actor=handler)
    with at(archive.CONTACTED_AT):
        workflow.case_record_contact(case=case, actor=handler, note=archive.CONTACT_NOTE)
    with at(archive.PROGRESS_AT):
        workflow.case_add_progress(case=case, actor=crew, text=archive.PROGRESS_TEXT, public=True)
    with at(archive.REPLIED_AT):
        workflow.case_reply(
            case=case, actor=handler, outcome=Outcome.RESOLVED, text=archive.REPLY_TEXT
        )
    with at(archive.EVALUATED_AT):
        workflow.case_evaluate(
            case=case,
            actor=operator,
            rating=Rating.SATISFIED,
            comment=archive.EVALUATION_COMMENT,
        )
    with at(archive.CLOSED_AT):
        workflow.case_close(case=case, actor=operator, note=archive.CLOSE_NOTE)
    case.refresh_from_db()
    return case


def test_two_seeds_write_the_case_once(demo: Demo) -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    case = find_archived_case()
    assert case is not None
    assert Case.objects.filter(complainant_name="赵先生", address="新村巷38号").count() == 1
    assert case.events.count() == len(STEPS)
    assert Evaluation.objects.filter(case=case).count() == 1
    assert "(already there)" in out.getvalue() and case.tracking_code in out.getvalue()
    # The day's sequence moved past its number: a new call numbered that day gets the next one.
    number = int(case.tracking_code.rsplit("-", 1)[1])
    assert DailySequence.objects.get(day=dt.date(2023, 10, 19)).last >= number


def test_its_timeline_and_fields_tell_the_story(demo: Demo, archived: Case) -> None:
    case = Case.objects.select_related("category", "region", "lead_unit").get(pk=archived.pk)
    assert case.tracking_code.startswith("XN-20231019-")
    assert (case.channel, case.category.code, case.region.name) == (
        "phone",
        "heating-cold",
        "多巴一村",
    )
    assert (case.complainant_name, case.address) == ("赵先生", "新村巷38号")
    assert "暖气" in case.description and "管道破损" in case.description
    assert case.lead_unit == demo.unit("huangzhong-gov")
    assert list(case.co_units.all()) == [demo.unit("xn-gas")]
    assert (case.status, case.outcome, case.rating) == (
        Status.CLOSED,
        Outcome.RESOLVED,
        Rating.SATISFIED,
    )
    events = timeline(case)
    assert [e.type for e in events] == STEPS
    local = [dt.datetime.astimezone(e.created_at, archive.TZ) for e in events]
    assert all(t.date() == dt.date(2023, 10, 19) for t in local[:7])
    assert all(t.date() == dt.date(2023, 10, 20) for t in local[7:])
    assert all(dt.time(8, 30) <= t.time() <= dt.time(17, 30) for t in local)
    assert local == sorted(local)
    by_type = {e.type: e for e in events}
    assert "华润燃气抢修队到场" in by_type[EventType.PROGRESS].payload["text"]
    assert by_type[EventType.PROGRESS].is_public
    assert by_type[EventType.PROGRESS].actor == demo.user("handler_gas")
    assert "恢复供暖" in by_type[EventType.REPLY].payload["text"]
    assert by_type[EventType.EVALUATE].payload["source"] == EvaluationSource.CALLBACK
    assert by_type[EventType.DISPATCH].payload["co_units"] == ["西宁华润燃气有限公司"]
    assert case.replied_at is not None and case.resolve_by is not None
    assert case.replied_at <= case.resolve_by  # on time
    assert case.contacted_at is not None and case.contact_by is not None
    assert case.contacted_at <= case.contact_by


def test_deadlines_are_the_sla_ones_for_the_category(demo: Demo, archived: Case) -> None:
    heating = demo.category("heating-cold")
    case = Case.objects.get(pk=archived.pk)
    assert case.accept_by == sla.accept_deadline(heating, archive.SUBMITTED_AT)
    assert case.contact_by == sla.contact_deadline(heating, archive.DISPATCHED_AT)
    assert case.resolve_by == sla.resolve_deadline(heating, archive.DISPATCHED_AT)
    # Heating runs in clock hours: contact within 2, resolve within 24, sign within 2.
    assert case.contact_by - archive.DISPATCHED_AT == dt.timedelta(hours=2)
    assert case.resolve_by - archive.DISPATCHED_AT == dt.timedelta(hours=24)
    assert case.sign_by is not None
    assert case.sign_by - archive.DISPATCHED_AT == dt.timedelta(hours=2)


def test_rows_are_what_the_workflow_writes(demo: Demo, archived: Case) -> None:
    # Given the same call run through the real workflow at the same minutes
    real = replay(demo)
    written = Case.objects.get(pk=archived.pk)

    # Then every event has the same shape: type, statuses, role, actor, unit, visibility,
    # time and payload keys
    pairs = list(zip(timeline(written), timeline(real), strict=True))
    assert [a.type for a, _b in pairs] == STEPS
    for ours, theirs in pairs:
        assert set(ours.payload) == set(theirs.payload), ours.type
        assert (ours.from_status, ours.to_status) == (theirs.from_status, theirs.to_status)
        assert (ours.actor_id, ours.unit_id, ours.is_public, ours.created_at) == (
            theirs.actor_id,
            theirs.unit_id,
            theirs.is_public,
            theirs.created_at,
        ), ours.type
        assert ours.payload.get("role") == theirs.payload.get("role"), ours.type
        # Values the workflow derives (not our words) agree too.
        for key in ("channel", "duty_level", "lead_unit", "co_units", "resolve_by", "unit",
                    "first", "on_time", "outcome", "rating", "source", "round", "public",
                    "unreasonable", "not_evaluated", "category", "is_complex"):  # fmt: skip
            if key in theirs.payload:
                assert ours.payload[key] == theirs.payload[key], (ours.type, key)

    # And the case row ends the same: status, every timestamp, deadline and flag
    for field in Case._meta.concrete_fields:
        if field.attname in OWN_WORDS:
            continue
        assert getattr(written, field.attname) == getattr(real, field.attname), field.attname
    assert list(written.co_units.all()) == list(real.co_units.all())
    evaluations = [
        Evaluation.objects.values("round", "rating", "source", "by_id", "created_at").get(case=c)
        for c in (written, real)
    ]
    assert evaluations[0] == evaluations[1]


def test_the_rollup_counts_it_in_october_2023(archived: Case) -> None:
    refresh_rollup()
    month = CaseMonthStat.objects.filter(
        day=dt.date(2023, 10, 1), since__gte=dt.date(2023, 10, 1)
    ).aggregate(**{name: Sum(name) for name in COUNTERS})
    assert month == {
        "created": 1,
        "rejected": 0,
        "dispatched": 1,
        "responded": 1,
        "replied": 1,
        "resolved": 1,
        "evaluated": 1,
        "satisfied": 1,
        "closed": 1,
    }


def test_the_public_tracking_api_shows_it_without_the_phone(archived: Case) -> None:
    response = APIClient().get(
        "/api/v1/track/",
        {
            "code": archived.tracking_code,
            "phone_last4": archive.COMPLAINT["complainant_phone"][-4:],
        },
    )
    assert response.status_code == 200, response.content
    body = response.content.decode()
    data = response.json()
    assert data["status"] == Status.CLOSED and data["rating"] == Rating.SATISFIED
    assert [e["type"] for e in data["timeline"]] == [t for t in STEPS if t != EventType.CONTACT], (
        "the contact note is internal"
    )
    assert archive.COMPLAINT["complainant_phone"] not in body
    assert "赵先生" not in body
    assert "华润燃气抢修队到场" in body and "恢复供暖" in body
