"""/healthz reports the database, the cache, the broker and the worker one by one.

503 when nothing could be saved (database) or queued (broker); 200 "degraded" when only the
cache (limits count per process) or the worker (reminders wait) is down; 200 "ok" otherwise.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import Client, override_settings
from django.utils import timezone

from org.models import ServiceHeartbeat
from xining_issues.cache import cache_settings
from xining_issues.celery import app

# Nothing listens on port 1: connections are refused at once, as with Redis stopped.
CLOSED = "redis://127.0.0.1:1/0"


def reset_producers() -> None:
    # What Celery does after a fork: the next connection is made from the configuration as is.
    app._pool = None
    with contextlib.suppress(AttributeError, KeyError):
        app.__dict__["amqp"]._producer_pool = None


@contextlib.contextmanager
def broker_down() -> Iterator[None]:
    """The broker at a closed port. ``CELERY_BROKER_WRITE_URL`` in the environment wins over
    the settings (CI sets ``CELERY_BROKER_URL`` there), so that is what is changed."""
    reset_producers()
    try:
        with (
            mock.patch.dict(os.environ, {"CELERY_BROKER_WRITE_URL": CLOSED}),
            override_settings(CELERY_BROKER_URL=CLOSED),
        ):
            assert app.conf.broker_write_url == CLOSED
            yield
    finally:
        reset_producers()


@contextlib.contextmanager
def cache_down() -> Iterator[None]:
    with override_settings(CACHES={"default": cache_settings(url=CLOSED)}):
        yield


def health() -> tuple[int, dict[str, Any]]:
    response = Client().get("/healthz")
    return response.status_code, response.json()


def test_all_up_is_ok(db: None) -> None:
    ServiceHeartbeat.objects.create(name="worker", beat_at=timezone.now())
    status, body = health()
    assert status == 200
    assert body["status"] == "ok"
    checks = body["checks"]
    assert {name: check["ok"] for name, check in checks.items()} == {
        "database": True,
        "cache": True,
        "broker": True,
        "worker": True,
    }
    assert checks["worker"]["age_seconds"] < 5


def test_a_worker_never_seen_is_unknown_not_broken(db: None) -> None:
    status, body = health()
    assert status == 200 and body["status"] == "ok"
    assert body["checks"]["worker"] == {"ok": None, "age_seconds": None}


def test_a_stopped_worker_degrades(db: None) -> None:
    ServiceHeartbeat.objects.create(
        name="worker", beat_at=timezone.now() - dt.timedelta(minutes=10)
    )
    status, body = health()
    assert status == 200
    assert body["status"] == "degraded"
    assert body["checks"]["worker"]["ok"] is False
    assert body["heartbeat_age_seconds"]["worker"] >= 600


def test_a_broker_that_is_down_is_a_503(db: None) -> None:
    with broker_down():
        status, body = health()
    assert status == 503
    assert body["status"] == "down"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_a_cache_that_is_down_degrades_but_answers_200(db: None) -> None:
    with cache_down():
        status, body = health()
    assert status == 200
    assert body["status"] == "degraded"
    assert body["checks"]["cache"] == {"ok": False, "backend": "redis"}


def test_a_database_that_is_down_is_a_503(db: None) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    with mock.patch.object(connection, "cursor", refuse):
        status, body = health()
    assert status == 503
    assert body["status"] == "down"
    assert body["checks"]["database"] == {"ok": False}
    assert body["heartbeat_age_seconds"] == {}


@pytest.mark.redis
def test_a_live_redis_cache_is_ok(db: None) -> None:
    from django.conf import settings

    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs a live Redis (CELERY_BROKER_URL=redis://…)")
    with override_settings(CACHES={"default": cache_settings(url=settings.CELERY_BROKER_URL)}):
        status, body = health()
    assert status == 200
    assert body["checks"]["cache"] == {"ok": True, "backend": "redis"}
