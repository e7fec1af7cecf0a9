"""The case API through HTTP: submission, scoping, filters, errors and query counts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from cases.models import Case, CaseEvent, DailySequence, Status
from tests.conftest import Demo


def client_for(demo: Demo, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(demo.user(username))
    return client


def submission(demo: Demo, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "category": demo.category("noise").pk,
        "region": demo.region("城东区", "大众街街道", "康西社区").pk,
        "description": "楼下商铺夜间噪音扰民，持续到凌晨。",
        "complainant_name": "李女士",
        "complainant_phone": "13812345678",
    }
    data.update(overrides)
    return data


class TestSubmit:
    def test_anonymous_submission_returns_id_and_tracking_code(self, demo: Demo) -> None:
        response = APIClient().post("/api/v1/cases/", submission(demo), format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        assert set(body) == {"id", "tracking_code"}
        case = Case.objects.get(pk=body["id"])
        assert case.status == Status.SUBMITTED and case.complainant is None
        assert case.district.name == "城东区" and case.street.name == "大众街街道"

    def test_signed_in_resident_owns_the_case(self, demo: Demo) -> None:
        body = (
            client_for(demo, "resident2")
            .post("/api/v1/cases/", submission(demo), format="json")
            .json()
        )
        assert Case.objects.get(pk=body["id"]).complainant == demo.user("resident2")
        mine = client_for(demo, "resident2").get("/api/v1/cases/").json()["results"]
        assert [c["id"] for c in mine] == [body["id"]]

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("description", ""),
            ("description", "   "),
            ("complainant_phone", "12345"),
            ("complainant_name", ""),
            ("region", 999999),
            ("category", "x"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
        self, demo: Demo, field: str, value: object
    ) -> None:
        before = (Case.objects.count(), CaseEvent.objects.count(), DailySequence.objects.count())
        response = APIClient().post(
            "/api/v1/cases/", submission(demo, **{field: value}), format="json"
        )
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid" and body["message"]
        assert field in body["fields"]
        after = (Case.objects.count(), CaseEvent.objects.count(), DailySequence.objects.count())
        assert after == before

    def test_a_street_is_not_precise_enough(self, demo: Demo) -> None:
        street = demo.region("城东区", "大众街街道")
        response = APIClient().post(
            "/api/v1/cases/", submission(demo, region=street.pk), format="json"
        )
        assert response.status_code == 400
        assert "region" in response.json()["fields"]

    def test_anonymous_submissions_are_rate_limited(self, demo: Demo) -> None:
        client = APIClient()
        codes = [
            client.post("/api/v1/cases/", submission(demo), format="json").status_code
            for _ in range(11)
        ]
        assert codes[:10] == [201] * 10
        assert codes[10] == 429

    def test_resident_cannot_log_a_phone_call(self, demo: Demo) -> None:
        response = client_for(demo, "resident1").post(
            "/api/v1/cases/", submission(demo, channel="phone"), format="json"
        )
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"


class TestScoping:
    def test_each_role_lists_what_it_may_see(
        self, demo: Demo, make_case: Callable[..., Case]
    ) -> None:
        huangzhong = make_case(Status.HANDLING)
        chengdong = make_case(
            Status.SUBMITTED, region=demo.region("城东区", "大众街街道", "康西社区")
        )

        def listed(username: str) -> set[int]:
            response = client_for(demo, username).get("/api/v1/cases/?page_size=200")
            return {c["id"] for c in response.json()["results"]}

        assert listed("dispatcher_huangzhong") >= {huangzhong.pk}
        assert chengdong.pk not in listed("dispatcher_huangzhong")
        assert chengdong.pk in listed("dispatcher_chengdong")
        assert huangzhong.pk in listed("handler_gas")  # co-handling unit
        assert huangzhong.pk not in listed("handler_chengdong")
        assert {huangzhong.pk, chengdong.pk} <= listed("committee1")
        assert {huangzhong.pk, chengdong.pk} <= listed("operator1")
        assert listed("resident2") == set()

    def test_a_case_outside_your_scope_is_a_404(
        self, demo: Demo, make_case: Callable[..., Case]
    ) -> None:
        case = make_case(Status.ACCEPTED)
        response = client_for(demo, "dispatcher_chengdong").post(
            f"/api/v1/cases/{case.pk}/dispatch/",
            {"lead_unit": demo.unit("huangzhong-gov").pk},
            format="json",
        )
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"

    def test_listing_needs_a_sign_in(self, demo: Demo) -> None:
        # Session auth comes first and sends no WWW-Authenticate challenge, so DRF answers 403.
        response = APIClient().get("/api/v1/cases/")
        assert (response.status_code, response.json()["code"]) == (403, "not_authenticated")


class TestFilters:
    def test_status_stage_region_category_and_search(
        self, demo: Demo, make_case: Callable[..., Case]
    ) -> None:
        handling = make_case(Status.HANDLING, description="暖气片冰凉，小区整栋楼不热")
        submitted = make_case(Status.SUBMITTED, category=demo.category("water-outage"))
        client = client_for(demo, "committee1")

        def ids(query: str) -> set[int]:
            return {c["id"] for c in client.get("/api/v1/cases/?" + query).json()["results"]}

        assert ids("status=handling") >= {handling.pk} and submitted.pk not in ids(
            "status=handling"
        )
        assert submitted.pk in ids("stage=receive") and handling.pk in ids("stage=handle")
        assert handling.pk in ids(f"category={demo.category('heating').pk}")  # with descendants
        assert submitted.pk not in ids(f"category={demo.category('heating').pk}")
        assert handling.pk in ids(f"region={demo.region('湟中区').pk}")
        assert handling.pk not in ids(f"region={demo.region('城东区').pk}")
        assert ids("q=整栋楼") == {handling.pk}
        assert ids(f"q={submitted.tracking_code}") == {submitted.pk}
        assert handling.pk in ids(f"unit={demo.unit('xn-gas').pk}")

    def test_topic_filter_lists_the_cases_linked_to_a_topic(
        self, demo: Demo, make_case: Callable[..., Case]
    ) -> None:
        from topics.models import Topic, TopicTheme

        linked, other = make_case(Status.HANDLING), make_case(Status.HANDLING)
        topic = Topic.objects.create(
            title="供暖不热集中整治",
            theme=TopicTheme.values[0],
            lead_unit=demo.unit("huangzhong-gov"),
            month=linked.created_at.date().replace(day=1),
        )
        topic.cases.add(linked)
        client = client_for(demo, "committee1")
        body = client.get(f"/api/v1/cases/?topic={topic.pk}").json()
        assert [c["id"] for c in body["results"]] == [linked.pk]
        assert other.pk not in [c["id"] for c in body["results"]]

    def test_bad_filter_value_is_a_400(self, demo: Demo) -> None:
        response = client_for(demo, "committee1").get("/api/v1/cases/?status=nonsense")
        assert response.status_code == 400
        assert "status" in response.json()["fields"]

    def test_cursor_pagination_walks_every_case_once(
        self, demo: Demo, make_case: Callable[..., Case]
    ) -> None:
        made = {make_case(Status.SUBMITTED).pk for _ in range(7)}
        client = client_for(demo, "committee1")
        seen: list[int] = []
        url: str | None = "/api/v1/cases/?page_size=3"
        while url:
            body = client.get(url).json()
            seen += [c["id"] for c in body["results"]]
            url = body["next"]
        assert made <= set(seen) and len(seen) == len(set(seen))


class TestQueryCounts:
    @pytest.mark.parametrize("username", ["committee1", "handler_huangzhong", "resident1"])
    def test_list_queries_do_not_grow_with_the_page(
        self,
        demo: Demo,
        make_case: Callable[..., Case],
        username: str,
        django_assert_max_num_queries,  # type: ignore[no-untyped-def]
    ) -> None:
        client = client_for(demo, username)
        make_case(Status.HANDLING)
        client.get("/api/v1/cases/")  # warm the content-type and session caches
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as few:
            client.get("/api/v1/cases/?page_size=50")
        for _ in range(12):
            make_case(Status.HANDLING)
        with CaptureQueriesContext(connection) as many:
            body = client.get("/api/v1/cases/?page_size=50").json()
        assert len(body["results"]) >= 13 or username == "resident1"
        assert len(many) == len(few), [q["sql"] for q in many.captured_queries]

    def test_detail_queries_are_bounded(
        self,
        demo: Demo,
        make_case: Callable[..., Case],
        django_assert_max_num_queries,  # type: ignore[no-untyped-def]
    ) -> None:
        case = make_case(Status.CLOSED)
        client = client_for(demo, "committee1")
        client.get(f"/api/v1/cases/{case.pk}/")
        with django_assert_max_num_queries(8):
            assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200
        with django_assert_max_num_queries(6):
            assert client.get(f"/api/v1/cases/{case.pk}/events/").status_code == 200

    def test_suggestions_queries_do_not_grow_with_the_duplicates(
        self, demo: Demo, make_case: Callable[..., Case]
    ) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        # Given a case and one earlier case from the same phone
        case = make_case(Status.SUBMITTED)
        make_case(Status.HANDLING)
        client = client_for(demo, "dispatcher_huangzhong")
        client.get(f"/api/v1/cases/{case.pk}/suggestions/")
        with CaptureQueriesContext(connection) as few:
            one = client.get(f"/api/v1/cases/{case.pk}/suggestions/").json()
        # When eight more turn up
        for _ in range(8):
            make_case(Status.HANDLING)
        with CaptureQueriesContext(connection) as many:
            nine = client.get(f"/api/v1/cases/{case.pk}/suggestions/").json()
        # Then the answer lists them all with the same number of queries
        assert len(one["possible_duplicates"]) + 8 == len(nine["possible_duplicates"]) == 9
        assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_schema_validates_without_warnings() -> None:
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
