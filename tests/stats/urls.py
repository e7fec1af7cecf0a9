"""The project's URLs with the statistics routes wired the way the lead will wire them."""

from django.urls import include, path

from xining_issues.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("api/v1/", include("topics.api.stats_urls")),
    *project_urlpatterns,
]
