"""Project-level pages: the home page and the health check."""

from typing import Any

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cases.pages import RATING_TEXTS, Page
from org import jurisdiction
from org.models import Role, ServiceHeartbeat


class HomePage(Page):
    """The front door: what the service is, the two ways in, and recent public results."""

    template_name = "home.html"
    texts = {
        "recent_empty": _("近期还没有公开的办理结果。"),
        "recent_error": _("近期办理结果暂时无法加载，请稍后刷新。"),
        "replied_on": _("答复于 {date}"),
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
