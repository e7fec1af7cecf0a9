"""Every page under the Content-Security-Policy, in a real browser: nothing it loads or runs is
refused. A refused script would leave a page dead without a server error, so this watches the
browser's own ``securitypolicyviolation`` events and its console."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cases.models import Case
from tests.e2e.conftest import PATIENCE_MS, sign_in
from tests.e2e.test_screenshots import PAGES, sample_case, topic_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["sample_case", "topic_pages"]  # fixtures shared with the screenshot test

# Added before any page script runs (the debugger protocol, so the CSP does not apply to it).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__csp.push(`${event.violatedDirective} ${event.blockedURI} ${where}`);
});
"""


def test_no_page_breaks_its_content_security_policy(
    browser: Any,
    live_server: Any,
    sample_case: Case,
    topic_pages: dict[str, int],
    watch_requests: Callable[[Any], list[str]],
) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(PATIENCE_MS)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    foreign = watch_requests(page)
    console: list[str] = []
    current = {"name": ""}

    def on_console(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            console.append(f"{current['name']}: {message.text}")

    page.on("console", on_console)
    violations: list[str] = []
    signed_in: str | None = None
    try:
        for name, username, path in PAGES:
            if username != signed_in:
                context.clear_cookies()
                if username:
                    sign_in(page, live_server.url, username)
                signed_in = username
            current["name"] = name
            url = path.format(case=sample_case.pk, code=sample_case.tracking_code, **topic_pages)
            response = page.goto(live_server.url + url)
            assert response is not None and response.status == 200, (name, response)
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.wait_for_load_state("networkidle")
            if name == "dashboard":
                # A chart's tooltip is HTML that ECharts writes: hover to draw one.
                chart = page.locator("canvas").first
                box = chart.bounding_box()
                assert box is not None
                page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
                page.mouse.move(box["x"] + box["width"] / 2 + 5, box["y"] + box["height"] / 2)
                # ECharts keeps its tooltip as the last div of the chart's box.
                page.wait_for_function(
                    "() => [...document.querySelectorAll('div')].some((div) =>"
                    " div.style.position === 'absolute' && div.style.zIndex === '9999999'"
                    " && div.style.display !== 'none' && div.textContent.trim())"
                )
            violations += [f"{name}: {v}" for v in page.evaluate("window.__csp")]
    finally:
        context.close()
    assert sorted(set(violations)) == []
    assert sorted(set(console)) == []
    assert foreign == []
