"""The models of 报 moved to ``stats`` (issue 12) keep their rows: the rollup from ``cases``, the
export jobs and the monthly bulletin from ``topics``, migrated from the schema before the move.

PostgreSQL (CI): the migrator empties the database and migrates it twice, which is slow, and the
production database is PostgreSQL; the migrations touch no table, so nothing here depends on the
engine.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.migrations.state import ProjectState
from django.utils import timezone

pytestmark = [pytest.mark.postgres]

# The schema before the move. The migrator's first step applies the whole plan up to its
# latest target, and the plan may order ``cases.0013`` (state only) before ``topics.0004``;
# so it first stops at ``stats.0002`` and then brings the other apps up to these, one by one.
BEFORE = [
    ("cases", "0012_fewer_case_indexes"),
    ("stats", "0002_fill_projections"),
    ("topics", "0004_sqlite_append_only_topic_events"),
]
AFTER = [("stats", "0003_models_from_cases_and_topics")]
DAY = dt.date(2026, 3, 2)
MONTH = dt.date(2026, 3, 1)
COUNTS = {
    "created": 5,
    "rejected": 1,
    "dispatched": 4,
    "responded": 3,
    "replied": 3,
    "resolved": 2,
    "evaluated": 2,
    "satisfied": 1,
    "closed": -1,
}


def _seed(state: ProjectState) -> dict[str, Any]:
    """One row in every moved table (and what they point at), written through the models of
    the schema before the move."""
    model = state.apps.get_model
    region = model("org", "Region")
    city = region.objects.create(name="西宁市", level=1)
    district = region.objects.create(name="城东区", level=2, parent=city)
    street = region.objects.create(name="大众街街道", level=3, parent=district)
    community = region.objects.create(name="德令哈社区", level=4, parent=street)
    unit = model("org", "Unit").objects.create(
        code="u-water", name="供水公司", kind="utility", region=district
    )
    category = model("cases", "Category").objects.create(code="water", name="供水")
    user = model("org", "User").objects.create(username="committee1", password="!")
    case = model("cases", "Case").objects.create(
        tracking_code="XN20260302-0001",
        channel="phone",
        category=category,
        region=community,
        district=district,
        street=street,
        dispatch_region=street,
        description="停水三天",
        complainant_name="张三",
        complainant_phone="13800000000",
        created_at=timezone.now(),
    )
    dims = {
        "region": community,
        "street": street,
        "district": district,
        "category": category,
        "unit": unit,
        "unit_key": unit.pk,
    }
    day = model("cases", "CaseDayStat").objects.create(day=DAY, since=DAY, **dims, **COUNTS)
    month = model("cases", "CaseMonthStat").objects.create(
        day=MONTH, since=MONTH, **dims, **COUNTS
    )
    model("cases", "RollupState").objects.create(pk=1, last_event_id=42, gaps=[[40, 41, "x"]])
    model("cases", "RollupCase").objects.create(case=case, category=category)
    job = model("topics", "ExportJob").objects.create(
        user=user,
        table="trend",
        params={"from": "2026-03-01"},
        status="done",
        progress=100,
        row_count=7,
        file="exports/1/1-trend.xlsx",
    )
    bulletin = model("topics", "Bulletin").objects.create(
        month=MONTH,
        status="published",
        title="三月通报",
        body="正文",
        data={"topics": []},
        generated_at=timezone.now(),
        published_at=timezone.now(),
        published_by=user,
    )
    content_type = model("contenttypes", "ContentType")
    for app_label, name in [("cases", "casedaystat"), ("topics", "bulletin")]:
        content_type.objects.get_or_create(app_label=app_label, model=name)
    return {
        "day": day.pk,
        "month": month.pk,
        "case": case.pk,
        "category": category.pk,
        "job": job.pk,
        "bulletin": bulletin.pk,
        "user": user.pk,
        "dims": {"region": community.pk, "street": street.pk, "district": district.pk},
        "unit": unit.pk,
    }


def test_the_rollup_exports_and_bulletins_keep_their_rows_in_stats(migrator: Any) -> None:
    # Given the schema before the move, with a row in every table that moves
    migrator.apply_initial_migration([("stats", "0002_fill_projections")])
    before = migrator.apply_tested_migration(BEFORE)
    seeded = _seed(before)

    # When the move is migrated
    after = migrator.apply_tested_migration(AFTER)
    model = after.apps.get_model

    # Then the models are gone from their old apps and the same rows are found in stats
    for app_label, name in [("cases", "CaseDayStat"), ("cases", "RollupState")]:
        with pytest.raises(LookupError):
            model(app_label, name)
    for app_label, name in [("topics", "ExportJob"), ("topics", "Bulletin")]:
        with pytest.raises(LookupError):
            model(app_label, name)
    fields = ["region_id", "street_id", "district_id", "category_id", "unit_id", "unit_key"]
    expected = {
        "region_id": seeded["dims"]["region"],
        "street_id": seeded["dims"]["street"],
        "district_id": seeded["dims"]["district"],
        "category_id": seeded["category"],
        "unit_id": seeded["unit"],
        "unit_key": seeded["unit"],
        **COUNTS,
    }
    day = model("stats", "CaseDayStat").objects.values(*fields, *COUNTS, "day", "since").get()
    assert day == {**expected, "day": DAY, "since": DAY}
    month = model("stats", "CaseMonthStat").objects.values(*fields, *COUNTS, "day", "since").get()
    assert month == {**expected, "day": MONTH, "since": MONTH}
    state = model("stats", "RollupState").objects.get()
    assert (state.pk, state.last_event_id, state.gaps) == (1, 42, [[40, 41, "x"]])
    assert list(model("stats", "RollupCase").objects.values_list("case_id", "category_id")) == [
        (seeded["case"], seeded["category"])
    ]
    job = model("stats", "ExportJob").objects.get()
    assert (job.pk, job.user_id, job.table, job.params, job.status) == (
        seeded["job"],
        seeded["user"],
        "trend",
        {"from": "2026-03-01"},
        "done",
    )
    assert (job.progress, job.row_count, job.file.name) == (100, 7, "exports/1/1-trend.xlsx")
    bulletin = model("stats", "Bulletin").objects.get()
    assert (bulletin.pk, bulletin.month, bulletin.status, bulletin.title) == (
        seeded["bulletin"],
        MONTH,
        "published",
        "三月通报",
    )
    assert (bulletin.body, bulletin.data, bulletin.published_by_id) == (
        "正文",
        {"topics": []},
        seeded["user"],
    )

    # and the content types follow, so the permissions granted on them still apply
    content_type = model("contenttypes", "ContentType")
    assert set(
        content_type.objects.filter(model__in=["casedaystat", "bulletin"]).values_list(
            "app_label", "model"
        )
    ) == {("stats", "casedaystat"), ("stats", "bulletin")}
