"""Fixtures for the statistics tests: demo cases from ``generate_cases`` and a rollup."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from demo.history import generate_cases
from stats.rollup import refresh_rollup
from tests.cases.conftest import make_case  # noqa: F401 (fixture)
from tests.conftest import Demo
from tests.topics.conftest import lead, make_topic, media_root  # noqa: F401 (fixtures)

TZ = ZoneInfo("Asia/Shanghai")
# In the heating season: the generator spreads the cases over the year before it.
NOW = dt.datetime(2024, 1, 15, 10, 30, tzinfo=TZ)


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=TZ)


def apps_after(app_label: str, migration: str) -> Apps:
    """The models as ``migration`` left them, as its data functions see them: the rollup's
    early migrations name ``cases.CaseDayStat`` …, which ``stats`` holds today."""
    return MigrationLoader(connection).project_state((app_label, migration)).apps


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
