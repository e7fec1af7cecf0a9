"""Empty the statistics rollup and compute it again from every case event (after a fix or an
import). On PostgreSQL set-based (``stats.rebuild``), elsewhere with the Python fold."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from stats.rebuild import RebuildReport, rebuild_rollup_sql
from stats.rollup import RefreshReport, rebuild_rollup
from xining_issues.bulk import sql_log_off


class Command(BaseCommand):
    help = (
        "Rebuild the statistics rollup (day and month rows) from all case events. On "
        "PostgreSQL it runs set-based, a month of cases per statement, in parallel worker "
        "connections; on SQLite (the laptop default) it falls back to folding the events in "
        "Python (stats.rollup.rebuild_rollup)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Connections that run the batches at once (PostgreSQL; default: "
            "max_parallel_workers_per_gather + 1, at most 8; 1 runs them in one transaction).",
        )
        parser.add_argument(
            "--in-place",
            action="store_true",
            help="Delete and insert the rows instead of building new tables and swapping them in.",
        )
        parser.add_argument(
            "--python",
            action="store_true",
            help="Fold the events in Python even on PostgreSQL (slow; to compare the two).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        set_based = connection.vendor == "postgresql" and not options["python"]
        progress = self.stdout.write if options["verbosity"] >= 1 else None
        report: RebuildReport | RefreshReport
        with sql_log_off():
            if set_based:
                report = rebuild_rollup_sql(
                    progress=progress, workers=options["workers"], swap=not options["in_place"]
                )
                rows, how = report.rows, "set-based"
            else:
                report = rebuild_rollup()
                rows, how = report.rows_upserted, "Python fold"
        self.stdout.write(
            f"rebuilt: {report.events_read} events, {report.cases_touched} cases, "
            f"{rows} rows, watermark {report.last_event_id}, {report.seconds:.1f} s ({how})"
        )
