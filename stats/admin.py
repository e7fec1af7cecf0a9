"""Admin of 报: read-mostly. A published bulletin (月通报) is what the units were told: it is
read-only and cannot be deleted. The rollup tables have no admin: they are derived from the
case events (``stats.rollup``) and rebuilt, never edited.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import Bulletin, BulletinStatus


@admin.register(Bulletin)
class BulletinAdmin(admin.ModelAdmin):
    list_display = ["month", "title", "status", "published_at"]
    readonly_fields = ["status", "generated_at", "published_at", "published_by", "data"]

    def has_change_permission(self, request: HttpRequest, obj: Bulletin | None = None) -> bool:
        # Once published, the bulletin is what the units were told: view only, as in the API.
        if obj is not None and obj.status == BulletinStatus.PUBLISHED:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Bulletin | None = None) -> bool:
        if obj is not None and obj.status == BulletinStatus.PUBLISHED:
            return False
        return super().has_delete_permission(request, obj)
