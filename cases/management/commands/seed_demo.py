"""``python manage.py seed_demo [--cases N]``: believable Xining demo data, safe to run twice."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.demo import seed_reference
from org.demo import seed_organisation


class Command(BaseCommand):
    help = "Create the demo regions, units and accounts (idempotent); optionally N demo cases."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--cases",
            type=int,
            default=0,
            help="Also create this many demo cases spread over the last 12 months.",
        )

    def handle(self, *args: object, cases: int, **options: object) -> None:
        if cases < 0:
            raise CommandError("--cases must be zero or more.")
        started = time.perf_counter()
        report = seed_organisation()
        self.stdout.write(
            f"organisation: {report.regions} regions, {report.units} units, "
            f"{report.users} users added"
        )
        categories, rules = seed_reference()
        self.stdout.write(f"cases: {categories} categories, {rules} responsibilities added")
        if cases:
            # The case engine adds its generator here; until then say so rather than pretend.
            raise CommandError("--cases needs the case engine, which is not installed yet.")
        self.stdout.write(f"seed_demo finished in {time.perf_counter() - started:.1f} s")
