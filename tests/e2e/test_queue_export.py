"""导出 on the workbench queue in a real browser: the filtered list downloaded as CSV and Excel
with personal data masked, a large one built in the background with progress, on a desktop and a
360-px phone, axe clean.

Every wait is bounded: the file is read from the export's HTTP response (``expect_response``) and
the browser's save from the download event (``expect_download``), both with a timeout, never
``download.path()``, which waits without one. (The hang that withdrew this test in e47162c was
axe's settle step awaiting transitions that headless Chromium froze after the download; see
``SETTLED`` in conftest.py.)"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from cases.models import Status
from tests.conftest import Demo
from tests.e2e.conftest import PATIENCE_MS, axe_violations, screenshot, sign_in
from tests.e2e.test_workbench import new_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


PHONE = "13897123456"  # new_case's complainant phone


def csv_rows(content: bytes) -> list[list[str]]:
    """The rows of a queue CSV (UTF-8 with a BOM), header first."""
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content[3:].decode("utf-8"))))
    assert rows[0][0] == "受理编号"
    return rows


def xlsx_rows(content: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "受理编号"
    return rows


@contextmanager
def exported(page: Page, pattern: str) -> Iterator[SimpleNamespace]:
    """Expect, each within PATIENCE_MS, the export's answer and the browser's download of it:
    ``.download`` and the ``.body`` the page received and handed to the browser to save.

    The answer passes through a route (``route.fetch`` with a timeout) because Chromium keeps no
    body of an ``attachment`` answer for Playwright, and the page's CSP forbids reading the blob
    back; ``download.path()`` is never called, as it waits without a timeout."""
    bodies: list[bytes] = []

    def relay(route: Any) -> None:
        answer = route.fetch(timeout=PATIENCE_MS)
        assert answer.status == 200
        bodies.append(answer.body())
        route.fulfill(response=answer)

    result = SimpleNamespace()
    page.route(re.compile(pattern), relay)
    try:
        with page.expect_download(timeout=PATIENCE_MS) as download:
            yield result
    finally:
        page.unroute(re.compile(pattern), relay)
    assert len(bodies) == 1
    result.download = download.value
    result.body = bodies[0]


def link_bytes(page: Page, download: Any) -> bytes:
    """The file behind a download link, fetched with the page's session within PATIENCE_MS."""
    response = page.request.get(download.url, timeout=PATIENCE_MS)
    assert response.status == 200
    return response.body()


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
    with exported(page, r"/api/v1/stats/queue-export\.csv") as csv_file:
        page.get_by_role("button", name="导出 CSV").click()
    # then the browser saves a CSV of the filtered row only, the phone masked, and the page says so
    assert csv_file.download.suggested_filename.endswith(".csv")
    header, *rows = csv_rows(csv_file.body)
    assert [row[0] for row in rows] == [loud.tracking_code]
    # (a dispatcher of the case's region reads the complainant whole, as on the list; the masked
    # files of other roles are asserted over HTTP in tests/stats/test_queue_export.py)
    assert rows[0][header.index("联系电话")] == PHONE
    expect(page.locator("#queue-export-status")).to_have_text("文件已生成并开始下载。")
    expect(page.locator("#queue-export details")).not_to_have_attribute("open", "")
    assert axe_violations(page) == []
    # and Excel gives the same row, masked the same way
    open_export_menu(page)
    with exported(page, r"/api/v1/stats/queue-export\.xlsx") as excel:
        page.get_by_role("button", name="导出 Excel").click()
    assert excel.download.suggested_filename.endswith(".xlsx")
    sheet = xlsx_rows(excel.body)
    assert [row[0] for row in sheet[1:]] == [loud.tracking_code]
    assert ["" if v is None else str(v) for v in sheet[1][:10]] == rows[0][:10]
    assert sheet[1][header.index("联系电话")] == PHONE
    expect(page.locator("#queue-export-status")).to_have_text("文件已生成并开始下载。")
    assert axe_violations(page) == []


def test_a_large_queue_shows_progress_then_its_link(
    phone_page: Page, live_server: Any, org: Demo, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stats.tasks import build_export_task

    # given a threshold below the queue's size, and a task queue the test works itself
    settings.QUEUE_EXPORT_SYNC_MAX_ROWS = 1
    sent: list[int] = []
    monkeypatch.setattr(build_export_task, "apply_async", lambda args, **kw: sent.append(args[0]))
    # two water outages: city matters, so both wait in the city dispatcher's 待派单 (分级派单)
    outage = org.category("water-outage")
    codes = {new_case(org, Status.ACCEPTED, category=outage).tracking_code for _ in range(2)}
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
    with page.expect_download(timeout=PATIENCE_MS) as built:
        link.click()
    assert built.value.suggested_filename.endswith(".csv")
    body = link_bytes(page, built.value)
    assert {row[0] for row in csv_rows(body)[1:]} == codes
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
