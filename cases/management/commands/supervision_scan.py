"""``python manage.py supervision_scan [--dry-run] [--now ISO]``: one supervision scan, by hand.

Without ``--dry-run`` it carries out every batch in this process (no worker needed); with it,
it only prints what would happen.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cases import supervision


class Command(BaseCommand):
    help = "Run one supervision scan: warnings, overdue flags, escalations, archive of unrated."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only print what is due.")
        parser.add_argument("--now", help="Pretend it is this time (ISO 8601 with offset).")

    def handle(self, *args: object, dry_run: bool, now: str | None, **options: object) -> None:
        moment = timezone.now()
        if now:
            try:
                moment = dt.datetime.fromisoformat(now)
            except ValueError as error:
                raise CommandError(f"--now: {error}") from error
            if timezone.is_naive(moment):
                raise CommandError("--now needs a time zone offset, e.g. 2026-11-26T09:00+08:00")
        total: dict[str, int] = {}
        for rule, items in supervision.scan(moment):
            done = len(items) if dry_run else supervision.supervise_batch(rule, items, moment)
            total[rule] = total.get(rule, 0) + done
        verb = "due" if dry_run else "done"
        for rule in supervision.RULE_NAMES:
            self.stdout.write(f"{rule:22} {total.get(rule, 0):6} {verb}")
