"""Who may act where (管辖范围): the one place that answers it.

A membership gives a user a role in a unit; the unit's region subtree is where that role
reaches. Every permission check in the workflow and every scoped query in the selectors goes
through these helpers, so the rule is written once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import Q

from .models import Membership, Region, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from .models import User

_CACHE_ATTR = "_org_memberships"


def memberships(user: User | AnonymousUser) -> list[Membership]:
    """The user's memberships with unit and region, loaded once per user object."""
    if not user.is_authenticated:
        return []
    cached: list[Membership] | None = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=user, unit__is_active=True).select_related(
                "unit", "unit__region"
            )
        )
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget(user: User) -> None:
    """Drop the cached memberships (after they change)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def roles_of(user: User | AnonymousUser) -> set[str]:
    """Every role the user holds; a signed-in user with no staff role is a resident."""
    if not user.is_authenticated:
        return set()
    roles = {m.role for m in memberships(user)}
    if user.is_superuser:
        roles.add(Role.ADMIN)
    return roles or {Role.RESIDENT}


# Roles that work no case but their own: residents, and grid inspectors (网格员), who file what
# they find in their community and follow their filings as a complainant does.
FILER_ROLES = frozenset({Role.RESIDENT, Role.GRID_INSPECTOR})


def is_staff(user: User | AnonymousUser) -> bool:
    """Does the user hold a role that works others' cases (the workbench, statistics, reports,
    exports, message preferences)? Residents and grid inspectors do not."""
    return bool(roles_of(user) - FILER_ROLES)


def has_role(user: User | AnonymousUser, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def unit_ids(user: User | AnonymousUser, *roles: str) -> set[int]:
    """Ids of the units where the user holds any of ``roles`` (any role if none given)."""
    return {m.unit_id for m in memberships(user) if not roles or m.role in roles}


def handlers_by_unit(
    unit_ids: Iterable[int], *, leaders_only: bool = False
) -> dict[int, list[User]]:
    """Unit id → its handlers (承办人; only its leaders with ``leaders_only``), in one query,
    in the order they joined: whom a unit's messages go to."""
    memberships = Membership.objects.filter(unit_id__in=list(unit_ids), role=Role.HANDLER)
    if leaders_only:
        memberships = memberships.filter(is_leader=True)
    found: dict[int, list[User]] = {}
    for membership in memberships.select_related("user").order_by("pk"):
        found.setdefault(membership.unit_id, []).append(membership.user)
    return found


def region_roots(user: User | AnonymousUser, *roles: str) -> list[Region]:
    """The root regions of the user's jurisdiction for these roles, nested roots folded away."""
    regions = sorted(
        {m.unit.region.path: m.unit.region for m in memberships(user) if m.role in roles}.items()
    )
    roots: list[Region] = []
    for path, region in regions:
        if not any(path.startswith(root.path) for root in roots):
            roots.append(region)
    return roots


def region_paths(user: User | AnonymousUser, *roles: str) -> list[str]:
    """The roots of the user's jurisdiction for these roles, with nested roots folded away."""
    return [region.path for region in region_roots(user, *roles)]


def may_act(user: User | AnonymousUser, region: Region, role: str) -> bool:
    """May ``user`` act on ``region`` as ``role``? The one answer to the jurisdiction question.

    True when the user holds ``role`` in a unit whose region is ``region`` or one of its
    ancestors. An administrator (superuser or admin role) may act as admin everywhere.
    """
    if not user.is_authenticated:
        return False
    if role == Role.ADMIN and user.is_superuser:
        return True
    return any(region.path.startswith(root) for root in region_paths(user, role))


def region_filter(user: User | AnonymousUser, roles: Iterable[str], field: str = "region") -> Q:
    """A Q that keeps rows whose ``field`` (a Region foreign key) lies in the jurisdiction.

    It matches nothing when the user holds none of ``roles``; pass the result to ``filter``.
    """
    roots = region_paths(user, *roles)
    if not roots:
        return Q(pk__in=[])
    condition = Q()
    for root in roots:
        condition |= Q(**{f"{field}__path__startswith": root})
    return condition
