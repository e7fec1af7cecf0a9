"""Fixtures for the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.utils import translation
from rest_framework.test import APIClient

from cases.models import Category
from demo.organisation import seed_organisation
from demo.reference import seed_reference
from org.models import Region, Unit, User


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` run only where the database is PostgreSQL (CI)."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing() -> Iterator[None]:
    """PBKDF2 is slow on purpose; the suite hashes many demo passwords."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session", autouse=True)
def router_reads_every_time() -> Iterator[None]:
    """智能派单's process-wide snapshots (model version, categories, 权责清单) are re-read on
    every suggestion in tests, which change them within a second; ``test_router`` tries the
    snapshot window itself."""
    with override_settings(ROUTER_CACHE_SECONDS=0):
        yield


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    """Every test starts with an empty cache. Rate limits and the per-code guess counts live there
    and outlive a test, and tests reuse tracking codes (each day's sequence starts at 0001): one
    test's wrong guesses would otherwise lock the next test's case."""
    cache.clear()


@pytest.fixture(autouse=True)
def site_language() -> Iterator[None]:
    """Every test starts in the site's language. Django's LocaleMiddleware activates the
    request's language in the thread and never deactivates it, so a test that requested a page
    in English left English active for whatever ran next in that worker (a message rendered
    "in the active language" then came out in English, depending on the order of tests)."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def django_db_setup(
    fast_password_hashing: None, django_db_setup: None, django_db_blocker: Any
) -> None:
    """Every test database starts with the demo organisation (regions, units, accounts) and the
    demo categories and responsibilities."""
    with django_db_blocker.unblock():
        seed_organisation()
        seed_reference()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@dataclass
class Demo:
    """The seeded demo organisation, looked up by name."""

    def region(self, *names: str) -> Region:
        """A region by its names from the district down: region('城东区', '大众街街道')."""
        region = Region.objects.get(parent=None)
        for name in names:
            region = Region.objects.get(parent=region, name=name)
        return region

    def user(self, username: str) -> User:
        return User.objects.get(username=username)

    def unit(self, code: str) -> Unit:
        return Unit.objects.get(code=code)

    def category(self, code: str) -> Category:
        return Category.objects.get(code=code)


@pytest.fixture
def demo(db: None) -> Demo:
    return Demo()


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"
