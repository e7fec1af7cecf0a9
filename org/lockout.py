"""Sign-in lockout on every door that checks a password (the login page, the admin's login and
the token endpoint), through django-axes with its database handler: the lock lives in
PostgreSQL beside the accounts, so it holds while Redis is down, and an administrator lifts it
by deleting the attempt under 访问尝试 (Access attempts) in the admin.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from xining_issues.exceptions import error_response


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a locked username or address before any password is checked."""

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            # No web request, so no client to lock out: a management command, a test's
            # authenticate(). Every door on the web passes its request.
            return None
        return super().authenticate(request, username, password, **kwargs)


class LockoutHandler(AxesDatabaseHandler):
    """Two limits where django-axes has one: ``AXES_FAILURE_LIMIT`` failures for one username
    (from any address), ``LOGIN_IP_FAILURE_LIMIT`` failures from one address (for any usernames).

    The address limit is higher because an office, a school or a mobile carrier puts many
    people behind one address; the username limit is what stops a guesser.
    """

    def get_failures(self, request: Any, credentials: dict | None = None) -> int:
        # One queryset per AXES_LOCKOUT_PARAMETERS entry, in its order: username, ip_address.
        per_username, per_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        # Scaled into username units: reaches AXES_FAILURE_LIMIT exactly when the address has
        # failed LOGIN_IP_FAILURE_LIMIT times.
        scaled = per_address * settings.AXES_FAILURE_LIMIT // settings.LOGIN_IP_FAILURE_LIMIT
        return max(per_username, scaled)


def lockout_message() -> str:
    return str(settings.AXES_COOLOFF_MESSAGE)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """What a locked client sees: the API's JSON shape, or a page that says when to come back."""
    if request.path_info.startswith("/api/"):
        return error_response(status_code=429, code="locked", message=lockout_message())
    return render(
        request,
        "registration/locked_out.html",
        {"message": lockout_message()},
        status=429,
    )
