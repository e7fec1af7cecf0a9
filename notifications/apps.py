from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("消息")

    def ready(self) -> None:
        # Each app that sends messages keeps its templates in its own ``messages`` module (as
        # the admin finds ``admin`` modules): importing them registers them here, so the inbox
        # and the drain render every kind without this app importing the apps to its right.
        autodiscover_modules("messages")
