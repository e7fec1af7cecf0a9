"""Read queries of 报 that are scoped to the user (the dashboards scope theirs in
``stats.dashboards``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from org import jurisdiction
from org.models import Role
from topics.selectors import sees_all

from .models import Bulletin, BulletinStatus


def visible_bulletins(user: Any) -> QuerySet[Bulletin]:
    """Published bulletins for every staff member; drafts only for the committee and admins."""
    if not user.is_authenticated:
        return Bulletin.objects.none()
    if jurisdiction.has_role(user, Role.COMMITTEE, Role.ADMIN):
        return Bulletin.objects.all()
    if sees_all(user) or jurisdiction.unit_ids(user):
        return Bulletin.objects.filter(status=BulletinStatus.PUBLISHED)
    return Bulletin.objects.none()
