"""What every template needs to know about the signed-in user's roles (for the navigation)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from org import jurisdiction
from org.models import Role


def roles(request: HttpRequest) -> dict[str, Any]:
    held = jurisdiction.roles_of(request.user)

    def in_topics() -> bool:
        # Staff of a lead or cooperating unit of a 每月一题 topic get the board in the menu;
        # a callable, so the query runs only where the menu asks (for staff, not dashboards).
        from topics.selectors import visible_topics

        return visible_topics(request.user).exists()

    return {
        # 网格员 file and follow their own cases, as residents do: no workbench.
        "is_staff_user": bool(held - jurisdiction.FILER_ROLES),
        "is_grid_inspector": Role.GRID_INSPECTOR in held,
        "is_operator": Role.OPERATOR in held,
        "is_dashboard_user": bool(held & {Role.COMMITTEE, Role.SUPERVISOR, Role.ADMIN}),
        "in_topics": in_topics,
    }
