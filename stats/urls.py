"""Page routes of 报: the committee's overview, the 未诉先办 candidates, the case map and a
bulletin."""

from django.urls import path

from . import pages

urlpatterns = [
    path("dashboard/", pages.OverviewPage.as_view(), name="dashboard"),
    path("dashboard/candidates/", pages.CandidatesPage.as_view(), name="dashboard-candidates"),
    path("dashboard/map/", pages.MapPage.as_view(), name="dashboard-map"),
    path("dashboard/bulletins/<int:pk>/", pages.BulletinPage.as_view(), name="dashboard-bulletin"),
]
