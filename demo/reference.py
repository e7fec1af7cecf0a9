"""Demo reference data for the case workflow: categories with their SLAs, and the 权责清单
(both listed in ``demo.catalogue``).

Idempotent like ``demo.organisation``: rows are found by code (categories) or by category and owner
(responsibilities).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from cases import workflow
from cases.models import OPEN_STATUSES, Case, Category, Channel, Responsibility, Status
from org.models import Region, Unit, User

# The categories with their SLAs, and the 权责清单: one registry with the generator's words.
from .catalogue import CATEGORIES, RESPONSIBILITIES


@transaction.atomic
def seed_reference() -> tuple[int, int]:
    """Create the demo categories and responsibilities; returns how many of each were added.
    An existing category keeps its settings except whether residents are offered it, which
    follows ``CATEGORIES`` (a demo database seeded before the drill was withheld gets it)."""
    added_categories = 0
    by_code = {c.code: c for c in Category.objects.all()}
    for demo in CATEGORIES:
        if demo.code in by_code:
            existing = by_code[demo.code]
            if existing.offered_to_residents != demo.offered:
                existing.offered_to_residents = demo.offered
                existing.save(update_fields=["offered_to_residents"])
            continue
        by_code[demo.code] = Category.objects.create(
            code=demo.code,
            name=demo.name,
            parent=by_code[demo.parent] if demo.parent else None,
            is_urgent=demo.urgent,
            contact_amount=demo.contact[0],
            contact_unit=demo.contact[1],
            resolve_amount=demo.resolve[0],
            resolve_unit=demo.resolve[1],
            open311_attributes=list(demo.attributes),
            offered_to_residents=demo.offered,
        )
        added_categories += 1
    units = {u.code: u for u in Unit.objects.all()}
    added_rules = 0
    for code, level, kind, unit_code, co_codes, note in RESPONSIBILITIES:
        category = by_code[code]
        unit = units.get(unit_code) if unit_code else None
        rule, created = Responsibility.objects.get_or_create(
            category=category,
            region_level=level,
            unit_kind=kind,
            unit=unit,
            defaults={"note": note, "priority": 10 if kind else 20},
        )
        if created:
            rule.co_units.set([units[c] for c in co_codes])
            added_rules += 1
    return added_categories, added_rules


def seed_live_case() -> Case:
    """A drill case logged by the hotline and dispatched to 湟中区 now, through the workflow,
    with minute deadlines: the supervision scan turns it 预警 (yellow) after three minutes and
    超期 (red) after four, and handler_huangzhong's inbox gets each reminder. The complainant
    is plainly fictional: the real 赵先生 case of 2023-10-19 is in the archive
    (``demo.archive``)."""
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_ACTORS)}
    region = Region.objects.get(name="多巴一村", parent__name="多巴镇")
    # Logged by an operator: residents are never offered the drill category.
    case = workflow.case_submit(
        actor=users["operator1"],
        channel=Channel.PHONE,
        category=Category.objects.get(code="drill"),
        region=region,
        title="演练：管道破损停暖",
        description="应急演练（演示数据）：演练用地址附近供暖管道破损，多户停暖。",
        complainant_name="演练人员",
        complainant_phone="13800138000",
        address="演练点1号",
    )
    workflow.case_accept(case=case, actor=users["operator1"])
    workflow.case_dispatch(
        case=case,
        actor=users["dispatcher_huangzhong"],
        lead_unit=Unit.objects.get(code="huangzhong-gov"),
    )
    workflow.case_sign(case=case, actor=users["handler_huangzhong"])
    # The unit calls at once, so the case is chased only for its resolve deadline: 预警, then 超期.
    workflow.case_record_contact(case=case, actor=users["handler_huangzhong"], note="演练")
    case.refresh_from_db()
    return case


def open_drill_today() -> Case | None:
    """Today's drill case while it is still open (not yet evaluated or archived)."""
    today = timezone.localdate()
    return (
        Case.objects.filter(
            category__code="drill",
            status__in=OPEN_STATUSES,
            created_at__date=today,
        )
        .exclude(status=Status.EVALUATED)
        .order_by("-created_at")
        .first()
    )


def live_case() -> tuple[Case, bool]:
    """``seed_demo --live-case``, which ``make run`` passes on every start: today's open drill
    case if there is one, else a new one (``True``). A restart does not pile up drills, and
    each day (or after the drill is closed) the scan can be watched at work again."""
    existing = open_drill_today()
    if existing is not None:
        return existing, False
    return seed_live_case(), True


DEMO_ACTORS = ["operator1", "dispatcher_huangzhong", "handler_huangzhong"]
