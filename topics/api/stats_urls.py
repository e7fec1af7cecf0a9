"""Routes of the statistics API; included under /api/v1/ before the topics router, so that
``topics/candidates/`` is not taken for a topic id."""

from django.urls import path

from . import stats_views

urlpatterns = [
    path("stats/overview/", stats_views.OverviewView.as_view(), name="stats-overview"),
    path("stats/trend/", stats_views.TrendView.as_view(), name="stats-trend"),
    path("stats/rankings/", stats_views.RankingsView.as_view(), name="stats-rankings"),
    path(
        "topics/candidates/",
        stats_views.TopicCandidatesView.as_view(),
        name="topics-candidates",
    ),
    path(
        "topics/candidates/adopt/",
        stats_views.TopicCandidateAdoptView.as_view(),
        name="topics-candidates-adopt",
    ),
]
