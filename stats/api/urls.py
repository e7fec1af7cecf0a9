"""Routes of the 报 API (statistics, topic candidates, Excel exports, bulletins); the project
mounts them under ``api/v1/`` before the topics router, so that ``topics/candidates/`` is not
taken for a topic id."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from . import effect, exports, rates, views
from .bulletins import BulletinExportView, BulletinViewSet
from .map import CaseMapView
from .reports import ReportExportView, ReportViewSet

router = SimpleRouter()
router.register("bulletins", BulletinViewSet, basename="bulletin")
router.register("stats/reports", ReportViewSet, basename="case-report")

urlpatterns = [
    path("stats/rates/", rates.RatesView.as_view(), name="stats-rates"),
    path("stats/overview/", views.OverviewView.as_view(), name="stats-overview"),
    path("stats/trend/", views.TrendView.as_view(), name="stats-trend"),
    path("stats/rankings/", views.RankingsView.as_view(), name="stats-rankings"),
    path("stats/knowledge/", views.KnowledgeUsageView.as_view(), name="stats-knowledge"),
    path("stats/first-call/", views.FirstCallView.as_view(), name="stats-first-call"),
    path("stats/case-map/", CaseMapView.as_view(), name="stats-case-map"),
    path(
        "topics/candidates/",
        views.TopicCandidatesView.as_view(),
        name="topics-candidates",
    ),
    path("topics/<int:pk>/effect/", effect.TopicEffectView.as_view(), name="topic-effect"),
    path(
        "topics/candidates/adopt/",
        views.TopicCandidateAdoptView.as_view(),
        name="topics-candidates-adopt",
    ),
    # Excel exports of the dashboard tables: at once, or queued as a background job.
    path("stats/export.xlsx", exports.StatsExportView.as_view(), name="stats-export"),
    path("stats/exports/", exports.ExportJobCreateView.as_view(), name="stats-export-jobs"),
    path(
        "stats/exports/<int:pk>/",
        exports.ExportJobView.as_view(),
        name="stats-export-job",
    ),
    path(
        "stats/exports/<int:pk>/download/",
        exports.ExportJobDownloadView.as_view(),
        name="stats-export-job-download",
    ),
    # A workbench queue with its filters, as Excel or CSV (at once, or as a background job).
    re_path(
        r"^stats/queue-export\.(?P<file_type>csv|xlsx)$",
        exports.QueueExportView.as_view(),
        name="stats-queue-export",
    ),
    path("bulletins/<int:pk>/export.xlsx", BulletinExportView.as_view(), name="bulletin-export"),
    path(
        "stats/reports/<int:pk>/export.xlsx",
        ReportExportView.as_view(),
        name="case-report-export",
    ),
    *router.urls,
]
