from rest_framework.routers import SimpleRouter

from .views import NotificationViewSet

# SimpleRouter, as the other apps: no browsable root, no format-suffix routes.
router = SimpleRouter()
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = router.urls
