"""Every page at 360 px and 1280 px, in Chinese and English, as PNG files in var/screenshots/.

``make screenshots`` runs only this file; ``make test`` runs it too, so a page that fails to
render, shows a server error or logs a script error fails the suite. Look at the pictures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cases import workflow
from cases.models import Case
from tests.e2e.conftest import PATIENCE_MS, screenshot, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.screenshots,
    pytest.mark.django_db(transaction=True),
]

WIDTHS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}
# (name, who signs in or None, path; "{case}" and "{code}" are filled in)
PAGES: list[tuple[str, str | None, str]] = [
    ("home", None, "/"),
    ("login", None, "/accounts/login/"),
    ("register", None, "/accounts/register/"),
    ("submit", None, "/submit/"),
    ("submit-done", None, "/submit/done/?code={code}"),
    ("track", None, "/track/?code={code}"),
    ("my-cases", "resident1", "/my/"),
    ("workbench", "dispatcher_huangzhong", "/workbench/"),
    ("case", "dispatcher_huangzhong", "/workbench/cases/{case}/"),
    ("quick-entry", "operator1", "/workbench/quick/"),
    ("inbox", "handler_huangzhong", "/workbench/inbox/"),
    ("api-docs", None, "/api/docs/"),
    ("dashboard", "committee1", "/dashboard/"),
    ("dashboard-topics", "committee1", "/dashboard/topics/"),
    ("dashboard-topic", "committee1", "/dashboard/topics/{topic}/"),
    ("dashboard-plan", "committee1", "/dashboard/plan/?year=2023"),
    ("dashboard-candidates", "committee1", "/dashboard/candidates/"),
    ("dashboard-bulletin", "committee1", "/dashboard/bulletins/{bulletin}/"),
    ("topic-lead", "handler_planning", "/dashboard/topics/{topic}/"),
]


@pytest.fixture
def sample_case(seeded: Any) -> Case:
    demo = seeded
    case = workflow.case_submit(
        actor=demo.user("resident1"),
        category=demo.category("heating-cold"),
        region=demo.region("湟中区", "多巴镇", "多巴一村"),
        description="家里暖气不热，附近管道破损。",
        complainant_name="赵先生",
        complainant_phone="13909712345",
        address="新村巷38号",
    )
    workflow.case_accept(case=case, actor=demo.user("operator1"))
    return case


@pytest.fixture
def topic_pages(seeded: Any) -> dict[str, int]:
    """The demo topics and a bulletin, for the dashboards' pages."""
    import datetime as dt

    from demo.topics import PROPERTY_TITLE, seed_topics
    from stats.bulletins import bulletin_generate
    from topics.models import Topic

    seed_topics()
    return {
        "topic": Topic.objects.get(title=PROPERTY_TITLE).pk,
        "bulletin": bulletin_generate(dt.date(2023, 11, 1)).pk,
    }


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_renders(
    browser: Any,
    live_server: Any,
    sample_case: Case,
    topic_pages: dict[str, int],
    language: str,
    width: str,
    watch_requests: Callable[[Any], list[str]],
) -> None:
    context = browser.new_context(
        locale="zh-CN" if language == "zh-hans" else "en-US", viewport=WIDTHS[width]
    )
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    context.set_default_timeout(PATIENCE_MS)
    page = context.new_page()
    foreign = watch_requests(page)
    errors: list[str] = []
    current = {"name": ""}  # the page being shown, to say which one failed
    page.on("pageerror", lambda error: errors.append(f"{current['name']}: {error} {error.stack}"))
    signed_in: str | None = None
    try:
        for name, username, path in PAGES:
            if username != signed_in:
                page.context.clear_cookies()
                context.add_cookies(
                    [{"name": "django_language", "value": language, "url": live_server.url}]
                )
                if username:
                    sign_in(page, live_server.url, username)
                signed_in = username
            url = path.format(case=sample_case.pk, code=sample_case.tracking_code, **topic_pages)
            current["name"] = name
            response = page.goto(live_server.url + url)
            assert response is not None and response.status == 200, (name, response)
            page.wait_for_load_state("networkidle")
            if name != "api-docs":  # Swagger UI's own page has no language of ours
                assert page.locator("html").get_attribute("lang") == language, name
            screenshot(page, f"{name}-{language}-{width}")
            # nothing sticks out sideways: the page scrolls only down (wide tables and the
            # Gantt chart scroll inside their own box); on failure, name what sticks out
            wide = page.evaluate(
                """() => document.documentElement.scrollWidth <= innerWidth + 1 ? [] :
                  [...document.querySelectorAll("body *")]
                  .filter((n) => n.getBoundingClientRect().right > innerWidth + 1)
                  .map((n) => `${n.tagName}#${n.id}.${n.className}`).slice(0, 8)"""
            )
            assert wide == [], (name, wide)
    finally:
        context.close()
    assert errors == []
    assert foreign == []
