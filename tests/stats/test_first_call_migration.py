"""``stats.0008``: the 一次办结率 counters start from every intake event the rollup had folded
(up to its watermark, outside its gaps), on each event's local day, so the refresh carries on
from there and counts none of them twice."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

pytestmark = [pytest.mark.postgres]

BEFORE = [("stats", "0007_category_day_indexes")]
AFTER = [("stats", "0008_first_call_counts")]
TZ = ZoneInfo("Asia/Shanghai")


def test_the_counters_start_from_what_the_rollup_folded(migrator: Any) -> None:
    before = migrator.apply_initial_migration(BEFORE)
    model = before.apps.get_model
    region = model("org", "Region")
    city = region.objects.create(name="西宁市", level=1)
    district = region.objects.create(name="城东区", level=2, parent=city)
    street = region.objects.create(name="大众街街道", level=3, parent=district)
    community = region.objects.create(name="德令哈社区", level=4, parent=street)
    category = model("cases", "Category").objects.create(code="consult", name="政策咨询")
    operator = model("org", "User").objects.create(username="operator1", password="!")
    case_model, event_model = model("cases", "Case"), model("cases", "CaseEvent")

    def event(n: int, kind: str, at: dt.datetime, actor: Any = operator) -> int:
        case = case_model.objects.create(
            tracking_code=f"XN-20260301-{n:04d}", channel="phone", category=category,
            region=community, district=district, street=street, dispatch_region=street,
            description="咨询", complainant_name="张三", complainant_phone="13800000000",
            created_at=at,
        )  # fmt: skip
        return event_model.objects.create(case=case, type=kind, actor=actor, created_at=at).pk

    # Given intake events folded by the rollup: one at 00:30 on 2 March in Xining (still
    # 1 March in UTC), one the next day answered on the spot, one with no actor, one in a gap
    # and one past the watermark (not folded yet)
    early = dt.datetime(2026, 3, 2, 0, 30, tzinfo=TZ)
    event(1, "accept", early)
    event(2, "resolve_at_intake", early + dt.timedelta(days=1))
    event(3, "accept", early + dt.timedelta(days=1), actor=None)
    gap = event(4, "accept", early + dt.timedelta(days=1))
    last = event(5, "resolve_at_intake", early + dt.timedelta(days=1))
    later = event(6, "accept", early + dt.timedelta(days=1))
    assert later > last
    model("stats", "RollupState").objects.create(pk=1, last_event_id=last, gaps=[[gap, gap, "x"]])

    # When the migration runs
    after = migrator.apply_tested_migration(AFTER)
    model = after.apps.get_model
    rows = model("stats", "FirstCallOperatorDay").objects.values_list(
        "day", "district_id", "operator_key", "operator_id", "taken", "at_intake"
    )
    # Then the folded events are counted on their local days, by actor, and no other
    d2, d3 = dt.date(2026, 3, 2), dt.date(2026, 3, 3)
    assert sorted(rows) == [
        (d2, district.pk, operator.pk, operator.pk, 1, 0),
        (d3, district.pk, 0, None, 1, 0),
        (d3, district.pk, operator.pk, operator.pk, 2, 2),  # not the one in the gap
    ]
    by_category = model("stats", "FirstCallCategoryMonth").objects.values_list(
        "day", "category_id", "taken", "at_intake"
    )
    assert list(by_category) == [(dt.date(2026, 3, 1), category.pk, 4, 2)]
    assert model("stats", "FirstCallOperatorMonth").objects.count() == 2
    assert model("stats", "FirstCallCategoryDay").objects.count() == 2
