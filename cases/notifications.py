"""What each case event tells whom (the cases side of the notifications).

``on_event`` runs inside the transaction of the workflow event it reports and composes the
messages (who, which kind, which parameters); ``notifications.services`` writes them to the
inbox and the outbox and sends them. The case is each message's subject (``Case`` implements
``notifications.subjects.Subject``).

The reminders and escalations of supervision (督办提醒, 督办升级) are told by
``SupervisionAudience``, for one event (``on_event``) or for a batch of the scan's events at
once (``SupervisionAudience.notify``, the kernel's ``on_batch``): the same rows either way.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Literal, cast

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from notifications import services
from notifications.models import Notification, OutboxMessage
from notifications.subjects import subject_columns
from org import jurisdiction
from org.models import Membership, Region, Role, Unit, User, path_ids
from xining_issues.bulk import insert_rows

from .models import Case, CaseEvent, DeadlineKind, EventType, SupervisionOrder, SupervisionStep


def _handlers_of(unit_ids: Iterable[int], *, leaders_only: bool = False) -> list[User]:
    by_unit = jurisdiction.handlers_by_unit(unit_ids, leaders_only=leaders_only)
    return [user for users in by_unit.values() for user in users]


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
    elif event.type in (EventType.DISPATCH, EventType.REASSIGN) and case.lead_unit_id:
        # 改派 tells the new unit and the complainant what a 派单 tells them.
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
        # 协办: the co-handling units learn the case and who leads it.
        co_units = [u.pk for u in case.co_units.all() if u.pk != case.lead_unit_id]
        if co_units:
            services.notify_users(
                _handlers_of(co_units),
                kind="case_cohandle",
                params={
                    **params,
                    "category": case.category.name,
                    "unit": cast(Unit, case.lead_unit).name,
                },
                key=f"{key}:co",
                subject=case,
                now=now,
            )
    elif event.type == EventType.SUPERVISE:
        # 督办: the unit that must act on the order: the lead unit's handlers, or, before the
        # case is dispatched, the dispatchers of its dispatch level.
        if case.lead_unit_id:
            told = _handlers_of([case.lead_unit_id])
        else:
            told = [
                m.user
                for m in Membership.objects.filter(
                    role=Role.DISPATCHER, unit__region_id=case.dispatch_region_id
                ).select_related("user")
            ]
        services.notify_users(
            told,
            kind="supervision_order",
            params={**params, "deadline": event.payload["due_at"]},
            key=key,
            subject=case,
            now=now,
        )
    elif event.type == EventType.DECIDE_RETURN and event.unit_id:
        # The unit that asked to give the case back hears the answer.
        services.notify_users(
            _handlers_of([event.unit_id]),
            kind="return_approved" if event.payload.get("approved") else "return_refused",
            params=params,
            key=key,
            subject=case,
            now=now,
        )
    elif event.type in (EventType.REPLY, EventType.RESOLVE_AT_INTAKE):
        url = f"{settings.SITE_URL}{reverse('track-page')}?code={case.tracking_code}"
        notify_complainant(
            case, kind="case_replied", params={**params, "url": url}, key=key, now=now
        )
        # 合并: the complainants of the cases merged into this one hear its answer too (each
        # once per reply), on their own case's tracking page, which shows the main case's.
        for merged in Case.objects.filter(duplicate_of=case, merged_at__isnull=False).only(
            "pk", "tracking_code", "complainant_id", "complainant_phone"
        ):
            notify_complainant(
                merged,
                kind="case_merged_replied",
                params={
                    "code": merged.tracking_code,
                    "main": case.tracking_code,
                    "url": f"{settings.SITE_URL}{reverse('track-page')}"
                    f"?code={merged.tracking_code}",
                },
                key=f"{key}:merged:{merged.pk}",
                now=now,
            )
    elif event.type == EventType.MERGE:
        notify_complainant(
            case,
            kind="case_merged",
            params={**params, "main": event.payload["into"]},
            key=key,
            now=now,
        )
    elif event.type == EventType.CLOSE:
        notify_complainant(case, kind="case_closed", params=params, key=key, now=now)
    elif event.type in (EventType.REMIND, EventType.ESCALATE):
        SupervisionAudience([case], event.payload["kind"], event.payload["step"]).notify([event])


# --- supervision (督): who hears of a reminder or an escalation --------------------------------

# The lead unit's handlers, its leaders, the 督查室 one level above it, the dispatchers of the
# case's dispatch level; or the supervisor who issued a late 督办 order, with the unit's leaders.
Who = Literal["handlers", "leaders", "office", "dispatchers", "issuer"]
# Each step of supervision: who hears of it, and the message they get.
SUPERVISION_AUDIENCE: dict[tuple[str, str], tuple[Who, str]] = {
    (DeadlineKind.ACCEPT, SupervisionStep.OVERDUE): ("dispatchers", "reminder_overdue"),
    (DeadlineKind.SIGN, SupervisionStep.OVERDUE): ("handlers", "reminder_overdue"),
    (DeadlineKind.CONTACT, SupervisionStep.OVERDUE): ("handlers", "reminder_overdue"),
    (DeadlineKind.RESOLVE, SupervisionStep.WARNING): ("handlers", "reminder_warning"),
    (DeadlineKind.RESOLVE, SupervisionStep.OVERDUE): ("handlers", "reminder_overdue"),
    (DeadlineKind.RESOLVE, SupervisionStep.LEADER): ("leaders", "escalation_leader"),
    (DeadlineKind.RESOLVE, SupervisionStep.OFFICE): ("office", "escalation_office"),
    (DeadlineKind.ORDER, SupervisionStep.OVERDUE): ("issuer", "order_overdue"),
}
Recipient = tuple[int, str]  # (user id, e-mail address or "")


class SupervisionAudience:
    """Who hears of one step of supervision (``kind``, ``step``) on some cases, loaded once for
    all of them: a few queries whatever their number, since a scan's batch is hundreds of cases.

    The cases need only their id, tracking code, lead unit, dispatch region and district (the
    scan reads no more of them)."""

    def __init__(self, cases: Sequence[Case], kind: str, step: str) -> None:
        self.kind, self.step = kind, step
        self.who, self.message = SUPERVISION_AUDIENCE[(kind, step)]
        units = {c.lead_unit_id for c in cases if c.lead_unit_id}
        memberships = Membership.objects.filter(
            Q(unit_id__in=units, role=Role.HANDLER)
            | Q(role__in=[Role.SUPERVISOR, Role.DISPATCHER])
        ).values_list(
            "role",
            "unit_id",
            "is_leader",
            "unit__region_id",
            "unit__name",
            "user_id",
            "user__email",
        )
        self.handlers: dict[int, list[Recipient]] = defaultdict(list)
        self.leaders: dict[int, list[Recipient]] = defaultdict(list)
        self.by_region: dict[tuple[str, int], list[Recipient]] = defaultdict(list)
        self.office_name: dict[int, str] = {}
        for role, unit_id, is_leader, region_id, unit_name, user_id, email in memberships:
            user = (user_id, email)
            if role == Role.HANDLER:
                self.handlers[unit_id].append(user)
                if is_leader:
                    self.leaders[unit_id].append(user)
            else:
                self.by_region[(role, region_id)].append(user)
                if role == Role.SUPERVISOR:
                    self.office_name[region_id] = unit_name
        self.unit_region: dict[int, list[int]] = {}
        self.district_region: dict[int, list[int]] = {}
        if self.who == "office":  # only the 督查室 step looks up the regions above the case
            self.unit_region = {
                unit_id: path_ids(path)
                for unit_id, path in Unit.objects.filter(pk__in=units).values_list(
                    "pk", "region__path"
                )
            }
            self.district_region = {
                region_id: path_ids(path)
                for region_id, path in Region.objects.filter(
                    pk__in={c.district_id for c in cases}
                ).values_list("pk", "path")
            }
        self.issuers: dict[tuple[int, dt.datetime], Recipient] = {}
        if self.who == "issuer":
            # A late 督办 order is reported to the supervisor who issued that order.
            for case_id, due_at, user_id, email in SupervisionOrder.objects.filter(
                case_id__in=[c.pk for c in cases], fulfilled_at__isnull=True
            ).values_list("case_id", "due_at", "issued_by_id", "issued_by__email"):
                self.issuers[(case_id, due_at)] = (user_id, email)

    def office(self, case: Case) -> tuple[list[Recipient], str]:
        """Supervisors of the 督查室 one level above the lead unit (the nearest there is)."""
        ancestors = self.unit_region.get(case.lead_unit_id or 0) or self.district_region.get(
            case.district_id, []
        )
        above = ancestors[:-1] or ancestors
        for region_id in reversed(above):
            users = self.by_region.get((Role.SUPERVISOR, region_id))
            if users:
                return users, self.office_name[region_id]
        return [], ""

    def details(self, case: Case) -> dict[str, str]:
        """What the step's event and message say beyond the deadline: the 督查室 an escalation
        went to."""
        return {"office": self.office(case)[1]} if self.who == "office" else {}

    def recipients(self, case: Case, deadline: dt.datetime) -> list[Recipient]:
        unit = case.lead_unit_id or 0
        if self.who == "dispatchers":
            return self.by_region.get((Role.DISPATCHER, case.dispatch_region_id), [])
        if self.who == "leaders":
            return self.leaders.get(unit, [])
        if self.who == "office":
            return self.office(case)[0]
        if self.who == "issuer":
            issuer = self.issuers.get((case.pk, deadline))
            return ([issuer] if issuer else []) + self.leaders.get(unit, [])
        return self.handlers.get(unit, [])

    def notify(self, events: Sequence[CaseEvent]) -> None:
        """The in-app messages, and the e-mails and SMS the recipients chose for this kind
        (``notifications.services.channels``), of these events of the step, in one INSERT each
        for all of them (the kernel's ``on_batch``). Each message is keyed by the case, the step
        and the deadline, so a step is told once however often its event is recorded."""
        # (case, params, key, when, recipients' e-mail by user id) of each event
        told: list[tuple[Case, dict[str, Any], str, dt.datetime, dict[int, str]]] = []
        for event in events:
            case, payload = event.case, event.payload
            if (payload["kind"], payload["step"]) != (self.kind, self.step):
                raise ValueError(
                    f"an event of {payload['kind']}:{payload['step']} given to "
                    f"the audience of {self.kind}:{self.step}"
                )
            deadline = payload["deadline"]
            params = {
                "code": case.tracking_code,
                "deadline": deadline,
                "deadline_kind": self.kind,
                **({"office": payload["office"]} if self.who == "office" else {}),
            }
            key = f"supervision:{case.pk}:{self.kind}:{self.step}:{deadline}"
            users = dict(self.recipients(case, dt.datetime.fromisoformat(deadline)))
            told.append((case, params, key, event.created_at, users))
        everyone = {user_id for *_rest, users in told for user_id in users}
        wanted = services.channels(everyone, self.message)  # one query for the batch
        texting = [user_id for user_id, chosen in wanted.items() if chosen.sms]
        phones = dict(
            User.objects.filter(pk__in=texting).exclude(phone="").values_list("pk", "phone")
        )
        notes: list[dict[str, Any]] = []
        mails: list[dict[str, Any]] = []
        for case, params, key, now, users in told:
            about = subject_columns(Case, case.pk, case.tracking_code)
            for user_id, email in users.items():
                notes.append(
                    {
                        "user_id": user_id,
                        **about,
                        "kind": self.message,
                        "params": params,
                        "key": key,
                        "created_at": now,
                    }
                )
                sends = services.staff_sends(
                    user_id, email, phones.get(user_id, ""), wanted[user_id], key
                )
                mails.extend(
                    {
                        "channel": channel,
                        "recipient": recipient,
                        "kind": self.message,
                        "params": params,
                        "key": outbox_key,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for channel, recipient, outbox_key in sends
                )
        insert_rows(Notification, notes, ignore_conflicts=True)
        insert_rows(OutboxMessage, mails, ignore_conflicts=True)
        if mails:
            services.kick_outbox_on_commit()
