"""分级派单 in a real browser: the operator grades a case a community matter in the accept
dialog, and it waits in its street dispatcher's 待派单 tab, not in the district's."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cases.models import Case, Status
from tests.conftest import Demo
from tests.e2e.conftest import axe_violations, screenshot
from tests.e2e.test_workbench import act, new_case, open_case, switch_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def waiting_codes(page: Page, base: str) -> list[str]:
    page.goto(base + "/workbench/")
    page.get_by_role("tab", name=re.compile("待派单")).click()
    expect(page.get_by_role("tab", name=re.compile("待派单"))).to_have_attribute(
        "aria-selected", "true"
    )
    page.wait_for_load_state("networkidle")
    return [
        code.strip()
        for code in page.locator("#queue-rows tr a").all_inner_texts()
        if code.startswith("XN-")
    ]


def test_a_community_matter_waits_for_its_street_dispatcher(
    page: Page,
    live_server: Any,
    org: Demo,
) -> None:
    base = live_server.url
    case = new_case(org, category=org.category("property-service"))

    # 受理: the operator grades it a community matter.
    switch_user(page, base, "operator1")
    open_case(page, base, case.pk)
    box = act(page, "受理")
    level = box.get_by_label("办理层级")
    expect(level).to_have_value("")  # 按权责清单 unless the operator chooses
    level.select_option(label="社区/村")
    expect(box.locator("#accept-duty-level-hint")).to_contain_text("社区/村级事项由街道派单")
    assert axe_violations(page) == []
    screenshot(page, "workbench-accept-graded-1280")
    box.get_by_role("button", name="确认受理").click()
    expect(box).to_be_hidden()
    expect(page.locator("#case-status")).to_have_text("待派单")
    expect(page.locator('[data-field="dispatch_region.name"]')).to_have_text("多巴镇")
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED and case.dispatch_region.name == "多巴镇"

    # 派: it waits in 多巴镇's 待派单, which dispatches it; not in 湟中区's.
    switch_user(page, base, "dispatcher_huangzhong")
    assert case.tracking_code not in waiting_codes(page, base)
    switch_user(page, base, "dispatcher_duoba")
    assert case.tracking_code in waiting_codes(page, base)
    page.locator("#queue-rows tr", has_text=case.tracking_code).get_by_role(
        "link", name=case.tracking_code
    ).click()
    box = act(page, "派单")
    suggestion = box.locator(".xn-suggestion").first
    expect(suggestion).to_contain_text("多巴一村村民委员会")
    suggestion.click()
    assert axe_violations(page) == []
    box.get_by_role("button", name="确认派单").click()
    expect(box).to_be_hidden()
    expect(page.locator("#case-status")).to_have_text("待签收")
    assert Case.objects.get(pk=case.pk).lead_unit.name == "多巴一村村民委员会"
