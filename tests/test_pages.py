"""The pages a newcomer opens first, served with no asset from another host."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.conftest import Demo

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/api/docs/"])
def test_page_loads_with_only_local_assets(demo: Demo, client: Client, url: str) -> None:
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert EXTERNAL.search(html) is None, EXTERNAL.search(html)


def test_home_is_chinese_by_default_and_english_on_request(demo: Demo, client: Client) -> None:
    assert "有诉必应马上办" in client.get("/").content.decode()
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="en"' in english


def test_swagger_assets_are_served_here(demo: Demo, client: Client) -> None:
    html = client.get("/api/docs/").content.decode()
    scripts = re.findall(r'src="([^"]+)"', html)
    assert scripts, "Swagger UI page has no scripts"
    # The bundles come from /static/; the start-up script is /api/docs/?script= (split view,
    # because the CSP refuses inline script). Same origin either way, never a CDN.
    assert all(s.startswith("/") and not s.startswith("//") for s in scripts), scripts
    assert any(s.startswith("/static/") for s in scripts), scripts
    assert not any("cdn" in s.lower() for s in scripts), scripts


def test_schema_is_served(demo: Demo, client: Client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "/api/v1/regions/" in response.content.decode()


def test_healthz(demo: Demo, client: Client) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
