"""The project's URLs with the topic API mounted under ``api/v1/`` (as the project wires it)."""

from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("topics.api.urls")),
    path("", include("xining_issues.urls")),
]
