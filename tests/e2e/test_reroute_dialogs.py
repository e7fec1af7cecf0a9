"""重新派单 in a real browser: the unit asks to give a signed case back and the dispatcher
approves it in the dialog; the dispatcher withdraws a case (撤回) and moves one to another unit
(改派). axe-core runs with each dialog open."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cases.models import CaseEvent, EventType, ReturnRequest, ReturnStatus, Status
from tests.conftest import Demo
from tests.e2e.conftest import axe_violations, screenshot, sign_in
from tests.e2e.test_workbench import act, new_case, open_case, switch_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # org: the seeded organisation (test_workbench's fixture)
    pytest.mark.usefixtures("org"),
]

REASON = "该管段属市供热公司产权，不属于本单位职责。"


def test_the_unit_asks_to_return_and_the_dispatcher_approves(page: Page, live_server: Any) -> None:
    demo = Demo()
    case = new_case(demo, Status.HANDLING)

    # Given 湟中区's handler on a case they have signed for
    sign_in(page, live_server.url, "handler_huangzhong")
    open_case(page, live_server.url, case.pk)
    # When they ask to give it back, with a reason
    box = act(page, "申请退回")
    box.get_by_label("退回理由").fill(REASON)
    assert axe_violations(page) == []
    screenshot(page, "workbench-request-return-1280")
    box.get_by_role("button", name="提交申请").click()
    expect(box).to_be_hidden()
    # Then the case stays theirs, and they cannot ask twice
    expect(page.locator("#case-status")).to_have_text("办理中")
    expect(page.locator("#case-actions").get_by_role("button", name="申请退回")).to_have_count(0)

    # When 湟中区's dispatcher opens the decision
    switch_user(page, live_server.url, "dispatcher_huangzhong")
    open_case(page, live_server.url, case.pk)
    box = act(page, "退回审批")
    # Then the dialog shows who asked and why
    pending = box.locator("#decide-return-pending")
    expect(pending.locator('[data-pending-return="unit"]')).to_have_text("湟中区人民政府")
    expect(pending.locator('[data-pending-return="requested_by"]')).to_have_text("韩承办")
    expect(pending.locator('[data-pending-return="reason"]')).to_have_text(REASON)
    # And approving it sends the case back to 待派单
    box.get_by_label("批准退回").check()
    box.get_by_label("审批意见").fill("同意，转市供热公司。")
    assert axe_violations(page) == []
    screenshot(page, "workbench-decide-return-1280")
    box.get_by_role("button", name="提交审批").click()
    expect(box).to_be_hidden()
    expect(page.locator("#case-status")).to_have_text("待派单")
    expect(page.locator('[data-field="lead_unit.name"]')).to_have_text("—")
    decision = page.locator('#case-timeline [data-event-type="decide_return"]')
    expect(decision).to_contain_text("审批结果：批准")
    expect(decision).to_contain_text("同意，转市供热公司。")
    expect(page.locator("#case-actions").get_by_role("button", name="派单")).to_be_visible()
    assert ReturnRequest.objects.get(case=case).status == ReturnStatus.APPROVED


def test_the_dispatcher_withdraws_a_case(page: Page, live_server: Any) -> None:
    demo = Demo()
    case = new_case(demo, Status.DISPATCHED)
    sign_in(page, live_server.url, "dispatcher_huangzhong")
    open_case(page, live_server.url, case.pk)

    box = act(page, "撤回")
    # A reason is required: the field says so and keeps the dialog open
    box.get_by_role("button", name="确认撤回").click()
    expect(box.locator('[data-error-for="reason"]')).to_be_visible()
    expect(box.get_by_label("撤回理由")).to_be_focused()
    box.get_by_label("撤回理由").fill("派单有误，改派市级单位。")
    assert axe_violations(page) == []
    screenshot(page, "workbench-withdraw-1280")
    box.get_by_role("button", name="确认撤回").click()
    expect(box).to_be_hidden()
    expect(page.locator("#case-status")).to_have_text("待派单")
    expect(page.locator('#case-timeline [data-event-type="withdraw"]')).to_contain_text(
        "湟中区人民政府"
    )
    case.refresh_from_db()
    assert (case.status, case.return_count) == (Status.ACCEPTED, 0)


def test_the_dispatcher_reassigns_a_case(page: Page, live_server: Any) -> None:
    demo = Demo()
    case = new_case(demo, Status.HANDLING)
    sign_in(page, live_server.url, "dispatcher_huangzhong")
    open_case(page, live_server.url, case.pk)

    box = act(page, "改派")
    expect(box.locator("#reassign-current")).to_have_text("湟中区人民政府")
    expect(box.locator("#reassign-co")).to_have_text("西宁华润燃气有限公司")
    # The unit it has now is refused, on the unit's field
    lead = box.get_by_label("新承办单位")
    lead.fill("湟中区人民政府")
    box.get_by_role("button", name="确认改派").click()
    error = box.locator('[data-error-for="lead_unit"]')
    expect(error).to_contain_text("改派不能派给原承办单位")
    expect(lead).to_have_attribute("aria-invalid", "true")
    # Another unit within reach is taken
    lead.fill("西宁市供热有限公司")
    box.get_by_label("改派说明").fill("市政管网，转市供热公司。")
    assert axe_violations(page) == []
    screenshot(page, "workbench-reassign-1280")
    box.get_by_role("button", name="确认改派").click()
    expect(box).to_be_hidden()
    expect(page.locator("#case-status")).to_have_text("待签收")
    expect(page.locator('[data-field="lead_unit.name"]')).to_have_text("西宁市供热有限公司")
    case.refresh_from_db()
    assert case.lead_unit is not None and case.lead_unit.code == "xn-heating"
    assert [u.code for u in case.co_units.all()] == ["xn-gas"]
    assert CaseEvent.objects.filter(case=case, type=EventType.REASSIGN).count() == 1
