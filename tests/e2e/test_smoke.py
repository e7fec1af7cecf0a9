"""A newcomer's first minute in a real browser: home, sign-in, API docs, language switch."""

from __future__ import annotations

import pytest

from tests.conftest import Demo
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_then_sign_in_as_a_demo_account(page, live_server, seeded: Demo) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "有诉必应马上办"
    screenshot(page, "home-zh-1280")

    page.get_by_role("link", name="登录").first.click()
    page.get_by_label("用户名").fill("operator1")
    page.get_by_label("密码").fill("demo12345")
    page.get_by_role("button", name="登录").click()

    page.wait_for_url(live_server.url + "/")
    assert "您好，王接线" in page.locator("main").inner_text()
    assert "接线员" in page.locator("main").inner_text()


def test_wrong_password_is_told_and_the_username_kept(page, live_server, seeded: Demo) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("用户名").fill("operator1")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text() == "用户名或密码不正确，请重新输入。"
    assert page.get_by_label("用户名").input_value() == "operator1"


def test_api_docs_render_from_this_server(page, live_server, seeded: Demo) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "xining-issues API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock-summary-path", has_text="/api/v1/regions/").count() >= 1
    screenshot(page, "api-docs-1280")


def test_language_switch_to_english(page, live_server, seeded: Demo) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="English").click()
    page.wait_for_selector("html[lang=en]")
    assert page.locator("h1").inner_text() == "Every Complaint Answered"
    screenshot(page, "home-en-1280")
