"""Routes of the topic API; the project mounts them under ``api/v1/``."""

from rest_framework.routers import SimpleRouter

from .views import TopicViewSet

router = SimpleRouter()
router.register("topics", TopicViewSet, basename="topic")

urlpatterns = router.urls
