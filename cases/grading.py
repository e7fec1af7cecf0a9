"""分级派单 (graded dispatch): the duty level chosen at 受理 decides whose dispatchers dispatch.

A matter is dispatched by the level above the one that handles it, except at the top:

=================  ==========================
duty level (办理层级)  dispatched by (派单层级)
=================  ==========================
社区/村              the street's (街道/乡镇) dispatchers
街道/乡镇            the district's dispatchers
区/县                the district's dispatchers
市                   the city's dispatchers
=================  ==========================

A city rolls street dispatchers out one street at a time, so a level with nobody to dispatch
does not strand a case: it goes to the nearest level above that has an active dispatcher, and
to the district when no level has one (where every case went before graded dispatch). The
upper levels keep their right to act on a case below them (``jurisdiction.may_act`` covers a
region's subtree: a district dispatcher may still step in), but their 待派单 queue shows only
the cases dispatched at their own level (``selectors.queue_filters``).

When the operator does not choose a level, the 权责清单 does: the level of the first rule that
names a unit for the case (``services.suggest_lead_units``), else the district.
"""

from __future__ import annotations

from org.models import Membership, Region, RegionLevel, Role

from .models import Case
from .services import suggest_lead_units

L = RegionLevel
DISPATCHED_BY: dict[int, int] = {
    L.COMMUNITY: L.STREET,
    L.STREET: L.DISTRICT,
    L.DISTRICT: L.DISTRICT,
    L.CITY: L.CITY,
}


def dispatch_region_id(region: Region, duty_level: int) -> int:
    """The region whose dispatchers dispatch a case of ``region`` handled at ``duty_level``:
    the table's level, or the nearest level above it with an active dispatcher (one query)."""
    ancestors = region.ancestor_ids  # the city first, the case's community last
    wanted = DISPATCHED_BY[duty_level]
    candidates = list(reversed(ancestors[:wanted]))  # that level's region, then up to the city
    staffed = set(
        Membership.objects.filter(
            role=Role.DISPATCHER,
            unit__region_id__in=candidates,
            unit__is_active=True,
            user__is_active=True,
        ).values_list("unit__region_id", flat=True)
    )
    for region_id in candidates:
        if region_id in staffed:
            return region_id
    return ancestors[L.DISTRICT - 1]


def suggested_duty_level(case: Case) -> int:
    """The 权责清单's level for this case: that of the first rule naming a unit, else 区/县."""
    suggestions = suggest_lead_units(case)
    return suggestions[0].level if suggestions else L.DISTRICT
