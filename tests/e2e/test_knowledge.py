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


def test_a_unit_keeps_its_articles_in_the_workbench(
    page: Page, live_server: Any, articles: Demo
) -> None:
    from cases.models import KnowledgeArticle
    from org.models import Role
    from tests.factories import MembershipFactory

    # Given a handler of 民政局, which owns the 低保 and 高龄补贴 articles
    keeper = MembershipFactory(
        user__username="kb_keeper", unit=articles.unit("xn-civil"), role=Role.HANDLER
    ).user
    keeper.set_password("demo12345")
    keeper.save()
    base = live_server.url
    sign_in(page, base, "kb_keeper")
    page.goto(base + "/workbench/")
    page.get_by_role("link", name="知识库维护").click()
    table = page.locator("#kb-table")
    expect(table).to_contain_text("怎么申请低保？需要什么材料？")
    expect(table).not_to_contain_text("西宁什么时候开始供暖")  # another unit's
    # When the handler writes a new article
    form = page.locator("#kb-form")
    form.get_by_label("问题").fill("临时救助怎么申请？")
    form.get_by_label("答复内容").fill("向户籍所在地乡镇（街道）提出申请，急难情形可先行救助。")
    form.get_by_label("复核日期").fill("2027-06-30")
    form.get_by_label("适用分类").select_option(label="低保")
    form.get_by_role("button", name="保存").click()
    expect(page.locator("#kb-saved")).to_contain_text("已新增：临时救助怎么申请？")
    expect(table).to_contain_text("临时救助怎么申请？")
    # and then changes its answer: a second version is kept
    form.get_by_label("答复内容").fill("可通过“青海救助”小程序在线申请临时救助。")
    form.get_by_role("button", name="保存").click()
    expect(page.locator("#kb-saved")).to_contain_text("第 2 版")
    expect(table.locator("tr", has_text="临时救助怎么申请？")).to_contain_text("2 版")
    expect(table.locator("tr", has_text="怎么申请低保")).to_contain_text("1 版")
    made = KnowledgeArticle.objects.get(question="临时救助怎么申请？")
    assert made.answer.startswith("可通过") and made.history.count() == 2  # type: ignore[attr-defined]
    assert [c.name for c in made.categories.all()] == ["低保"]
    # A date out of order is refused with its field named, and nothing changes
    form.get_by_label("失效日期").fill("2020-01-01")
    form.get_by_role("button", name="保存").click()
    expect(form.locator("#kb-until-error")).to_be_visible()
    made.refresh_from_db()
    assert made.valid_until is None
    screenshot(page, "knowledge-keep")
    assert axe_violations(page) == []
