"""The public reads of GeoReport v2: the services (categories) and the service requests (cases)
as the public may read them.

What the public reads of a case is what the tracking page shows, through the same functions:
the free text masked by ``selectors.masked_text`` (phone, ID and card numbers, e-mail addresses
and the complainant's name), the latest public step's text as ``PublicEventSerializer`` writes
it, and no name, phone or internal note, ever. Two choices beyond the tracking page:

* the place is published at community level (``address`` is the community's full name, the
  coordinates rounded to three decimals, about 100 m): the house number and the exact point of
  a complaint about a home say whose home it is;
* rejected cases (不予受理: out of scope, duplicate, malicious) are left out of the lists, but
  answered by their id as ``closed`` with the reason and without their text, so a client
  following a request it filed learns what became of it.

No photo is public (attachments are served only to staff and the complainant), so no request
carries ``media_url``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from org.models import Region

from .. import selectors
from ..api.serializers import PublicEventSerializer
from ..api.steps import STEPS
from ..models import OPEN_STATUSES, Case, CaseEvent, Category, EventType, Status
from .formats import Open311Error, bad_field

WINDOW = dt.timedelta(days=90)  # the spec's longest span of a request list
MIN_YEAR, MAX_YEAR = 2000, 2100  # the dates a request list may name
PAGE_SIZE = 1000  # the spec's default, and the most one page holds
COORDINATE = Decimal("0.001")
CLOSED_STATUSES = (Status.CLOSED, Status.REJECTED)


def w3c(value: dt.datetime | None) -> str | None:
    """A W3C date-time with its offset (2023-10-19T09:30:00+08:00), in Xining's time."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


# --- services ----------------------------------------------------------------------------------


def _offered() -> QuerySet[Category]:
    """The categories a client may file: active and offered to residents (a drill is not)."""
    return Category.objects.filter(is_active=True, offered_to_residents=True)


def _active_categories() -> list[Category]:
    return list(_offered().select_related("parent"))


def _top(category: Category, by_pk: dict[int, Category]) -> Category:
    """The category's top-level ancestor (the spec's ``group``)."""
    seen = {category.pk}
    while category.parent_id is not None and category.parent_id not in seen:
        seen.add(category.parent_id)
        category = by_pk.get(category.parent_id) or category.parent  # type: ignore[assignment]
    return category


def _service(category: Category, by_pk: dict[int, Category]) -> dict[str, Any]:
    group = _top(category, by_pk).name
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.name if group == category.name else f"{group} · {category.name}",
        "metadata": bool(category.open311_attributes),
        # Every complaint is a case at once (it has its tracking code when the POST returns).
        "type": "realtime",
        "keywords": "",
        "group": group,
    }


def services() -> list[dict[str, Any]]:
    """Every category a client may file, by its code."""
    categories = _active_categories()
    by_pk = {c.pk: c for c in categories}
    ordered = sorted(categories, key=lambda c: (_top(c, by_pk).name, c.parent_id or 0, c.name))
    return [_service(c, by_pk) for c in ordered]


def active_category(code: str) -> Category:
    """The active category with this code offered to clients; 404 when there is none."""
    category = _offered().filter(code=code).first()
    if category is None:
        raise Open311Error(404, _("service_code %(code)s 不存在。") % {"code": code})
    return category


def attribute_definitions(category: Category) -> list[dict[str, Any]]:
    """The category's attributes in the spec's shape, in their order."""
    stored = sorted(category.open311_attributes, key=lambda a: a.get("order", 0))
    return [
        {
            "variable": True,
            "code": item["code"],
            "datatype": item["datatype"],
            "required": bool(item.get("required", False)),
            "datatype_description": item.get("datatype_description", ""),
            "order": item.get("order", index),
            "description": item["description"],
            **({"values": item["values"]} if item.get("values") else {}),
        }
        for index, item in enumerate(stored, start=1)
    ]


def service_definition(code: str) -> dict[str, Any]:
    category = active_category(code)
    return {"service_code": category.code, "attributes": attribute_definitions(category)}


# --- service requests -------------------------------------------------------------------------


# The public steps that carry a text the public reads (``PublicEventSerializer.get_text``).
NOTE_EVENTS = (EventType.PROGRESS, EventType.REPLY, EventType.RESOLVE_AT_INTAKE)


def _public_cases() -> QuerySet[Case]:
    """Cases with the ids of their latest public step and latest public note (two subqueries
    in the same statement; the events themselves come in one more query per page)."""
    public = CaseEvent.objects.filter(case=OuterRef("pk"), is_public=True).order_by(
        "-created_at", "-id"
    )
    return Case.objects.select_related("category", "lead_unit").annotate(
        latest_public_event=Subquery(public.values("pk")[:1]),
        latest_public_note=Subquery(public.filter(type__in=NOTE_EVENTS).values("pk")[:1]),
    )


def _date(params: dict[str, str], name: str) -> dt.datetime | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = parse_datetime(raw.replace(" ", "+"))  # a '+' unescaped in a URL is a space
    except ValueError:
        value = None
    # A year far off would overflow the 90-day arithmetic below: no case is dated outside these.
    if value is None or not MIN_YEAR <= value.year <= MAX_YEAR:
        raise bad_field(name, _("须为 W3C 日期时间，如 2023-10-19T09:30:00+08:00。"))
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _window(params: dict[str, str]) -> tuple[dt.datetime, dt.datetime]:
    """``start_date``/``end_date``: at most 90 days; one given, the other is 90 days off it;
    neither, the last 90 days."""
    start, end = _date(params, "start_date"), _date(params, "end_date")
    if start is None:
        end = end or timezone.now()
        start = end - WINDOW
    elif end is None:
        end = start + WINDOW
    if end < start:
        raise bad_field("end_date", _("不能早于 start_date。"))
    if end - start > WINDOW:
        raise bad_field("end_date", _("与 start_date 相隔不能超过 90 天。"))
    return start, end


def _positive(params: dict[str, str], name: str, default: int, most: int) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    # isascii: "²".isdigit() is true, and int() refuses it.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not 1 <= int(raw) <= most:
        raise bad_field(name, _("须为 1 至 %(most)s 的整数。") % {"most": most})
    return int(raw)


def _listed(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def find_requests(params: dict[str, str]) -> list[Case]:
    """GET requests: by ``service_request_id`` (a comma list; it overrides every other
    parameter, as the spec says), else within the date window, by ``service_code`` and
    ``status`` (``open``, ``closed``), newest first, ``page_size`` (at most 1000) a ``page``."""
    codes = _listed(params.get("service_request_id", ""))
    if codes:
        return list(_public_cases().filter(tracking_code__in=codes[:PAGE_SIZE]))
    start, end = _window(params)
    cases = _public_cases().filter(created_at__gte=start, created_at__lte=end)
    cases = cases.exclude(status=Status.REJECTED)
    service_codes = _listed(params.get("service_code", ""))
    if service_codes:
        cases = cases.filter(category__code__in=service_codes)
    statuses = _listed(params.get("status", "").lower())
    if any(s not in ("open", "closed") for s in statuses):
        raise bad_field("status", _("须为 open 或 closed。"))
    if statuses and set(statuses) != {"open", "closed"}:
        wanted = OPEN_STATUSES if statuses[0] == "open" else [Status.CLOSED]
        cases = cases.filter(status__in=wanted)
    size = _positive(params, "page_size", PAGE_SIZE, PAGE_SIZE)
    page = _positive(params, "page", 1, 1_000_000)
    offset = (page - 1) * size
    return list(cases.order_by("-created_at", "-id")[offset : offset + size])


def find_request(code: str) -> Case:
    case = _public_cases().filter(tracking_code=code).first()
    if case is None:
        raise Open311Error(404, _("service_request_id %(code)s 不存在。") % {"code": code})
    return case


def _round(value: Decimal | None) -> float | None:
    """A coordinate to about 100 m (a house is not published); a number, as the spec's JSON
    has it."""
    return None if value is None else float(value.quantize(COORDINATE, rounding=ROUND_HALF_UP))


def _status_notes(case: Case, step: CaseEvent | None, note: CaseEvent | None) -> str:
    """The latest public note (a public progress note, the reply) as the tracking page writes
    it, masked; without one, what the tracking page says of the latest public step (with the
    reason, for a rejection)."""
    if note is not None:
        text = PublicEventSerializer(context={"case": case}).get_text(note)
        if text:
            return text
    if step is None:
        return ""
    entry = STEPS.by_event.get(step.type)
    said = str(entry.tracking) if entry is not None and entry.tracking else step.get_type_display()
    if step.type == EventType.REJECT and case.reject_reason:
        return f"{said}：{case.get_reject_reason_display()}"
    return said


def represent(cases: Sequence[Case]) -> list[dict[str, Any]]:
    """The cases as the spec's requests, in the public's reading (see the module docstring)."""
    wanted = {
        pk
        for case in cases
        for pk in (case.latest_public_event, case.latest_public_note)  # type: ignore[attr-defined]
        if pk
    }
    events = {e.pk: e for e in CaseEvent.objects.filter(pk__in=wanted)}
    regions = Region.full_names(c.region_id for c in cases)
    return [
        _request(
            case,
            _status_notes(
                case,
                events.get(case.latest_public_event),  # type: ignore[attr-defined]
                events.get(case.latest_public_note),  # type: ignore[attr-defined]
            ),
            regions,
        )
        for case in cases
    ]


def _request(case: Case, notes: str, regions: dict[int, str]) -> dict[str, Any]:
    rejected = case.status == Status.REJECTED
    return {
        "service_request_id": case.tracking_code,
        "status": "closed" if case.status in CLOSED_STATUSES else "open",
        "status_notes": notes,
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": "" if rejected else selectors.masked_text(case.description, case=case),
        "agency_responsible": case.lead_unit.name if case.lead_unit else "",
        "service_notice": "",
        "requested_datetime": w3c(case.created_at),
        "updated_datetime": w3c(case.updated_at),
        "expected_datetime": w3c(case.resolve_by),
        "address": regions.get(case.region_id, ""),
        "address_id": str(case.region_id),
        "zipcode": "",
        "lat": _round(case.lat),
        "long": _round(case.lng),
    }
