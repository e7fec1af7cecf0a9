"""网格员 (issue 14 item 4): a grid inspector files what the rounds find, in their own
communities, as 网格员发现, and follows those filings like a complainant; nothing more.

The demo's grid_duoba is a member of 多巴一村's committee with the role grid_inspector. What a
grid inspector may do to someone else's case (nothing: 404) is the permission table's row
(tests/cases/api/test_permission_table.py); the phone page in a browser is
tests/e2e/test_grid_page.py.
"""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from cases.models import Case, CaseEvent, Channel, Status
from org.models import Role
from tests.conftest import Demo

DUOBA_ONE = ("湟中区", "多巴镇", "多巴一村")
KANGXI = ("城东区", "大众街街道", "康西社区")


def client_for(demo: Demo, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(demo.user(username))
    return client


def filing(demo: Demo, place: tuple[str, ...] = DUOBA_ONE, **overrides: object) -> dict:
    data: dict[str, object] = {
        "channel": Channel.GRID,
        "category": demo.category("noise").pk,
        "region": demo.region(*place).pk,
        "description": "巡查发现新村巷路灯不亮，夜间行人看不清路。",
        "complainant_name": "多巴一村网格员",
        "complainant_phone": "13897100101",
    }
    data.update(overrides)
    return data


def counts() -> tuple[int, int]:
    return Case.objects.count(), CaseEvent.objects.count()


class TestFiling:
    def test_a_grid_inspector_files_in_their_community_and_owns_the_filing(
        self, demo: Demo
    ) -> None:
        response = client_for(demo, "grid_duoba").post(
            "/api/v1/cases/", filing(demo), format="json"
        )
        assert response.status_code == 201, response.content
        case = Case.objects.get(pk=response.json()["id"])
        assert case.channel == Channel.GRID and case.status == Status.SUBMITTED
        assert case.complainant == demo.user("grid_duoba")
        event = case.events.get()
        assert event.actor == demo.user("grid_duoba")
        assert event.payload == {"role": Role.GRID_INSPECTOR, "channel": Channel.GRID}

    def test_another_community_is_refused_and_nothing_is_written(self, demo: Demo) -> None:
        before = counts()
        response = client_for(demo, "grid_duoba").post(
            "/api/v1/cases/", filing(demo, KANGXI), format="json"
        )
        assert response.status_code == 403
        assert response.json()["message"] == "该社区不在您的网格范围内。"
        assert counts() == before

    @pytest.mark.parametrize("channel", [Channel.PHONE, Channel.WALK_IN])
    def test_a_grid_inspector_cannot_log_calls_or_visits(self, demo: Demo, channel: str) -> None:
        before = counts()
        response = client_for(demo, "grid_duoba").post(
            "/api/v1/cases/", filing(demo, channel=channel), format="json"
        )
        assert response.status_code == 403
        assert counts() == before

    def test_on_the_web_a_grid_inspector_files_as_any_resident(self, demo: Demo) -> None:
        response = client_for(demo, "grid_duoba").post(
            "/api/v1/cases/", filing(demo, KANGXI, channel=Channel.WEB), format="json"
        )
        assert response.status_code == 201
        case = Case.objects.get(pk=response.json()["id"])
        assert case.channel == Channel.WEB and case.complainant == demo.user("grid_duoba")
        assert case.events.get().payload == {"channel": Channel.WEB}  # no role: as a resident

    @pytest.mark.parametrize("username", ["resident1", None, "handler_huangzhong"])
    def test_nobody_else_files_as_a_grid_inspector(self, demo: Demo, username: str | None) -> None:
        client = client_for(demo, username) if username else APIClient()
        before = counts()
        response = client.post("/api/v1/cases/", filing(demo), format="json")
        assert response.status_code == 403
        assert counts() == before

    def test_an_operator_may_log_what_a_grid_inspector_phoned_in(self, demo: Demo) -> None:
        response = client_for(demo, "operator1").post(
            "/api/v1/cases/", filing(demo), format="json"
        )
        assert response.status_code == 201
        case = Case.objects.get(pk=response.json()["id"])
        assert case.channel == Channel.GRID and case.complainant is None


class TestFollowing:
    def test_a_grid_inspector_sees_their_filings_and_nothing_else_of_the_community(
        self, demo: Demo
    ) -> None:
        inspector = client_for(demo, "grid_duoba")
        mine = inspector.post("/api/v1/cases/", filing(demo), format="json").json()["id"]
        theirs = (
            client_for(demo, "resident1")
            .post("/api/v1/cases/", filing(demo, channel=Channel.WEB), format="json")
            .json()["id"]
        )
        listed = inspector.get("/api/v1/cases/").json()["results"]
        assert [row["id"] for row in listed] == [mine]
        assert inspector.get(f"/api/v1/cases/{mine}/").status_code == 200
        assert inspector.get(f"/api/v1/cases/{theirs}/").status_code == 404


class TestPages:
    def page(self, demo: Demo, username: str, path: str) -> int:
        client = Client()
        client.force_login(demo.user(username))
        return client.get(path).status_code

    def test_the_grid_page_lists_only_their_communities(self, demo: Demo) -> None:
        client = Client()
        client.force_login(demo.user("grid_duoba"))
        response = client.get("/grid/")
        assert response.status_code == 200
        assert [c.name for c in response.context["grid_communities"]] == ["多巴一村"]
        html = response.content.decode()
        assert 'name="channel" value="grid"' in html and "湟中区多巴镇多巴一村" in html
        assert 'value="13897100101"' in html  # their phone, filled in
        assert "网格员上报" in html and 'href="/grid/"' in html  # the navbar leads here

    @pytest.mark.parametrize("username", ["resident1", "operator1"])
    def test_the_grid_page_is_for_grid_inspectors(self, demo: Demo, username: str) -> None:
        assert self.page(demo, username, "/grid/") == 403

    def test_the_grid_page_asks_the_anonymous_to_sign_in(self) -> None:
        response = Client().get("/grid/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    @pytest.mark.parametrize(
        "path", ["/workbench/", "/workbench/quick/", "/dashboard/", "/notifications/preferences/"]
    )
    def test_no_staff_page_opens_to_a_grid_inspector(self, demo: Demo, path: str) -> None:
        assert self.page(demo, "grid_duoba", path) in (403, 404)

    def test_quick_entry_offers_calls_and_visits(self, demo: Demo) -> None:
        client = Client()
        client.force_login(demo.user("operator1"))
        html = client.get("/workbench/quick/").content.decode()
        assert 'value="phone" selected' in html and 'value="walk_in"' in html

    def test_an_operator_logs_a_visit(self, demo: Demo) -> None:
        response = client_for(demo, "operator1").post(
            "/api/v1/cases/", filing(demo, channel=Channel.WALK_IN), format="json"
        )
        assert response.status_code == 201
        assert Case.objects.get(pk=response.json()["id"]).channel == Channel.WALK_IN
