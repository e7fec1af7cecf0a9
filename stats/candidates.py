"""未诉先办: topic candidates, the clusters of category × street that grew lately (the
candidates endpoint, its Excel export, and the cases a topic adopted from a candidate links).

Read from the street × category projection of the rollup (``stats.projections``), then, for the
top clusters only, two bounded queries on the cases for their evidence.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from cases.models import Case, Category
from org.models import Region
from xining_issues.privacy import mask_text

from .dashboards import _share, case_scope_q, region_q, scope_q
from .projections import narrowest, q_fields

SAMPLES = 5


def candidate_window(weeks: int) -> tuple[dt.date, dt.date]:
    """The last ``weeks`` whole weeks up to today (inclusive), as (first day, today)."""
    end = timezone.localdate()
    return end - dt.timedelta(days=7 * weeks - 1), end


def _cases_since(user: Any, start: dt.date, region: Region | None = None) -> QuerySet[Case]:
    """The cases ``user`` may see, within ``region``, created from ``start`` (local midnight):
    the candidates' evidence and the cases a topic adopted from a candidate is linked to."""
    since = dt.datetime.combine(start, dt.time(), tzinfo=timezone.get_current_timezone())
    return Case.objects.filter(case_scope_q(user) & region_q(region), created_at__gte=since)


def cluster_cases(user: Any, category: Category, street: Region, weeks: int) -> QuerySet[Case]:
    """The cases of one candidate cluster (category × street, last ``weeks`` weeks) that the
    user may see: those a topic adopted from the candidate is linked to."""
    start, _end = candidate_window(weeks)
    return _cases_since(user, start).filter(category=category, street=street)


def candidates(
    user: Any, weeks: int, region: Region | None = None, limit: int = 10
) -> dict[str, Any]:
    """Clusters of category × street that grew in the last ``weeks`` weeks (未诉先办).

    From the rollup: the count in the period and in the period before, the weekly trend and
    the rating figures. Then, for the top clusters only, two bounded queries on the cases
    (by category and time, indexed): sample cases and repeat complainants (a phone number
    that appears twice or more in the cluster). Score = count + 2 × growth in cases
    + 3 × unsatisfied evaluations + 2 × repeat complainants.
    """
    start, end = candidate_window(weeks)
    previous_start = start - dt.timedelta(days=7 * weeks)
    scope = scope_q(user) & region_q(region)
    # A row belongs to a period when ``since >= from`` and ``day <= to`` (``stats.period_q``):
    # a correction row that started before the current period (a case rated before it and
    # again within it) counts in neither the current nor, if it ends within, the previous one.
    # The clusters are summed by the database: one row per category × street, read from the
    # street × category projection (or the wide rollup, for a scope it cannot answer).
    source = narrowest({"category", "street", *q_fields(scope)})
    current = Q(day__gte=start, since__gte=start)
    sums: dict[str, Any] = {
        "count": Sum("created", filter=current),
        "previous": Sum("created", filter=Q(day__lt=start)),
        "evaluated": Sum("evaluated", filter=current),
        "satisfied": Sum("satisfied", filter=current),
    }
    for i in range(weeks):
        week = Q(
            day__gte=start + dt.timedelta(days=7 * i), day__lt=start + dt.timedelta(7 * i + 7)
        )
        sums[f"week{i}"] = Sum("created", filter=current & week)
    rows = (
        source.day._default_manager.filter(
            scope, day__gte=previous_start, day__lte=end, since__gte=previous_start
        )
        # Rows of dispatches, replies and archives only (two in five) count nothing here.
        .exclude(created=0, evaluated=0, satisfied=0)
        .values("category_id", "street_id")
        .annotate(**sums)
        .order_by()
    )
    clusters: dict[tuple[int, int], dict[str, Any]] = {
        (r["category_id"], r["street_id"]): {
            "count": r["count"] or 0,
            "previous": r["previous"] or 0,
            "evaluated": r["evaluated"] or 0,
            "satisfied": r["satisfied"] or 0,
            "weekly": [r[f"week{i}"] or 0 for i in range(weeks)],
        }
        for r in rows
    }

    def rough(c: dict[str, Any]) -> float:
        unsatisfied = c["evaluated"] - c["satisfied"]
        return c["count"] + 2 * max(c["count"] - c["previous"], 0) + 3 * unsatisfied

    ranked = sorted(
        ((key, c) for key, c in clusters.items() if c["count"] > 0),
        key=lambda kc: -rough(kc[1]),
    )[: limit * 2]
    if not ranked:
        return {"weeks": weeks, "period": {"from": start, "to": end}, "results": []}
    cluster_q = Q(pk__in=[])
    for category_id, street_id in (key for key, _c in ranked):
        cluster_q |= Q(category_id=category_id, street_id=street_id)
    visible = _cases_since(user, start, region)
    repeats: dict[tuple[int, int], int] = {}
    for row in (
        visible.filter(cluster_q)
        .values("category_id", "street_id", "complainant_phone")
        .annotate(n=Count("pk"))
        .filter(n__gte=2)
    ):
        key = (row["category_id"], row["street_id"])
        repeats[key] = repeats.get(key, 0) + 1
    results: list[dict[str, Any]] = []
    for key, c in ranked:
        growth = round((c["count"] - c["previous"]) / c["previous"], 4) if c["previous"] else None
        unsatisfied = c["evaluated"] - c["satisfied"]
        score = rough(c) + 2 * repeats.get(key, 0)
        results.append(
            {
                "key": key,
                "count": c["count"],
                "previous": c["previous"],
                "growth": growth,
                "repeat_complainants": repeats.get(key, 0),
                "evaluated": c["evaluated"],
                "satisfaction_rate": _share(c["satisfied"], c["evaluated"]),
                "unsatisfied": unsatisfied,
                "score": float(score),
                "weekly": [
                    {"start": start + dt.timedelta(days=7 * i), "count": n}
                    for i, n in enumerate(c["weekly"])
                ],
            }
        )
    results.sort(key=lambda r: (-r["score"], -r["count"], r["key"]))
    results = results[:limit]
    keys = [r["key"] for r in results]
    top_q = Q(pk__in=[])
    for category_id, street_id in keys:
        top_q |= Q(category_id=category_id, street_id=street_id)
    samples: dict[tuple[int, int], list[dict[str, Any]]] = {}
    names: dict[tuple[int, int], tuple[str, str]] = {}
    for case in (
        visible.filter(top_q)
        .order_by("-created_at", "-pk")
        .values(
            "pk",
            "tracking_code",
            "title",
            "complainant_name",
            "category_id",
            "street_id",
            "category__name",
            "street__name",
        )[: SAMPLES * len(keys) * 4]
    ):
        key = (case["category_id"], case["street_id"])
        names[key] = (case["category__name"], case["street__name"])
        bucket = samples.setdefault(key, [])
        if len(bucket) < SAMPLES:
            # The committee reads these titles: personal data typed into them is masked.
            title = mask_text(case["title"], names=(case["complainant_name"],))
            bucket.append(
                {"id": case["pk"], "tracking_code": case["tracking_code"], "title": title}
            )
    missing = [k for k in keys if k not in names]
    if missing:
        # Clusters whose newest cases were not in the sample window (rare): names by id.
        cats = dict(
            Category.objects.filter(pk__in=[k[0] for k in missing]).values_list("pk", "name")
        )
        streets = dict(
            Region.objects.filter(pk__in=[k[1] for k in missing]).values_list("pk", "name")
        )
        for k in missing:
            names[k] = (cats.get(k[0], ""), streets.get(k[1], ""))
    for r in results:
        key = r.pop("key")
        r.pop("unsatisfied")
        r["category"] = {"id": key[0], "name": names[key][0]}
        r["street"] = {"id": key[1], "name": names[key][1]}
        r["sample_cases"] = samples.get(key, [])
    return {"weeks": weeks, "period": {"from": start, "to": end}, "results": results}
