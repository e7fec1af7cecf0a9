from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import (
    MeView,
    RegionClassViewSet,
    RegionViewSet,
    RegisterView,
    TokenView,
    UnitViewSet,
)

# SimpleRouter: no browsable API root and no format-suffix routes (``events.json``), whose
# ``format`` argument the actions do not take; the API speaks JSON only.
router = SimpleRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("region-classes", RegionClassViewSet, basename="region-class")
router.register("units", UnitViewSet, basename="unit")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("auth/register/", RegisterView.as_view(), name="api-register"),
    path("me/", MeView.as_view(), name="api-me"),
    *router.urls,
]
