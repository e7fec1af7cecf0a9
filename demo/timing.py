"""Timing one API view in this process, for the benchmark commands that read figures of the
query work alone (``bench_stats``, ``bench_case_map``); ``demo.measure`` times whole HTTP
round trips through gunicorn instead."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

from django.test import RequestFactory
from rest_framework.response import Response
from rest_framework.test import force_authenticate


def time_view(
    view: Callable[..., Any], user: Any, params: Mapping[str, Any], *, calls: int
) -> tuple[list[float], Response]:
    """Call ``view`` (an ``as_view()``) ``calls`` times as ``user`` with GET ``params``,
    rendering each answer, each of which must be 200; returns the seconds each call took and
    the last answer."""
    factory = RequestFactory()
    timings = []
    response: Response | None = None
    for _ in range(calls):
        request = factory.get("/", params)
        force_authenticate(request, user=user)
        started = time.perf_counter()
        response = view(request)
        response.render()
        timings.append(time.perf_counter() - started)
        if response.status_code != 200:  # a refusal is fast, and no figure
            raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")
    if response is None:
        raise ValueError("calls must be at least 1")
    return timings, response


def median_and_slowest(timings: list[float]) -> str:
    return f"{1000 * statistics.median(timings):.1f} ms / {1000 * max(timings):.1f} ms"
