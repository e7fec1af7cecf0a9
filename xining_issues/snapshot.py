"""A value every process keeps and reads again now and then (``Fresh``).

For reference data read on every request of a hot path (智能派单 reads the model's version, the
categories and the 权责清单 on every pause in typing) that changes a few times a year: a process
may lag a change by ``ROUTER_CACHE_SECONDS``, and no cache server is asked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.conf import settings

T = TypeVar("T")


class Fresh(Generic[T]):
    """What ``read`` returns, read again at most every ``ROUTER_CACHE_SECONDS`` in each process
    (``forget`` makes the next ``get`` read). ``read`` must not return None."""

    def __init__(self, read: Callable[[], T]) -> None:
        self.read = read
        self.lock = threading.Lock()
        self.value: T | None = None
        self.at: float | None = None

    def get(self) -> T:
        now = time.monotonic()
        at, value = self.at, self.value
        if at is None or now - at >= settings.ROUTER_CACHE_SECONDS or value is None:
            with self.lock:
                value = self.read()
                self.value, self.at = value, now
        return value

    def forget(self) -> None:
        self.at = None
