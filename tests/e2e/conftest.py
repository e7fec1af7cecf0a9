"""Browser fixtures: Debian's headless Chromium driven by Playwright (no browser download).

Every page a test opens is watched: a request to any host but the live server fails the test,
so no CDN or tracker can slip into a template.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache

from demo.organisation import seed_organisation
from demo.reference import seed_reference
from tests.conftest import Demo
from topics.models import TopicTask

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# A loaded CI machine (two cores, parallel workers) can take seconds to answer a fetch: wait up to
# 15 s for what a page shows before calling it wrong (Playwright's default is 5 s).
PATIENCE_MS = 15_000
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run where a
# loop is running unless told this is deliberate (the live server runs in its own thread).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=PATIENCE_MS)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def watch_requests(live_server):  # type: ignore[no-untyped-def]
    """watch_requests(page) → a list that fills with every request to a host but the server."""

    def watch(page):  # type: ignore[no-untyped-def]
        return _watch(page, live_server)

    return watch


def _watch(page, live_server) -> list[str]:  # type: ignore[no-untyped-def]
    allowed = urlsplit(live_server.url).netloc
    foreign: list[str] = []

    def on_request(request) -> None:  # type: ignore[no-untyped-def]
        parts = urlsplit(request.url)
        if parts.scheme in {"http", "https", "ws", "wss"} and parts.netloc != allowed:
            foreign.append(request.url)

    page.on("request", on_request)
    return foreign


@pytest.fixture
def seeded(django_db_setup: None) -> Demo:
    """Transactional tests start from an emptied database: seed the demo organisation again."""
    seed_organisation()
    seed_reference()
    return Demo()


@pytest.fixture
def org(django_db_setup: None, settings: Any, tmp_path: Any) -> Iterator[Demo]:
    """Transactional tests start from an emptied database: seed the organisation again, and keep
    uploads out of the project's media folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()
    seed_organisation()
    seed_reference()
    yield Demo()
    cache.clear()


def _watched_page(browser, live_server, **context_options) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A page in a fresh zh-CN context; fails the test if any request leaves the live server."""
    context = browser.new_context(locale="zh-CN", **context_options)
    context.set_default_timeout(PATIENCE_MS)
    page = context.new_page()
    foreign = _watch(page, live_server)
    yield page
    context.close()
    assert foreign == [], f"requests to other hosts: {foreign}"


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A desktop page (1280 × 800)."""
    yield from _watched_page(browser, live_server, viewport={"width": 1280, "height": 800})


@pytest.fixture
def phone_page(browser, live_server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A 360-px wide phone screen with touch."""
    yield from _watched_page(
        browser,
        live_server,
        viewport={"width": 360, "height": 740},
        has_touch=True,
        is_mobile=True,
    )


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


# Finish (not await) every finite animation: after a download headless Chromium may stop
# producing frames, its transitions freeze half-way and awaiting their end hung the suite
# (the queue export's test, e47162c). finish() jumps to the end state at once and cannot wait.
SETTLED = """() => {
  for (const a of document.getAnimations()) {
    if (a.effect && a.effect.getComputedTiming().endTime !== Infinity) {
      try { a.finish(); } catch (error) { /* a paused zero-rate animation: leave it */ }
    }
  }
}"""


def axe_violations(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:  # type: ignore[no-untyped-def]
    """Run axe-core (from npm, injected from node_modules) on the current page; return the
    violations of the given impacts, each with its id, help text and the offending targets."""
    # Evaluated rather than added as a <script> tag: the CSP (script-src 'self') refuses an
    # inline script element, while code Playwright evaluates runs outside the page's policy.
    # A control just clicked is still under the pointer: its :hover colours fade in over
    # Bootstrap's 0.15 s transition, and axe reading a colour half-way reports a contrast no
    # one sees (seen in CI). Bring every finite animation and transition to its end first.
    page.evaluate(SETTLED)
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def sign_in(page, base_url: str, username: str, password: str = "demo12345") -> None:  # type: ignore[no-untyped-def]
    """Sign in through the login page, as a person would."""
    page.goto(base_url + "/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state("networkidle")


OVERDUE_TASK = "补录遗留问题台账（逾期演示）"


def demo_topics_with_a_late_task() -> TopicTask:
    """The demo topics (``seed_topics``) and one overdue task on the property-certificate
    topic, added by its lead unit: the red bar of the plan and the task a supervisor chases."""
    from demo.topics import PROPERTY_TITLE, seed_topics
    from org.models import Unit, User
    from topics import workflow
    from topics.models import Topic

    seed_topics()
    return workflow.task_add(
        topic=Topic.objects.get(title=PROPERTY_TITLE),
        actor=User.objects.get(username="handler_planning"),
        title=OVERDUE_TASK,
        owner_unit=Unit.objects.get(code="xn-planning"),
        start_date=dt.date(2023, 10, 9),
        deadline=dt.date(2023, 11, 10),
        position=9,
    )
