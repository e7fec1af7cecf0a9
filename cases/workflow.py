"""Every state change of a Case: one function per transition (接 派 办 督 评 报).

Each function is atomic: it re-reads the case with ``select_for_update()``, checks the
allowed-transition table (409) and the actor's role and jurisdiction (403), validates its input
(400), saves with ``update_fields``, writes exactly one ``CaseEvent`` and queues side effects with
``transaction.on_commit``. Nothing else in the code base writes ``Case.status``.

The machinery is the shared kernel's (``xining_issues.workflow``); this module declares the
case's part of it as ``FLOW``: the table ``TRANSITIONS`` (who may do what, from which state),
``_reaches`` (how each role's reach over a case is decided: jurisdiction over the region,
membership of the lead unit, being the complainant), the guards of single steps (a third return,
a second re-handling, an extension already asked for) and the ``CaseEvent`` row. ``precheck``
and ``allowed_actions`` are the kernel's, run on this declaration.

Over 500 lines on purpose: one function per step of 接派办督评报, in the order a case lives
them, beside the table that allows them; split across files, the order of the checks and the
table they read would have to be looked up in several places.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import django.dispatch
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from org import jurisdiction
from org.models import Region, RegionLevel, Role, Unit, User
from xining_issues.errors import NotAllowed, WrongState, invalid
from xining_issues.workflow import Step, Transition, Workflow, clean_text, transition

from . import grading, knowledge, notifications, selectors, services, sla
from .attachments import check_uploads, store_uploads
from .models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    Category,
    Channel,
    DailySequence,
    Evaluation,
    EvaluationSource,
    EventType,
    ExtensionRequest,
    ExtensionStatus,
    KnowledgeArticle,
    KnowledgeUse,
    Open311Client,
    Outcome,
    Rating,
    RejectReason,
    ReturnRequest,
    ReturnStatus,
    Status,
    SupervisionLevel,
    SupervisionOrder,
    Urgency,
)
from .validators import validate_phone

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

# Sent after the transaction that recorded ``event`` commits (notifications listen here).
case_event_committed = django.dispatch.Signal()  # kwargs: event

SUPERVISION = settings.SUPERVISION
MAX_RETURNS = 3  # the third 退回 sends the case to the dispatcher one level up (兜底)
MAX_REOPENS = 1  # one 重办 on 不满意; a second 不满意 goes to a supervisor (督查研判)
REOPEN_RESOLVE_DAYS = 5  # working days a unit gets to re-handle a case
# Free text on a case (description, notes, reasons, replies): the API's max_length for them.
NOTE_MAX = 2000


S = Status
HANDLED = (S.DISPATCHED, S.HANDLING)
# 合并: both the merged case and the main case are open and not yet replied.
MERGE_SOURCES = (S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.HANDLING)
TRANSITIONS: dict[str, Transition] = {
    EventType.ACCEPT: transition([S.SUBMITTED], S.ACCEPTED, Role.OPERATOR, Role.DISPATCHER),
    EventType.REJECT: transition([S.SUBMITTED], S.REJECTED, Role.OPERATOR, Role.DISPATCHER),
    EventType.RESOLVE_AT_INTAKE: transition(
        [S.SUBMITTED], S.REPLIED, Role.OPERATOR, Role.DISPATCHER
    ),
    EventType.DISPATCH: transition([S.ACCEPTED], S.DISPATCHED, Role.DISPATCHER),
    EventType.SIGN: transition([S.DISPATCHED], S.HANDLING, Role.HANDLER),
    EventType.RETURN: transition([S.DISPATCHED], S.ACCEPTED, Role.HANDLER),
    EventType.PROGRESS: transition(
        [S.DISPATCHED, S.HANDLING, S.REPLIED],
        None,
        Role.HANDLER,
        Role.DISPATCHER,
        Role.SUPERVISOR,
    ),
    EventType.CONTACT: transition(HANDLED, None, Role.HANDLER),
    EventType.REQUEST_EXTENSION: transition([S.HANDLING], None, Role.HANDLER),
    EventType.DECIDE_EXTENSION: transition([S.HANDLING], None, Role.DISPATCHER),
    # 重新派单 after signing: the unit asks to give the case back, a dispatcher decides (an
    # approval sends it to 待派单, so the row names no target), or takes it back or moves it
    # to another unit himself while no reply is in.
    EventType.REQUEST_RETURN: transition([S.HANDLING], None, Role.HANDLER),
    EventType.DECIDE_RETURN: transition([S.HANDLING], None, Role.DISPATCHER),
    EventType.WITHDRAW: transition(HANDLED, S.ACCEPTED, Role.DISPATCHER),
    EventType.REASSIGN: transition(HANDLED, S.DISPATCHED, Role.DISPATCHER),
    # 合并: a case that repeats another open one is closed into it, before any reply.
    EventType.MERGE: transition(MERGE_SOURCES, S.CLOSED, Role.OPERATOR, Role.DISPATCHER),
    EventType.REPLY: transition([S.HANDLING], S.REPLIED, Role.HANDLER),
    EventType.EVALUATE: transition([S.REPLIED], S.EVALUATED, Role.RESIDENT, Role.OPERATOR),
    EventType.REOPEN: transition(
        [S.EVALUATED, S.REVIEW], S.HANDLING, Role.DISPATCHER, Role.OPERATOR, Role.SUPERVISOR
    ),
    EventType.SUPERVISE: transition(OPEN_STATUSES, None, Role.SUPERVISOR),
    EventType.RECATEGORISE: transition(
        [S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.HANDLING], None, Role.OPERATOR, Role.DISPATCHER
    ),
    EventType.CLOSE: transition(
        [S.EVALUATED, S.REVIEW],
        S.CLOSED,
        Role.DISPATCHER,
        Role.OPERATOR,
        Role.SUPERVISOR,
    ),
}

# Actions a handler may take for a co-handling unit as well as for the lead unit.
CO_UNIT_ACTIONS = {EventType.PROGRESS, EventType.CONTACT}
# Dispatcher actions are judged on the dispatch level (it moves up on the third return).
DISPATCH_LEVEL_ACTIONS = {
    EventType.DISPATCH,
    EventType.DECIDE_EXTENSION,
    EventType.DECIDE_RETURN,
    EventType.WITHDRAW,
    EventType.REASSIGN,
}


# --- the case's declaration to the workflow kernel -------------------------------------------


def _reaches(actor: User, case: Case, role: str, action: str) -> bool:
    """Does ``actor``, acting as ``role``, reach this case for ``action``? A resident reaches
    only their own complaint; any other role must be held, then reach the case: a handler
    through the lead unit (or a co-unit, for the actions co-units take), staff through their
    jurisdiction over the region (the dispatch level, for dispatch-level actions)."""
    if role == Role.RESIDENT:
        return case.complainant_id is not None and case.complainant_id == actor.pk
    if not jurisdiction.has_role(actor, role):
        return False
    if role == Role.HANDLER:
        units = jurisdiction.unit_ids(actor, Role.HANDLER)
        if case.lead_unit_id in units:
            return True
        return action in CO_UNIT_ACTIONS and any(u.pk in units for u in case.co_units.all())
    region = case.dispatch_region if action in DISPATCH_LEVEL_ACTIONS else case.region
    return jurisdiction.may_act(actor, region, role)


# The steps' own rules beyond state and role. The transition functions, ``precheck`` and the
# case page's buttons all judge them through the kernel, so a button is never offered for a step
# its function would refuse.


def _pending_extension(case: Case) -> bool:
    # The case page's query annotates it (no query per button); a locked row asks the table.
    annotated = getattr(case, "has_pending_extension", None)
    if annotated is not None:
        return bool(annotated)
    return ExtensionRequest.objects.filter(case=case, status=ExtensionStatus.PENDING).exists()


def _pending_return(case: Case) -> bool:
    annotated = getattr(case, "has_pending_return", None)
    if annotated is not None:
        return bool(annotated)
    return ReturnRequest.objects.filter(case=case, status=ReturnStatus.PENDING).exists()


EXTENSION_PENDING = gettext_lazy("已有一份延期申请在等待审批。")
RETURN_PENDING = gettext_lazy("已有一份退回申请在等待审批。")


def _guard_return(case: Case, role: str) -> None:
    if case.return_count >= MAX_RETURNS:
        raise WrongState(_("该诉求已由上级兜底派单，不能再退回；如有困难请在办理进展中说明。"))


def _guard_request_return(case: Case, role: str) -> None:
    # A case the level above had to take (兜底) cannot be returned after signing either.
    _guard_return(case, role)
    if _pending_return(case):
        raise WrongState(str(RETURN_PENDING))


def _guard_decide_return(case: Case, role: str) -> None:
    if not _pending_return(case):
        raise WrongState(_("没有待审批的退回申请。"))


def _guard_request_extension(case: Case, role: str) -> None:
    if _pending_extension(case):
        raise WrongState(str(EXTENSION_PENDING))


def _guard_decide_extension(case: Case, role: str) -> None:
    if not _pending_extension(case):
        raise WrongState(_("没有待审批的延期申请。"))


def _guard_reopen(case: Case, role: str) -> None:
    # After a second 不满意 only a supervisor may order re-handling (督查研判).
    if case.status == Status.REVIEW:
        if role != Role.SUPERVISOR:
            raise NotAllowed(_("二次不满意的诉求由督查人员研判。"))
    elif case.rating != Rating.UNSATISFIED:
        raise WrongState(_("只有评价为不满意的诉求才能重办。"))
    elif case.reopen_count >= MAX_REOPENS:
        raise WrongState(_("该诉求已重办过一次。"))


def _guard_merge(case: Case, role: str) -> None:
    # No chains: a case others were merged into is a main case and stays one.
    annotated = getattr(case, "has_merged_duplicates", None)
    merged_into = (
        bool(annotated)
        if annotated is not None
        else Case.objects.filter(duplicate_of=case, merged_at__isnull=False).exists()
    )
    if merged_into:
        raise WrongState(_("已有其他诉求并入这件诉求，它只能作为主诉求，不能再合并。"))


def _guard_close(case: Case, role: str) -> None:
    if case.status == Status.REVIEW and role != Role.SUPERVISOR:
        raise NotAllowed(_("二次不满意的诉求由督查人员研判后归档。"))


def _event_row(
    case: Case,
    step: Step,
    *,
    is_public: bool = True,
    now: dt.datetime | None = None,
    unit: Unit | None = None,
) -> CaseEvent:
    """A step's ``CaseEvent`` (``unit`` defaults to the current lead unit: returns are counted
    against the unit that sent the case back, which passes itself)."""
    return CaseEvent(
        case=case,
        type=step.action,
        actor=step.actor,
        unit=unit or case.lead_unit,
        from_status=step.from_status,
        to_status=step.to_status,
        payload=step.payload,
        is_public=is_public,
        created_at=now or timezone.now(),
    )


FLOW: Workflow[Case, CaseEvent] = Workflow(
    model=Case,
    table=TRANSITIONS,
    reaches=_reaches,
    guards={
        EventType.RETURN: _guard_return,
        EventType.REQUEST_EXTENSION: _guard_request_extension,
        EventType.DECIDE_EXTENSION: _guard_decide_extension,
        EventType.REQUEST_RETURN: _guard_request_return,
        EventType.DECIDE_RETURN: _guard_decide_return,
        EventType.REOPEN: _guard_reopen,
        EventType.CLOSE: _guard_close,
        EventType.MERGE: _guard_merge,
    },
    event_row=_event_row,
    # The messages an event sends are written in the same transaction (outbox), so they can
    # neither be lost nor sent for a change that rolled back.
    on_record=notifications.on_event,
    committed=case_event_committed,
    wrong_state=gettext_lazy("诉求当前状态为“%(status)s”，不能执行此操作。"),
    not_allowed=gettext_lazy("您没有对这件诉求执行此操作的权限。"),
    lock_related=("region", "dispatch_region", "category"),
)
# Read by the demo simulator's tests, which replay events through the same role rule.
_acting_role = FLOW.acting_role
precheck = FLOW.precheck
allowed_actions = FLOW.allowed_actions


def _future(value: dt.datetime | None, field: str, now: dt.datetime) -> dt.datetime:
    if value is None:
        raise invalid(field, _("请填写期限。"))
    if timezone.is_naive(value):
        raise invalid(field, _("期限必须带时区。"))
    if value <= now:
        raise invalid(field, _("期限必须晚于现在。"))
    return value


# --- 接 receive ------------------------------------------------------------------------------


def _next_tracking_code(now: dt.datetime) -> str:
    """XN-YYYYMMDD-NNNN, numbered per local day: never twice, and readable in order.

    One statement creates the day's counter or adds one to it and returns the new value. Its
    row lock is what makes two submissions read different numbers, and it is held until the
    transaction that took it ends: every complaint of the day queues behind it. So
    ``case_submit`` takes the number in a transaction of its own (this one statement, when no
    caller's transaction is open), not in the one that writes the complaint: the queue then
    lasts one upsert and its commit, not the complaint's inserts and commit as well, which
    capped intake at one complaint per commit. The price is a gap in the day's numbers when a
    complaint fails after its number was taken (the issue accepts it); a refused submission
    takes none, since every check comes first."""
    # Numbered on Xining's calendar day whatever zone a request may have activated.
    day = timezone.localdate(now, timezone.get_default_timezone())
    connection = transaction.get_connection()
    table = connection.ops.quote_name(DailySequence._meta.db_table)
    # PostgreSQL and SQLite (3.35+) both read INSERT … ON CONFLICT … RETURNING.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "  # noqa: S608 - our table name
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [connection.ops.adapt_datefield_value(day)],
        )
        (number,) = cursor.fetchone()
    return f"XN-{day:%Y%m%d}-{number:04d}"


def _check_region(region: Region | None) -> Region:
    if region is None or region.level != RegionLevel.COMMUNITY:
        raise invalid("region", _("请选择到社区或村。"))
    return region


def _check_category(category: Category | None, *, offered_only: bool = False) -> Category:
    """An active category; ``offered_only`` for residents and clients, who may not file a
    category staff keep to themselves (``offered_to_residents`` off, like the demo's drill)."""
    if category is None or not category.is_active:
        raise invalid("category", _("请选择诉求分类。"))
    if offered_only and not category.offered_to_residents:
        raise invalid("category", _("该分类不接受群众提交，请选择其他分类。"))
    return category


def case_submit(
    *,
    actor: User | AnonymousUser | None,
    category: Category | None,
    region: Region | None,
    description: str,
    complainant_name: str,
    complainant_phone: str,
    channel: str = Channel.WEB,
    title: str = "",
    address: str = "",
    lat: Any = None,
    lng: Any = None,
    hide_identity: bool = False,
    urgency: str = Urgency.NORMAL,
    attachments: Sequence[UploadedFile] = (),
    open311_client: Open311Client | None = None,
) -> Case:
    """提交诉求: a resident (signed in or not) on the web, or an operator logging a call or a
    visit, or a grid inspector (网格员) what they found in their community (channel 网格员发现,
    followed afterwards as its complainant), or a third-party system through Open311
    (``open311_client``, whose key the caller checked).

    Atomic like every transition, with one exception: the tracking number is taken just
    before the transaction that writes the complaint (see ``_next_tracking_code``), so a
    complaint that fails after that leaves a gap in the day's numbers."""
    is_operator = actor is not None and jurisdiction.has_role(actor, Role.OPERATOR)
    if channel not in Channel.values:
        raise invalid("channel", _("渠道无效。"))
    # The Open311 channel is its clients' alone, and they have no other.
    if (channel == Channel.OPEN311) != (open311_client is not None):
        raise NotAllowed(_("只有持有接口密钥的第三方系统可以通过 Open311 接口提交诉求。"))
    is_grid = (
        not is_operator
        and channel == Channel.GRID
        and actor is not None
        and jurisdiction.has_role(actor, Role.GRID_INSPECTOR)
    )
    if not (is_operator or is_grid) and channel not in (
        Channel.WEB,
        Channel.MINI_PROGRAM,
        Channel.OPEN311,
    ):
        raise NotAllowed(
            _("只有接线员可以登记电话和来访诉求，网格员发现的诉求由网格员或接线员上报。")
        )
    if urgency not in Urgency.values:
        raise invalid("urgency", _("紧急程度无效。"))
    region = _check_region(region)
    category = _check_category(category, offered_only=not is_operator)
    fields = {
        "description": clean_text(description, "description", max_length=NOTE_MAX),
        "complainant_name": clean_text(complainant_name, "complainant_name", max_length=64),
        "title": clean_text(title, "title", required=False, max_length=120),
        "address": clean_text(address, "address", required=False, max_length=255),
    }
    phone = validate_phone(complainant_phone)
    checked = check_uploads(list(attachments))
    if (
        is_operator
        and actor is not None  # always so when is_operator; tells the type checker
        and region is not None
        and not jurisdiction.may_act(actor, region, Role.OPERATOR)
    ):
        raise NotAllowed(_("该社区不在您的受理范围内。"))
    if (
        is_grid
        and actor is not None
        and not jurisdiction.may_act(actor, region, Role.GRID_INSPECTOR)
    ):
        raise NotAllowed(_("该社区不在您的网格范围内。"))

    now = timezone.now()
    district_id, street_id = region.ancestor_ids[1], region.ancestor_ids[2]
    accept_by = sla.accept_deadline(category, now, urgency=urgency)
    tracking_code = _next_tracking_code(now)
    with transaction.atomic():
        case = Case.objects.create(
            tracking_code=tracking_code,
            channel=channel,
            category=category,
            region=region,
            district_id=district_id,
            street_id=street_id,
            dispatch_region_id=district_id,
            lat=lat,
            lng=lng,
            complainant_phone=phone,
            complainant=actor
            if actor is not None and actor.is_authenticated and not is_operator
            else None,
            hide_identity=bool(hide_identity),
            open311_client=open311_client,
            urgency=urgency,
            accept_by=accept_by,
            created_at=now,
            **fields,
        )
        event = FLOW.record(
            case,
            EventType.SUBMIT,
            actor,
            Role.OPERATOR if is_operator else Role.GRID_INSPECTOR if is_grid else None,
            "",
            {"channel": channel},
            now=now,
        )
        store_uploads(
            checked,
            case=case,
            event=event,
            uploaded_by=actor if actor and actor.is_authenticated else None,
        )
    return case


@transaction.atomic
def case_accept(
    *,
    case: Case,
    actor: User,
    category: Category | None = None,
    urgency: str | None = None,
    is_complex: bool = False,
    duty_level: int | None = None,
    duplicate_of: Case | None = None,
    note: str = "",
    suggested_category: Category | None = None,
) -> Case:
    """受理: classify, grade by duty level (依据职责分级受理), optionally mark a duplicate.

    The duty level decides whose dispatchers dispatch the case (分级派单, ``cases.grading``);
    left out, the 权责清单's level for the case's category stands. What the accept dialog
    suggested (智能派单, ``cases.router``) and the category the case came with, when staff
    changed it, go into the event: the record of where the suggestions and intake were wrong."""
    case, role = FLOW.begin(case, actor, EventType.ACCEPT)
    filed_as = case.category
    if category is not None:
        case.category = _check_category(category)
    if urgency is not None:
        if urgency not in Urgency.values:
            raise invalid("urgency", _("紧急程度无效。"))
        case.urgency = urgency
    if duty_level is not None and duty_level not in RegionLevel.values:
        raise invalid("duty_level", _("办理层级无效。"))
    if duplicate_of is not None and duplicate_of.pk == case.pk:
        raise invalid("duplicate_of", _("不能标记为与自身重复。"))
    case.is_complex = bool(is_complex)
    case.duty_level = duty_level or grading.suggested_duty_level(case)
    case.dispatch_region_id = grading.dispatch_region_id(case.region, case.duty_level)
    case.duplicate_of = duplicate_of
    case.accepted_at = timezone.now()
    from_status = FLOW.move(case, EventType.ACCEPT)
    FLOW.save(
        case,
        "status",
        "category",
        "urgency",
        "is_complex",
        "duty_level",
        "dispatch_region",
        "duplicate_of",
        "accepted_at",
    )
    FLOW.record(
        case,
        EventType.ACCEPT,
        actor,
        role,
        from_status,
        {
            "category": case.category.name,
            "duty_level": case.duty_level,
            "dispatch_region": case.dispatch_region.name,
            "is_complex": case.is_complex,
            "duplicate_of": duplicate_of.tracking_code if duplicate_of else None,
            "note": clean_text(note, "note", required=False, max_length=NOTE_MAX),
            **({"category_was": filed_as.code} if filed_as.pk != case.category.pk else {}),
            **({"suggested_category": suggested_category.code} if suggested_category else {}),
        },
    )
    return case


@transaction.atomic
def case_reject(
    *, case: Case, actor: User, reason: str, duplicate_of: Case | None = None, note: str = ""
) -> Case:
    """不予受理 with a reason; a duplicate names the case it repeats."""
    case, role = FLOW.begin(case, actor, EventType.REJECT)
    if reason not in RejectReason.values:
        raise invalid("reason", _("请选择不予受理的原因。"))
    if reason == RejectReason.DUPLICATE and duplicate_of is None:
        raise invalid("duplicate_of", _("重复诉求请注明与哪件诉求重复。"))
    if duplicate_of is not None and duplicate_of.pk == case.pk:
        raise invalid("duplicate_of", _("不能标记为与自身重复。"))
    case.reject_reason = reason
    case.duplicate_of = duplicate_of
    case.closed_at = timezone.now()
    from_status = FLOW.move(case, EventType.REJECT)
    FLOW.save(case, "status", "reject_reason", "duplicate_of", "closed_at")
    FLOW.record(
        case,
        EventType.REJECT,
        actor,
        role,
        from_status,
        {
            "reason": reason,
            "duplicate_of": duplicate_of.tracking_code if duplicate_of else None,
            "note": clean_text(note, "note", required=False, max_length=NOTE_MAX),
        },
    )
    return case


@transaction.atomic
def case_resolve_at_intake(
    *, case: Case, actor: User, reply: str, article: KnowledgeArticle | None = None
) -> Case:
    """即时办结: answered on the spot (consultations); goes straight to evaluation. The 知识库
    article the answer came from, if any, is recorded on the event and counted
    (``KnowledgeUse``); one out of force is refused."""
    case, role = FLOW.begin(case, actor, EventType.RESOLVE_AT_INTAKE)
    now = timezone.now()
    if article is not None and not knowledge.valid().filter(pk=article.pk).exists():
        raise invalid("article", _("这篇知识库文章不在有效期内，不能用于答复。"))
    case.reply_text = clean_text(reply, "reply", max_length=NOTE_MAX)
    case.outcome = Outcome.RESOLVED
    case.accepted_at = case.accepted_at or now
    case.contacted_at = case.contacted_at or now
    case.replied_at = now
    from_status = FLOW.move(case, EventType.RESOLVE_AT_INTAKE)
    FLOW.save(case, "status", "reply_text", "outcome", "accepted_at", "contacted_at", "replied_at")
    FLOW.record(
        case,
        EventType.RESOLVE_AT_INTAKE,
        actor,
        role,
        from_status,
        {
            "reply": case.reply_text,
            "outcome": case.outcome,
            **({"article": article.pk, "article_question": article.question} if article else {}),
        },
        now=now,
    )
    if article is not None:
        KnowledgeUse.objects.create(article=article, case=case, used_by=actor, used_at=now)
    return case


# --- 派 dispatch -----------------------------------------------------------------------------


def _check_dispatch_scope(case: Case, actor: User, lead_unit: Unit, co: Sequence[Unit]) -> None:
    """派单范围: every unit the case goes to gets the complainant's full name and phone, so each
    must be one this dispatcher may reach (``services.dispatch_targets``: the area they dispatch
    for, or a unit the 权责清单 names for the matter); 400 on the field that names one outside."""
    reachable = set(
        services.dispatch_targets(case=case, actor=actor)
        .filter(pk__in=[lead_unit.pk, *(u.pk for u in co)])
        .values_list("pk", flat=True)
    )
    if lead_unit.pk not in reachable:
        raise invalid(
            "lead_unit",
            _("“%(units)s”不在您的派单范围内：只能派给本辖区的单位或权责清单列明的单位。")
            % {"units": lead_unit.name},
        )
    outside = [u.name for u in co if u.pk not in reachable]
    if outside:
        raise invalid(
            "co_units",
            _("“%(units)s”不在您的派单范围内：只能派给本辖区的单位或权责清单列明的单位。")
            % {"units": "、".join(outside)},
        )


def _check_units(
    case: Case, actor: User, lead_unit: Unit | None, co_units: Sequence[Unit]
) -> tuple[Unit, list[Unit]]:
    """The lead unit and co-handlers of a 派单 or 改派, checked (400 on the field at fault):
    active, and within the dispatcher's reach (派单范围). The lead is never its own co-unit."""
    if lead_unit is None or not lead_unit.is_active:
        raise invalid("lead_unit", _("请选择承办单位。"))
    co = [u for u in co_units if u.pk != lead_unit.pk]
    if any(not u.is_active for u in co):
        raise invalid("co_units", _("协办单位已停用。"))
    _check_dispatch_scope(case, actor, lead_unit, co)
    return lead_unit, co


# What a 派单 or 改派 writes on the case row (with the status).
ASSIGNED_FIELDS = (
    "lead_unit",
    "dispatched_at",
    "signed_at",
    "contact_by",
    "resolve_by",
    "sign_by",
    "warn_at",
    "supervision_level",
)


def _assign(case: Case, lead_unit: Unit, now: dt.datetime) -> None:
    """Give the case to ``lead_unit`` from ``now``: the sign, contact and resolve deadlines
    start again (the row is saved by the caller, ``ASSIGNED_FIELDS``)."""
    calendar = sla.WorkCalendar.load()
    case.lead_unit = lead_unit
    case.dispatched_at = now
    case.signed_at = None
    # New deadlines, so a warning or overdue flag from an earlier unit no longer holds; a
    # 督办 order stays until it is fulfilled.
    if case.supervision_level != SupervisionLevel.SUPERVISED:
        case.supervision_level = SupervisionLevel.ON_TIME
    case.contact_by = sla.contact_deadline(
        case.category, now, urgency=case.urgency, calendar=calendar
    )
    case.resolve_by = sla.resolve_deadline(
        case.category, now, urgency=case.urgency, is_complex=case.is_complex, calendar=calendar
    )
    # 签收: urgent matters (heating, gas … or any emergency) are signed for round the clock.
    sign_unit = (
        sla.TimeUnit.CLOCK_HOURS
        if case.category.is_urgent or case.urgency != Urgency.NORMAL
        else sla.TimeUnit.WORKING_HOURS
    )
    case.sign_by = calendar.add(now, SUPERVISION["sign_hours"], sign_unit)
    case.warn_at = sla.warning_point(now, case.resolve_by, SUPERVISION["warning_share"])


def _assigned_payload(case: Case, co: Sequence[Unit], note: str) -> dict[str, Any]:
    # _assign has set both.
    return {
        "lead_unit": cast(Unit, case.lead_unit).name,
        "co_units": [u.name for u in co],
        "resolve_by": cast(dt.datetime, case.resolve_by).isoformat(),
        "note": clean_text(note, "note", required=False, max_length=NOTE_MAX),
    }


@transaction.atomic
def case_dispatch(
    *,
    case: Case,
    actor: User,
    lead_unit: Unit | None,
    co_units: Sequence[Unit] = (),
    note: str = "",
) -> Case:
    """派单 to a lead unit and co-handlers the dispatcher may reach (派单范围); the contact and
    resolve deadlines start now."""
    case, role = FLOW.begin(case, actor, EventType.DISPATCH)
    lead_unit, co = _check_units(case, actor, lead_unit, co_units)
    now = timezone.now()
    _assign(case, lead_unit, now)
    from_status = FLOW.move(case, EventType.DISPATCH)
    FLOW.save(case, "status", *ASSIGNED_FIELDS)
    case.co_units.set(co)
    FLOW.record(
        case,
        EventType.DISPATCH,
        actor,
        role,
        from_status,
        _assigned_payload(case, co, note),
        now=now,
    )
    return case


@transaction.atomic
def case_sign(*, case: Case, actor: User) -> Case:
    """签收: the lead unit takes the case."""
    case, role = FLOW.begin(case, actor, EventType.SIGN)
    case.signed_at = timezone.now()
    from_status = FLOW.move(case, EventType.SIGN)
    FLOW.save(case, "status", "signed_at")
    # Only the lead unit's handlers reach a case to sign it: it has a lead unit.
    unit = cast(Unit, case.lead_unit)
    FLOW.record(case, EventType.SIGN, actor, role, from_status, {"unit": unit.name})
    return case


def _lapse_requests(case: Case, now: dt.datetime, note: str) -> None:
    """The unit's open requests (more time, giving the case back) lapse when the case leaves
    it: they asked about a case that is no longer theirs."""
    ExtensionRequest.objects.filter(case=case, status=ExtensionStatus.PENDING).update(
        status=ExtensionStatus.LAPSED, decided_at=now
    )
    ReturnRequest.objects.filter(case=case, status=ReturnStatus.PENDING).update(
        status=ReturnStatus.LAPSED, decided_at=now, decision_note=note
    )


def _unassign(
    case: Case, action: str, *, counted: bool, now: dt.datetime, note: str = ""
) -> tuple[str, Unit | None, bool]:
    """Take the case off its lead unit and co-units, back to 待派单 (退回, an approved 退回申请,
    撤回); the history stays in the timeline. ``counted``: it is the unit's 退回, so it adds to
    ``return_count``, and the third sends the case one level up, which must take it.

    Returns the state it came from, the unit it left and whether it went up a level."""
    unit = case.lead_unit
    escalated = False
    if counted:
        case.return_count += 1
        escalated = case.return_count >= MAX_RETURNS and case.dispatch_region.parent_id is not None
        if escalated:
            # parent_id is not None (checked above), so the parent is a region.
            case.dispatch_region = cast(Region, case.dispatch_region.parent)
    case.lead_unit = None
    case.dispatched_at = None
    case.signed_at = None
    case.contact_by = None
    case.resolve_by = None
    case.sign_by = None
    case.warn_at = None
    # The next unit must make its own first contact: 响应率 is counted against it.
    case.contacted_at = None
    from_status = FLOW.move(case, action)
    # 退回审批 keeps the status when it refuses, so its row names no target: set it here.
    case.status = Status.ACCEPTED
    FLOW.save(
        case,
        "status",
        "return_count",
        "dispatch_region",
        "lead_unit",
        "dispatched_at",
        "signed_at",
        "contact_by",
        "resolve_by",
        "sign_by",
        "warn_at",
        "contacted_at",
    )
    case.co_units.clear()
    _lapse_requests(case, now, note)
    return from_status, unit, escalated


def _returned_payload(case: Case, unit: Unit | None, escalated: bool) -> dict[str, Any]:
    return {
        "unit": unit.name if unit else None,
        "return_count": case.return_count,
        "escalated_to": case.dispatch_region.name if escalated else None,
    }


@transaction.atomic
def case_return(*, case: Case, actor: User, reason: str) -> Case:
    """退回: not this unit's duty. The third return sends it one level up, which must take it."""
    case, role = FLOW.begin(case, actor, EventType.RETURN)
    reason = clean_text(reason, "reason", max_length=NOTE_MAX)
    now = timezone.now()
    from_status, returned_by, escalated = _unassign(case, EventType.RETURN, counted=True, now=now)
    # The event carries the unit that sent it back: returns are counted against it.
    FLOW.record(
        case,
        EventType.RETURN,
        actor,
        role,
        from_status,
        {"reason": reason, **_returned_payload(case, returned_by, escalated)},
        unit=returned_by,
        now=now,
    )
    return case


# --- 重新派单 re-routing after signing ----------------------------------------------------------

# What a 撤回 or 改派 writes on a request to give the case back that it overtook.
WITHDRAWN_NOTE = gettext_lazy("诉求已由派单人员撤回。")
REASSIGNED_NOTE = gettext_lazy("诉求已由派单人员改派。")


@transaction.atomic
def case_request_return(*, case: Case, actor: User, reason: str) -> ReturnRequest:
    """申请退回: the lead unit, having signed, asks to give the case back; it keeps the case
    (and its deadlines) until a dispatcher approves."""
    case, role = FLOW.begin(case, actor, EventType.REQUEST_RETURN)
    reason = clean_text(reason, "reason", max_length=NOTE_MAX)
    now = timezone.now()
    try:
        with transaction.atomic():
            request = ReturnRequest.objects.create(
                case=case,
                # Only the lead unit's handlers reach a case to ask: it has a lead unit.
                unit=cast(Unit, case.lead_unit),
                requested_by=actor,
                reason=reason,
                created_at=now,
            )
    except IntegrityError:
        # The lock and the guard make this a last resort: the unique constraint decides.
        raise WrongState(str(RETURN_PENDING)) from None
    FLOW.record(
        case,
        EventType.REQUEST_RETURN,
        actor,
        role,
        case.status,
        {"request": request.pk, "reason": reason},
        is_public=False,
        now=now,
    )
    return request


@transaction.atomic
def case_decide_return(*, case: Case, actor: User, approve: bool, note: str = "") -> Case:
    """退回审批: an approval sends the case back to 待派单 as a 退回 of the unit that asked
    (counted against it, the third goes one level up); a refusal leaves it with the unit."""
    case, role = FLOW.begin(case, actor, EventType.DECIDE_RETURN)
    note = clean_text(note, "note", required=False, max_length=255)
    # The guard found it under the case's lock, which every return step takes first.
    request = ReturnRequest.objects.select_for_update().get(case=case, status=ReturnStatus.PENDING)
    now = timezone.now()
    request.status = ReturnStatus.APPROVED if approve else ReturnStatus.REFUSED
    request.decided_by = actor
    request.decided_at = now
    request.decision_note = note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    payload: dict[str, Any] = {
        "request": request.pk,
        "approved": bool(approve),
        "reason": request.reason,
        "note": note,
    }
    from_status = case.status
    if approve:
        from_status, returned_by, escalated = _unassign(
            case, EventType.DECIDE_RETURN, counted=True, now=now
        )
        payload.update(_returned_payload(case, returned_by, escalated))
    # The event names the unit that asked: an approval is its 退回, a refusal its answer.
    FLOW.record(
        case,
        EventType.DECIDE_RETURN,
        actor,
        role,
        from_status,
        payload,
        is_public=bool(approve),
        unit=request.unit,
        now=now,
    )
    return case


@transaction.atomic
def case_withdraw(*, case: Case, actor: User, reason: str) -> Case:
    """撤回: the dispatcher takes the case back from a unit that has not replied, to 待派单.
    It is the dispatcher's decision, not the unit's 退回: ``return_count`` stays."""
    case, role = FLOW.begin(case, actor, EventType.WITHDRAW)
    reason = clean_text(reason, "reason", max_length=NOTE_MAX)
    now = timezone.now()
    from_status, withdrawn, _escalated = _unassign(
        case, EventType.WITHDRAW, counted=False, now=now, note=str(WITHDRAWN_NOTE)
    )
    FLOW.record(
        case,
        EventType.WITHDRAW,
        actor,
        role,
        from_status,
        {"reason": reason, "unit": withdrawn.name if withdrawn else None},
        unit=withdrawn,
        now=now,
    )
    return case


@transaction.atomic
def case_reassign(
    *,
    case: Case,
    actor: User,
    lead_unit: Unit | None,
    co_units: Sequence[Unit] = (),
    note: str = "",
) -> Case:
    """改派: the dispatcher moves the case from a unit that has not replied straight to another,
    which must sign for it; the deadlines start again as on a 派单. Not a 退回 of the unit
    it leaves (``return_count`` stays)."""
    case, role = FLOW.begin(case, actor, EventType.REASSIGN)
    if lead_unit is not None and lead_unit.pk == case.lead_unit_id:
        raise invalid("lead_unit", _("请选择另一个承办单位：改派不能派给原承办单位。"))
    lead_unit, co = _check_units(case, actor, lead_unit, co_units)
    now = timezone.now()
    previous = case.lead_unit
    _assign(case, lead_unit, now)
    # The new unit makes its own first contact (响应率).
    case.contacted_at = None
    from_status = FLOW.move(case, EventType.REASSIGN)
    FLOW.save(case, "status", *ASSIGNED_FIELDS, "contacted_at")
    case.co_units.set(co)
    _lapse_requests(case, now, str(REASSIGNED_NOTE))
    FLOW.record(
        case,
        EventType.REASSIGN,
        actor,
        role,
        from_status,
        {
            **_assigned_payload(case, co, note),
            "from_unit": previous.name if previous else None,
        },
        now=now,
    )
    return case


# --- 合并 merge ------------------------------------------------------------------------------

MERGED_NOTE = gettext_lazy("诉求已合并到另一件诉求一并办理。")


def _lock_pair(case: Case, other: Case | None) -> None:
    """Lock both rows, the lower id first: two staff merging two cases crosswise (A into B,
    B into A) then queue on the same row instead of deadlocking."""
    ids = sorted({case.pk, other.pk} if other is not None else {case.pk})
    list(Case.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"))


@transaction.atomic
def case_merge(*, case: Case, actor: User, into: Case | None, note: str = "") -> Case:
    """合并: close ``case`` as a duplicate of ``into`` (the main case), which is handled for both.

    Rules:

    * Who: an operator or a dispatcher with jurisdiction over the merged case's community (the
      intake staff who find duplicates; supervisors do not, they 督办).
    * From: every open state before a reply (待受理, 待派单, 待签收, 办理中). A replied case has
      its own answer and is evaluated on it.
    * The main case must be visible to the actor, open and not yet replied (the merged case's
      complainant is told its answer when it comes), not the same case and not itself merged
      (no chains); a case others were merged into cannot be merged in turn (the guard). An
      unknown or invisible ``into`` is one answer, 400 on ``into``, whether the case exists or not.
    * Both rows are locked, the lower id first (``_lock_pair``).

    The merged case is closed as a duplicate: status 已归档 (``Status.CLOSED``, no new status
    for the statistics to learn), ``duplicate_of`` the main case, ``merged_at`` set, its open
    requests lapse. It is not a 归档 event: the ``closed`` counter counts those only, and the
    rates (``stats.rates``) leave a case merged in the period out of all three, so the matter is
    counted once, on the main case. It still counts as received (``created``): it was a real call.
    Its complainant is told now (``case_merged``) and hears the main case's answer when it is
    replied (``notifications.on_event``); the tracking page shows the main case's public progress.
    """
    _lock_pair(case, into)
    case, role = FLOW.begin(case, actor, EventType.MERGE)
    note = clean_text(note, "note", required=False, max_length=NOTE_MAX)
    if into is None:
        raise invalid("into", _("请选择要合并到的主诉求。"))
    if into.pk == case.pk:
        raise invalid("into", _("不能合并到自身。"))
    main = Case.objects.get(pk=into.pk)  # locked above
    if not Case.objects.filter(selectors.visibility_filter(actor), pk=main.pk).exists():
        raise invalid("into", _("没有找到这件诉求。"))
    if main.merged_at is not None:
        raise invalid(
            "into",
            _("主诉求 %(code)s 本身已合并到其他诉求，请合并到最终的主诉求。")
            % {"code": main.tracking_code},
        )
    if main.status not in MERGE_SOURCES:
        # Its complainant would never hear an answer already given.
        raise invalid("into", _("只能合并到尚未答复的诉求。"))
    now = timezone.now()
    case.duplicate_of = main
    case.merged_at = now
    case.closed_at = now
    from_status = FLOW.move(case, EventType.MERGE)
    FLOW.save(case, "status", "duplicate_of", "merged_at", "closed_at")
    _lapse_requests(case, now, str(MERGED_NOTE))
    FLOW.record(
        case,
        EventType.MERGE,
        actor,
        role,
        from_status,
        {"into": main.tracking_code, "into_id": main.pk, "note": note},
        now=now,
    )
    return case


# --- 办 handle -------------------------------------------------------------------------------


@transaction.atomic
def case_add_progress(*, case: Case, actor: User, text: str, public: bool = False) -> Case:
    """办理进展: an internal note, or a public update the complainant sees when tracking."""
    case, role = FLOW.begin(case, actor, EventType.PROGRESS)
    text = clean_text(text, "text", max_length=NOTE_MAX)
    FLOW.record(
        case,
        EventType.PROGRESS,
        actor,
        role,
        case.status,
        {"text": text, "public": bool(public)},
        is_public=bool(public),
    )
    return case


@transaction.atomic
def case_record_contact(*, case: Case, actor: User, method: str = "phone", note: str = "") -> Case:
    """联系诉求人: the first contact sets ``contacted_at``, which the 响应率 is computed from."""
    case, role = FLOW.begin(case, actor, EventType.CONTACT)
    now = timezone.now()
    first = case.contacted_at is None
    if first:
        case.contacted_at = now
        FLOW.save(case, "contacted_at")
    on_time = case.contact_by is None or now <= case.contact_by
    FLOW.record(
        case,
        EventType.CONTACT,
        actor,
        role,
        case.status,
        {
            "method": clean_text(method, "method", max_length=16),
            "first": first,
            "on_time": on_time,
            "note": clean_text(note, "note", required=False, max_length=NOTE_MAX),
        },
        is_public=False,
        now=now,
    )
    return case


@transaction.atomic
def case_request_extension(
    *, case: Case, actor: User, until: dt.datetime | None, reason: str
) -> ExtensionRequest:
    """申请延期: the lead unit asks; the deadline does not move until a dispatcher approves."""
    case, role = FLOW.begin(case, actor, EventType.REQUEST_EXTENSION)
    now = timezone.now()
    until = _future(until, "until", now)
    if case.resolve_by and until <= case.resolve_by:
        raise invalid("until", _("申请的期限必须晚于现在的办结时限。"))
    reason = clean_text(reason, "reason", max_length=NOTE_MAX)
    try:
        with transaction.atomic():
            request = ExtensionRequest.objects.create(
                case=case,
                # Only the lead unit's handlers reach a case to ask: it has a lead unit.
                unit=cast(Unit, case.lead_unit),
                requested_by=actor,
                reason=reason,
                requested_until=until,
                created_at=now,
            )
    except IntegrityError:
        # The lock and the guard make this a last resort: the unique constraint decides.
        raise WrongState(str(EXTENSION_PENDING)) from None
    FLOW.record(
        case,
        EventType.REQUEST_EXTENSION,
        actor,
        role,
        case.status,
        {"request": request.pk, "until": until.isoformat(), "reason": reason},
        is_public=False,
        now=now,
    )
    return request


@transaction.atomic
def case_decide_extension(
    *, case: Case, actor: User, approve: bool, note: str = ""
) -> ExtensionRequest:
    """延期审批: only an approval moves ``resolve_by``."""
    case, role = FLOW.begin(case, actor, EventType.DECIDE_EXTENSION)
    # The guard found it under the case's lock, which every extension step takes first.
    request = ExtensionRequest.objects.select_for_update().get(
        case=case, status=ExtensionStatus.PENDING
    )
    if approve and case.resolve_by and request.requested_until <= case.resolve_by:
        raise WrongState(_("申请的期限已不晚于现在的办结时限，无需延期。"))
    now = timezone.now()
    request.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
    request.decided_by = actor
    request.decided_at = now
    request.decision_note = clean_text(note, "note", required=False, max_length=255)
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    previous = case.resolve_by
    if approve:
        case.resolve_by = request.requested_until
        case.warn_at = sla.warning_point(
            case.dispatched_at or now, case.resolve_by, SUPERVISION["warning_share"]
        )
        # A later deadline clears warning/overdue flags; a 督办 order keeps its own level.
        if case.supervision_level != SupervisionLevel.SUPERVISED:
            case.supervision_level = SupervisionLevel.ON_TIME
        FLOW.save(case, "resolve_by", "warn_at", "supervision_level")
    FLOW.record(
        case,
        EventType.DECIDE_EXTENSION,
        actor,
        role,
        case.status,
        {
            "request": request.pk,
            "approved": bool(approve),
            "from": previous.isoformat() if previous else None,
            "to": case.resolve_by.isoformat() if approve and case.resolve_by else None,
            "note": request.decision_note,
        },
        is_public=False,
        now=now,
    )
    return request


@transaction.atomic
def case_reply(
    *,
    case: Case,
    actor: User | AnonymousUser,
    outcome: str,
    text: str,
    evidence: Sequence[UploadedFile] = (),
) -> Case:
    """办结答复: the lead unit's result (resolved / partly / explained), with evidence."""
    case, role = FLOW.begin(case, actor, EventType.REPLY)
    if outcome not in Outcome.values:
        raise invalid("outcome", _("请选择办理结果。"))
    text = clean_text(text, "text", max_length=NOTE_MAX)
    checked = check_uploads(list(evidence), allow_pdf=True, field="evidence")
    now = timezone.now()
    case.outcome = outcome
    case.reply_text = text
    case.replied_at = now
    from_status = FLOW.move(case, EventType.REPLY)
    FLOW.save(case, "status", "outcome", "reply_text", "replied_at")
    SupervisionOrder.objects.filter(case=case, fulfilled_at__isnull=True).update(fulfilled_at=now)
    # A request for more time, or to give the case back, no longer applies once the unit has
    # replied.
    _lapse_requests(case, now, "")
    event = FLOW.record(
        case,
        EventType.REPLY,
        actor,
        role,
        from_status,
        {
            "outcome": outcome,
            "text": text,
            "on_time": case.resolve_by is None or now <= case.resolve_by,
        },
        now=now,
    )
    # FLOW.begin let only a signed-in user through.
    store_uploads(checked, case=case, event=event, uploaded_by=cast(User, actor))
    return case


# --- 评 evaluate -----------------------------------------------------------------------------


def _evaluate(case: Case, actor: User | None, role: str | None, rating: str, comment: str) -> Case:
    if rating not in Rating.values:
        raise invalid("rating", _("请选择满意、基本满意或不满意。"))
    comment = clean_text(comment, "comment", required=False, max_length=500)
    now = timezone.now()
    source = EvaluationSource.CALLBACK if role == Role.OPERATOR else EvaluationSource.COMPLAINANT
    try:
        with transaction.atomic():
            Evaluation.objects.create(
                case=case,
                round=case.reopen_count,
                rating=rating,
                comment=comment,
                source=source,
                by=actor if actor is not None and actor.is_authenticated else None,
                created_at=now,
            )
    except IntegrityError:
        raise WrongState(_("这一轮办理已经评价过了。")) from None
    from_status = FLOW.move(case, EventType.EVALUATE)
    # A second 不满意 (after one re-handling) goes to a supervisor to judge (督查研判).
    if rating == Rating.UNSATISFIED and case.reopen_count >= MAX_REOPENS:
        case.status = Status.REVIEW
    case.rating = rating
    case.evaluated_at = now
    FLOW.save(case, "status", "rating", "evaluated_at")
    FLOW.record(
        case,
        EventType.EVALUATE,
        actor,
        role,
        from_status,
        {"rating": rating, "comment": comment, "source": source, "round": case.reopen_count},
        now=now,
    )
    return case


@transaction.atomic
def case_evaluate(*, case: Case, actor: User | None, rating: str, comment: str = "") -> Case:
    """评价 by the complainant (signed in) or by an operator's callback (回访)."""
    case, role = FLOW.begin(case, actor, EventType.EVALUATE)
    return _evaluate(case, actor, role, rating, comment)


@transaction.atomic
def case_evaluate_by_tracking(
    *, case: Case, phone_last4: str, rating: str, comment: str = ""
) -> Case:
    """评价 from the public tracking page: the code and the phone's last four digits identify
    the complainant, the way the SMS with the evaluation link does."""
    case = FLOW.lock(case)
    if not phone_last4 or case.complainant_phone[-4:] != phone_last4:
        raise NotAllowed(_("受理编号与手机号后四位不匹配。"))
    if case.status not in TRANSITIONS[EventType.EVALUATE].sources:
        raise WrongState(
            _("诉求当前状态为“%(status)s”，不能评价。") % {"status": case.get_status_display()}
        )
    return _evaluate(case, None, Role.RESIDENT, rating, comment)


@transaction.atomic
def case_reopen(*, case: Case, actor: User, reason: str) -> Case:
    """重办: an unsatisfied case goes back to the lead unit with a new deadline, once (a case
    answered at intake goes back to dispatch instead); after a second 不满意 only a supervisor
    may order re-handling."""
    case, role = FLOW.begin(case, actor, EventType.REOPEN)
    reason = clean_text(reason, "reason", max_length=NOTE_MAX)
    now = timezone.now()
    case.reopen_count += 1
    # A case answered at intake has no unit to send it back to: it goes to dispatch (待派单),
    # which sets the deadlines; otherwise the lead unit gets a fresh deadline.
    to_dispatch = case.lead_unit_id is None
    case.resolve_by = (
        None
        if to_dispatch
        else sla.WorkCalendar.load().add(now, REOPEN_RESOLVE_DAYS, sla.TimeUnit.WORKING_DAYS)
    )
    case.warn_at = (
        sla.warning_point(now, case.resolve_by, SUPERVISION["warning_share"])
        if case.resolve_by
        else None
    )
    case.supervision_level = SupervisionLevel.ON_TIME
    case.outcome = ""
    case.rating = ""
    case.replied_at = None
    case.evaluated_at = None
    from_status = FLOW.move(case, EventType.REOPEN)
    if to_dispatch:
        case.status = Status.ACCEPTED
        # The unit it is dispatched to must make its own first contact (响应率), as on a return.
        case.contacted_at = None
    FLOW.save(
        case,
        "status",
        "reopen_count",
        "resolve_by",
        "warn_at",
        "supervision_level",
        "outcome",
        "rating",
        "replied_at",
        "evaluated_at",
        "contacted_at",
    )
    FLOW.record(
        case,
        EventType.REOPEN,
        actor,
        role,
        from_status,
        {
            "reason": reason,
            "resolve_by": case.resolve_by.isoformat() if case.resolve_by else None,
            "round": case.reopen_count,
        },
        now=now,
    )
    return case


# --- 督 supervise, re-route, 报 close --------------------------------------------------------


@transaction.atomic
def case_supervise(
    *, case: Case, actor: User, due_at: dt.datetime | None, note: str
) -> SupervisionOrder:
    """督办: a supervisor orders the case finished by a date; the case shows as supervised."""
    case, role = FLOW.begin(case, actor, EventType.SUPERVISE)
    now = timezone.now()
    due_at = _future(due_at, "due_at", now)
    note = clean_text(note, "note", max_length=NOTE_MAX)
    order = SupervisionOrder.objects.create(
        case=case, issued_by=actor, due_at=due_at, note=note, created_at=now
    )
    case.supervision_level = SupervisionLevel.SUPERVISED
    FLOW.save(case, "supervision_level")
    FLOW.record(
        case,
        EventType.SUPERVISE,
        actor,
        role,
        case.status,
        {"order": order.pk, "due_at": due_at.isoformat(), "note": note},
        now=now,
    )
    return order


@transaction.atomic
def case_recategorise(*, case: Case, actor: User, category: Category | None, reason: str) -> Case:
    """改分类 (re-route): the old and new category stay in the timeline. Deadlines already set
    by dispatch stay; an undispatched case gets the new category's accept deadline."""
    case, role = FLOW.begin(case, actor, EventType.RECATEGORISE)
    category = _check_category(category)
    if category.pk == case.category_id:
        raise invalid("category", _("新分类与原分类相同。"))
    reason = clean_text(reason, "reason", max_length=NOTE_MAX)
    previous = case.category
    case.category = category
    fields = ["category"]
    if case.status == Status.SUBMITTED:
        case.accept_by = sla.accept_deadline(category, case.created_at, urgency=case.urgency)
        fields.append("accept_by")
    FLOW.save(case, *fields)
    FLOW.record(
        case,
        EventType.RECATEGORISE,
        actor,
        role,
        case.status,
        {"from": previous.name, "to": category.name, "reason": reason},
        is_public=False,
    )
    return case


@transaction.atomic
def case_close(
    *,
    case: Case,
    actor: User | None,
    unreasonable: bool = False,
    note: str = "",
    system: bool = False,
) -> Case:
    """归档. From 已评价 by intake staff; from 待评价 when nobody evaluated in time (the
    supervision scan, ``system=True``: not counted as satisfied); from 督查研判 by a supervisor,
    who may rule the demand unreasonable (then it is left out of the 满意率)."""
    if system:
        case, role = FLOW.lock(case), None
        if case.status != Status.REPLIED:
            raise WrongState(_("只有待评价的诉求会因超时未评价而归档。"))
    else:
        case, role = FLOW.begin(case, actor, EventType.CLOSE)
        if unreasonable and case.status != Status.REVIEW:
            raise invalid("unreasonable", _("只有督查研判时才能认定为不合理诉求。"))
    now = timezone.now()
    case.excluded_from_satisfaction = bool(unreasonable)
    case.closed_at = now
    from_status = FLOW.move(case, EventType.CLOSE)
    FLOW.save(case, "status", "excluded_from_satisfaction", "closed_at")
    FLOW.record(
        case,
        EventType.CLOSE,
        actor,
        role,
        from_status,
        {
            "unreasonable": bool(unreasonable),
            "not_evaluated": system,
            "note": clean_text(note, "note", required=False, max_length=NOTE_MAX),
        },
        now=now,
    )
    return case
