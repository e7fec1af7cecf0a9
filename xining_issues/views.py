"""Project-level pages: the home page and the health check."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from org import jurisdiction
from org.models import Role, ServiceHeartbeat


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "home.html",
        {"roles": sorted(Role(role).label for role in jurisdiction.roles_of(request.user))},
    )


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the load balancer and docker compose: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    now = timezone.now()
    heartbeats = {
        hb.name: round((now - hb.beat_at).total_seconds()) for hb in ServiceHeartbeat.objects.all()
    }
    return JsonResponse({"status": "ok", "heartbeat_age_seconds": heartbeats})
