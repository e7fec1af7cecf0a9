"""With Redis stopped (the rate-limit cache and the Celery broker at a closed port), residents can
still file a complaint, track it, and staff can sign in: limits count per process meanwhile."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.core.cache import caches
from django.test import Client, override_settings
from django.utils import timezone
from redis import exceptions as redis_errors
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient

from cases import workflow
from cases.models import Case
from demo.organisation import DEMO_PASSWORD
from tests.conftest import Demo
from tests.test_health import CLOSED, broker_down
from xining_issues import cache as fail_open
from xining_issues.cache import FailOpenRedisCache, cache_settings


@pytest.fixture
def redis_down() -> Iterator[None]:
    with override_settings(CACHES={"default": cache_settings(url=CLOSED)}), broker_down():
        caches["default"].clear()  # the per-process fallback starts empty
        yield
        caches["default"].clear()


def submission(demo: Demo) -> dict[str, object]:
    return {
        "category": demo.category("noise").pk,
        "region": demo.region("城东区", "大众街街道", "康西社区").pk,
        "description": "楼下商铺夜间噪音扰民，持续到凌晨。",
        "complainant_name": "李女士",
        "complainant_phone": "13812345678",
    }


def a_case(demo: Demo) -> Case:
    return workflow.case_submit(
        actor=None,
        category=demo.category("heating-cold"),
        region=demo.region("湟中区", "多巴镇", "多巴一村"),
        description="家里暖气不热，附近管道破损。",
        complainant_name="赵先生",
        complainant_phone="13897123456",
    )


def test_a_redis_url_gets_the_fail_open_cache() -> None:
    config = cache_settings(url="redis://redis:6379/1")
    assert config["BACKEND"] == "xining_issues.cache.FailOpenRedisCache"
    assert config["LOCATION"] == "redis://redis:6379/1"
    assert config["OPTIONS"]["socket_connect_timeout"] <= 1
    assert cache_settings(url="locmemcache://")["BACKEND"].endswith("LocMemCache")


class TestWithRedisDown:
    def test_anonymous_intake_answers_201_and_the_complaint_is_saved(
        self, demo: Demo, redis_down: None
    ) -> None:
        response = APIClient().post("/api/v1/cases/", submission(demo), format="json")
        assert response.status_code == 201, response.content
        case = Case.objects.get(pk=response.json()["id"])
        assert case.tracking_code == response.json()["tracking_code"]
        assert case.complainant_name == "李女士"

    def test_intake_is_still_limited_in_this_process(self, demo: Demo, redis_down: None) -> None:
        client = APIClient()
        codes = [
            client.post("/api/v1/cases/", submission(demo), format="json").status_code
            for _ in range(11)
        ]
        assert codes == [201] * 10 + [429]

    def test_tracking_answers(self, demo: Demo, redis_down: None) -> None:
        case = a_case(demo)
        response = APIClient().get(
            "/api/v1/track/", {"code": case.tracking_code, "phone_last4": "3456"}
        )
        assert response.status_code == 200
        assert response.json()["tracking_code"] == case.tracking_code
        assert Client().get("/track/").status_code == 200

    def test_wrong_digits_still_lock_the_code(self, demo: Demo, redis_down: None) -> None:
        case = a_case(demo)
        statuses = [
            APIClient()
            .get("/api/v1/track/", {"code": case.tracking_code, "phone_last4": f"000{n}"})
            .status_code
            for n in range(6)
        ]
        assert statuses == [404] * 5 + [429]

    def test_the_token_endpoint_answers(self, demo: Demo, redis_down: None) -> None:
        response = APIClient().post(
            "/api/v1/auth/token/",
            {"username": "dispatcher_city", "password": DEMO_PASSWORD},
            format="json",
        )
        assert response.status_code == 200
        assert response.json()["token"]

    def test_the_login_page_signs_in(self, demo: Demo, redis_down: None) -> None:
        client = Client()
        response = client.post(
            "/accounts/login/", {"username": "dispatcher_city", "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302
        assert "_auth_user_id" in client.session


class TestTheCacheItself:
    """FailOpenRedisCache without a live Redis: the client's calls are made to fail."""

    @pytest.fixture
    def backend(self) -> Iterator[FailOpenRedisCache]:
        backend = FailOpenRedisCache("redis://127.0.0.1:1/0", {"KEY_PREFIX": "t-fail-open"})
        backend._fallback.clear()  # the memory of this process is shared by location
        yield backend
        backend._fallback.clear()

    def test_a_refused_connection_is_served_from_memory(self, backend: FailOpenRedisCache) -> None:
        backend.set("k", 1, timeout=60)
        assert backend.get("k") == 1
        assert backend.incr("k") == 2
        assert backend.degraded
        assert backend.ping() is False

    def test_redis_is_left_alone_for_a_while_then_tried_again(
        self, backend: FailOpenRedisCache
    ) -> None:
        calls: list[str] = []

        def refuse(*args: Any, **kwargs: Any) -> Any:
            calls.append("redis")
            raise RedisConnectionError("refused")

        start = timezone.now()
        with (
            mock.patch("django.core.cache.backends.redis.RedisCacheClient.get", refuse),
            time_machine.travel(start, tick=False) as clock,
        ):
            # Given Redis refused one call
            assert backend.get("k", "fallback") == "fallback"
            assert calls == ["redis"]
            # Then for RETRY_SECONDS no call goes to Redis
            for _ in range(5):
                backend.get("k")
            assert calls == ["redis"]
            # And after that it is tried again
            clock.shift(dt.timedelta(seconds=fail_open.RETRY_SECONDS + 1))
            backend.get("k")
            assert calls == ["redis", "redis"]

    @pytest.mark.parametrize(
        "error",
        [
            redis_errors.OutOfMemoryError(
                "OOM command not allowed when used memory > 'maxmemory'"
            ),
            redis_errors.BusyLoadingError("Redis is loading the dataset in memory"),
            redis_errors.ReadOnlyError("You can't write against a read only replica."),
        ],
        ids=lambda error: type(error).__name__,
    )
    def test_a_redis_that_answers_but_cannot_serve_is_down_too(
        self, backend: FailOpenRedisCache, error: Exception
    ) -> None:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise error

        with mock.patch("django.core.cache.backends.redis.RedisCacheClient.add", fail):
            assert backend.add("k", 1) is True
        assert backend.degraded and backend.get("k") == 1


@pytest.mark.redis
def test_with_redis_up_the_counts_are_shared_between_processes() -> None:
    # Two backends stand for two web processes: what one counts, the other sees.
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs a live Redis (CELERY_BROKER_URL=redis://…)")
    params = {"KEY_PREFIX": f"t-shared-{id(object())}", **cache_settings(url="redis://x/0")}
    params.pop("BACKEND"), params.pop("LOCATION")
    first = FailOpenRedisCache(settings.CELERY_BROKER_URL, params)
    second = FailOpenRedisCache(settings.CELERY_BROKER_URL, params)
    try:
        first.set("count", 1, timeout=30)
        assert second.incr("count") == 2
        assert first.get("count") == 2
        assert first.ping() and not first.degraded
    finally:
        first.delete("count")
