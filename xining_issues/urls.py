"""URL map: pages, the admin, and the versioned REST API with its OpenAPI schema."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views

api_v1 = [
    path("", include("org.api.urls")),
    path("", include("cases.api.urls")),
    # stats_urls first: it serves topics/candidates/, which the topics router would take.
    path("", include("topics.api.stats_urls")),
    path("", include("topics.api.urls")),
    path("", include("topics.api.export_urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", views.home, name="home"),
    path("", include("cases.urls")),
    path("", include("topics.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
