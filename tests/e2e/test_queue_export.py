"""导出 on the workbench queue in a real browser: the filtered list downloaded as CSV, a large
one built in the background with progress, on a desktop and a 360-px phone, axe clean."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from cases.models import Status
from tests.conftest import Demo
from tests.e2e.conftest import axe_violations, screenshot, sign_in
from tests.e2e.test_workbench import new_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def org(django_db_setup: None, settings: Any, tmp_path: Any) -> Iterator[Demo]:
    from demo.organisation import seed_organisation
    from demo.reference import seed_reference

    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()
    seed_organisation()
    seed_reference()
    yield Demo()
    cache.clear()


def csv_codes(path: str) -> list[str]:
    with open(path, "rb") as file:
        content = file.read()
    assert content.startswith(b"\xef\xbb\xbf")
    header, *rows = csv.reader(io.StringIO(content[3:].decode("utf-8")))
    assert header[0] == "受理编号"
    return [row[0] for row in rows]


def open_export_menu(page: Page) -> None:
    page.locator("#queue-export summary").click()
    expect(page.get_by_role("button", name="导出 CSV")).to_be_visible()


def test_the_filtered_queue_downloads_as_csv(page: Page, live_server: Any, org: Demo) -> None:
    # given a queue of four, one of them about noise
    noise = org.category("noise")
    kangxi = org.region("城东区", "大众街街道", "康西社区")
    for n in range(3):
        new_case(org, description=f"暖气不热 第{n}户")
    loud = new_case(org, category=noise, region=kangxi, description="楼下商铺夜间噪音扰民。")
    sign_in(page, live_server.url, "dispatcher_city")
    page.goto(live_server.url + "/workbench/")
    rows = page.locator("#queue-rows tr")
    expect(rows).to_have_count(4)
    # when the dispatcher filters it and exports CSV from the 导出 menu, by keyboard
    page.get_by_label("搜索").fill("噪音")
    page.get_by_role("button", name="筛选").click()
    expect(rows).to_have_count(1)
    page.locator("#queue-export summary").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="导出 CSV")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "queue-export-menu")
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 CSV").click()
    # then the file holds the filtered row only, and the page says so
    assert download.value.suggested_filename.endswith(".csv")
    assert csv_codes(download.value.path()) == [loud.tracking_code]
    expect(page.locator("#queue-export-status")).to_have_text("文件已生成并开始下载。")
    expect(page.locator("#queue-export details")).not_to_have_attribute("open", "")
    assert axe_violations(page) == []


def test_a_large_queue_shows_progress_then_its_link(
    phone_page: Page, live_server: Any, org: Demo, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stats.tasks import build_export_task

    # given a threshold below the queue's size, and a task queue the test works itself
    settings.QUEUE_EXPORT_SYNC_MAX_ROWS = 1
    sent: list[int] = []
    monkeypatch.setattr(build_export_task, "apply_async", lambda args, **kw: sent.append(args[0]))
    codes = {new_case(org, Status.ACCEPTED).tracking_code for _ in range(2)}
    page = phone_page
    sign_in(page, live_server.url, "dispatcher_city")
    page.goto(live_server.url + "/workbench/?tab=accepted")
    expect(page.locator("#queue-rows tr")).to_have_count(2)
    # when the 360-px phone exports the queue
    open_export_menu(page)
    page.get_by_role("button", name="导出 CSV").click()
    # then the page shows the queued job's progress until the worker has built it
    expect(page.get_by_role("progressbar")).to_be_visible()
    screenshot(page, "queue-export-progress")
    assert axe_violations(page) == []
    assert len(sent) == 1
    build_export_task(sent[0])
    # and then the link to the built file, which downloads the queue's rows
    link = page.locator("[data-export-download]")
    expect(link).to_be_visible()
    expect(page.locator("#queue-export-status")).to_contain_text(re.compile(r"2\s*行"))
    screenshot(page, "queue-export-phone")
    assert axe_violations(page) == []
    with page.expect_download() as download:
        link.click()
    assert set(csv_codes(download.value.path())) == codes
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
