"""办理公开 in a real browser on a 360-px phone: a resident filters the answered cases by district,
sees the list change, and follows the feed link of that filter to an Atom document."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from playwright.sync_api import Page, expect

from cases import workflow
from cases.models import Case
from demo.organisation import seed_organisation
from demo.reference import seed_reference
from tests.conftest import Demo
from tests.e2e.conftest import axe_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module", autouse=True)
def reseed_after_module(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Each transactional test ends by emptying the database; put the demo organisation back
    afterwards, so that later modules find what the session set up (tests/conftest.py)."""
    yield
    with django_db_blocker.unblock():
        seed_organisation()
        seed_reference()


def answered(demo: Demo, title: str, region: tuple[str, ...], reply: str) -> Case:
    """A case the hotline answered on the spot (即时办结), through the workflow."""
    with transaction.atomic():
        case = workflow.case_submit(
            actor=demo.user("resident1"),
            category=demo.category("heating-cold"),
            region=demo.region(*region),
            title=title,
            description="家里暖气不热。",
            complainant_name="赵建国",
            complainant_phone="13897123456",
        )
    return workflow.case_resolve_at_intake(case=case, actor=demo.user("operator1"), reply=reply)


def test_a_resident_filters_by_district_and_follows_the_feed(
    phone_page: Page, live_server: Any, seeded: Demo
) -> None:
    page = phone_page
    answered(seeded, "多巴一村暖气不热", ("湟中区", "多巴镇", "多巴一村"), "管道已修复。")
    answered(seeded, "康西社区暖气不热，电话13912345678", ("城东区", "大众街街道", "康西社区"),
             "赵建国家的阀门已更换。")  # fmt: skip

    # The home page leads to the public list
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="查看全部办理结果，按区县、街道和分类筛选或订阅").click()
    expect(page.locator("h1")).to_have_text("办理公开")
    items = page.locator("#public-list > li")
    expect(items).to_have_count(2)
    text = page.locator("main").inner_text()
    assert "13912345678" not in text and "赵建国" not in text and "赵**" in text

    # Filtering by 湟中区 leaves its case alone, and the form keeps the choice
    page.get_by_label("区（县）").select_option(label="湟中区")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**/public/?district=*")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("多巴一村暖气不热")
    expect(items.first).to_contain_text("湟中区 多巴镇")
    assert page.get_by_label("区（县）").locator("option:checked").inner_text() == "湟中区"
    expect(page.get_by_role("heading", level=2, name="办理结果：湟中区")).to_be_visible()
    assert axe_violations(page) == []
    # Nothing is wider than the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "public-360")

    # The feed link (visible, and announced in the head) is the Atom feed of the same filter
    link = page.get_by_role("link", name="订阅（Atom）")
    href = link.get_attribute("href") or ""
    assert href == page.locator('link[rel="alternate"]').get_attribute("href")
    response = page.request.get(live_server.url + href)
    assert response.ok and response.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(response.body())  # noqa: S314 (the server under test wrote it)
    assert root.tag == f"{ATOM}feed"
    titles = [entry.findtext(f"{ATOM}title") for entry in root.findall(f"{ATOM}entry")]
    assert titles == ["多巴一村暖气不热"]

    # A filter that matches nothing says so
    page.get_by_label("区（县）").select_option(label="湟源县")
    page.get_by_role("button", name="筛选").click()
    expect(page.get_by_role("status")).to_contain_text("这个筛选条件下还没有公开的办理结果。")
    expect(items).to_have_count(0)
    assert axe_violations(page) == []
