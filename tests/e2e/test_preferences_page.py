"""消息设置 in a real browser: a handler opens it from the inbox, turns SMS on for one kind and
e-mail off for another, saves, and finds the choice again after a reload."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from notifications.models import NotificationPreference
from tests.conftest import Demo
from tests.e2e.conftest import axe_violations, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_handler_chooses_how_each_kind_reaches_them(
    page: Page, live_server: Any, seeded: Demo
) -> None:
    sign_in(page, live_server.url, "handler_huangzhong")
    page.goto(f"{live_server.url}/workbench/inbox/")
    page.get_by_role("link", name="消息设置").click()
    row = page.locator("#preferences-table tbody tr", has_text="新的派单")
    expect(row).to_have_count(1)
    expect(row.get_by_label("新的派单：邮件")).to_be_checked()
    expect(row.get_by_label("新的派单：短信")).not_to_be_checked()
    assert axe_violations(page) == []
    row.get_by_label("新的派单：短信").check()
    page.locator("#preferences-table tbody tr", has_text="每日提醒").get_by_label(
        "每日提醒：邮件"
    ).uncheck()
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#preferences-status")).to_have_text("已保存。")
    page.reload()
    row = page.locator("#preferences-table tbody tr", has_text="新的派单")
    expect(row.get_by_label("新的派单：短信")).to_be_checked()
    expect(
        page.locator("#preferences-table tbody tr", has_text="每日提醒").get_by_label(
            "每日提醒：邮件"
        )
    ).not_to_be_checked()
    chosen = dict(
        NotificationPreference.objects.filter(user__username="handler_huangzhong").values_list(
            "kind", "sms"
        )
    )
    assert chosen["case_assigned"] is True and chosen["daily_digest"] is False
    screenshot(page, "notification-preferences-1280")
