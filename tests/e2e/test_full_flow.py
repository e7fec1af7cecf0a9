"""The whole 有诉必应 loop in a real browser, each step by the person who does it.

A resident files a complaint with a photo on a 360-px phone; operator1 accepts it,
dispatcher_huangzhong dispatches it, handler_huangzhong signs and replies in the workbench; the
resident tracks it on the phone and rates it 满意; the dispatcher archives it. Every step asserts
what the page shows.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from cases.models import Case, CaseEvent, Status
from tests.conftest import Demo
from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_resident_pages import fill_complaint, png
from tests.e2e.test_workbench import act, open_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def test_complaint_from_phone_to_archive(
    phone_page: Any, page: Any, live_server: Any, seeded: Demo, media: Path, tmp_path: Path
) -> None:
    base = live_server.url
    resident, staff = phone_page, page

    # 接 (resident): a complaint with a photo from a phone
    resident.goto(base + "/submit/")
    fill_complaint(resident, description="家里暖气不热，附近一处管道破损，已经两天了。")
    resident.locator("#id_photos").set_input_files([str(png(tmp_path / "pipe.png"))])
    resident.wait_for_function("() => document.querySelectorAll('#photo-list li').length === 1")
    resident.get_by_role("button", name="提交诉求").click()
    resident.wait_for_url(re.compile(r"/submit/done/\?code=XN-"))
    code = resident.locator("#tracking-code").inner_text()
    case = Case.objects.get(tracking_code=code)
    assert case.attachments.count() == 1

    # 接 (operator1): accept in the workbench
    sign_in(staff, base, "operator1")
    staff.goto(base + "/workbench/")
    staff.locator("#queue-rows tr", has_text=code).get_by_role("link", name=code).click()
    expect(staff.locator("#case-status")).to_have_text("待受理")
    expect(staff.locator("#case-photos img")).to_have_count(1)
    act(staff, "受理").get_by_role("button", name="确认受理").click()
    expect(staff.locator("#case-status")).to_have_text("待派单")

    # 派 (dispatcher_huangzhong): take the responsibility list's suggestion
    staff.context.clear_cookies()
    sign_in(staff, base, "dispatcher_huangzhong")
    open_case(staff, base, case.pk)
    box = act(staff, "派单")
    box.locator(".xn-suggestion", has_text="湟中区人民政府").first.click()
    box.get_by_role("button", name="确认派单").click()
    expect(staff.locator("#case-status")).to_have_text("待签收")

    # 办 (handler_huangzhong): sign and reply
    staff.context.clear_cookies()
    sign_in(staff, base, "handler_huangzhong")
    open_case(staff, base, case.pk)
    act(staff, "签收").get_by_role("button", name="确认签收").click()
    expect(staff.locator("#case-status")).to_have_text("办理中")
    box = act(staff, "办结答复")
    box.get_by_label("办理结果").select_option(label="已解决")
    box.get_by_label("答复内容").fill("破损管道已于当日修复，供暖已恢复。")
    box.get_by_role("button", name="提交答复").click()
    expect(staff.locator("#case-status")).to_have_text("待评价")

    # 评 (resident): track on the phone and rate 满意
    resident.goto(f"{base}/track/?code={code}")
    resident.get_by_label("电话后四位").fill("3456")
    resident.get_by_role("button", name="查询").click()
    resident.locator("#result-title").wait_for()
    assert resident.locator("#result-facts .xn-status").inner_text() == "待评价"
    assert "破损管道已于当日修复" in resident.locator("#result-facts").inner_text()
    resident.locator("label[for=rating-satisfied]").click()
    resident.get_by_role("button", name="提交评价").click()
    resident.locator("#result-notice").wait_for(state="visible")
    assert resident.locator("#result-facts .xn-status").inner_text() == "已评价"

    # 报 (dispatcher_huangzhong): archive
    staff.context.clear_cookies()
    sign_in(staff, base, "dispatcher_huangzhong")
    open_case(staff, base, case.pk)
    expect(staff.locator("#case-status")).to_have_text("已评价")
    act(staff, "归档").get_by_role("button", name="确认归档").click()
    expect(staff.locator("#case-status")).to_have_text("已归档")
    screenshot(staff, "flow-archived-1280")

    # The resident sees it archived; one event per step, each by the right person
    resident.reload()
    resident.locator("#result-title").wait_for()
    assert resident.locator("#result-facts .xn-status").inner_text() == "已归档"
    events = CaseEvent.objects.filter(case=case).order_by("created_at", "id")
    assert [(e.type, e.actor.username if e.actor else None) for e in events] == [
        ("submit", None),
        ("accept", "operator1"),
        ("dispatch", "dispatcher_huangzhong"),
        ("sign", "handler_huangzhong"),
        ("reply", "handler_huangzhong"),
        ("evaluate", None),
        ("close", "dispatcher_huangzhong"),
    ]
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.rating == "satisfied"
