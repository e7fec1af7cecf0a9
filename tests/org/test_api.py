"""The org API through HTTP: token auth, /me, regions and units."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from org.models import Region, RegionLevel
from tests.conftest import Demo


def token_for(client: APIClient, username: str, password: str = "demo12345") -> str:
    response = client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


class TestAuth:
    def test_token_then_me(self, demo: Demo, api_client: APIClient) -> None:
        token = token_for(api_client, "handler_huangzhong")
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        body = api_client.get("/api/v1/me/").json()
        assert body["username"] == "handler_huangzhong"
        assert body["roles"] == ["handler"]
        assert [m["unit"]["name"] for m in body["memberships"]] == ["湟中区人民政府"]
        assert body["memberships"][0]["role"] == "handler"

    def test_wrong_password_is_refused(self, demo: Demo, api_client: APIClient) -> None:
        response = api_client.post(
            "/api/v1/auth/token/", {"username": "operator1", "password": "nope"}, format="json"
        )
        assert response.status_code == 400
        assert "token" not in response.json()

    def test_me_needs_a_login(self, db: None, api_client: APIClient) -> None:
        response = api_client.get("/api/v1/me/")
        assert (response.status_code, response.json()["code"]) == (403, "not_authenticated")

    def test_resident_me(self, demo: Demo, api_client: APIClient) -> None:
        api_client.force_authenticate(demo.user("resident1"))
        body = api_client.get("/api/v1/me/").json()
        assert body["roles"] == ["resident"]
        assert body["memberships"] == []

    def test_session_login_page_signs_in(self, demo: Demo, client) -> None:  # type: ignore[no-untyped-def]
        page = client.get("/accounts/login/")
        assert page.status_code == 200
        response = client.post(
            "/accounts/login/", {"username": "committee1", "password": "demo12345"}
        )
        assert response.status_code == 302
        assert client.get("/api/v1/me/").json()["username"] == "committee1"
        client.post("/accounts/logout/")
        assert client.get("/api/v1/me/").status_code == 403

    def test_failed_login_says_so_and_keeps_the_username(self, demo: Demo, client) -> None:  # type: ignore[no-untyped-def]
        response = client.post("/accounts/login/", {"username": "committee1", "password": "x"})
        html = response.content.decode()
        assert response.status_code == 200
        assert "用户名或密码不正确" in html
        assert 'value="committee1"' in html


class TestRegions:
    def test_root_is_the_city(self, demo: Demo, api_client: APIClient) -> None:
        body = api_client.get("/api/v1/regions/?root=true").json()
        assert [r["name"] for r in body] == ["西宁市"]
        assert body[0]["has_children"] is True

    def test_children_of_the_city_are_the_seven_districts(
        self, demo: Demo, api_client: APIClient
    ) -> None:
        city = demo.region()
        names = {r["name"] for r in api_client.get(f"/api/v1/regions/?parent={city.pk}").json()}
        assert names == {
            "城东区",
            "城中区",
            "城西区",
            "城北区",
            "湟中区",
            "大通回族土族自治县",
            "湟源县",
        }

    def test_level_and_within_filters(self, demo: Demo, api_client: APIClient) -> None:
        street = demo.region("城东区", "大众街街道")
        body = api_client.get(
            f"/api/v1/regions/?within={street.pk}&level={RegionLevel.COMMUNITY}"
        ).json()
        names = {r["name"] for r in body}
        assert "康西社区" in names
        assert all(r["level"] == RegionLevel.COMMUNITY for r in body)
        assert all(r["has_children"] is False for r in body)

    def test_bad_filter_is_a_400(self, demo: Demo, api_client: APIClient) -> None:
        response = api_client.get("/api/v1/regions/?level=9")
        assert response.status_code == 400
        assert "level" in response.json()["fields"]

    def test_region_list_runs_a_constant_number_of_queries(
        self,
        demo: Demo,
        api_client: APIClient,
        django_assert_max_num_queries,  # type: ignore[no-untyped-def]
    ) -> None:
        assert Region.objects.count() > 300
        with django_assert_max_num_queries(2):
            assert api_client.get("/api/v1/regions/").status_code == 200


class TestUnits:
    def test_units_need_a_login(self, demo: Demo, api_client: APIClient) -> None:
        response = api_client.get("/api/v1/units/")
        assert (response.status_code, response.json()["code"]) == (403, "not_authenticated")

    def test_units_in_a_region_subtree(self, demo: Demo, api_client: APIClient) -> None:
        api_client.force_authenticate(demo.user("dispatcher_huangzhong"))
        duoba = demo.region("湟中区", "多巴镇")
        body = api_client.get(f"/api/v1/units/?region={duoba.pk}&page_size=500").json()
        names = {u["name"] for u in body["results"]}
        assert "多巴镇人民政府" in names
        assert "多巴一村村民委员会" in names
        assert "城东区人民政府" not in names

    @pytest.mark.parametrize("kind", ["utility", "department"])
    def test_kind_filter(self, demo: Demo, api_client: APIClient, kind: str) -> None:
        api_client.force_authenticate(demo.user("dispatcher_city"))
        body = api_client.get(f"/api/v1/units/?kind={kind}").json()
        assert body["count"] > 0
        assert {u["kind"] for u in body["results"]} == {kind}

    def test_gas_company_is_a_utility(self, demo: Demo, api_client: APIClient) -> None:
        api_client.force_authenticate(demo.user("dispatcher_city"))
        body = api_client.get("/api/v1/units/?name=华润燃气").json()
        assert [u["kind"] for u in body["results"]] == ["utility"]
