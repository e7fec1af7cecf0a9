"""URL map: pages, the admin, and the versioned REST API with its OpenAPI schema."""

import base64
import hashlib
import re

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.template import Engine
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views


def _style_hashes(template_name: str) -> list[str]:
    """CSP hashes of the inline <style> blocks of a third-party template we do not render
    ourselves, so that exactly those blocks (and no other inline style) are allowed."""
    source = Engine.get_default().get_template(template_name).source
    blocks = re.findall(r"<style>(.*?)</style>", source, flags=re.DOTALL)
    digests = [
        base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() for block in blocks
    ]
    return [f"'sha256-{digest}'" for digest in digests]


# Swagger UI with its start-up script as a file of its own (script-src 'self' allows no inline
# script), and the one small inline stylesheet of drf-spectacular's page allowed by its hash.
api_docs = csp_update({"style-src": _style_hashes("drf_spectacular/swagger_ui.html")})(
    SpectacularSwaggerSplitView.as_view(url_name="schema")
)

api_v1 = [
    path("", include("org.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("cases.api.urls")),
    # stats first: it serves topics/candidates/, which the topics router would take.
    path("", include("stats.api.urls")),
    path("", include("topics.api.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("open311/v2/", include("cases.open311.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", views.home, name="home"),
    path("", include("notifications.urls")),
    path("", include("cases.urls")),
    path("", include("topics.urls")),
    path("", include("stats.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
