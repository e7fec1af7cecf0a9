"""What every template needs to know about the signed-in user's roles (for the navigation)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from org import jurisdiction
from org.models import Role


def roles(request: HttpRequest) -> dict[str, Any]:
    held = jurisdiction.roles_of(request.user)
    return {
        "is_staff_user": bool(held - {Role.RESIDENT}),
        "is_operator": Role.OPERATOR in held,
        "is_dashboard_user": bool(held & {Role.COMMITTEE, Role.SUPERVISOR, Role.ADMIN}),
    }
