"""``python manage.py bench_city --cases N [--quick] [--resume]``: the city-scale benchmark.

Over 500 lines on purpose: it runs the benchmark's steps below in order and writes their report.

Issue 11's benchmark, as a list of steps:

1. **generate**: a synthetic city of N cases over ten years, with the events their histories
   imply, written set-based in PostgreSQL (``demo.city``), printing rows/s as it goes;
2. **check**: the shape of what was written (statuses, codes, events per case, references);
3. **rollup**: the statistics rollup rebuilt set-based (``stats.rebuild``);
4. **measure**: every dashboard, queue, count, search and detail path through HTTP on gunicorn
   with ``DEBUG=0``, p50 / p95 / max over warm calls, then intake beside ``pgbench``
   (``demo.measure``);
5. **scan**: the overdue scan at volume, on a scratch database of its own;
6. **report**: ``docs/performance.md`` (``demo.report``).

Run it on a scratch database only (it refuses a database holding cases it did not write): it
adds N cases each time (``--resume`` instead tops the database up to N cases, continuing an
interrupted run where it stopped); ``--skip measure,report`` leaves steps out. ``--quick`` is
the CI mode: small chunks and a few calls per path; the shape of the result is checked (a wrong
shape or a failing path fails the command); figures are printed, never asserted.

    createdb xining_bench && DATABASE_URL=postgres:///xining_bench python manage.py migrate
    DATABASE_URL=postgres:///xining_bench python manage.py bench_city --cases 10000000
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from cases.models import OPEN_STATUSES, Case, CaseEvent, RouterModel, RouterState, Status
from demo.city import (
    LOAD_TABLES,
    WORKERS,
    CityBuilder,
    CityError,
    CityReport,
    defer_indexes,
    deferred_indexes,
    orphans,
    require_postgresql,
    require_scratch_database,
    restore_indexes,
    server_version,
)
from demo.measure import Server, database_url, forget_tokens, measure_intake, measure_paths
from demo.report import Report, write
from stats.rebuild import rebuild_rollup_sql
from xining_issues.bulk import sql_log_off

CHUNK = 50_000
QUICK_CHUNK = 5_000
CLOSED_SHARE = (0.92, 0.97)  # the shape --quick insists on
ORPHAN_CHECK_UP_TO = 200_000  # cases; above, the reference check is left to --quick runs
DEFER_FROM = 20_000  # cases in one run from which the indexes are built after the load
CALLS, QUICK_CALLS = 50, 3  # measured calls per path (after warm-up calls)
INTAKE, QUICK_INTAKE = 20.0, 3.0  # seconds of intake
SCAN, QUICK_SCAN = (1_000_000, 100_000), (2_000, 200)  # open cases, of which due
GENERATE_TARGET = (10_000_000, 30 * 60, 500)  # from N cases: seconds, peak RSS in MB
REPORT = settings.BASE_DIR / "docs" / "performance.md"
QUICK_REPORT = settings.BASE_DIR / "var" / "performance-quick.md"
CARRIED = ("generate", "rollup")  # steps whose figures a later run that skips them reports


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[BenchState], None] | None
    later: str = ""  # what the step will do, for the steps not built yet


@dataclass
class BenchState:
    options: dict[str, Any]
    out: Callable[[str], None]
    bench: Report
    report: CityReport | None = None
    problems: list[str] | None = None

    def say(self, line: str) -> None:
        """Print a line and keep it for the report's generation section."""
        self.out(line)
        self.bench.lines.append(line)


def generate(state: BenchState) -> None:
    # Progress lines are printed; the summary lines (say) go into the report as well.
    options, out, say = state.options, state.out, state.say
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
        target=target,
        start=start,
        chunk_size=chunk,
        seed=options["seed"],
        progress=out,
        workers=options["workers"],
    )
    with builder:
        say(
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
            seconds = restore_indexes(out, workers=options["workers"])
            report.index_seconds = seconds
            say(f"indexes: built again in {seconds:,.1f} s")
            keep_statistics_targets()
        builder.analyze()
    state.report = report
    seconds = report.seconds + report.index_seconds
    indexes = f" + {report.index_seconds:,.1f} s of index builds" if report.index_seconds else ""
    say(
        f"generate: {report.cases:,} cases, {report.events:,} events, {report.rows:,} rows in "
        f"{report.seconds:,.1f} s{indexes}: {report.rows / seconds if seconds else 0:,.0f} "
        f"rows/s ({report.cases / seconds if seconds else 0:,.0f} cases/s)"
    )
    spent = report.timings()
    total = sum(spent.values()) or 1.0
    say(
        "generate: where the time went: "
        + ", ".join(
            f"{label} {100 * seconds / total:.0f} %"
            for label, seconds in spent.items()
            if seconds / total >= 0.01
        )
    )
    if report.accounts_created:
        out(f"generate: {report.accounts_created} handler accounts created for units without one")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    at, most_seconds, most_mb = GENERATE_TARGET
    say(
        f"generate: {seconds / 60:,.1f} minutes, peak memory of this process {peak:,.0f} MB "
        f"(targets at {at:,} cases: ≤ {most_seconds // 60} minutes, ≤ {most_mb} MB)"
    )
    state.bench.generate.update(
        written=report.cases,
        seconds=seconds,
        peak_mb=peak,
        target_missed=report.cases >= at and (seconds > most_seconds or peak > most_mb),
    )


def keep_statistics_targets() -> None:
    """An index built again from its definition loses its statistics target: set the bigram
    index's again (migration cases.0011), which ``cases.search`` reads its choices from."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER INDEX IF EXISTS case_text_bigrams ALTER COLUMN 1 SET STATISTICS 400")


def record_path() -> Path:
    """Where a run keeps the figures of its generate and rollup steps, one file per database,
    so that a later run measuring the same city (``--skip generate,rollup``) reports them."""
    return settings.BASE_DIR / "var" / f"bench_city-{connection.settings_dict['NAME']}.json"


def keep_record(state: BenchState, step: str) -> None:
    figures = getattr(state.bench, step)
    if not figures:  # the step had nothing to do: keep the record of the run that did it
        return
    prefixes = {step, "indexes"} if step == "generate" else {step}
    path = record_path()
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    record[step] = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "lines": [line for line in state.bench.lines if line.split(":", 1)[0] in prefixes],
        "figures": figures,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False), encoding="utf-8")


def carry_record(state: BenchState, skipped: set[str]) -> None:
    """Report the figures of the skipped generate/rollup steps as an earlier run on this
    database kept them."""
    try:
        record = json.loads(record_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    for step in CARRIED:
        if step in skipped and step in record:
            kept = record[step]
            state.bench.lines.append(f"({step}: as measured by the run of {kept['at']})")
            state.bench.lines.extend(kept["lines"])
            getattr(state.bench, step).update(kept["figures"])


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


def rollup(state: BenchState) -> None:
    """Rebuild the statistics rollup set-based (point 2), then time an incremental refresh."""
    before = CaseEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    report = rebuild_rollup_sql(progress=state.out)
    state.say(
        f"rollup: rebuilt set-based in {report.seconds:,.1f} s ({report.workers or 1} "
        f"connection(s)): {report.events_read:,} events of {report.cases_touched:,} cases into "
        f"{report.rows:,} day rows and {report.month_rows:,} month rows (target ≤ 600 s at "
        "10 M cases)"
    )
    state.bench.rollup = {"seconds": report.seconds, "rows": report.rows, "before": before}
    if state.options["cases"] >= 10_000_000 and report.seconds > 600:
        state.bench.rollup["target_missed"] = True


HAND_FILE = settings.BASE_DIR / "demo" / "router_handwritten.tsv"
ROUTER_TARGETS = {"seconds": 600, "peak_mb": 2048}  # training at 1 M cases (issue 15)


def train_router(state: BenchState) -> None:
    """智能派单 at volume: ``train_router`` in a process of its own (so its peak memory is its
    own, not this command's), on the city's newest archived cases (at most
    ``ROUTER_TRAINING_CASES``); the model it keeps is the one the suggest paths then measure."""
    manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
    command = [
        *manage,
        "train_router",
        *(["--hand", str(HAND_FILE)] if HAND_FILE.exists() else []),
    ]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)  # noqa: S603 - our own
    wall = time.perf_counter() - started
    for line in result.stdout.splitlines()[:12]:
        state.say(f"router: {line}")
    if result.returncode:
        problem = (result.stderr.strip().splitlines() or ["failed"])[-1]
        state.problems = [*(state.problems or []), f"router: {problem}"]
        return
    model = RouterModel.objects.order_by("-pk").first()
    if model is None or model.state != RouterState.ACTIVE:
        state.problems = [*(state.problems or []), "router: no model in use to measure"]
        return
    peak = next(
        (float(line.split()[2]) for line in result.stdout.splitlines()
         if line.startswith("peak memory")),
        float("nan"),
    )  # fmt: skip
    figures = {
        "version": model.pk,
        "cases": Case.objects.count(),
        "trained": model.cases_trained,
        "held_out": model.cases_held_out,
        "top1": model.top1,
        "top3": model.top3,
        "hand": model.metrics.get("hand"),
        "seconds": wall,
        "peak_mb": peak,
    }
    if figures["cases"] >= 1_000_000 and (
        wall > ROUTER_TARGETS["seconds"] or not peak <= ROUTER_TARGETS["peak_mb"]
    ):
        figures["target_missed"] = True
    state.bench.router = figures
    state.say(
        f"router: trained in {wall:,.1f} s wall (process start to stored model), peak "
        f"{peak:,.0f} MB, on {model.cases_trained:,} of the city's archived cases "
        f"(targets at 1 M cases: ≤ {ROUTER_TARGETS['seconds']} s, "
        f"≤ {ROUTER_TARGETS['peak_mb']} MB)"
    )


def measure(state: BenchState) -> None:
    """Every read path through HTTP on gunicorn with DEBUG=0, then intake beside pgbench."""
    options, out = state.options, state.out
    calls = options["calls"] or (QUICK_CALLS if options["quick"] else CALLS)
    settle(state)
    state.bench.generate["cases"] = Case.objects.count()
    state.bench.generate["events"] = CaseEvent.objects.count()
    try:
        groups = {g.strip() for g in options["groups"].split(",") if g.strip()}
        with Server(out) as server:
            state.bench.figures = measure_paths(server, out, calls=calls, groups=groups)
            if not groups or "intake" in groups:
                seconds = options["intake_seconds"] or (
                    QUICK_INTAKE if options["quick"] else INTAKE
                )
                state.bench.intake = measure_intake(server, out, clients=8, seconds=seconds)
    finally:
        forget_tokens()
    failed = [f"{f.group} / {f.name}: {f.error}" for f in state.bench.figures if f.error]
    if failed:
        state.problems = [*(state.problems or []), *failed]


def settle(state: BenchState) -> None:
    """Vacuum the tables the load wrote and analyse every table never analysed, as autovacuum
    does to a city's tables between its bulk of inserts and anyone's reading: a table just
    loaded has no visibility map yet, so every index-only scan (the tab counts) would still
    visit the heap, and a table without statistics misleads the planner (an unanalysed
    ``org_region`` taken for 100 rows put it in a nested loop around the case indexes: 15 s
    for a handler's 督办 tab instead of milliseconds). Cheap once done: a vacuum skips the pages
    the map already marks."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(LOAD_TABLES)}")
        cursor.execute(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(relname) "
            "FROM pg_stat_user_tables WHERE last_analyze IS NULL AND last_autoanalyze IS NULL"
        )
        never = [name for (name,) in cursor.fetchall()]
        if never:
            cursor.execute(f"ANALYZE {', '.join(never)}")
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
    state.out(
        f"measure: tables vacuumed and analysed in {time.perf_counter() - started:,.1f} s "
        f"({len(never)} never analysed before)"
    )
    if autovacuum != "on":
        state.bench.notes.append(
            f"This PostgreSQL runs with autovacuum = {autovacuum}: the run vacuums and analyses "
            "the tables itself before measuring, as autovacuum would have."
        )


def scan(state: BenchState) -> None:
    """The overdue scan at volume (point 5), by ``bench_scan`` on a scratch database of its
    own (created beside this one and dropped after), so the city measured here stays as it is."""
    options, out = state.options, state.out
    quick = options["quick"]
    open_cases = options["scan_open"] or (QUICK_SCAN[0] if quick else SCAN[0])
    due = options["scan_due"] or (QUICK_SCAN[1] if quick else SCAN[1])
    name = f"{connection.settings_dict['NAME']}_scan"
    quoted = connection.ops.quote_name(name)
    environment = {**os.environ, "DATABASE_URL": database_url().rsplit("/", 1)[0] + "/" + name}
    environment.pop("DATABASE_REPLICA_URL", None)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {quoted} ENCODING 'UTF8' TEMPLATE template0")
    figures_file = Path(tempfile.mkstemp(suffix=".json")[1])
    try:
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        subprocess.run(  # noqa: S603 - our own command line
            [*manage, "migrate", "--noinput", "-v0"], env=environment, check=True
        )
        result = subprocess.run(  # noqa: S603
            [
                *manage,
                "bench_scan",
                "--open",
                str(open_cases),
                "--due",
                str(due),
                "--json",
                str(figures_file),
            ],
            env=environment,
            capture_output=True,
            text=True,
        )
        for line in result.stdout.splitlines():
            out(line)
        if result.returncode:
            problem = (result.stderr.strip().splitlines() or ["failed"])[-1]
            state.problems = [*(state.problems or []), f"scan: {problem}"]
            return
        state.bench.scan = json.loads(figures_file.read_text(encoding="utf-8"))
    finally:
        figures_file.unlink(missing_ok=True)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")


def write_report(state: BenchState) -> None:
    path = Path(state.options["report"] or (QUICK_REPORT if state.options["quick"] else REPORT))
    write(state.bench, path)
    state.out(f"report: written to {path}")
    missed = state.bench.missed()
    state.out("report: every target met" if not missed else f"report: missed: {'; '.join(missed)}")


STEPS = [
    Step("generate", generate),
    Step("check", check_shape),
    Step("rollup", rollup),
    Step("router", train_router),
    Step("measure", measure),
    Step("scan", scan),
    Step("report", write_report),
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
        parser.add_argument(
            "--workers",
            type=int,
            default=WORKERS,
            help=f"Chunks written at once, on connections of their own (default {WORKERS}: "
            "the two cores of the reference machine).",
        )
        parser.add_argument("--seed", type=int, default=None, help="Random seed (default: time).")
        parser.add_argument(
            "--calls",
            type=int,
            default=0,
            help=f"Measured calls per path (default {CALLS}; {QUICK_CALLS} with --quick).",
        )
        parser.add_argument(
            "--intake-seconds",
            type=float,
            default=0,
            help=f"Seconds of intake (default {INTAKE:g}; {QUICK_INTAKE:g} with --quick).",
        )
        parser.add_argument(
            "--scan-open",
            type=int,
            default=0,
            help=f"Open cases of the scan's own database (default {SCAN[0]:,}).",
        )
        parser.add_argument(
            "--scan-due",
            type=int,
            default=0,
            help=f"How many of them are due (default {SCAN[1]:,}).",
        )
        parser.add_argument(
            "--skip",
            default="",
            help="Steps to leave out, comma-separated (e.g. generate to measure what is there).",
        )
        parser.add_argument(
            "--groups",
            default="",
            help="Measure only these groups of paths, comma-separated (e.g. suggest,detail; "
            "intake is one): default all.",
        )
        parser.add_argument(
            "--report",
            default="",
            help=f"Where the Markdown report goes (default docs/performance.md; "
            f"{QUICK_REPORT.relative_to(settings.BASE_DIR)} with --quick).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run on a database that holds cases bench_city did not write.",
        )
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
        if options["workers"] < 1:
            raise CommandError("--workers must be 1 or more.")
        skip = {name.strip() for name in options["skip"].split(",") if name.strip()}
        unknown = skip - {step.name for step in STEPS}
        if unknown:
            raise CommandError(f"--skip: no step named {', '.join(sorted(unknown))}")
        try:
            require_scratch_database(force=options["force"])
        except CityError as error:
            raise CommandError(str(error)) from None
        started = time.perf_counter()
        bench = Report(
            command=["bench_city", *sys.argv[2:]] if "bench_city" in sys.argv else ["bench_city"],
            started=dt.datetime.now(dt.UTC),
            quick=options["quick"],
        )
        state = BenchState(options=options, out=self.stdout.write, bench=bench)
        settings_dict = connection.settings_dict
        version = server_version()
        self.stdout.write(
            f"bench_city: PostgreSQL {version // 10000}.{version % 10000}, database "
            f"{settings_dict['NAME']} on {settings_dict.get('HOST') or 'the local socket'}"
            f"{' (quick: CI mode)' if options['quick'] else ''}"
        )
        load = "load average {:.2f} {:.2f} {:.2f}"
        bench.notes.append(f"Machine {load.format(*os.getloadavg())} when the run began.")
        if not options["quick"]:
            carry_record(state, skip)
        with sql_log_off():
            for step in STEPS:
                if step.name == "report":
                    bench.notes.append(
                        f"Machine {load.format(*os.getloadavg())} when the measurements ended "
                        "(figures on a machine that other work shares are not comparable)."
                    )
                if step.name in skip:
                    self.stdout.write(f"{step.name}: skipped (--skip)")
                    continue
                if step.run is None:
                    self.stdout.write(
                        f"{step.name}: not built yet (next step of issue 11): {step.later}"
                    )
                    continue
                try:
                    step.run(state)
                except CityError as error:
                    raise CommandError(str(error)) from None
                if step.name in CARRIED and not options["quick"]:
                    keep_record(state, step.name)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(
            f"bench_city: done in {time.perf_counter() - started:,.1f} s, "
            f"peak memory of this process {peak:,.0f} MB"
        )
        if options["quick"] and state.problems:
            raise CommandError("the city has the wrong shape: " + "; ".join(state.problems))
