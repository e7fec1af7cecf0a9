"""POST requests: a client's service request becomes a case through ``workflow.case_submit``,
the same function the web form and the operators' quick entry call, on the ``open311`` channel
with the client recorded on the case.

Where the case is (it needs a community or village, 社区/村, to be dispatched):

* ``address_id`` is the id of a community or village in ``GET /api/v1/regions/?level=4``;
* else ``address_string`` must name one community (康西社区), the street or district beside it
  when the name is not unique in the city (城东区大众街街道康西社区);
* else ``lat``/``long`` alone place it in the nearest community whose point (代表点, where its
  committee sits: ``Region.lat``/``lng``) lies within ``OPEN311_PLACE_KM``; the regions carry no
  outlines below the district, so the nearest point is the best the city's data can say, and the
  address is for the unit to read.

``lat``/``long`` are stored with the case whichever way it was placed. A request whose place
cannot be resolved is refused with a 400 naming the field it gave (``address_id``,
``address_string``, or ``lat``).

Who complains: ``last_name`` + ``first_name`` (family name first, as Chinese names are written)
and ``phone`` are required, because the unit calls the complainant back and the evaluation
(评价) is asked by phone. ``email``, ``device_id``, ``account_id`` and ``media_url`` are
accepted and not kept: a case has no field for them, and the server fetches no outside URL.

The category's attributes (``attribute[code]``) are checked against its definition and
appended to the description as one line (【补充信息】…), where every reader of the case sees
them and the public reads them masked like the rest of the text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import StrIndex
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import Region, RegionLevel

from .. import workflow
from ..models import (
    LIST_ATTRIBUTE_TYPES,
    Case,
    Category,
    Channel,
    Open311Client,
    Open311Submission,
)
from .formats import Open311Error, bad_field
from .reading import active_category, attribute_definitions

ATTRIBUTE_LINE = "【补充信息】"


def _coordinate(data: QueryDict, name: str, limit: int) -> Decimal | None:
    raw = data.get(name, "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or abs(value) > limit:
        raise bad_field(name, _("须为 -%(limit)s 至 %(limit)s 之间的数。") % {"limit": limit})
    return value.quantize(Decimal("0.000001"))


def _community_by_id(raw: str) -> Region:
    region = None
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:  # a bigint, never "²"
        region = Region.objects.filter(pk=int(raw), level=RegionLevel.COMMUNITY).first()
    if region is None:
        raise bad_field("address_id", _("须为社区或村的区划编号（见 /api/v1/regions/?level=4）。"))
    return region


def _community_by_address(address: str) -> Region:
    """The one community named in the address; a name shared by several communities is
    narrowed by the street or district also written there."""
    # Only the communities whose name the address contains, found by the database.
    communities = list(
        Region.objects.filter(level=RegionLevel.COMMUNITY)
        .annotate(at=StrIndex(Value(address), F("name")))
        .filter(at__gt=0)
        .select_related("parent__parent")
    )
    named = [c for c in communities if c.name in address]
    if len(named) > 1:
        # 康西社区 inside 城东区康西社区: the longer, more precise names win over their parts.
        named = [c for c in named if not any(c.name in o.name and c is not o for o in named)]
    if len(named) > 1:
        named = [
            c
            for c in named
            if c.parent is not None
            and (c.parent.name in address or (c.parent.parent and c.parent.parent.name in address))
        ]
    if len(named) != 1:
        raise bad_field(
            "address_string",
            _("无法确定所在社区或村：请写明社区（村）名称及所在街道，或提供 address_id。"),
        )
    return named[0]


KM_PER_DEGREE = 111.2  # of latitude; of longitude, this times cos(latitude)


def _community_near(lat: Decimal, lng: Decimal) -> Region:
    """The community whose point is nearest (``lat``, ``lng``), within ``OPEN311_PLACE_KM``.

    A bounding box in the query keeps the rows read to the few communities around the point (a
    city has a few thousand communities; no index is needed at that size), and the distance on
    them is the equirectangular one, exact enough across a few kilometres."""
    radius = settings.OPEN311_PLACE_KM
    y, x = float(lat), float(lng)
    shrink = max(math.cos(math.radians(y)), 0.01)  # a degree of longitude is shorter up north
    d_lat, d_lng = radius / KM_PER_DEGREE, radius / (KM_PER_DEGREE * shrink)
    nearby = Region.objects.filter(
        level=RegionLevel.COMMUNITY,
        lat__range=(y - d_lat, y + d_lat),
        lng__range=(x - d_lng, x + d_lng),
    ).values_list("pk", "lat", "lng")
    distances = [
        (KM_PER_DEGREE * math.hypot(float(p_lat) - y, (float(p_lng) - x) * shrink), pk)
        for pk, p_lat, p_lng in nearby
        if p_lat is not None and p_lng is not None  # the range filters say so already
    ]
    within = [(km, pk) for km, pk in distances if km <= radius]
    if not within:
        raise bad_field(
            "lat",
            _("%(km)s 公里内没有本市的社区或村：请提供 address_string 或 address_id。")
            % {"km": radius},
        )
    return Region.objects.get(pk=min(within)[1])


def _attributes(category: Category, data: QueryDict) -> str:
    """The posted attributes, checked against the category's definition, as one line."""
    definitions = attribute_definitions(category)
    known = {d["code"] for d in definitions}
    for key in data:
        if key.startswith("attribute[") and key.split("[", 2)[1].rstrip("]") not in known:
            raise bad_field(key, _("该服务没有这一补充信息项。"))
    answers = []
    for definition in definitions:
        field = f"attribute[{definition['code']}]"
        values = [v.strip() for v in data.getlist(field) + data.getlist(f"{field}[]") if v.strip()]
        if not values:
            if definition["required"]:
                raise bad_field(field, _("必填。"))
            continue
        answers.append(f"{definition['description']}：{_answer(definition, field, values)}")
    return f"{ATTRIBUTE_LINE}{'；'.join(answers)}" if answers else ""


def _answer(definition: dict[str, Any], field: str, values: list[str]) -> str:
    datatype = definition["datatype"]
    if datatype in LIST_ATTRIBUTE_TYPES:
        names = {v["key"]: v["name"] for v in definition["values"]}
        if any(v not in names for v in values) or (
            datatype == "singlevaluelist" and len(values) > 1
        ):
            raise bad_field(field, _("须为以下之一：%(keys)s。") % {"keys": ", ".join(names)})
        return "、".join(names[v] for v in values)
    if len(values) > 1:
        raise bad_field(field, _("只能填一个值。"))
    if datatype == "number":
        try:
            number = Decimal(values[0])
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise bad_field(field, _("须为数字。"))
    return values[0][:200]


STALE_CLAIM = dt.timedelta(minutes=5)  # a claim this old without its case: its post died


def _digest(client: Open311Client, data: QueryDict) -> str:
    """What the client posted (every field but the key, in order) and the local day."""
    fields = sorted((k, v) for k, values in data.lists() if k != "api_key" for v in values)
    day = timezone.localdate().isoformat()
    text = json.dumps([client.pk, day, fields], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _claim(client: Open311Client, digest: str) -> Open311Submission:
    """This post's row: claimed now (no case yet), or the earlier same post's, with the case it
    made. A same post still being filed is a 409; a claim left by a post that died
    (``STALE_CLAIM``) is taken over."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return Open311Submission.objects.create(client=client, digest=digest, created_at=now)
    except IntegrityError:
        earlier = Open311Submission.objects.select_related("case").get(
            client=client, digest=digest
        )
    if earlier.case is not None:
        return earlier
    taken = Open311Submission.objects.filter(
        pk=earlier.pk, case__isnull=True, created_at__lt=now - STALE_CLAIM
    ).update(created_at=now)
    if not taken:
        raise Open311Error(409, _("相同的请求正在处理，请稍后用 GET requests 查询。"))
    return earlier


def submit(*, client: Open311Client, data: QueryDict) -> tuple[Case, bool]:
    """The request as a case, through the web form's workflow function; and whether it is new
    (False: the client posted the same request before, and gets that case back)."""
    code = data.get("service_code", "").strip()
    if not code:
        raise bad_field("service_code", _("必填。"))
    category = active_category(code)
    lat = _coordinate(data, "lat", 90)
    lng = _coordinate(data, "long", 180)
    if (lat is None) != (lng is None):
        raise bad_field("long" if lng is None else "lat", _("lat 与 long 须同时提供。"))
    address = data.get("address_string", "").strip()
    address_id = data.get("address_id", "").strip()
    if not (address_id or address or lat is not None):
        raise bad_field("address_string", _("请提供 lat/long、address_string 或 address_id。"))
    if address_id:
        region = _community_by_id(address_id)
    elif address:
        region = _community_by_address(address)
    else:
        region = _community_near(cast(Decimal, lat), cast(Decimal, lng))
    name = data.get("last_name", "").strip() + data.get("first_name", "").strip()
    if not name:
        raise bad_field("last_name", _("请填写诉求人姓名（last_name / first_name）。"))
    description = data.get("description", "").strip()
    if not description:
        raise bad_field("description", _("必填。"))
    extra = _attributes(category, data)
    # Claimed before the case is written, and not in its transaction: case_submit takes the
    # day's tracking number in a transaction of its own, which one around it would hold open.
    claim = _claim(client, _digest(client, data))
    if claim.case is not None:
        return claim.case, False
    try:
        case = workflow.case_submit(
            actor=None,
            category=category,
            region=region,
            description=f"{description}\n{extra}" if extra else description,
            complainant_name=name,
            complainant_phone=data.get("phone", ""),
            channel=Channel.OPEN311,
            address=address,
            lat=lat,
            lng=lng,
            open311_client=client,
        )
    except BaseException:
        claim.delete()  # refused: the same post, corrected or not, is judged afresh
        raise
    Open311Submission.objects.filter(pk=claim.pk).update(case=case)
    return case, True
