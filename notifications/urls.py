from django.urls import path

from .pages import PreferencesPage

urlpatterns = [
    path(
        "notifications/preferences/",
        PreferencesPage.as_view(),
        name="notification-preferences",
    ),
]
