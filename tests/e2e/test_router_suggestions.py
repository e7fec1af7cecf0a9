"""智能派单 in a real browser (issue 15, item 3): the resident's form and the operator's quick
entry offer the categories the words suggest while they type; the accept dialog shows the
categories the case's words suggest with their reasons and records the first; the dispatch
dialog shows the units that answered such cases to the complainant's satisfaction.

The model is the small one of ``tests/cases/test_router.py`` (five matters), stored as the model
in use, so what it suggests is known."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cases import router
from cases.models import Case, CaseEvent, RouterModel, Status
from tests.cases.test_router import small_corpus, store
from tests.conftest import Demo
from tests.e2e.conftest import axe_violations, screenshot, sign_in
from tests.e2e.test_workbench import act, new_case, open_case, switch_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COLD = "暖气片摸着是凉的，屋里冷得很，老人受不了"


@pytest.fixture
def model(org: Demo) -> RouterModel:
    """The small model, which learned that 供热公司 answered 湟中区's cold homes well."""
    trained = router.fit(small_corpus(org))
    trained.units = {
        (org.category("heating-cold").pk, org.region("湟中区").pk): [
            (org.unit("huangzhong-gov").pk, 9),
            (org.unit("xn-heating").pk, 3),
        ]
    }
    return store(trained)


def test_a_resident_takes_the_suggested_category_while_typing(
    phone_page: Page, live_server: Any, org: Demo, model: RouterModel
) -> None:
    page = phone_page
    page.goto(live_server.url + "/submit/")
    page.wait_for_selector("#category-list[aria-busy=false]")
    box = page.locator("#category-suggestions")
    expect(box.get_by_role("button")).to_have_count(0)

    page.get_by_label("具体情况").press_sequentially(COLD, delay=20)
    first = box.get_by_role("button").first
    expect(first).to_have_text("供暖 › 供暖不热")  # residents see names, not the model's figures
    expect(box).not_to_contain_text("%")
    expect(first).to_have_attribute("aria-pressed", "false")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    assert axe_violations(page) == []
    screenshot(page, "submit-suggestions-360")

    first.click()
    expect(first).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#category-selected")).to_contain_text("供暖 › 供暖不热")
    checked = page.locator('#category-list input[name="category"]:checked')
    expect(checked).to_have_value(str(org.category("heating-cold").pk))


def test_an_operator_takes_a_suggestion_with_alt_1(
    page: Page, live_server: Any, model: RouterModel
) -> None:
    base = live_server.url
    sign_in(page, base, "operator1")
    page.goto(base + "/workbench/quick/")
    keyboard = page.keyboard
    keyboard.press("Tab")  # the category is left for the suggestion
    keyboard.type("多巴一村")
    keyboard.press("Tab")
    expect(page.locator("#quick-region")).to_have_value("湟中区 多巴镇 多巴一村")
    keyboard.press("Tab")
    keyboard.type(COLD, delay=20)
    first = page.locator("#quick-suggestions button").first
    expect(first).to_contain_text("1. 供暖 › 供暖不热")
    # Staff see why: the model's confidence, the 权责清单's unit there, who answered well.
    expect(first).to_contain_text(re.compile(r"模型置信度 \d+%"))
    expect(first).to_contain_text("权责清单：湟中区人民政府")
    expect(first).to_contain_text("以往满意办结：湟中区人民政府 9 件、西宁市供热有限公司 3 件")
    # The model is sure, so no note; the others are shown only when it gives them 5 % or more.
    expect(page.locator("#quick-suggestions")).not_to_contain_text("null")
    expect(page.locator("#quick-suggestions")).not_to_contain_text("模型置信度 0%")
    assert axe_violations(page) == []
    screenshot(page, "workbench-quick-suggestions-1280")

    keyboard.press("Alt+1")
    expect(page.locator("#quick-category")).to_have_value("供暖 › 供暖不热")
    expect(first).to_have_attribute("aria-pressed", "true")
    # Tab still goes from the call's words to the caller's name.
    page.locator("#quick-description").focus()
    keyboard.press("Tab")
    expect(page.locator("#quick-name")).to_be_focused()


def test_the_accept_dialog_shows_the_guesses_and_records_the_first(
    page: Page, live_server: Any, org: Demo, model: RouterModel
) -> None:
    base = live_server.url
    case = new_case(org, category=org.category("heating"), description=COLD)  # filed generally
    switch_user(page, base, "operator1")
    open_case(page, base, case.pk)
    box = act(page, "受理")
    guesses = box.locator("#accept-suggestions .xn-category-guess")
    first = guesses.first
    expect(first).to_contain_text("供暖 › 供暖不热")
    expect(first).to_contain_text(re.compile(r"模型置信度 \d+%"))
    expect(first).to_contain_text("权责清单：湟中区人民政府")
    assert axe_violations(page) == []
    screenshot(page, "workbench-accept-suggestions-1280")

    first.click()
    expect(box.get_by_label("分类")).to_have_value(str(org.category("heating-cold").pk))
    expect(first).to_have_attribute("aria-pressed", "true")
    box.get_by_role("button", name="确认受理").click()
    expect(box).to_be_hidden()
    expect(page.locator("#case-status")).to_have_text("待派单")
    payload = CaseEvent.objects.get(case=case, type="accept").payload
    assert payload["suggested_category"] == "heating-cold"
    assert payload["category_was"] == "heating" and payload["category"] == "供暖不热"


def test_the_dispatch_dialog_offers_the_units_that_answered_such_cases(
    page: Page, live_server: Any, org: Demo, model: RouterModel
) -> None:
    base = live_server.url
    case = new_case(org, Status.ACCEPTED, description=COLD)
    switch_user(page, base, "dispatcher_huangzhong")
    open_case(page, base, case.pk)
    box = act(page, "派单")
    learned = box.locator("#dispatch-learned .xn-suggestion")
    expect(learned).to_have_count(2)
    expect(learned.first).to_contain_text("湟中区人民政府")
    expect(learned.first).to_contain_text("同类诉求满意办结 9 件（占 75%）")
    assert axe_violations(page) == []
    screenshot(page, "workbench-dispatch-learned-1280")

    learned.first.click()
    expect(learned.first).to_have_attribute("aria-pressed", "true")
    expect(box.get_by_label("承办单位")).to_have_value("湟中区人民政府")
    box.get_by_role("button", name="确认派单").click()
    expect(box).to_be_hidden()
    expect(page.locator("#case-status")).to_have_text("待签收")
    assert Case.objects.get(pk=case.pk).lead_unit.name == "湟中区人民政府"
