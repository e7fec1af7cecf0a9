"""Page routes of the 每月一题 half: the topic board, the plan and a topic's page (the overview,
candidates and bulletin pages are ``stats.urls``)."""

from django.urls import path

from . import pages

urlpatterns = [
    path("dashboard/topics/", pages.TopicBoardPage.as_view(), name="dashboard-topics"),
    path("dashboard/topics/<int:pk>/", pages.TopicPage.as_view(), name="dashboard-topic"),
    path("dashboard/plan/", pages.PlanPage.as_view(), name="dashboard-plan"),
]
