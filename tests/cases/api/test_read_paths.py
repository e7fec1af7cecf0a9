"""The paths staff wait on (case page, timeline, queue page): the answers they give, and what
they cost in queries.

Their serializers write each answer out in ``to_representation`` instead of walking DRF's
fields (``cases/api/serializers.py``). The answer must stay the one DRF's fields give
(``represent_by_fields``): same keys, same order, same values, for every status, for readers
who see the complainant whole and for those who read them masked, with files, co-handling
units, a duplicate, a pending request for more time and coordinates.

The query counts are pinned exactly (token, memberships, then the page's own), through token
authentication as the workbench's clients sign in, so that a relation read per row, a
reference table read per request or a prefetch nobody reads shows up here first.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from cases import selectors, workflow
from cases.api import serializers as s
from cases.api.views import _detail_queryset
from cases.models import Case, Status
from tests.cases.conftest import PATH_TO
from tests.conftest import Demo

READERS = [
    "dispatcher_city",  # whole, city-wide
    "dispatcher_huangzhong",  # whole, the district
    "operator1",  # whole unless hidden
    "handler_huangzhong",  # the lead unit: whole unless hidden
    "handler_gas",  # a co-handling unit
    "supervisor1",  # masked
    "committee1",  # masked
    "resident1",  # the complainant, reading as a resident
    "admin",  # a superuser
]


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def photo(name: str = "门口.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), "red").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def token_client(demo: Demo, username: str) -> APIClient:
    """A client signed in with an API token, as the workbench's clients are: the token lookup
    is one of the queries counted."""
    token, _ = Token.objects.get_or_create(user=demo.user(username))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def wire(data: Any) -> bytes:
    """The answer as a client reads it: nested key order and value types included."""
    return JSONRenderer().render(data)


def context_for(demo: Demo, username: str) -> dict[str, Any]:
    request = Request(APIRequestFactory().get("/api/v1/cases/"))
    request.user = demo.user(username)
    return {"request": request}


@pytest.fixture
def varied_cases(demo: Demo, make_case: Callable[..., Case], media: Path) -> Iterator[list[Case]]:
    """A case in each status, plus the unusual ones: hidden identity, no title, personal data
    typed into the texts, a photo, coordinates, a duplicate, a pending extension."""
    text = "赵先生说家里暖气不热，电话13912345678，身份证号码见附件。"
    made = [make_case(status, title="暖气不热", description=text) for status in PATH_TO]
    made.append(make_case(Status.HANDLING, hide_identity=True, title="", description=text))
    made.append(
        make_case(
            Status.REPLIED,
            attachments=[photo()],
            lat=Decimal("36.6"),
            lng=Decimal("101.7712"),
            address="新村巷38号，联系13800001111",
        )
    )
    original = made[0]
    duplicate = make_case(Status.SUBMITTED)
    workflow.case_reject(
        case=duplicate,
        actor=demo.user("operator1"),
        reason="duplicate",
        duplicate_of=original,
    )
    made.append(duplicate)
    asking = make_case(Status.HANDLING)
    workflow.case_request_extension(
        case=asking,
        actor=demo.user("handler_huangzhong"),
        until=asking.resolve_by + dt.timedelta(days=3),
        reason="需要更换主管道，联系赵先生13912345678",
    )
    made.append(asking)
    yield made


class TestSameAnswerAsTheFields:
    @pytest.mark.parametrize("username", READERS)
    def test_case_page_list_row_and_timeline(
        self, demo: Demo, varied_cases: list[Case], username: str
    ) -> None:
        user = demo.user(username)
        context = context_for(demo, username)
        compared = 0
        for case in _detail_queryset(user).filter(pk__in=[c.pk for c in varied_cases]):
            detail = s.CaseDetailSerializer(case, context=context)
            assert wire(detail.data) == wire(detail.represent_by_fields(case))
            for attachment in case.attachments.all():  # nested, so compared on their own
                one = s.AttachmentSerializer(attachment)
                assert wire(one.data) == wire(one.represent_by_fields(attachment))
            row = s.CaseListSerializer(case, context=context)
            assert wire(row.data) == wire(row.represent_by_fields(case))

            resident = not selectors.reads_as_staff(user, case)
            timeline = {
                "case": case,
                "resident": resident,
                "whole": selectors.can_see_identity(user, case),
            }
            for event in selectors.case_events(case, public_only=resident):
                step = s.EventSerializer(event, context=timeline)
                assert wire(step.data) == wire(step.represent_by_fields(event))
            compared += 1
        assert compared or username in ("resident1",)

    def test_the_unusual_values_are_in_the_comparison(
        self, demo: Demo, varied_cases: list[Case]
    ) -> None:
        # Given the city dispatcher's answers for every case
        context = context_for(demo, "dispatcher_city")
        pages = [
            s.CaseDetailSerializer(case, context=context).data
            for case in _detail_queryset(demo.user("dispatcher_city")).filter(
                pk__in=[c.pk for c in varied_cases]
            )
        ]
        # Then each unusual value was compared above at least once
        assert any(p["attachments"] for p in pages)
        assert any(p["co_units"] for p in pages)
        assert any(p["duplicate_of"] for p in pages)
        assert any(p["pending_extension"] for p in pages)
        assert any(p["lat"] == "36.600000" for p in pages)
        assert any(p["title"] == "" and p["summary"] for p in pages)
        assert any("allowed_actions" in p and p["allowed_actions"] for p in pages)

    def test_labels_follow_the_language(self, demo: Demo, make_case: Callable[..., Case]) -> None:
        case = make_case(Status.HANDLING)
        context = context_for(demo, "dispatcher_city")
        row = _detail_queryset(demo.user("dispatcher_city")).get(pk=case.pk)
        with translation.override("en"):
            english = s.CaseListSerializer(row, context=context).data["status_display"]
            assert english == str(Status.HANDLING.label)
        with translation.override("zh-hans"):
            chinese = s.CaseListSerializer(row, context=context).data["status_display"]
            assert chinese == str(Status.HANDLING.label)
        assert english != chinese


class TestQueryCounts:
    """Exact counts: 1 token, 1 memberships, then the page's own."""

    def count(self, client: APIClient, url: str) -> tuple[int, list[str]]:
        assert client.get(url).status_code == 200  # warm: content types, translations
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, response.content
        return len(queries), [q["sql"] for q in queries.captured_queries]

    def test_case_page_is_four_queries(self, demo: Demo, make_case: Callable[..., Case]) -> None:
        # Given a dispatched case with a co-handling unit, no files, no pending extension
        case = make_case(Status.HANDLING)
        client = token_client(demo, "dispatcher_city")
        # Then token, memberships, the case (with its flags), its co-handling units
        assert self.count(client, f"/api/v1/cases/{case.pk}/")[0] == 4

    def test_case_page_reads_files_and_extension_only_when_there_are_some(
        self, demo: Demo, make_case: Callable[..., Case], media: Path
    ) -> None:
        case = make_case(Status.HANDLING, attachments=[photo()])
        workflow.case_request_extension(
            case=case,
            actor=demo.user("handler_huangzhong"),
            until=case.resolve_by + dt.timedelta(days=3),
            reason="需要更换主管道",
        )
        client = token_client(demo, "dispatcher_city")
        count, sql = self.count(client, f"/api/v1/cases/{case.pk}/")
        assert count == 6, sql
        body = client.get(f"/api/v1/cases/{case.pk}/").json()
        assert body["attachments"] and body["pending_extension"]["unit"]

    @pytest.mark.parametrize(
        ("username", "expected"), [("dispatcher_city", 4), ("handler_huangzhong", 5)]
    )
    def test_timeline_is_four_queries_and_a_handlers_co_units(
        self, demo: Demo, make_case: Callable[..., Case], username: str, expected: int
    ) -> None:
        # Given a closed case with its seven steps and no files
        case = make_case(Status.CLOSED)
        client = token_client(demo, username)
        # Then token, memberships, the case, its steps with actors and units (and a handler's
        # units, which decide whether they read as staff)
        count, sql = self.count(client, f"/api/v1/cases/{case.pk}/events/")
        assert count == expected, sql
        assert len(client.get(f"/api/v1/cases/{case.pk}/events/").json()) == 7

    def test_timeline_with_files_reads_them_once(
        self, demo: Demo, make_case: Callable[..., Case], media: Path
    ) -> None:
        case = make_case(Status.CLOSED, attachments=[photo()])
        client = token_client(demo, "dispatcher_city")
        count, sql = self.count(client, f"/api/v1/cases/{case.pk}/events/")
        assert count == 5, sql

    @pytest.mark.parametrize(
        ("username", "expected"),
        [
            ("dispatcher_city", 3),
            ("dispatcher_huangzhong", 3),
            ("supervisor1", 3),
            ("handler_huangzhong", 4),  # + the co-handling units its identity check reads
        ],
    )
    def test_a_queue_page_is_three_queries_whatever_its_length(
        self, demo: Demo, make_case: Callable[..., Case], username: str, expected: int
    ) -> None:
        for _ in range(3):
            make_case(Status.HANDLING)
        client = token_client(demo, username)
        count, sql = self.count(client, "/api/v1/cases/?queue=handling")
        assert count == expected, sql
        for _ in range(4):
            make_case(Status.HANDLING)
        count, sql = self.count(client, "/api/v1/cases/?queue=handling")
        assert count == expected, sql
        assert len(client.get("/api/v1/cases/?queue=handling").json()["results"]) >= 7

    def test_tab_counts_are_three_queries(
        self, demo: Demo, make_case: Callable[..., Case]
    ) -> None:
        make_case(Status.HANDLING)
        client = token_client(demo, "handler_huangzhong")
        assert self.count(client, "/api/v1/cases/counts/")[0] == 3


def test_a_case_page_ignores_the_queue_filters(demo: Demo, make_case: Callable[..., Case]) -> None:
    """A case's own address answers with the case whatever its query string: the queue's
    filters narrow the list, not a lookup (DRF would build the filter form for each)."""
    case = make_case(Status.HANDLING)
    client = token_client(demo, "dispatcher_city")
    assert client.get(f"/api/v1/cases/{case.pk}/?status=closed").status_code == 200
    assert client.get("/api/v1/cases/?status=closed").json()["results"] == []
