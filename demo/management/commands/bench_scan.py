"""``python manage.py bench_scan --open 1000000 --due 100000``: the overdue scan at volume.

Issue 11, point 5. Writes the open cases (set-based, PostgreSQL only), starts a ``celery
worker`` on a queue of its own in Redis database 9, sends beat's tick and measures it to the
last batch, counts batches, marks, events and messages, times a tick with nothing newly due and
one with nothing due, and EXPLAINs the scan's queries (``demo.scan_bench``). Figures are printed,
never asserted.

Run it on a fresh scratch database: it refuses a database holding cases it did not make or
accounts that are not demo accounts, and one it has run on before, unless ``--force``.

    createdb -E UTF8 -T template0 xining_scan
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/xining_scan
    python manage.py migrate
    python manage.py bench_scan --open 1000000 --due 100000
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from cases.models import Case
from demo.scan_bench import PREFIX, ScanBenchError, broker_url, measure_scan, require_postgresql
from org.models import User

DEMO_MAIL = "@example.invalid"  # the demo accounts' addresses (demo.organisation, demo.city)


def foreign_data() -> list[str]:
    """What in this database the benchmark did not make: reasons to refuse it."""
    found = []
    cases = Case.objects.exclude(tracking_code__startswith=PREFIX).count()
    if cases:
        found.append(f"{cases:,} cases bench_scan did not write")
    people = User.objects.exclude(email__endswith=DEMO_MAIL).count()
    if people:
        found.append(f"{people:,} accounts that are not demo accounts (e-mail not *{DEMO_MAIL})")
    earlier = Case.objects.filter(tracking_code__startswith=PREFIX).count()
    if earlier:
        found.append(
            f"{earlier:,} cases of an earlier bench_scan run (its chased cases would blur the "
            "figures)"
        )
    return found


class Command(BaseCommand):
    help = (
        "The overdue scan at volume (issue 11, point 5): N open cases, M of them due, one beat "
        "tick through a real worker (PostgreSQL and Redis)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--open", type=int, default=1_000_000, dest="open_cases", help="Open cases to write."
        )
        parser.add_argument("--due", type=int, default=100_000, help="How many of them are due.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=0,
            help="Cases per supervision task (default: SUPERVISION_BATCH_SIZE).",
        )
        parser.add_argument(
            "--concurrency", type=int, default=2, help="Worker processes (1: solo pool)."
        )
        parser.add_argument("--json", default="", help="Also write the figures to this file.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run on a database that holds other data (it adds cases and chases them).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            require_postgresql()
        except ScanBenchError as error:
            raise CommandError(str(error)) from None
        if options["open_cases"] < 1 or not 0 <= options["due"] <= options["open_cases"]:
            raise CommandError("--open must be positive and --due between 0 and --open.")
        if options["batch_size"] < 0 or options["concurrency"] < 1:
            raise CommandError("--batch-size must be positive, --concurrency at least 1.")
        found = foreign_data()
        if found and not options["force"]:
            raise CommandError(
                "This database does not look like a fresh scratch database: "
                + "; ".join(found)
                + ". bench_scan writes cases and sends reminders on every case due, so it "
                "refuses (createdb a scratch database and migrate it, or pass --force). / "
                "此数据库不是新建的临时数据库，bench_scan 拒绝运行"
                "（请新建临时数据库，或使用 --force）。"
            )
        started = time.perf_counter()
        settings = connection.settings_dict
        host = settings.get("HOST") or "the local socket"
        self.stdout.write(
            f"bench_scan: database {settings['NAME']} on {host}, broker {broker_url()}; "
            f"{options['open_cases']:,} open cases, {options['due']:,} due"
        )
        try:
            figures = measure_scan(
                open_cases=options["open_cases"],
                due=options["due"],
                out=self.stdout.write,
                batch_size=options["batch_size"] or None,
                concurrency=options["concurrency"],
            )
        except ScanBenchError as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            Path(options["json"]).write_text(
                json.dumps(figures, indent=1, ensure_ascii=False, default=str), encoding="utf-8"
            )
        self.stdout.write(f"bench_scan: done in {time.perf_counter() - started:,.1f} s")
