"""A case's street and district follow its community.

A case carries its community's street and district (``Case.street``, ``Case.district``): the
queues scope by them (``selectors.case_region_filter``) and the dashboards group by them. When
an administrator moves a community to another street (区划调整), its cases move with it in the
same transaction, so the jurisdiction a case is read in (these columns) and the one its
permissions are checked in (the community's path, ``org.jurisdiction``) stay the same.

The statistics already folded keep the street and district of the day they describe.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from org.models import Region, RegionLevel

from .models import Case


def follow_community(sender: type[Region], instance: Region, **kwargs: Any) -> None:
    """post_save of a region: re-point the cases of a community whose street changed."""
    if instance.level != RegionLevel.COMMUNITY or instance.parent is None:
        return
    street = instance.parent
    district_id = street.parent_id
    if district_id is None:
        return
    Case.objects.filter(region=instance).exclude(
        street_id=street.pk, district_id=district_id
    ).update(street_id=street.pk, district_id=district_id)


def connect() -> None:
    post_save.connect(follow_community, sender=Region, dispatch_uid="cases.follow_community")
