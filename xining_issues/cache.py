"""The rate-limit cache: Redis when it answers, this process's memory when it does not.

Rate limits and guess counters are safety measures, not data: losing them for a few minutes
is better than refusing a resident's complaint because Redis is down. So every call that cannot
reach Redis is served from a local-memory cache instead, and Redis is left alone for
``RETRY_SECONDS`` before it is tried again (one slow connect per process per period, not one per
request). Limits then count per process until Redis is back; login lockouts are unaffected
(they are kept in the database by django-axes).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import environ
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis import exceptions as redis_errors

logger = logging.getLogger(__name__)

# Errors that mean "Redis is not there (or not writable) right now", not "a bug in the call":
# refused, timed out, a replica during fail-over, still loading, out of memory (maxmemory with
# noeviction), or something else answering on its port.
UNAVAILABLE = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.ReadOnlyError,
    redis_errors.BusyLoadingError,
    redis_errors.OutOfMemoryError,
    redis_errors.InvalidResponse,
)
RETRY_SECONDS = 30
# A blackholed Redis must not hold a request for long: rate-limit calls are tiny.
SOCKET_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 1.0}

FAIL_OPEN_BACKEND = "xining_issues.cache.FailOpenRedisCache"


def cache_settings(*, url: str) -> dict[str, Any]:
    """The ``CACHES["default"]`` entry for ``CACHE_URL``: a Redis URL gets the fail-open
    backend with short socket timeouts; anything else (``locmemcache://``) is used as given."""
    config: dict[str, Any] = environ.Env.cache_url_config(url)
    if config["BACKEND"].endswith(".RedisCache"):
        config["BACKEND"] = FAIL_OPEN_BACKEND
        config["OPTIONS"] = {**SOCKET_OPTIONS, **config.get("OPTIONS", {})}
    return config


def _fail_open(method: Callable[..., Any]) -> Callable[..., Any]:
    name = method.__name__

    @functools.wraps(method)
    def call(self: FailOpenRedisCache, *args: Any, **kwargs: Any) -> Any:
        if time.time() < self._redis_down_until:
            return getattr(self._fallback, name)(*args, **kwargs)
        try:
            return method(self, *args, **kwargs)
        except UNAVAILABLE as error:
            self._redis_down_until = time.time() + RETRY_SECONDS
            logger.warning(
                "cache: Redis unavailable (%s); counting in this process for %ss",
                error,
                RETRY_SECONDS,
            )
            return getattr(self._fallback, name)(*args, **kwargs)

    return call


class FailOpenRedisCache(RedisCache):
    """Django's Redis cache whose every call falls back to local memory when Redis is down."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        # One fallback store per Redis location, shared by the threads of this process.
        self._fallback = LocMemCache(
            f"fail-open:{server}",
            {
                "TIMEOUT": params.get("TIMEOUT", 300),
                "KEY_PREFIX": params.get("KEY_PREFIX", ""),
                "VERSION": params.get("VERSION", 1),
            },
        )
        self._redis_down_until = 0.0

    def ping(self) -> bool:
        """Whether Redis itself answers now (for /healthz; the fallback does not count)."""
        try:
            return bool(self._cache.get_client(write=True).ping())
        except UNAVAILABLE:
            return False

    @property
    def degraded(self) -> bool:
        """Whether this process is counting in memory because Redis was down a moment ago."""
        return time.time() < self._redis_down_until

    add = _fail_open(RedisCache.add)
    get = _fail_open(RedisCache.get)
    set = _fail_open(RedisCache.set)
    touch = _fail_open(RedisCache.touch)
    delete = _fail_open(RedisCache.delete)
    get_many = _fail_open(RedisCache.get_many)
    has_key = _fail_open(RedisCache.has_key)
    incr = _fail_open(RedisCache.incr)
    set_many = _fail_open(RedisCache.set_many)
    delete_many = _fail_open(RedisCache.delete_many)
    clear = _fail_open(RedisCache.clear)
