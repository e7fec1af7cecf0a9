"""Project-level pages: the home page and the health check."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cases.pages import RATING_TEXTS, Page
from org import jurisdiction
from org.models import Role, ServiceHeartbeat
from xining_issues import db_router
from xining_issues.cache import FailOpenRedisCache
from xining_issues.celery import app as celery_app

logger = logging.getLogger(__name__)

# The worker runs its heartbeat task every minute; three missed beats mean it is not working.
WORKER_STALE_SECONDS = 180
# A health check must answer while the load balancer still waits: no broker retries, 1 s.
BROKER_TIMEOUT_SECONDS = 1


class HomePage(Page):
    """The front door: what the service is, the two ways in, and recent public results."""

    template_name = "home.html"
    texts = {
        "recent_empty": _("近期还没有公开的办理结果。"),
        "recent_error": _("近期办理结果暂时无法加载，请稍后刷新。"),
        "replied_on": _("答复于 %(date)s"),
        "reply": _("办理结果："),
        **RATING_TEXTS,
    }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["roles"] = sorted(
            Role(role).label for role in jurisdiction.roles_of(self.request.user)
        )
        return context


home = HomePage.as_view()


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        logger.warning("healthz: database unavailable: %s", error)
        return {"ok": False}
    return {"ok": True}


def _cache() -> dict[str, Any]:
    """Whether the rate-limit cache itself answers. When Redis is down the limits count per
    process (``xining_issues.cache``), so this degrades the service but does not stop it."""
    backend = caches["default"]
    if isinstance(backend, FailOpenRedisCache):
        return {"ok": backend.ping(), "backend": "redis"}
    try:
        backend.set("healthz", "ok", timeout=5)
        ok = backend.get("healthz") == "ok"
    except Exception as error:  # any backend's failure is "not ok", never a 500
        logger.warning("healthz: cache unavailable: %s", error)
        ok = False
    return {"ok": ok, "backend": type(backend).__name__}


def _broker() -> dict[str, Any]:
    """Whether a task could be queued now: one connection attempt, no retries."""
    try:
        with celery_app.connection_for_write(connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)
    except Exception as error:  # kombu raises whatever its transport raises
        logger.warning("healthz: broker unavailable: %s", error)
        return {"ok": False}
    return {"ok": True}


def _replica() -> dict[str, Any] | None:
    """The read replica, checked now: reachable, and how far behind. None without a replica.
    Down or lagging only degrades the service: the dashboards then read from the primary."""
    try:
        health = db_router.replica_health(refresh=True)
    except Exception as error:  # a check must never turn the health page into a 500
        logger.warning("healthz: replica check failed: %s", error)
        return {"ok": False, "lag_seconds": None, "max_lag_seconds": db_router.max_lag()}
    return None if health is None else health.as_check()


def _worker(heartbeats: dict[str, int]) -> dict[str, Any]:
    age = heartbeats.get("worker")
    # No heartbeat yet (a fresh install, the first minute) is unknown, not broken.
    return {"ok": None if age is None else age < WORKER_STALE_SECONDS, "age_seconds": age}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Health for the load balancer, docker compose and operators, part by part.

    503 when the database or the broker is down (nothing can be saved, or nothing queued);
    200 with ``"status": "degraded"`` when only the cache (limits count per process), the
    worker (reminders wait in the outbox) or the read replica (reads use the primary) is down
    or, for the replica, too far behind: residents can still file and track. The replica's
    entry is there only when ``DATABASE_REPLICA_URL`` is set.
    """
    database = _database()
    heartbeats: dict[str, int] = {}
    if database["ok"]:
        now = timezone.now()
        heartbeats = {
            hb.name: round((now - hb.beat_at).total_seconds())
            for hb in ServiceHeartbeat.objects.all()
        }
    checks = {
        "database": database,
        "cache": _cache(),
        "broker": _broker(),
        "worker": _worker(heartbeats),
    }
    replica = _replica()
    if replica is not None:
        checks["replica"] = replica
    if not (checks["database"]["ok"] and checks["broker"]["ok"]):
        state, status_code = "down", 503
    elif (
        not checks["cache"]["ok"]
        or checks["worker"]["ok"] is False
        or (replica is not None and not replica["ok"])
    ):
        state, status_code = "degraded", 200
    else:
        state, status_code = "ok", 200
    return JsonResponse(
        {"status": state, "checks": checks, "heartbeat_age_seconds": heartbeats},
        status=status_code,
    )
