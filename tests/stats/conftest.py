"""Fixtures for the statistics tests: demo cases from ``generate_cases`` and a rollup."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cases.demo_cases import generate_cases
from cases.rollup import refresh_rollup
from tests.conftest import Demo

TZ = ZoneInfo("Asia/Shanghai")
# In the heating season: the generator spreads the cases over the year before it.
NOW = dt.datetime(2024, 1, 15, 10, 30, tzinfo=TZ)


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=TZ)


@pytest.fixture
def superuser(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_superuser("stats_admin", "a@example.invalid", "x")


@pytest.fixture
def data(demo: Demo) -> Demo:
    """The demo organisation and 300 generated cases over the last year, folded in."""
    generate_cases(300, now=timezone.now(), seed=5)
    refresh_rollup()
    return demo


def get(client, user, url: str, **params):  # type: ignore[no-untyped-def]
    client.force_authenticate(user)
    return client.get(url, params)
