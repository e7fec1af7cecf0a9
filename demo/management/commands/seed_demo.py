"""``python manage.py seed_demo [--cases N [--if-empty]] [--live-case]``: believable Xining demo
data. The organisation, reference data and the archived real case of 2023-10-19 are idempotent;
``--cases`` adds N cases each time (with ``--if-empty`` only when there are none yet);
``--live-case`` adds a drill case that the supervision scan turns yellow and red within minutes,
unless today's drill is still open."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cases.models import Case
from demo.archive import seed_archived_case
from demo.history import generate_cases
from demo.knowledge import seed_knowledge
from demo.organisation import seed_organisation
from demo.reference import live_case, seed_reference
from demo.topic_history import seed_topic_history
from demo.topics import seed_topics
from xining_issues.bulk import sql_log_off


class Command(BaseCommand):
    help = "Create the demo regions, units and accounts (idempotent); optionally N demo cases."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--cases",
            type=int,
            default=0,
            help="Also create this many demo cases spread over the last 12 months.",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Create --cases only if there are no cases."
        )
        parser.add_argument(
            "--live-case",
            action="store_true",
            help="Add a drill case with minute deadlines to watch the supervision scan act "
            "(none while today's drill is still open).",
        )

    def handle(
        self, *args: object, cases: int, if_empty: bool, live_case: bool, **options: object
    ) -> None:
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
        topics = seed_topics()
        self.stdout.write(f"topics: {topics.topics} topics, {topics.users} users added")
        self.stdout.write(f"knowledge: {seed_knowledge()} articles added")
        wanted = cases
        # Asked before the archived case is written, which is no reason to skip the year.
        if cases and if_empty and Case.objects.exists():
            self.stdout.write("cases: some exist already, none added (--if-empty)")
            cases = 0
        if cases:
            with sql_log_off():
                made = generate_cases(cases)
            self.stdout.write(
                f"cases: {made.cases} created in {made.seconds:.1f} s "
                f"({made.per_second:.0f} cases/s), {made.events} events"
            )
        if wanted:
            # With any complaints asked for (once: it is idempotent), and after the year, so
            # that its own are no reason for --if-empty to skip the year.
            history = seed_topic_history()
            self.stdout.write(
                f"topics: {history.cases} complaints around the 不动产登记 topic added"
            )
        archived, added = seed_archived_case()
        self.stdout.write(
            f"archive: the real case of 2023-10-19 (赵先生, 多巴一村) is {archived.tracking_code}"
            + ("" if added else " (already there)")
        )
        if live_case:
            self._live_case()
        self.stdout.write(f"seed_demo finished in {time.perf_counter() - started:.1f} s")

    def _live_case(self) -> None:
        drill, added = live_case()
        self.stdout.write(
            f"live case {drill.tracking_code}"
            + ("" if added else " (today's drill, still open)")
            + f": warning at {timezone.localtime(drill.warn_at):%H:%M}, overdue at "
            f"{timezone.localtime(drill.resolve_by):%H:%M} (handler_huangzhong's inbox)"
        )
