"""Excel exports of the statistics tables; the project mounts them under ``api/v1/``."""

from django.urls import path

from . import export_views

urlpatterns = [
    path("stats/export.xlsx", export_views.StatsExportView.as_view(), name="stats-export"),
]
