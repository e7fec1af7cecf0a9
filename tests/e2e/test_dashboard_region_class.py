"""按社区分类 on the committee's overview, in a real browser: the by-class table beside the
rankings, and the 社区分类 filter that narrows every figure to one class (axe clean)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from demo.history import generate_cases
from stats.rollup import refresh_rollup
from tests.conftest import Demo
from tests.e2e.conftest import axe_violations, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cases(seeded: Demo) -> Demo:
    """The demo organisation (every community classed) and a year of cases, folded in."""
    generate_cases(300)
    refresh_rollup()
    return seeded


def kpi(page: Page, name: str) -> str:
    return page.locator(f'[data-kpi="{name}"]').inner_text()


def test_choosing_a_class_narrows_the_figures_and_the_table(
    page: Page, live_server: Any, cases: Demo
) -> None:
    # Given the committee on the overview
    sign_in(page, live_server.url, "committee1")
    page.goto(live_server.url + "/dashboard/")
    page.wait_for_selector("body[data-dashboard-ready]")
    table = page.locator("#table-classes tbody")
    # the by-class table ranks the classes that had cases in the period
    assert page.locator("#table-classes tbody tr").count() >= 2
    expect(table).to_contain_text("城市社区")
    expect(page.locator("#f-region-class option")).to_have_count(5)  # 全部分类 and four
    assert axe_violations(page) == []
    screenshot(page, "dashboard-region-class-1280")
    everyone = kpi(page, "created")

    # When a class is chosen in the filter bar
    ready = page.evaluate("document.body.dataset.dashboardReady")
    page.locator("#f-region-class").select_option(label="城市社区")
    page.wait_for_function(
        "(before) => document.body.dataset.dashboardReady !== before", arg=ready
    )

    # Then the table holds that class alone and the figures are its own
    expect(page.locator("#table-classes tbody tr")).to_have_count(1)
    expect(table).to_contain_text("城市社区")
    assert kpi(page, "created") != everyone
    # and the choice is kept in the address and in the Excel links
    assert "region_class=urban" in page.url
    href = page.locator('[data-export="rankings-region_class"]').get_attribute("href") or ""
    assert "region_class=urban" in href and "table=rankings-region_class" in href
    assert axe_violations(page) == []
