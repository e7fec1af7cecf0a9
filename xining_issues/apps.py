"""The shell as an app: what belongs to the whole project rather than to one room.

Listed last in ``INSTALLED_APPS``, like ``urls.py`` it is the one place that may see every app.
It registers the project's beat schedule (``xining_issues.schedule``), which names tasks of
every app and so cannot belong to the ground floor (``org``) or any other single app.
"""

from __future__ import annotations

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ShellConfig(AppConfig):
    name = "xining_issues"
    label = "xining_issues"
    verbose_name = _("西宁有诉必应")

    def ready(self) -> None:
        from .schedule import sync_beat_schedule

        # Django sends post_migrate only for apps with models, which the shell has none of:
        # sync after django_celery_beat's, the app whose tables the schedule is written to.
        post_migrate.connect(
            sync_beat_schedule,
            sender=apps.get_app_config("django_celery_beat"),
            dispatch_uid="sync_beat_schedule",
        )
