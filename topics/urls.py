"""Page routes of the 每月一题 half: the committee's dashboards (看板)."""

from django.urls import path

from . import pages

urlpatterns = [
    path("dashboard/", pages.OverviewPage.as_view(), name="dashboard"),
    path("dashboard/topics/", pages.TopicBoardPage.as_view(), name="dashboard-topics"),
    path("dashboard/topics/<int:pk>/", pages.TopicPage.as_view(), name="dashboard-topic"),
    path("dashboard/plan/", pages.PlanPage.as_view(), name="dashboard-plan"),
    path("dashboard/candidates/", pages.CandidatesPage.as_view(), name="dashboard-candidates"),
    path("dashboard/bulletins/<int:pk>/", pages.BulletinPage.as_view(), name="dashboard-bulletin"),
]
