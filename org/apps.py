from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "org"
    verbose_name = _("组织与权限")

    def ready(self) -> None:
        from xining_issues.schedule import sync_beat_schedule

        post_migrate.connect(sync_beat_schedule, sender=self, dispatch_uid="sync_beat_schedule")
