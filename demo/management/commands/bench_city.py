"""``python manage.py bench_city --cases N [--quick] [--resume]``: the city-scale benchmark.

Issue 11's benchmark, as a list of steps. The first is built: a synthetic city of N cases over
ten years, with the events their histories imply, written set-based in PostgreSQL
(``demo.city``), printing rows/s as it goes. The steps after it (rebuild the rollup, measure
every path through HTTP, intake beside pgbench, the overdue scan, write docs/performance.md)
come next; the command says so when it reaches them.

Run it on a scratch database only: it adds N cases each time (``--resume`` instead tops the
database up to N cases, continuing an interrupted run where it stopped). ``--quick`` is the CI
mode: small chunks, and the shape of the result is checked (a wrong shape fails the command);
figures are printed, never asserted.

    createdb xining_bench && DATABASE_URL=postgres:///xining_bench python manage.py migrate
    DATABASE_URL=postgres:///xining_bench python manage.py bench_city --cases 10000000
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from cases.models import OPEN_STATUSES, Case, Status
from demo.city import (
    CityBuilder,
    CityError,
    CityReport,
    defer_indexes,
    deferred_indexes,
    orphans,
    require_postgresql,
    restore_indexes,
    server_version,
)
from xining_issues.bulk import sql_log_off

CHUNK = 50_000
QUICK_CHUNK = 5_000
CLOSED_SHARE = (0.92, 0.97)  # the shape --quick insists on
ORPHAN_CHECK_UP_TO = 200_000  # cases; above, the reference check is left to --quick runs
DEFER_FROM = 20_000  # cases in one run from which the indexes are built after the load


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[BenchState], None] | None
    later: str = ""  # what the step will do, for the steps not built yet


@dataclass
class BenchState:
    options: dict[str, Any]
    out: Callable[[str], None]
    report: CityReport | None = None
    problems: list[str] | None = None


def generate(state: BenchState) -> None:
    options, out = state.options, state.out
    target = options["cases"]
    existing = Case.objects.count()
    start = existing if options["resume"] else 0
    done = options["resume"] and start >= target
    defer = not done and should_defer(options["defer_indexes"], target - start, existing)
    pending = deferred_indexes()
    if pending and not defer:
        out(f"indexes: {pending} left dropped by an interrupted run; building them first")
        restore_indexes(out)
    if done:
        out(f"generate: the database holds {start:,} cases already (≥ {target:,}); nothing to do")
        return
    chunk = options["chunk"] or (QUICK_CHUNK if options["quick"] else CHUNK)
    builder = CityBuilder(
        target=target, start=start, chunk_size=chunk, seed=options["seed"], progress=out
    )
    with builder:
        out(
            f"generate: cases {start:,} .. {target:,} of a ten-year timeline ending "
            f"{builder.now:%Y-%m-%d %H:%M} UTC, {chunk:,} per chunk, seed {builder.seed}"
        )
        if defer:
            dropped = defer_indexes()
            out(
                f"indexes: {dropped + pending} secondary indexes of the case tables set aside "
                "for the load (built again after it; a run that stops leaves a record: run "
                "bench_city again, or with --resume)"
            )
        report = builder.build()
        if defer:
            seconds = restore_indexes(out)
            report.index_seconds = seconds
            out(f"indexes: built again in {seconds:,.1f} s")
        builder.analyze()
    state.report = report
    seconds = report.seconds + report.index_seconds
    indexes = f" + {report.index_seconds:,.1f} s of index builds" if report.index_seconds else ""
    out(
        f"generate: {report.cases:,} cases, {report.events:,} events, {report.rows:,} rows in "
        f"{report.seconds:,.1f} s{indexes}: {report.rows / seconds if seconds else 0:,.0f} "
        f"rows/s ({report.cases / seconds if seconds else 0:,.0f} cases/s)"
    )
    spent = report.timings()
    total = sum(spent.values()) or 1.0
    out(
        "generate: where the time went: "
        + ", ".join(
            f"{label} {100 * seconds / total:.0f} %"
            for label, seconds in spent.items()
            if seconds / total >= 0.01
        )
    )
    if report.accounts_created:
        out(f"generate: {report.accounts_created} handler accounts created for units without one")


def should_defer(choice: str, to_write: int, existing: int) -> bool:
    """Drop the secondary indexes for the load when it writes more cases than the tables hold
    and enough that one sorted build beats maintaining them row by row (``auto``)."""
    if choice == "auto":
        return to_write >= DEFER_FROM and to_write > existing
    return choice == "yes"


def check_shape(state: BenchState) -> None:
    """The shape of the cases this run made: statuses, codes, events per case."""
    report, out = state.report, state.out
    if report is None or report.first_id is None or report.last_id is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, count(*) FROM cases_case WHERE id BETWEEN %s AND %s GROUP BY status",
            [report.first_id, report.last_id],
        )
        statuses = dict(cursor.fetchall())
        cursor.execute(
            "SELECT count(*) FROM cases_case WHERE id BETWEEN %s AND %s "
            "AND tracking_code !~ '^XN-[0-9]{8}-[0-9]{4,}$'",
            [report.first_id, report.last_id],
        )
        bad_codes = cursor.fetchone()[0]
    total = sum(statuses.values())
    closed = statuses.get(Status.CLOSED, 0) / total if total else 0.0
    shares = ", ".join(
        f"{status} {100 * statuses.get(status, 0) / total:.2f} %"
        for status in [Status.CLOSED, Status.REJECTED, *OPEN_STATUSES]
    )
    out(f"shape: {total:,} cases: {shares}")
    out(f"shape: {report.events / total if total else 0:.2f} events per case")
    problems = []
    if total != report.cases:
        problems.append(f"{total} cases in the id range, {report.cases} written")
    if bad_codes:
        problems.append(f"{bad_codes} tracking codes do not look like XN-YYYYMMDD-NNNN")
    if total >= 1000 and not CLOSED_SHARE[0] <= closed <= CLOSED_SHARE[1]:
        problems.append(f"{100 * closed:.1f} % closed, expected about 95 %")
    missing = [s for s in OPEN_STATUSES if not statuses.get(s)]
    if total >= len(OPEN_STATUSES) and missing:
        problems.append(f"no case in {', '.join(missing)}")
    if report.events < 2 * report.cases:
        problems.append("fewer than two events per case")
    if state.options["quick"] or total <= ORPHAN_CHECK_UP_TO:
        dangling = {table: n for table, n in orphans(report.first_id, report.last_id).items() if n}
        if dangling:
            problems.append(f"rows referring to rows that do not exist: {dangling}")
        else:
            out("shape: every reference points to an existing row")
    state.problems = problems
    for problem in problems:
        out(f"shape: PROBLEM {problem}")


STEPS = [
    Step("generate", generate),
    Step("check", check_shape),
    Step("rollup", None, "rebuild the statistics rollup set-based, batched by month (point 2)"),
    Step(
        "measure",
        None,
        "every dashboard, queue, search and case-detail path through HTTP on gunicorn with "
        "DEBUG=0, p50/p95/max over ≥ 50 warm calls (point 3); intake beside pgbench (point 4); "
        "the overdue scan at volume (point 5)",
    ),
    Step("report", None, "write docs/performance.md with the machine and PostgreSQL settings"),
]


class Command(BaseCommand):
    help = (
        "Build a synthetic city of N cases over ten years (PostgreSQL only, set-based) and "
        "benchmark it (issue 11)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, required=True, help="How many cases (N).")
        parser.add_argument(
            "--quick", action="store_true", help="CI mode: small chunks; check the shape."
        )
        parser.add_argument(
            "--resume",
            action="store_true",
            help="Top the database up to N cases (continue an interrupted run) instead of "
            "adding N more.",
        )
        parser.add_argument("--chunk", type=int, default=0, help="Cases per transaction.")
        parser.add_argument("--seed", type=int, default=None, help="Random seed (default: time).")
        parser.add_argument(
            "--defer-indexes",
            choices=["auto", "yes", "no"],
            default="auto",
            help="Drop the case tables' secondary indexes during the load and build them after "
            f"(auto: when a run writes ≥ {DEFER_FROM:,} cases and more than there are).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            require_postgresql()
        except CityError as error:
            raise CommandError(str(error)) from None
        if options["cases"] < 0:
            raise CommandError("--cases must be zero or more.")
        if options["chunk"] < 0:
            raise CommandError("--chunk must be positive.")
        started = time.perf_counter()
        state = BenchState(options=options, out=self.stdout.write)
        settings = connection.settings_dict
        version = server_version()
        self.stdout.write(
            f"bench_city: PostgreSQL {version // 10000}.{version % 10000}, database "
            f"{settings['NAME']} on {settings.get('HOST') or 'the local socket'}"
            f"{' (quick: CI mode)' if options['quick'] else ''}"
        )
        with sql_log_off():
            for step in STEPS:
                if step.run is None:
                    self.stdout.write(
                        f"{step.name}: not built yet (next step of issue 11): {step.later}"
                    )
                    continue
                try:
                    step.run(state)
                except CityError as error:
                    raise CommandError(str(error)) from None
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(
            f"bench_city: done in {time.perf_counter() - started:,.1f} s, "
            f"peak memory of this process {peak:,.0f} MB"
        )
        if options["quick"] and state.problems:
            raise CommandError("the city has the wrong shape: " + "; ".join(state.problems))
