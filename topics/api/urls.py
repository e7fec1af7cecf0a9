"""Routes of the topic API; the project mounts them under ``api/v1/``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import BulletinExportView, BulletinViewSet, TopicViewSet

router = SimpleRouter()
router.register("topics", TopicViewSet, basename="topic")
router.register("bulletins", BulletinViewSet, basename="bulletin")

urlpatterns = [
    path("bulletins/<int:pk>/export.xlsx", BulletinExportView.as_view(), name="bulletin-export"),
    *router.urls,
]
