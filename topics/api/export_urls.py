"""Excel exports of the statistics tables; the project mounts them under ``api/v1/``."""

from django.urls import path

from . import export_views

urlpatterns = [
    path("stats/export.xlsx", export_views.StatsExportView.as_view(), name="stats-export"),
    path("stats/exports/", export_views.ExportJobCreateView.as_view(), name="stats-export-jobs"),
    path(
        "stats/exports/<int:pk>/",
        export_views.ExportJobView.as_view(),
        name="stats-export-job",
    ),
    path(
        "stats/exports/<int:pk>/download/",
        export_views.ExportJobDownloadView.as_view(),
        name="stats-export-job-download",
    ),
]
