"""知识库 at intake in a real browser (issue 16, item 2): an operator answers a 低保 question
from an article in a few keystrokes after typing it, and the case page's 即时办结 dialog offers
the articles that answer the case's words."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cases.models import Case, KnowledgeUse, Status
from demo.knowledge import seed_knowledge
from tests.conftest import Demo
from tests.e2e.conftest import axe_violations, screenshot, sign_in
from tests.e2e.test_workbench import act, new_case, open_case, switch_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "我妈一个人在家没有收入，想给她申请低保，要带啥材料"


@pytest.fixture
def articles(org: Demo) -> Demo:
    seed_knowledge()
    return org


def test_an_operator_answers_a_dibao_question_from_an_article(
    page: Page, live_server: Any, articles: Demo
) -> None:
    base = live_server.url
    sign_in(page, base, "operator1")
    page.goto(base + "/workbench/quick/")
    # Who is calling and from where, asked first; then the question.
    page.locator("#quick-region").fill("多巴一村")
    page.locator("#quick-region").press("Tab")
    expect(page.locator("#quick-region")).to_have_value("湟中区 多巴镇 多巴一村")
    page.locator("#quick-name").fill("李女士")
    page.locator("#quick-phone").fill("13897100001")
    page.locator("#quick-description").click()
    page.keyboard.type(QUESTION, delay=10)
    first_article = page.locator("#quick-knowledge .xn-article").first
    expect(first_article).to_contain_text("怎么申请低保？需要什么材料？")
    expect(page.locator("#quick-suggestions button").first).to_contain_text("低保")

    # The answer, in keystrokes: the category, the article, send.
    keys = ["Alt+1", "Alt+K", "Control+Enter"]
    page.keyboard.press(keys[0])
    expect(page.locator("#quick-category")).to_have_value("民政服务 › 低保")
    page.keyboard.press(keys[1])
    expect(page.locator("#quick-reply")).to_have_value(re.compile("最低生活保障"))
    expect(page.locator("#quick-resolve")).to_be_checked()
    assert axe_violations(page) == []
    screenshot(page, "workbench-quick-knowledge-1280")
    page.keyboard.press(keys[2])
    expect(page.locator("#quick-code")).to_contain_text("已登记并即时办结")
    assert len(keys) < 10

    case = Case.objects.get(complainant_name="李女士")
    assert case.status == Status.REPLIED and "最低生活保障" in case.reply_text
    use = KnowledgeUse.objects.get(case=case)
    assert use.article.question == "怎么申请低保？需要什么材料？"
    assert case.events.get(type="resolve_at_intake").payload["article"] == use.article_id
    # The form is ready for the next call, with nothing of this one's answer left.
    expect(page.locator("#quick-answer")).to_be_hidden()
    expect(page.locator("#quick-knowledge .xn-article")).to_have_count(0)


def test_the_resolve_dialog_offers_the_articles_for_the_case(
    page: Page, live_server: Any, articles: Demo
) -> None:
    base = live_server.url
    case = new_case(
        articles, category=articles.category("heating"), description="请问今年暖气什么时候开始烧？"
    )
    switch_user(page, base, "operator1")
    open_case(page, base, case.pk)
    box = act(page, "即时办结")
    first = box.locator("#resolve-knowledge .xn-article").first
    expect(first).to_contain_text("西宁什么时候开始供暖")
    expect(first).to_contain_text("维护单位：西宁市供热有限公司")
    assert axe_violations(page) == []
    screenshot(page, "workbench-resolve-knowledge-1280")
    first.click()
    expect(box.get_by_label("答复内容")).to_have_value(re.compile("10月15日"))
    box.get_by_role("button", name="确认办结").click()
    expect(box).to_be_hidden()
    expect(page.locator("#case-status")).to_have_text("待评价")
    assert KnowledgeUse.objects.get(case=case).article.question.startswith("西宁什么时候开始供暖")


def test_a_resident_finds_the_answer_on_the_phone(
    phone_page: Page, live_server: Any, articles: Demo
) -> None:
    page = phone_page
    page.goto(live_server.url + "/knowledge/")
    page.get_by_label("您想问什么？").fill("暖气啥时候开始烧")
    page.get_by_role("button", name="搜索").click()
    first = page.locator("article").first
    expect(first.get_by_role("heading")).to_have_text("西宁什么时候开始供暖？什么时候停暖？")
    expect(first).to_contain_text("10月15日")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    assert axe_violations(page) == []
    screenshot(page, "knowledge-search-360")
