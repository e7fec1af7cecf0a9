"""The resident submit page in a real browser never offers the demo's 应急演练 drill."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cases.models import Category
from demo.organisation import seed_organisation
from demo.reference import seed_reference
from tests.conftest import Demo
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module", autouse=True)
def reseed_after_module(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Transactional tests empty the database; put the demo organisation back afterwards."""
    yield
    with django_db_blocker.unblock():
        seed_organisation()
        seed_reference()


def test_the_submit_page_lists_no_drill(phone_page: Any, live_server: Any, seeded: Demo) -> None:
    page = phone_page
    assert Category.objects.filter(code="drill", is_active=True).exists()

    page.goto(live_server.url + "/submit/")
    page.wait_for_selector("#category-list[aria-busy=false]")
    listed = page.locator(".xn-category-option").all_inner_texts()
    assert any("供暖不热" in name for name in listed)
    assert not any("应急演练" in name for name in listed), listed

    # Searching for it finds nothing, and says so.
    page.get_by_role("searchbox", name="诉求分类").fill("演练")
    assert page.locator(".xn-category-option:not([hidden])").count() == 0
    screenshot(page, "resident-submit-no-drill-360")
