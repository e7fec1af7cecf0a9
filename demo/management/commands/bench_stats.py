"""Print how fast the statistics are: generate, rebuild, incremental refresh, endpoints.

Figures only; nothing is asserted. Uses the configured database. Run it on a scratch database:
it adds demo cases. With ``--cases 0`` (the default) it measures the data that is there, for
example after ``seed_demo --cases 1000000``.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from cases.models import Case, CaseEvent
from demo.history import generate_cases
from demo.timing import median_and_slowest, time_view
from org.models import Region, RegionLevel, User
from stats.models import CaseDayStat, CaseMonthStat
from stats.rollup import rebuild_rollup, refresh_rollup
from xining_issues.bulk import sql_log_off


class Command(BaseCommand):
    help = "Benchmark the statistics rollup and API (prints figures)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=0, help="Cases to generate first.")
        parser.add_argument("--new", type=int, default=1000, help="Cases for the refresh.")
        parser.add_argument("--calls", type=int, default=20, help="Calls per endpoint.")
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="Rebuild the rollup from every event first (otherwise refresh it).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with sql_log_off():
            self.measure(options)

    def measure(self, options: dict[str, Any]) -> None:
        out = self.stdout.write
        out(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        if options["cases"]:
            report = generate_cases(options["cases"], seed=int(time.time()))
            out(f"generate {report.cases} cases, {report.events} events: {report.seconds:.1f} s")
        out(f"data: {Case.objects.count()} cases, {CaseEvent.objects.count()} events")

        folded = rebuild_rollup() if options["rebuild"] else refresh_rollup()
        out(
            f"{'rebuild' if options['rebuild'] else 'catch-up refresh'}: "
            f"{folded.seconds:.1f} s ({folded.events_read} events, {folded.cases_touched} cases)"
        )
        out(
            f"rollup: {CaseDayStat.objects.count()} day rows, "
            f"{CaseMonthStat.objects.count()} month rows"
        )

        before = CaseEvent.objects.aggregate(m=Max("pk"))["m"] or 0
        added = generate_cases(options["new"], seed=int(time.time()) + 1)
        new_events = CaseEvent.objects.filter(pk__gt=before).count()
        refreshed = refresh_rollup()
        out(
            f"incremental refresh after {added.cases} new cases: {refreshed.seconds:.2f} s, "
            f"events read {refreshed.events_read} (new {new_events}), "
            f"context events {refreshed.context_events_read}, "
            f"watermark {before} → {refreshed.last_event_id}"
        )
        self.time_endpoints(options["calls"])

    def time_endpoints(self, calls: int) -> None:
        from stats.api import views as stats_views

        user = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
            "bench_stats", "bench@example.invalid", None
        )
        today = timezone.localdate()
        year_ago = (today - dt.timedelta(days=365)).isoformat()
        month_start = today.replace(day=1).isoformat()
        district = Region.objects.filter(level=RegionLevel.DISTRICT).order_by("pk").first()
        in_district = {"region": district.pk} if district else {}
        overview = stats_views.OverviewView
        views: dict[str, tuple[Any, dict[str, Any]]] = {
            "overview (30 days)": (overview, {}),
            "overview (this month)": (overview, {"from": month_start}),
            "overview (1 year)": (overview, {"from": year_ago}),
            "overview (1 year, one district)": (overview, {"from": year_ago, **in_district}),
            "trend day (30 days)": (stats_views.TrendView, {"granularity": "day"}),
            "trend week (1 year)": (
                stats_views.TrendView,
                {"from": year_ago, "granularity": "week"},
            ),
            "trend month (1 year)": (
                stats_views.TrendView,
                {"from": year_ago, "granularity": "month"},
            ),
            "rankings unit (1 year)": (stats_views.RankingsView, {"from": year_ago}),
            "rankings street (1 year)": (
                stats_views.RankingsView,
                {"from": year_ago, "by": "street"},
            ),
            "topics/candidates (4 weeks)": (stats_views.TopicCandidatesView, {"weeks": 4}),
        }
        self.stdout.write(f"endpoints, {calls} calls each (median / slowest):")
        for name, (view_class, params) in views.items():
            timings, _response = time_view(view_class.as_view(), user, params, calls=calls)
            self.stdout.write(f"  {name}: {median_and_slowest(timings)}")
