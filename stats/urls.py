"""Page routes of 报: the committee's overview, the 未诉先办 candidates, the case map and a
bulletin, the 日报/周报."""

from django.urls import path

from . import pages, report_pages

urlpatterns = [
    path("dashboard/", pages.OverviewPage.as_view(), name="dashboard"),
    path("dashboard/candidates/", pages.CandidatesPage.as_view(), name="dashboard-candidates"),
    path("dashboard/map/", pages.MapPage.as_view(), name="dashboard-map"),
    path("dashboard/bulletins/<int:pk>/", pages.BulletinPage.as_view(), name="dashboard-bulletin"),
    path("dashboard/reports/", report_pages.ReportListPage.as_view(), name="dashboard-reports"),
    path(
        "dashboard/reports/<int:pk>/", report_pages.ReportPage.as_view(), name="dashboard-report"
    ),
]
