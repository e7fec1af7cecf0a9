"""Empty the statistics rollup and fold every case event again (after a fix or an import)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from cases.rollup import rebuild_rollup
from xining_issues.bulk import sql_log_off


class Command(BaseCommand):
    help = "Rebuild the statistics rollup (day and month rows) from all case events."

    def handle(self, *args: Any, **options: Any) -> None:
        with sql_log_off():
            report = rebuild_rollup()
        self.stdout.write(
            f"rebuilt: {report.events_read} events, {report.cases_touched} cases, "
            f"{report.rows_upserted} rows, watermark {report.last_event_id}, "
            f"{report.seconds:.1f} s"
        )
