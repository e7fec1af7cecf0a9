"""What each case event tells whom (the cases side of the notifications).

``on_event`` runs inside the transaction of the workflow event it reports and composes the
messages (who, which kind, which parameters); ``notifications.services`` writes them to the
inbox and the outbox and sends them. The case is each message's subject (``Case`` implements
``notifications.subjects.Subject``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, cast

from django.conf import settings
from django.urls import reverse

from notifications import services
from org.models import Membership, Role, Unit, User

from .models import Case, CaseEvent, EventType


def _handlers_of(unit_ids: Iterable[int], *, leaders_only: bool = False) -> list[User]:
    memberships = Membership.objects.filter(unit_id__in=list(unit_ids), role=Role.HANDLER)
    if leaders_only:
        memberships = memberships.filter(is_leader=True)
    return [m.user for m in memberships.select_related("user")]


def notify_complainant(
    case: Case, *, kind: str, params: dict[str, Any], key: str, now: dt.datetime
) -> None:
    """An SMS to the complainant's phone, and an in-app message if they have an account."""
    services.notify_person(
        user_id=case.complainant_id,
        phone=case.complainant_phone,
        kind=kind,
        params=params,
        key=key,
        subject=case,
        now=now,
    )


def on_event(event: CaseEvent) -> None:
    """The messages a workflow event sends (called inside the event's transaction)."""
    case, now = event.case, event.created_at
    params: dict[str, Any] = {"code": case.tracking_code}
    key = f"event:{event.pk}"
    if event.type == EventType.ACCEPT:
        notify_complainant(case, kind="case_accepted", params=params, key=key, now=now)
    elif event.type == EventType.DISPATCH and case.lead_unit_id:
        notify_complainant(
            case,
            kind="case_dispatched",
            # lead_unit_id is set, so the relation holds a unit.
            params={**params, "unit": cast(Unit, case.lead_unit).name},
            key=key,
            now=now,
        )
        services.notify_users(
            _handlers_of([case.lead_unit_id]),
            kind="case_assigned",
            params={
                **params,
                "category": case.category.name,
                "deadline": case.sign_by.isoformat() if case.sign_by else "",
            },
            key=key,
            subject=case,
            now=now,
        )
    elif event.type in (EventType.REPLY, EventType.RESOLVE_AT_INTAKE):
        url = f"{settings.SITE_URL}{reverse('track-page')}?code={case.tracking_code}"
        notify_complainant(
            case, kind="case_replied", params={**params, "url": url}, key=key, now=now
        )
    elif event.type == EventType.CLOSE:
        notify_complainant(case, kind="case_closed", params=params, key=key, now=now)
