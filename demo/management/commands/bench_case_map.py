"""``python manage.py bench_case_map [--cases 100000] [--closed N] [--try-index]``: how fast the
staff case map's endpoint (``GET /api/v1/stats/case-map/``) is with many open cases.

Inserts ``--cases`` open cases with coordinates inside Xining (and ``--closed`` closed ones, a
city's history, which the map must not read), set-based on PostgreSQL: one ``INSERT … SELECT``
over ``generate_series``, each row a copy of an existing case with its place, category,
status, deadlines, coordinates and dates replaced. A tenth of the open cases are overdue. The
places are the demo communities, each given a point inside its district's outline
(``demo.history_world.pin``); a case lies within about 600 m of its community's point, so the
grid has dense and empty parts as a city has. Then times the endpoint for a few views (the
city, a district dispatcher, a category, overdue only, zoomed in) and prints EXPLAIN ANALYZE
of its query. ``--try-index`` repeats the timings with the index this module proposes
(``PROPOSED_INDEX``), then drops it: the Case table belongs to ``cases``, whose migrations
add indexes.

Run it on a scratch database (it adds cases; ``--clean`` removes those of earlier runs, by
their ``MAPB-`` tracking codes). Figures only; nothing is asserted.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from cases.models import OPEN_STATUSES, Case, Category
from demo.geography import DISTRICT_SLUGS, pin
from demo.history import generate_cases
from demo.timing import median_and_slowest, time_view
from demo.vocabulary import DISTRICT_CENTRES, DISTRICT_WEIGHTS
from org.models import Region, User, path_ids
from stats import dashboards
from stats.api.map import (
    CITY_BBOX,
    CaseMapView,
    cell_size,
    grid_query,
    grouping_memory,
    mapped_cases,
)
from xining_issues.bulk import analyze, sql_log_off

PREFIX = "MAPB-"
SLOTS = 4000  # place slots, filled in proportion to the districts' weights
OPEN = "'" + "','".join(OPEN_STATUSES) + "'"
# The open cases with a location, with every column the map filters, groups and scopes by:
# the whole-city view becomes an index-only scan of the open cases, never the closed history.
PROPOSED_INDEX = f"""
CREATE INDEX bench_case_map_open ON cases_case (lng, lat)
INCLUDE (id, category_id, created_at, status, accept_by, resolve_by, district_id, street_id,
         region_id, lead_unit_id)
WHERE status IN ({OPEN}) AND lat IS NOT NULL AND lng IS NOT NULL
"""
# Per case: its status (a deadline already passed for a tenth of the open ones: ``insert``).
ROW = """
CASE WHEN %(closed)s THEN 'closed'
     ELSE (ARRAY['submitted','accepted','dispatched','handling','handling','handling',
                 'handling','replied','evaluated','review'])[1 + g.i %% 10] END
"""


class Command(BaseCommand):
    help = "Benchmark the case map endpoint with many located open cases (prints figures)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=100_000, help="Open cases to add.")
        parser.add_argument("--closed", type=int, default=0, help="Closed cases to add.")
        parser.add_argument("--calls", type=int, default=10, help="Calls per view.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--clean", action="store_true", help="Remove earlier MAPB- cases.")
        parser.add_argument(
            "--try-index", action="store_true", help="Time again with PROPOSED_INDEX."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_case_map needs PostgreSQL (INSERT … SELECT over series).")
        with sql_log_off():
            self.measure(options)

    def measure(self, options: dict[str, Any]) -> None:
        out = self.stdout.write
        out(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        if options["clean"]:
            with connection.cursor() as cursor:
                cursor.execute(
                    "DELETE FROM cases_case WHERE tracking_code LIKE %s", [PREFIX + "%"]
                )
                out(f"removed {cursor.rowcount} cases of earlier runs")
        if not Case.objects.exists():
            generate_cases(1, seed=options["seed"])  # a row to copy the other columns from
        places = self.places(random.Random(options["seed"]))  # noqa: S311 - demo data
        for count, closed in ((options["cases"], False), (options["closed"], True)):
            if count:
                started = time.perf_counter()
                self.insert(count, closed=closed, places=places)
                out(
                    f"inserted {count} {'closed' if closed else 'open'} located cases: "
                    f"{time.perf_counter() - started:.1f} s"
                )
        analyze(Case, vacuum=True)  # as autovacuum would: index-only scans need it
        located = Case.objects.filter(status__in=OPEN_STATUSES).exclude(lat=None).count()
        out(f"data: {Case.objects.count()} cases, {located} open with a location")
        self.time_views(options["calls"])
        self.explain()
        if options["try_index"]:
            with connection.cursor() as cursor:
                started = time.perf_counter()
                cursor.execute(PROPOSED_INDEX)
                cursor.execute("VACUUM (ANALYZE) cases_case")
                cursor.execute("SELECT pg_size_pretty(pg_relation_size('bench_case_map_open'))")
                size = cursor.fetchone()[0]
            out(f"\nwith PROPOSED_INDEX ({size}, built in {time.perf_counter() - started:.1f} s):")
            try:
                self.time_views(options["calls"])
                self.explain()
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("DROP INDEX bench_case_map_open")

    def places(self, rng: random.Random) -> list[tuple[int, int, int, float, float]]:
        """Slots of (community, street, district, lat, lng), more for the busier districts."""
        regions = {
            pk: (name, path) for pk, name, path in Region.objects.values_list("pk", "name", "path")
        }
        communities: dict[int, list[tuple[int, int, int, float, float]]] = {}
        for pk, (_name, path) in sorted(regions.items()):
            ids = path_ids(path)
            if len(ids) != 4:
                continue
            slug = DISTRICT_SLUGS.get(regions[ids[1]][0], "")
            centre = DISTRICT_CENTRES.get(slug, (36.62, 101.78))
            lat, lng = pin(
                slug, centre[0] + rng.uniform(-0.03, 0.03), centre[1] + rng.uniform(-0.04, 0.04)
            )
            communities.setdefault(ids[1], []).append((pk, ids[2], ids[1], float(lat), float(lng)))
        if not communities:
            raise CommandError("No communities: run seed_demo first.")
        slots: list[tuple[int, int, int, float, float]] = []
        total = sum(DISTRICT_WEIGHTS.get(regions[d][0], 0.1) for d in communities)
        for district, members in communities.items():
            share = DISTRICT_WEIGHTS.get(regions[district][0], 0.1) / total
            for k in range(max(1, round(SLOTS * share))):
                slots.append(members[k % len(members)])
        return slots

    def insert(
        self, count: int, *, closed: bool, places: list[tuple[int, int, int, float, float]]
    ) -> None:
        """``count`` copies of the first case, with what the map reads replaced."""
        categories = list(
            Category.objects.filter(parent__isnull=False).values_list("pk", flat=True)
        )
        replaced = {
            # The run and the kind keep the codes apart (open and closed are two INSERTs).
            "tracking_code": f"'{PREFIX}' || %(run)s || %(kind)s || '-' || g.i",
            "channel": "'mini_program'",
            "category_id": "(%(categories)s::bigint[])[1 + (g.i * 31) %% %(n_categories)s]",
            "region_id": "p.region_id",
            "street_id": "p.street_id",
            "district_id": "p.district_id",
            "dispatch_region_id": "p.district_id",
            # About 600 m either way around the community's point.
            "lat": "round((p.lat0 + (random() - 0.5) * 0.011)::numeric, 6)",
            "lng": "round((p.lng0 + (random() - 0.5) * 0.014)::numeric, 6)",
            "status": ROW,
            "supervision_level": "'on_time'",
            # Late: one submitted case in twenty past 受理, one handled in twenty past 办结.
            "accept_by": "%(now)s + CASE WHEN g.i %% 20 = 0 THEN interval '-2 hours' "
            "ELSE interval '4 hours' END",
            "resolve_by": "%(now)s + CASE WHEN g.i %% 20 = 3 THEN interval '-1 day' "
            "ELSE interval '5 days' END",
            "created_at": "%(now)s - ((g.i * 7919) %% 525600) * interval '1 minute'",
            "closed_at": "CASE WHEN %(closed)s THEN %(now)s END",
            "updated_at": "%(now)s",
            "duplicate_of_id": "NULL",
        }
        columns = [str(f.column) for f in Case._meta.concrete_fields if f.column != "id"]
        select = ", ".join(replaced.get(column, f"t.{column}") for column in columns)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE xm_place (slot int, region_id bigint, street_id bigint, "
                "district_id bigint, lat0 float8, lng0 float8) ON COMMIT DROP"
            )
            cursor.executemany(
                "INSERT INTO xm_place VALUES (%s, %s, %s, %s, %s, %s)",
                [(slot, *place) for slot, place in enumerate(places)],
            )
            cursor.execute(
                f"INSERT INTO cases_case ({', '.join(columns)}) "  # noqa: S608 - model columns
                f"SELECT {select} "
                "FROM generate_series(1::bigint, %(count)s::bigint) AS g(i) "
                "JOIN xm_place p ON p.slot = (g.i * 7919) %% %(slots)s "
                "CROSS JOIN (SELECT * FROM cases_case ORDER BY id LIMIT 1) t",
                {
                    "run": str(int(time.time()) % 100_000),
                    "categories": categories,
                    "n_categories": len(categories),
                    "now": timezone.now(),
                    "closed": closed,
                    "kind": "C" if closed else "O",
                    "count": count,
                    "slots": len(places),
                },
            )

    def views(self) -> dict[str, tuple[User, dict[str, Any]]]:
        admin = User.objects.filter(is_superuser=True).order_by("pk").first()
        if admin is None:
            raise CommandError("No superuser: run seed_demo first.")
        dispatcher = User.objects.get(username="dispatcher_chengdong")
        heating = Category.objects.get(code="heating")
        urban = "101.70,36.56,101.86,36.70"
        street = "101.80,36.60,101.83,36.62"
        return {
            "city, open": (admin, {}),
            "city, overdue": (admin, {"status": "overdue"}),
            "city, category 供暖": (admin, {"category": heating.pk}),
            "city, last 30 days": (
                admin,
                {"from": (timezone.localdate() - dt.timedelta(days=29)).isoformat()},
            ),
            "城东区 dispatcher, city": (dispatcher, {}),
            f"urban area {urban}": (admin, {"bbox": urban}),
            f"a few streets {street}": (admin, {"bbox": street}),
        }

    def time_views(self, calls: int) -> None:
        view = CaseMapView.as_view()
        self.stdout.write(f"GET /api/v1/stats/case-map/, {calls} calls each (median / slowest):")
        for name, (user, params) in self.views().items():
            timings, response = time_view(view, user, params, calls=calls)
            body = response.data
            self.stdout.write(
                f"  {name}: {median_and_slowest(timings)}; {body['total']} cases in "
                f"{len(body['cells'])} cells of {body['cell']}°, {len(response.content)} bytes"
            )

    def explain(self) -> None:
        now = timezone.now()
        for name in ("city, open", "城东区 dispatcher, city"):
            user, _params = self.views()[name]
            cases = mapped_cases(
                dashboards.case_scope_q(user), bbox=CITY_BBOX, status="open", now=now
            )
            with grouping_memory(cases.db):  # as the endpoint runs it
                plan = grid_query(cases, cell_size(CITY_BBOX), now).explain(
                    analyze=True, buffers=True
                )
            self.stdout.write(f"EXPLAIN ANALYZE ({name}):\n{plan}")
