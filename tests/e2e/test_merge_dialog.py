"""合并 and similar cases in a real browser (issue 14 item 5): the operator merges a repeat into
the main case from the case page's dialog; quick entry lists similar open cases while the call
is typed; the resident's submit page says only how many there are. axe-core runs on each."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cases import workflow
from cases.models import Case, CaseEvent, EventType, Status
from tests.conftest import Demo
from tests.e2e.conftest import axe_violations, screenshot, sign_in
from tests.e2e.test_resident_pages import pick_category, wait_for_form
from tests.e2e.test_workbench import act, new_case, open_case

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # org: the seeded organisation (test_workbench's fixture)
    pytest.mark.usefixtures("org"),
]


def repeat(demo: Demo, status: str = Status.SUBMITTED) -> Case:
    """The same matter called in again by another person."""
    return new_case(
        demo,
        status,
        description="新村巷暖气也不热，管道漏水。",
        complainant_name="钱女士",
        complainant_phone="13897120000",
    )


def test_the_operator_merges_a_repeat_into_the_main_case(page: Page, live_server: Any) -> None:
    demo = Demo()
    main = new_case(demo, Status.HANDLING)
    case = repeat(demo, Status.ACCEPTED)
    sign_in(page, live_server.url, "operator1")
    open_case(page, live_server.url, case.pk)

    box = act(page, "合并")
    into = box.get_by_label("主诉求")
    # The main cases offered are the open, unreplied possible duplicates
    option = into.locator("option", has_text=main.tracking_code)
    expect(option).to_have_count(1)
    # Without a choice the field says so and the dialog stays open
    box.get_by_role("button", name="确认合并").click()
    expect(box.locator('[data-error-for="into"]')).to_be_visible()
    into.select_option(value=str(main.pk))
    box.get_by_label("合并说明").fill("同一处管道破损。")
    assert axe_violations(page) == []
    screenshot(page, "workbench-merge-1280")
    box.get_by_role("button", name="确认合并").click()
    expect(box).to_be_hidden()
    expect(page.locator("#case-status")).to_have_text("已归档")
    expect(page.locator('[data-field="duplicate_of"]')).to_have_text(main.tracking_code)
    merged = page.locator('#case-timeline [data-event-type="merge"]')
    expect(merged).to_contain_text(main.tracking_code)
    expect(merged).to_contain_text("同一处管道破损。")
    case.refresh_from_db()
    assert (case.status, case.duplicate_of_id) == (Status.CLOSED, main.pk)
    assert CaseEvent.objects.filter(case=case, type=EventType.MERGE).count() == 1


def test_quick_entry_lists_similar_open_cases_while_typing(page: Page, live_server: Any) -> None:
    demo = Demo()
    main = new_case(demo, Status.HANDLING)
    sign_in(page, live_server.url, "operator1")
    page.goto(live_server.url + "/workbench/quick/")
    status = page.locator("#quick-similar-status")
    expect(status).to_contain_text("近 30 天")
    keyboard = page.keyboard
    keyboard.type("供暖不热")
    keyboard.press("Tab")
    keyboard.type("多巴一村")
    keyboard.press("Tab")
    # Then the case of the same place and category shows, as a link to it
    link = page.locator("#quick-similar-list").get_by_role("link", name=main.tracking_code)
    expect(link).to_be_visible()
    expect(status).to_contain_text("1 件相似的在办诉求")
    assert axe_violations(page) == []
    screenshot(page, "workbench-quick-similar-1280")
    # A call from elsewhere with another phone shows none
    page.locator("#quick-region").fill("")
    page.locator("#quick-region").dispatch_event("change")
    expect(page.locator("#quick-similar-list li")).to_have_count(0)
    # the phone alone finds it again
    page.locator("#quick-phone").fill("13897123456")
    expect(link).to_be_visible()


def test_the_resident_is_told_only_how_many(phone_page: Page, live_server: Any) -> None:
    demo = Demo()
    main = new_case(demo, Status.HANDLING)
    page = phone_page
    page.goto(live_server.url + "/submit/")
    wait_for_form(page)
    pick_category(page, "供暖", "供暖不热")
    page.get_by_label("区（县）").select_option(label="湟中区")
    page.get_by_label("街道（乡镇）").select_option(label="多巴镇")
    page.get_by_label("社区（村）").select_option(label="多巴一村")
    hint = page.locator("#similar-hint-text")
    expect(hint).to_contain_text("1 件")
    expect(hint).to_contain_text("多巴镇")
    text = hint.inner_text()
    for secret in (main.tracking_code, "赵先生", "3456", "新村巷"):
        assert secret not in text
    assert axe_violations(page) == []
    screenshot(page, "resident-submit-similar-360")
    # another community has none: the hint goes away
    page.get_by_label("社区（村）").select_option(index=2)
    expect(page.locator("#similar-hint-text")).to_have_count(0)


def test_the_track_page_of_a_merged_case_shows_the_main_case(
    phone_page: Page, live_server: Any
) -> None:
    demo = Demo()
    main = new_case(demo, Status.HANDLING)
    case = repeat(demo)
    workflow.case_merge(case=case, actor=demo.user("operator1"), into=main)
    workflow.case_reply(
        case=main, actor=demo.user("handler_huangzhong"), outcome="resolved", text="管道已修复。"
    )
    page = phone_page
    page.goto(f"{live_server.url}/track/?code={case.tracking_code}")
    page.get_by_label("电话后四位").fill("0000")
    page.get_by_role("button", name="查询").click()
    notice = page.locator("#merged-notice")
    expect(notice).to_contain_text(main.tracking_code)
    expect(page.locator("#result-facts")).to_contain_text("管道已修复。")
    assert "赵先生" not in page.locator("main").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "resident-track-merged-360")
