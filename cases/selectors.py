"""Read queries for cases, always scoped to what the acting user may see.

Who sees which cases:

* a resident: the cases they submitted while signed in;
* a handler (承办人): cases whose lead or co-handling unit is one of theirs;
* an operator, dispatcher, supervisor or committee member: cases in their jurisdiction;
* a superuser: everything (support and audits).

Who sees the complainant's name and phone whole (PIPL): the complainant; the dispatchers of the
case's jurisdiction; the operators of its jurisdiction and the handlers of its assigned units,
unless the complainant asked to hide their identity. Everyone else gets them masked, and the
same rule covers free text: a name or number typed into a title, description, note or reply is
masked (``masked_text``) for whoever may not see the name and phone fields whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet

from org import jurisdiction
from org.models import Membership, Region, RegionLevel, Role
from xining_issues.privacy import mask_name as mask_name
from xining_issues.privacy import mask_phone as mask_phone
from xining_issues.privacy import mask_text

from .models import (
    OPEN_STATUSES,
    Attachment,
    Case,
    CaseEvent,
    Stage,
    Status,
    SupervisionLevel,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from org.models import User

AREA_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.COMMITTEE)


def case_region_filter(user: User | AnonymousUser, roles: Iterable[str]) -> Q:
    """``jurisdiction.region_filter`` for cases, on their own columns instead of a join.

    A case's region is a community and the case carries its street and district
    (``workflow.case_submit`` writes them), so "the region lies under root R" is one equality
    on the column of R's level: the index on that column serves it and no row of ``org_region``
    is joined per case. A city root keeps the cases of its districts (a subquery)."""
    roots = jurisdiction.region_roots(user, *roles)
    if not roots:
        return Q(pk__in=[])
    condition = Q(pk__in=[])
    for root in roots:
        if root.level == RegionLevel.DISTRICT:
            condition |= Q(district_id=root.pk)
        elif root.level == RegionLevel.STREET:
            condition |= Q(street_id=root.pk)
        elif root.level == RegionLevel.COMMUNITY:
            condition |= Q(region_id=root.pk)
        else:  # a subquery of a handful of rows, in the same statement
            districts = Region.objects.filter(
                level=RegionLevel.DISTRICT, path__startswith=root.path
            ).values("pk")
            condition |= Q(district_id__in=districts)
    return condition


def visibility_filter(user: User | AnonymousUser) -> Q:
    """A Q that keeps the cases ``user`` may see (nothing for the anonymous)."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    condition = Q(complainant=user)
    condition |= case_region_filter(user, AREA_ROLES)
    units = jurisdiction.unit_ids(user, Role.HANDLER)
    if units:
        condition |= Q(lead_unit__in=units) | Q(
            Exists(Case.co_units.through.objects.filter(case=OuterRef("pk"), unit__in=units))
        )
    return condition


def _with_co_units(cases: QuerySet[Case], user: User | AnonymousUser) -> QuerySet[Case]:
    """``cases`` with their co-handling units loaded, where reading them needs them: a
    handler's identity and staff checks look at them (``_handles``), nobody else's do, so for
    everyone else the rows cost no second query."""
    if jurisdiction.unit_ids(user, Role.HANDLER):
        return cases.prefetch_related("co_units")
    return cases


def case_list(user: User | AnonymousUser) -> QuerySet[Case]:
    """The cases a user may see, with what a list row shows loaded in the same query."""
    return _with_co_units(
        Case.objects.filter(visibility_filter(user)).select_related(
            "category", "region", "district", "street", "lead_unit"
        ),
        user,
    )


def case_detail(user: User | AnonymousUser) -> QuerySet[Case]:
    """A visible case with what its page shows: the list row's relations, its co-handling
    units, the tracking code of the case it repeats (``duplicate_code``: joining that whole
    case row for one column doubled the cost of building the query), and whether it has files
    (``has_attachments``: most have none, and then the page asks for none)."""
    return (
        case_list(user)
        .select_related("dispatch_region")
        .prefetch_related("co_units")
        .annotate(
            duplicate_code=F("duplicate_of__tracking_code"),
            has_attachments=Exists(Attachment.objects.filter(case=OuterRef("pk"))),
        )
    )


def case_reader(user: User | AnonymousUser) -> QuerySet[Case]:
    """A visible case with only what deciding how ``user`` reads it needs (its region for the
    jurisdiction, its co-handling units for a handler, the complainant's name for masking),
    and whether its steps carry files: the timeline's case, which shows nothing of its own."""
    return _with_co_units(
        Case.objects.filter(visibility_filter(user))
        .select_related("region")
        .annotate(has_attachments=Exists(Attachment.objects.filter(case=OuterRef("pk")))),
        user,
    )


def case_events(case: Case, *, public_only: bool = False) -> QuerySet[CaseEvent]:
    """The case's timeline; ``public_only`` for a complainant, who reads the public steps.

    The steps' files come in one more query, or in none when the case row says it has no files
    (``has_attachments`` of ``case_reader``): an empty prefetch asks the database nothing."""
    files = Attachment.objects.all()
    if getattr(case, "has_attachments", True) is False:
        files = Attachment.objects.none()
    events = case.events.select_related("actor", "unit").prefetch_related(
        Prefetch("attachments", queryset=files)
    )
    return events.filter(is_public=True) if public_only else events


def can_see_identity(user: User | AnonymousUser, case: Case) -> bool:
    """Whether ``user`` may read the complainant's name and phone whole on this case."""
    if not user.is_authenticated:
        return False
    if case.complainant_id is not None and case.complainant_id == user.pk:
        return True
    if jurisdiction.may_act(user, case.region, Role.DISPATCHER):
        return True
    if case.hide_identity:
        return False
    if jurisdiction.may_act(user, case.region, Role.OPERATOR):
        return True
    return _handles(user, case)


def identity_filter(user: User | AnonymousUser) -> Q:
    """``can_see_identity`` as a Q: the cases whose complainant ``user`` may read whole. Kept
    exactly equivalent to the function (a test compares them over users × cases), so that a
    query can do what a serializer does, e.g. search raw text only where it is shown raw."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    condition = Q(complainant=user) | case_region_filter(user, [Role.DISPATCHER])
    unhidden = case_region_filter(user, [Role.OPERATOR])
    units = jurisdiction.unit_ids(user, Role.HANDLER)
    if units:
        unhidden |= Q(lead_unit__in=units) | Q(
            Exists(Case.co_units.through.objects.filter(case=OuterRef("pk"), unit__in=units))
        )
    return condition | (Q(hide_identity=False) & unhidden)


def _handles(user: User | AnonymousUser, case: Case) -> bool:
    """Whether one of the user's handling units is the case's lead or co-handling unit (read
    from the prefetched ``co_units``, so a page of cases costs no query per row)."""
    units = jurisdiction.unit_ids(user, Role.HANDLER)
    return bool(units) and (
        case.lead_unit_id in units or any(u.pk in units for u in case.co_units.all())
    )


def reads_as_staff(user: User | AnonymousUser, case: Case) -> bool:
    """Whether ``user`` reads the case in a staff role (its jurisdiction or a handling unit).
    A user who sees it only because they raised it reads it as a resident, even if they are
    staff elsewhere: public events, unit names, no staff names or internal notes."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if any(jurisdiction.may_act(user, case.region, role) for role in AREA_ROLES):
        return True
    return _handles(user, case)


def masked_text(text: str, *, case: Case) -> str:
    """Free text about ``case`` as a reader without the need reads it: phone, ID and card
    numbers, e-mail addresses and the complainant's name masked (PIPL)."""
    return mask_text(text, names=(case.complainant_name,))


STATUS_STAGE: dict[str, str] = {
    Status.SUBMITTED: Stage.RECEIVE,
    Status.ACCEPTED: Stage.DISPATCH,
    Status.DISPATCHED: Stage.DISPATCH,
    Status.HANDLING: Stage.HANDLE,
    Status.REPLIED: Stage.EVALUATE,
    Status.REVIEW: Stage.EVALUATE,
    Status.EVALUATED: Stage.REPORT,
    Status.CLOSED: Stage.REPORT,
    Status.REJECTED: Stage.REPORT,
}
CHASED = (SupervisionLevel.OVERDUE, SupervisionLevel.SUPERVISED)


def stage_filter(stage: str) -> Q:
    """Cases in one link of 接派办督评报. 督 is every open case that is overdue or under a 督办
    order, whatever its status, so it overlaps the others on purpose."""
    if stage == Stage.SUPERVISE:
        return Q(status__in=OPEN_STATUSES, supervision_level__in=CHASED)
    return Q(status__in=[status for status, s in STATUS_STAGE.items() if s == stage])


def stage_of(case: Case) -> str:
    """The link a case is in now; 督 wins while it is open and overdue or supervised."""
    if case.is_open and case.supervision_level in CHASED:
        return Stage.SUPERVISE
    return STATUS_STAGE[case.status]


DUE_SOON = dt.timedelta(hours=24)


def dispatch_level_filter(user: User | AnonymousUser | None) -> Q:
    """分级派单: which accepted cases wait for ``user`` to dispatch them. A dispatcher's 待派单
    holds the cases dispatched at the level of one of their units (``cases.grading``), not every
    case of their area: a community matter waits for its street's dispatchers, not the
    district's. A case whose level has no active dispatcher now (one left, or a case accepted
    before its street had one) waits for every dispatcher above it, so none is stranded.
    Anyone who does not dispatch sees every accepted case of their area (no condition)."""
    if user is None:
        return Q()
    levels = {
        m.unit.region_id for m in jurisdiction.memberships(user) if m.role == Role.DISPATCHER
    }
    if not levels:
        return Q()
    # The regions that have an active dispatcher now: one per staffed street, district and the
    # city (a few hundred ids at most), read apart so the tabs' counts stay index-only.
    staffed = set(
        Membership.objects.filter(
            role=Role.DISPATCHER, unit__is_active=True, user__is_active=True
        ).values_list("unit__region_id", flat=True)
    )
    return Q(dispatch_region_id__in=levels) | ~Q(dispatch_region_id__in=staffed)


def queue_filters(now: dt.datetime, user: User | AnonymousUser | None = None) -> dict[str, Q]:
    """The workbench tabs (待受理 … 督办) as filters; the same Q serves the count and the list.
    With ``user``, 待派单 is theirs to dispatch (``dispatch_level_filter``)."""
    working = [Status.DISPATCHED, Status.HANDLING]
    late = Q(status=Status.SUBMITTED, accept_by__lt=now) | Q(
        status__in=working, resolve_by__lt=now
    )
    return {
        "submitted": Q(status=Status.SUBMITTED),
        "accepted": Q(status=Status.ACCEPTED) & dispatch_level_filter(user),
        "dispatched": Q(status=Status.DISPATCHED),
        "handling": Q(status=Status.HANDLING),
        "replied": Q(status__in=[Status.REPLIED, Status.REVIEW]),
        "due_soon": (
            Q(status__in=working, resolve_by__gte=now, resolve_by__lt=now + DUE_SOON)
            | Q(status__in=OPEN_STATUSES, supervision_level=SupervisionLevel.WARNING)
        )
        & ~late,
        "overdue": late,
        "supervised": Q(status__in=OPEN_STATUSES, supervision_level=SupervisionLevel.SUPERVISED),
    }


def queue_filter(name: str, now: dt.datetime, user: User | AnonymousUser | None = None) -> Q:
    """One tab's filter (a queue page): 待派单's reads the staffed dispatch levels, which no
    other tab needs, so only its page pays that query."""
    if name == "accepted":
        return Q(status=Status.ACCEPTED) & dispatch_level_filter(user)
    return queue_filters(now)[name]


def queue_counts(user: User | AnonymousUser, now: dt.datetime) -> dict[str, int]:
    """How many visible cases sit in each tab: one query with a filtered count per tab. Every
    tab holds open cases only, so the count reads the open cases (a few per cent of a city's
    history, and the partial index on them), never the closed history."""
    filters = queue_filters(now, user)
    visible = Case.objects.filter(visibility_filter(user), status__in=OPEN_STATUSES)
    counts = visible.aggregate(
        **{name: Count("pk", filter=condition) for name, condition in filters.items()}
    )
    return {name: counts[name] or 0 for name in filters}


def public_recent(limit: int = 10) -> QuerySet[Case]:
    """Recently finished cases for the home page; the serializer shows no personal data."""
    return (
        Case.objects.filter(status__in=[Status.EVALUATED, Status.CLOSED], replied_at__isnull=False)
        .exclude(reply_text="")
        .select_related("category", "district", "street")
        .order_by("-replied_at")[:limit]
    )


# 已答复: the states in which a case carries an answer the public may read. A reopened case
# (重办) loses its ``replied_at`` and leaves the list until it is answered again.
PUBLIC_STATUSES = (Status.REPLIED, Status.REVIEW, Status.EVALUATED, Status.CLOSED)
PUBLIC_FIELDS = (
    "title", "reply_text", "complainant_name", "status", "created_at", "replied_at",
    "category__name", "district__name", "street__name",
)  # fmt: skip


def public_answered(
    *,
    district_id: int | None = None,
    street_id: int | None = None,
    category_ids: Iterable[int] | None = None,
    before: tuple[dt.datetime, int] | None = None,
    limit: int = 20,
) -> list[Case]:
    """The answered cases the public page and its Atom feed list, newest answer first, at most
    ``limit`` of them, older than the keyset ``before`` (``replied_at``, ``id``) when given.

    Only what the page shows is loaded (no description, no phone): the callers mask the title
    and the reply with ``masked_text``, which reads ``complainant_name``. One query per answered
    status, merged here: each walks the (status, replied_at) index from the newest answer down
    and stops after ``limit`` rows, while one query over the four statuses cannot read that
    index in ``replied_at`` order and would sort every answered case of the city for a page.
    No count: a page never counts the millions of rows behind it."""
    condition = Q(replied_at__isnull=False) & ~Q(reply_text="")
    if district_id is not None:
        condition &= Q(district_id=district_id)
    if street_id is not None:
        condition &= Q(street_id=street_id)
    if category_ids is not None:
        condition &= Q(category_id__in=list(category_ids))
    if before is not None:
        replied_at, pk = before
        # The first bound alone is a range on the index; the second breaks ties at one instant.
        condition &= Q(replied_at__lte=replied_at) & (Q(replied_at__lt=replied_at) | Q(pk__lt=pk))
    shown = (
        Case.objects.filter(condition)
        .select_related("category", "district", "street")
        .only(*PUBLIC_FIELDS)
        .order_by("-replied_at", "-id")
    )
    rows = [case for status in PUBLIC_STATUSES for case in shown.filter(status=status)[:limit]]
    rows.sort(key=lambda case: (case.replied_at, case.pk), reverse=True)
    return rows[:limit]
