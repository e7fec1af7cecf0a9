from django.urls import path
from rest_framework.routers import SimpleRouter

from .knowledge import KnowledgeViewSet
from .suggest import CategorySuggestView
from .views import (
    CaseViewSet,
    CategoryViewSet,
    PublicRecentView,
    ReplyTemplateViewSet,
    TrackEvaluateView,
    TrackView,
)

# SimpleRouter: no browsable API root and no format-suffix routes (``events.json``), whose
# ``format`` argument the actions do not take; the API speaks JSON only.
router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")
router.register("categories", CategoryViewSet, basename="category")
router.register("reply-templates", ReplyTemplateViewSet, basename="reply-template")
router.register("knowledge", KnowledgeViewSet, basename="knowledge")

urlpatterns = [
    path("track/", TrackView.as_view(), name="track"),
    path("track/evaluate/", TrackEvaluateView.as_view(), name="track-evaluate"),
    path("public/recent/", PublicRecentView.as_view(), name="public-recent"),
    # before the router's categories/{id}/
    path("categories/suggest/", CategorySuggestView.as_view(), name="category-suggest"),
    *router.urls,
]
