"""The staff case map's endpoint (``GET /api/v1/stats/case-map/``): its shape, that its grid
cells add up to the cases they stand for, its scope, filters, query count and its 400s."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import OPEN_STATUSES, Case, Status
from demo.history import generate_cases
from stats.api.map import CITY_BBOX, GRID, cell_size
from tests.conftest import Demo
from tests.stats.conftest import get

pytestmark = pytest.mark.django_db

URL = "/api/v1/stats/case-map/"
# Inside 湟中区 and inside 城东区 (checked against the packaged outlines).
HUANGZHONG = (Decimal("36.420000"), Decimal("101.500000"))
CHENGDONG = (Decimal("36.600000"), Decimal("101.820000"))


def place_open_cases() -> list[Case]:
    """Every open case gets a location a little apart from the others near its district's
    demo centre (a fixed pattern, so that several share a cell and some stand alone)."""
    cases = list(Case.objects.filter(status__in=OPEN_STATUSES).select_related("district"))
    for i, case in enumerate(cases):
        base = HUANGZHONG if case.district.name == "湟中区" else CHENGDONG
        case.lat = base[0] + Decimal(i % 7) * Decimal("0.004")
        case.lng = base[1] + Decimal(i % 11) * Decimal("0.003")
    Case.objects.bulk_update(cases, ["lat", "lng"])
    return cases


@pytest.fixture
def mapped(demo: Demo) -> Demo:
    """The demo organisation, 300 generated cases, every open one placed on the map."""
    generate_cases(300, now=timezone.now(), seed=5)
    place_open_cases()
    return demo


def position(case: Case) -> tuple[float, float]:
    assert case.lng is not None and case.lat is not None
    return float(case.lng), float(case.lat)


def expected_cells(cases: list[Case], size: float) -> Counter[tuple[int, int]]:
    return Counter(
        (math.floor(lng / size), math.floor(lat / size)) for lng, lat in map(position, cases)
    )


def test_the_shape_and_the_cells_add_up_to_the_cases(api_client, mapped, superuser) -> None:
    response = get(api_client, superuser, URL)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"bbox", "cell", "status", "total", "overdue", "cells"}
    assert body["status"] == "open" and body["bbox"] == list(CITY_BBOX)
    assert body["cell"] == cell_size(CITY_BBOX)
    located = list(
        Case.objects.filter(status__in=OPEN_STATUSES, lat__isnull=False, lng__isnull=False)
    )
    assert located, "the fixture places the open cases"
    assert body["total"] == len(located)
    assert len(body["cells"]) <= (GRID + 1) ** 2
    for lng, lat, count, overdue, case_id in body["cells"]:
        assert CITY_BBOX[0] <= lng <= CITY_BBOX[2] and CITY_BBOX[1] <= lat <= CITY_BBOX[3]
        assert 0 <= overdue <= count
        assert (case_id is None) == (count != 1)
    # The counts per cell are those of a grouping done here, cell by cell.
    size = body["cell"]
    got = Counter(
        {
            (math.floor(lng / size), math.floor(lat / size)): count
            for lng, lat, count, *_ in body["cells"]
        }
    )
    assert got == expected_cells(located, size)


def test_a_finer_extent_gets_finer_cells_and_single_cases_with_their_id(
    api_client, mapped, superuser
) -> None:
    bbox = "101.815,36.595,101.86,36.63"
    body = get(api_client, superuser, URL, bbox=bbox).json()
    assert body["cell"] < cell_size(CITY_BBOX)
    singles = {c[4] for c in body["cells"] if c[2] == 1}
    assert singles, "a fine grid puts some cases alone in their cell"
    for case in Case.objects.filter(pk__in=singles):
        cell = next(c for c in body["cells"] if c[4] == case.pk)
        assert (cell[0], cell[1]) == position(case)  # exactly on the case


def test_a_chengdong_dispatcher_sees_no_huangzhong_points(api_client, mapped) -> None:
    # Given open cases placed in 湟中区 and in 城东区 (two of them moved there, whatever the
    # generator drew)
    chengdong = mapped.region("城东区")
    huangzhong = mapped.region("湟中区")
    first, second = Case.objects.filter(status__in=OPEN_STATUSES).order_by("pk")[:2]
    for case, names, (lat, lng) in (
        (first, ("湟中区", "多巴镇", "多巴一村"), HUANGZHONG),
        (second, ("城东区", "大众街街道", "康西社区"), CHENGDONG),
    ):
        region = mapped.region(*names)
        Case.objects.filter(pk=case.pk).update(
            region=region, street=region.parent, district=region.parent.parent, lat=lat, lng=lng
        )
    in_huangzhong = Case.objects.filter(district=huangzhong, status__in=OPEN_STATUSES)
    # When the 城东区 dispatcher reads the whole city's map
    user = mapped.user("dispatcher_chengdong")
    body = get(api_client, user, URL).json()
    # Then the points are 城东区's cases only
    mine = Case.objects.filter(district=chengdong, status__in=OPEN_STATUSES).exclude(lat=None)
    assert body["total"] == mine.count()
    assert {c[4] for c in body["cells"] if c[4]} <= set(mine.values_list("pk", flat=True))
    # and 湟中区's corner of the map is empty for them
    around = "101.49,36.41,101.54,36.45"
    assert get(api_client, user, URL, bbox=around).json()["cells"] == []
    assert get(api_client, mapped.user("admin"), URL, bbox=around).json()["total"] == (
        in_huangzhong.exclude(lat=None).count()
    )


def test_residents_and_the_anonymous_are_refused(api_client, mapped) -> None:
    assert get(api_client, mapped.user("resident1"), URL).status_code == 403
    api_client.force_authenticate(None)
    assert api_client.get(URL).status_code in (401, 403)


def test_category_status_and_period_filters(api_client, mapped, superuser) -> None:
    located = Case.objects.filter(status__in=OPEN_STATUSES).exclude(lat=None)
    # category: a parent category counts its sub-categories' cases too
    case = located.select_related("category").first()
    assert case is not None
    parent = case.category.parent or case.category
    subtree = located.filter(category__in=[parent, *parent.children.all()])
    body = get(api_client, superuser, URL, category=parent.pk).json()
    assert body["total"] == subtree.count() > 0
    # status=overdue: one case made late is counted, as overdue, and nothing else
    late = located.exclude(pk=case.pk)
    Case.objects.filter(pk__in=late.values("pk")).update(
        status=Status.HANDLING, resolve_by=timezone.now() + dt.timedelta(days=3)
    )
    Case.objects.filter(pk=case.pk).update(
        status=Status.HANDLING, resolve_by=timezone.now() - dt.timedelta(hours=1)
    )
    overdue = get(api_client, superuser, URL, status="overdue").json()
    assert overdue["total"] == overdue["overdue"] == 1
    assert overdue["cells"][0][4] == case.pk
    assert get(api_client, superuser, URL).json()["overdue"] == 1
    # period: submission days, both ends included
    day = timezone.localtime(case.created_at).date()
    on_the_day = located.filter(
        created_at__gte=dt.datetime.combine(day, dt.time.min, timezone.get_current_timezone()),
        created_at__lt=dt.datetime.combine(
            day + dt.timedelta(days=1), dt.time.min, timezone.get_current_timezone()
        ),
    )
    body = get(api_client, superuser, URL, **{"from": day, "to": day}).json()
    assert body["total"] == on_the_day.count() >= 1


def test_the_query_count_does_not_grow_with_the_cases(api_client, demo, superuser) -> None:
    generate_cases(40, now=timezone.now(), seed=1)
    place_open_cases()
    api_client.force_authenticate(superuser)
    with CaptureQueriesContext(connection) as few:
        assert api_client.get(URL, {"category": demo.category("heating").pk}).status_code == 200
    generate_cases(200, now=timezone.now(), seed=2)
    place_open_cases()
    with CaptureQueriesContext(connection) as many:
        assert api_client.get(URL, {"category": demo.category("heating").pk}).status_code == 200
    # The category, the cells' SELECT and, on PostgreSQL, its transaction (a savepoint here)
    # with its SET LOCAL work_mem: the same few whatever the number of cases.
    assert len(many) == len(few) <= 6, [q["sql"][:80] for q in many]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"bbox": "x"}, "bbox"),
        ({"bbox": "101,36,102"}, "bbox"),
        ({"bbox": "101.9,36.5,101.5,36.9"}, "bbox"),  # west of east
        ({"bbox": "nan,nan,nan,nan"}, "bbox"),
        ({"bbox": "10,10,11,11"}, "bbox"),  # outside Xining
        ({"status": "closed"}, "status"),
        ({"category": "abc"}, "category"),
        ({"category": "999999"}, "category"),
        ({"from": "2024-13-01"}, "from"),
        ({"from": "1900-01-01"}, "from"),
        ({"from": "2024-02-01", "to": "2024-01-01"}, "from"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(
    api_client, demo, superuser, params, field
) -> None:
    response = get(api_client, superuser, URL, **params)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
