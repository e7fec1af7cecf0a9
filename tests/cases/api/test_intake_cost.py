"""What one complaint costs to take in: the queries of ``POST /api/v1/cases/``, the calendar
built once per process, and tracking numbers under concurrent intake.

Intake is the path a city's hotline hammers (issue 11: at least 5 % of what ``pgbench`` inserts
on the same database). Each query here is one the request cannot do without; a change that adds
one fails the count below and has to say why it is worth a round trip per complaint.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import holidays
import pytest
import time_machine
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases import workflow
from cases.models import CalendarDay, Case, CaseEvent, DailySequence, EventType, Status
from tests.conftest import Demo

ZONE = dt.timezone(dt.timedelta(hours=8))  # Xining's time (Asia/Shanghai has no DST)


def travel(when: dt.datetime) -> Any:
    return time_machine.travel(when, tick=False)


def operator_client(demo: Demo) -> APIClient:
    """The operator as ``bench_city`` posts: a token in the header, JSON, no files."""
    token, _ = Token.objects.get_or_create(user=demo.user("operator1"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def phone_call(demo: Demo, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "category": demo.category("noise").pk,
        "region": demo.region("城东区", "大众街街道", "康西社区").pk,
        "description": "楼下商铺夜间噪音扰民，持续到凌晨。",
        "complainant_name": "李女士",
        "complainant_phone": "13812345678",
        "channel": "phone",
    }
    data.update(overrides)
    return data


def statements(captured: CaptureQueriesContext) -> list[str]:
    """The statements of a request, savepoints left out (a test runs inside a transaction, so
    the workflow's own transaction is a savepoint here and a BEGIN … COMMIT in production)."""
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


class TestQueriesOfOneIntake:
    def test_an_operators_phone_call_takes_eight_statements(self, demo: Demo) -> None:
        # Given an operator with a token, whose first complaint has warmed the process
        client = operator_client(demo)
        assert client.post("/api/v1/cases/", phone_call(demo), format="json").status_code == 201

        # When they log the next call
        body = phone_call(demo)
        with CaptureQueriesContext(connection) as captured:
            response = client.post("/api/v1/cases/", body, format="json")

        # Then it is taken in with these statements and no others
        assert response.status_code == 201, response.content
        sql = statements(captured)
        expected = [
            "authtoken_token",  # who is calling (DRF's token authentication)
            "cases_category",  # the category exists and is active (DRF's related field)
            "org_region",  # the community exists (DRF's related field)
            "org_membership",  # the operator's role and jurisdiction
            "cases_calendarday",  # the 调休 overrides for the accept deadline
            "cases_dailysequence",  # the tracking number: one upsert
            'INSERT INTO "cases_case"',
            'INSERT INTO "cases_caseevent"',  # the submit event (no message goes out for it)
        ]
        assert len(sql) == len(expected), "\n".join(sql)
        for statement, mark in zip(sql, expected, strict=True):
            assert mark in statement, (mark, statement)

    def test_the_complaint_and_its_event_are_written(self, demo: Demo) -> None:
        with travel(dt.datetime(2026, 11, 26, 10, 0, tzinfo=ZONE)):
            response = operator_client(demo).post(
                "/api/v1/cases/", phone_call(demo), format="json"
            )
        body = response.json()
        case = Case.objects.get(pk=body["id"])
        # 2 working hours from 10:00 on a Thursday (the category's accept SLA)
        assert case.accept_by == dt.datetime(2026, 11, 26, 12, 0, tzinfo=ZONE)
        assert case.status == Status.SUBMITTED and case.tracking_code == body["tracking_code"]
        event = CaseEvent.objects.get(case=case)
        assert event.type == EventType.SUBMIT
        assert event.actor == demo.user("operator1")
        assert event.payload == {"role": "operator", "channel": "phone"}


class TestCalendarOfIntake:
    def test_the_holiday_package_is_built_once_per_process(
        self, demo: Demo, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Given a process that has already worked out a deadline
        client = operator_client(demo)
        client.post("/api/v1/cases/", phone_call(demo), format="json")
        built: list[object] = []
        real = holidays.country_holidays

        def spy(*args: Any, **kwargs: Any) -> Any:
            built.append(args)
            return real(*args, **kwargs)

        monkeypatch.setattr(holidays, "country_holidays", spy)

        # When more complaints come in
        for _ in range(3):
            assert (
                client.post("/api/v1/cases/", phone_call(demo), format="json").status_code == 201
            )

        # Then none of them builds the package's calendar again
        assert built == []

    def test_an_override_entered_between_two_calls_counts_for_the_second(self, demo: Demo) -> None:
        # Given a complaint at 16:00 on Friday 2026-11-27: 1.5 working hours that day, so
        # the deadline is half an hour into Monday's office hours, 09:30
        client = operator_client(demo)
        friday = dt.datetime(2026, 11, 27, 16, 0, tzinfo=ZONE)
        with travel(friday):
            first = client.post("/api/v1/cases/", phone_call(demo), format="json").json()
        assert Case.objects.get(pk=first["id"]).accept_by == dt.datetime(
            2026, 11, 30, 9, 30, tzinfo=ZONE
        )

        # When an administrator makes that Saturday a working day (调休上班)
        CalendarDay.objects.create(date=dt.date(2026, 11, 28), is_workday=True)
        with travel(friday):
            second = client.post("/api/v1/cases/", phone_call(demo), format="json").json()

        # Then the next complaint's deadline falls on the Saturday at once
        assert Case.objects.get(pk=second["id"]).accept_by == dt.datetime(
            2026, 11, 28, 9, 30, tzinfo=ZONE
        )


class TestTrackingNumbers:
    def test_a_refused_complaint_spends_no_number(self, demo: Demo) -> None:
        client = operator_client(demo)
        with travel(dt.datetime(2026, 11, 26, 10, 0, tzinfo=ZONE)):
            first = client.post("/api/v1/cases/", phone_call(demo), format="json").json()
            refused = client.post(
                "/api/v1/cases/", phone_call(demo, complainant_phone="12"), format="json"
            )
            second = client.post("/api/v1/cases/", phone_call(demo), format="json").json()
        assert refused.status_code == 400
        assert [first["tracking_code"], second["tracking_code"]] == [
            "XN-20261126-0001",
            "XN-20261126-0002",
        ]
        assert DailySequence.objects.get(day=dt.date(2026, 11, 26)).last == 2

    def test_a_complaint_that_fails_after_its_number_leaves_a_gap(
        self, demo: Demo, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Given a complaint whose writing fails once its number is taken (storage down)
        client = operator_client(demo)

        def broken(*args: Any, **kwargs: Any) -> None:
            raise OSError("storage unavailable")

        with travel(dt.datetime(2026, 11, 26, 10, 0, tzinfo=ZONE)):
            monkeypatch.setattr(workflow, "store_uploads", broken)
            with pytest.raises(OSError):
                workflow.case_submit(
                    actor=demo.user("operator1"),
                    category=demo.category("noise"),
                    region=demo.region("城东区", "大众街街道", "康西社区"),
                    description="楼下商铺夜间噪音扰民。",
                    complainant_name="李女士",
                    complainant_phone="13812345678",
                    channel="phone",
                )
            monkeypatch.undo()
            # When the next call is logged
            body = client.post("/api/v1/cases/", phone_call(demo), format="json").json()

        # Then nothing of the failed one is kept but its number, which is not given again
        assert Case.objects.count() == 1
        assert body["tracking_code"] == "XN-20261126-0002"


def fields(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


class TestPrimaryKeyField:
    """The intake's related fields answer as DRF's ``PrimaryKeyRelatedField`` (the oracle)."""

    @pytest.mark.parametrize(
        "value",
        # Past any integer column (SQLite's 64 bits, PostgreSQL's 32): no row, never an overflow.
        [999_999, "x", True, None, "", [1], "15.5", 2**31, -(2**71), str(2**64)],
    )
    def test_errors_are_drfs(self, demo: Demo, value: object) -> None:
        from rest_framework import serializers

        from cases.api.serializers import CaseSubmitSerializer
        from cases.models import Category

        class Oracle(CaseSubmitSerializer):
            category = serializers.PrimaryKeyRelatedField(
                queryset=Category.objects.filter(is_active=True)
            )

        data = phone_call(demo, category=value)
        ours, theirs = CaseSubmitSerializer(data=data), Oracle(data=data)
        assert ours.is_valid() == theirs.is_valid()
        assert ours.errors == theirs.errors

    def test_an_inactive_category_does_not_exist_for_intake(self, demo: Demo) -> None:
        from cases.api.serializers import CaseSubmitSerializer
        from cases.models import Category

        Category.objects.filter(code="noise").update(is_active=False)
        serializer = CaseSubmitSerializer(data=phone_call(demo))
        assert not serializer.is_valid()
        assert serializer.errors["category"][0].code == "does_not_exist"

    def test_the_instances_are_the_orms(self, demo: Demo) -> None:
        from cases.api.serializers import CaseSubmitSerializer
        from cases.models import Category
        from org.models import Region

        serializer = CaseSubmitSerializer(data=phone_call(demo))
        assert serializer.is_valid(), serializer.errors
        category, region = (
            serializer.validated_data["category"],
            serializer.validated_data["region"],
        )
        assert fields(category) == fields(Category.objects.get(code="noise"))
        assert fields(region) == fields(Region.objects.get(pk=region.pk))
        assert region.ancestor_ids[-1] == region.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_intake_gets_distinct_consecutive_numbers() -> None:
    """Eight operators' complaints at the same moment: eight numbers, none twice, none skipped
    (no submission failed, so there is no gap to leave)."""
    from demo.organisation import seed_organisation
    from demo.reference import seed_reference

    # Transactional tests start from an emptied database: seed the organisation again.
    seed_organisation()
    seed_reference()
    demo = Demo()
    fields = {
        "actor": demo.user("operator1"),
        "category": demo.category("noise"),
        "region": demo.region("城东区", "大众街街道", "康西社区"),
        "description": "楼下商铺夜间噪音扰民，持续到凌晨。",
        "complainant_name": "李女士",
        "complainant_phone": "13812345678",
        "channel": "phone",
    }
    barrier = threading.Barrier(8)
    codes: list[str] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            barrier.wait()
            codes.append(workflow.case_submit(**fields).tracking_code)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    day = timezone.localdate(timezone.now(), timezone.get_default_timezone())
    assert sorted(codes) == [f"XN-{day:%Y%m%d}-{n:04d}" for n in range(1, 9)]
    assert DailySequence.objects.get(day=day).last == 8
