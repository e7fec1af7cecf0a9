"""The bulk demo-case generator: believable, workflow-shaped data written in batches."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from cases import grading, sla, workflow
from cases.models import (
    Case,
    CaseEvent,
    Category,
    DailySequence,
    Evaluation,
    ExtensionRequest,
    Status,
    SupervisionOrder,
)
from demo.history import GenerateReport, generate_cases
from org.models import Membership, Role, User
from stats.rates import compute_rates
from tests.conftest import Demo

TZ = ZoneInfo("Asia/Shanghai")
# In the heating season, with the real case of 2023-10-19 inside the year before it.
NOW = dt.datetime(2024, 1, 15, 10, 30, tzinfo=TZ)
SEED = 20231019
CODE = re.compile(r"^XN-(\d{8})-(\d{4,})$")
DISTRICTS = {"城东区", "城中区", "城西区", "城北区", "湟中区", "大通回族土族自治县", "湟源县"}
HEAVY = {"城东区", "城中区", "城西区", "城北区"}
TIMESTAMPS = [
    "created_at",
    "accepted_at",
    "dispatched_at",
    "signed_at",
    "contacted_at",
    "replied_at",
    "evaluated_at",
    "closed_at",
]
PAYLOAD_KEYS = {
    "accept": {"role", "category", "duty_level", "dispatch_region", "is_complex", "note"},
    "dispatch": {"role", "lead_unit", "co_units", "resolve_by", "note"},
    "contact": {"role", "first", "on_time", "method", "note"},
    "reply": {"role", "outcome", "text", "on_time"},
    "resolve_at_intake": {"role", "reply", "outcome"},
    "evaluate": {"role", "rating", "comment", "source", "round"},
    "close": {"unreasonable", "not_evaluated", "note"},
}


@pytest.fixture
def generated(demo: Demo) -> GenerateReport:
    return generate_cases(300, seed=SEED, now=NOW, batch_size=120)


def _events_by_case() -> dict[int, list[CaseEvent]]:
    events: dict[int, list[CaseEvent]] = defaultdict(list)
    for event in CaseEvent.objects.order_by("case_id", "created_at", "id"):
        events[event.case_id].append(event)
    return events


def _top_level(category: Category, parents: dict[int, int | None]) -> int:
    pk = category.pk
    while parents[pk] is not None:
        pk = parents[pk]
    return pk


@pytest.mark.django_db
def test_zero_cases_create_nothing(demo: Demo) -> None:
    users, sequences = User.objects.count(), DailySequence.objects.count()
    report = generate_cases(0, now=NOW)
    assert report.cases == report.events == 0
    assert not Case.objects.exists() and not CaseEvent.objects.exists()
    assert User.objects.count() == users and DailySequence.objects.count() == sequences


@pytest.mark.django_db
def test_cases_cover_every_state_district_category_and_channel(
    generated: GenerateReport,
) -> None:
    assert generated.cases == Case.objects.count() == 300
    assert generated.events == CaseEvent.objects.count()
    statuses = Counter(Case.objects.values_list("status", flat=True))
    assert set(statuses) == set(Status.values)
    assert statuses == generated.statuses
    # Most are archived; the open ones are few.
    assert statuses[Status.CLOSED] > 0.75 * 300
    districts = Counter(Case.objects.values_list("district__name", flat=True))
    assert set(districts) == DISTRICTS
    lighter = (districts["大通回族土族自治县"] + districts["湟源县"]) / 2
    assert sum(districts[d] for d in HEAVY) / 4 > 1.5 * lighter
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    used = {_top_level(c, parents) for c in Category.objects.filter(cases__isnull=False)}
    # Every real top-level category; the 应急演练 drill exists only for `make run`'s live case.
    drill = Category.objects.get(code="drill").pk
    assert used == {pk for pk, parent in parents.items() if parent is None} - {drill}
    channels = Counter(Case.objects.values_list("channel", flat=True))
    assert channels.most_common(1)[0][0] == "phone" and len(channels) == 5


@pytest.mark.django_db
def test_heating_dominates_the_heating_season(generated: GenerateReport) -> None:
    winter, summer = Counter(), Counter()
    for created, code in Case.objects.values_list("created_at", "category__code"):
        month = timezone.localtime(created, TZ).month
        group = code.split("-")[0]
        if month in (11, 12, 1, 2, 3):
            winter[group] += 1
        elif month in (6, 7, 8):
            summer[group] += 1
    assert winter.most_common(1)[0][0] == "heating"
    assert winter["heating"] > 0.3 * sum(winter.values())
    assert summer["heating"] < 0.1 * sum(summer.values())


@pytest.mark.django_db
def test_texts_people_and_phones_look_real(generated: GenerateReport) -> None:
    for case in Case.objects.all():
        assert case.title and case.description and case.address
        assert re.fullmatch(r"1[3-9]\d{9}", case.complainant_phone)
        assert re.fullmatch(r".{1,2}(先生|女士)", case.complainant_name)
    heating = Case.objects.filter(category__code="heating-cold")
    assert any("暖气" in c.description for c in heating)


@pytest.mark.django_db
def test_timestamps_lie_in_the_year_and_in_workflow_order(generated: GenerateReport) -> None:
    events = _events_by_case()
    for case in Case.objects.all():
        assert NOW - dt.timedelta(days=365) < case.created_at <= NOW
        stamps = [getattr(case, name) for name in TIMESTAMPS]
        present = [s for s in stamps if s is not None]
        assert present == sorted(present), case.tracking_code
        timeline = events[case.pk]
        assert timeline[0].type == "submit" and timeline[0].created_at == case.created_at
        times = [e.created_at for e in timeline]
        assert times == sorted(times) and times[-1] <= NOW
        if case.contacted_at and case.signed_at:
            assert case.signed_at <= case.contacted_at


@pytest.mark.django_db
def test_tracking_codes_are_unique_per_day_and_sequences_moved_on(
    generated: GenerateReport,
) -> None:
    numbers: dict[str, list[int]] = defaultdict(list)
    for code, created in Case.objects.values_list("tracking_code", "created_at"):
        match = CODE.match(code)
        assert match, code
        assert match[1] == f"{timezone.localtime(created, TZ):%Y%m%d}"
        numbers[match[1]].append(int(match[2]))
    assert Case.objects.values("tracking_code").distinct().count() == 300
    sequences = {f"{s.day:%Y%m%d}": s.last for s in DailySequence.objects.all()}
    for day, used in numbers.items():
        assert sorted(used) == list(range(1, len(used) + 1))
        assert sequences[day] == len(used)


@pytest.mark.django_db
def test_a_later_submission_on_a_generated_day_gets_a_fresh_code(
    generated: GenerateReport, demo: Demo
) -> None:
    busiest = DailySequence.objects.order_by("-last", "day").first()
    assert busiest is not None and busiest.last > 1
    late_that_day = dt.datetime.combine(busiest.day, dt.time(23, 50), TZ)
    with time_machine.travel(late_that_day, tick=False), transaction.atomic():
        case = workflow.case_submit(
            actor=demo.user("resident1"),
            category=demo.category("heating-cold"),
            region=demo.region("湟中区", "多巴镇", "多巴一村"),
            description="家里暖气不热。",
            complainant_name="赵先生",
            complainant_phone="13897123456",
        )
    assert case.tracking_code == f"XN-{busiest.day:%Y%m%d}-{busiest.last + 1:04d}"
    # Another batch for the same period continues the numbering too.
    generate_cases(40, seed=SEED + 1, now=NOW)
    assert Case.objects.values("tracking_code").distinct().count() == Case.objects.count()


@pytest.mark.django_db
def test_events_are_what_the_workflow_would_have_written(generated: GenerateReport) -> None:
    events = _events_by_case()
    cases = Case.objects.select_related("region", "dispatch_region", "category").prefetch_related(
        "co_units"
    )
    users = {u.pk: u for u in User.objects.all()}  # one object each: memberships are cached
    for case in cases:
        timeline = events[case.pk]
        status = ""
        for event in timeline:
            if event.type in PAYLOAD_KEYS:
                assert set(event.payload) >= PAYLOAD_KEYS[event.type] - {"role"}, event.type
            assert event.from_status == status, (case.tracking_code, event.type)
            role = event.payload.get("role")
            if event.type == "close" and role is None:
                # The archive scan closes a reply nobody evaluated (case_close(system=True)).
                assert event.from_status == Status.REPLIED and event.payload["not_evaluated"]
                assert event.actor_id is None
            elif event.type != "submit":
                transition = workflow.TRANSITIONS[event.type]
                assert event.from_status in transition.sources, (case.tracking_code, event.type)
                expected = transition.target or event.from_status
                if event.type == "evaluate" and event.to_status == Status.REVIEW:
                    expected = Status.REVIEW
                assert event.to_status == expected
                assert role in transition.roles
            status = event.to_status
            # The actor could have acted: the workflow's own permission check agrees (events
            # of a unit that later returned the case are judged against today's lead unit,
            # so they are left out).
            if (
                event.actor_id is not None
                and event.unit_id in (None, case.lead_unit_id)
                and event.type not in ("submit", "return", "reject")
            ):
                actor = users[event.actor_id]
                assert workflow._acting_role(actor, case, event.type) == event.payload["role"]
        assert status == case.status, case.tracking_code
        kinds = [e.type for e in timeline]
        if "accept" in kinds and case.return_count < workflow.MAX_RETURNS:
            # 分级派单: dispatched at the level the duty level gives (cases.grading)
            assert case.dispatch_region_id == grading.dispatch_region_id(
                case.region, case.duty_level
            ), case.tracking_code
        if case.status == Status.CLOSED:
            assert kinds[-1] == "close"
        if case.status == Status.REJECTED:
            assert kinds == ["submit", "reject"]
        if case.lead_unit_id is not None:
            dispatches = [e for e in timeline if e.type == "dispatch"]
            assert dispatches[-1].unit_id == case.lead_unit_id
            assert dispatches[-1].payload["lead_unit"] == case.lead_unit.name
            after = timeline[timeline.index(dispatches[-1]) :]
            assert all(e.unit_id == case.lead_unit_id for e in after)
            assert sorted(dispatches[-1].payload["co_units"]) == sorted(
                u.name for u in case.co_units.all()
            )
        firsts = [e for e in timeline if e.type == "contact" and e.payload["first"]]
        assert len(firsts) == (1 if "contact" in kinds else 0)
        if firsts:
            assert firsts[0].created_at == case.contacted_at
            assert firsts[0].payload["on_time"] == (case.contacted_at <= case.contact_by)
        evaluations = list(case.evaluations.order_by("round"))
        assert [e.round for e in evaluations] == [
            e.payload["round"] for e in timeline if e.type == "evaluate"
        ]
        if case.status in (Status.EVALUATED, Status.REVIEW):
            assert case.rating == evaluations[-1].rating
        assert case.reopen_count == kinds.count("reopen") <= 1
        assert case.return_count == kinds.count("return")


@pytest.mark.django_db
def test_the_rarer_paths_all_occur(generated: GenerateReport) -> None:
    kinds = Counter(CaseEvent.objects.values_list("type", flat=True))
    for kind in ("return", "reopen", "supervise", "request_extension", "resolve_at_intake"):
        assert 0 < kinds[kind] < 0.2 * 300, kind
    ratings = Counter(Evaluation.objects.values_list("rating", flat=True))
    assert ratings["satisfied"] > ratings["basically_satisfied"] > ratings["unsatisfied"] > 0
    assert ExtensionRequest.objects.count() == kinds["request_extension"]
    assert SupervisionOrder.objects.count() == kinds["supervise"]
    assert Case.co_units.through.objects.exists()
    assert generated.co_unit_links == Case.co_units.through.objects.count()


@pytest.mark.django_db
def test_supervision_fields_and_levels_agree_with_deadlines(generated: GenerateReport) -> None:
    """sign_by/warn_at as dispatch sets them; levels as the supervision scan would leave them
    (it raises, never lowers; dispatch, an approved extension and 重办 start afresh)."""
    policy = settings.SUPERVISION
    calendar = sla.WorkCalendar.load()
    levels = ["on_time", "warning", "overdue", "supervised"]
    events = _events_by_case()
    for case in Case.objects.all():
        kinds = [e.type for e in events[case.pk]]
        level = levels.index(case.supervision_level)
        restart = max((i for i, k in enumerate(kinds) if k in ("dispatch", "reopen")), default=0)
        if case.dispatched_at is None:
            assert case.sign_by is None and case.warn_at is None
        else:
            sign_hours = policy["sign_hours"]
            # Urgent matters are signed for round the clock, the rest in working hours.
            urgent = case.category.is_urgent or case.urgency != "normal"
            sign_unit = "clock_hours" if urgent else "working_hours"
            assert case.sign_by == calendar.add(case.dispatched_at, sign_hours, sign_unit)
            if "decide_extension" not in kinds and "reopen" not in kinds:
                share = policy["warning_share"]
                assert case.warn_at == sla.warning_point(
                    case.dispatched_at, case.resolve_by, share
                )
        if "supervise" in kinds[restart:]:
            assert case.supervision_level == "supervised"
        if case.status == Status.SUBMITTED:
            assert (case.supervision_level == "overdue") == (case.accept_by <= NOW)
        if case.status in (Status.DISPATCHED, Status.HANDLING):
            if case.resolve_by + dt.timedelta(hours=policy["office_after_hours"]) <= NOW:
                assert case.supervision_level == "supervised"
            elif case.resolve_by <= NOW:
                assert level >= levels.index("overdue")
            elif case.warn_at <= NOW:
                assert level >= levels.index("warning")
            if case.supervision_level == "on_time":
                assert case.warn_at > NOW
                assert case.contacted_at is not None or case.contact_by > NOW
                assert case.status == Status.HANDLING or case.sign_by > NOW
    assert {c.supervision_level for c in Case.objects.all()} == set(levels)
    for order in SupervisionOrder.objects.select_related("case"):
        assert order.created_at < order.due_at
        if order.case.status in (Status.DISPATCHED, Status.HANDLING):
            assert order.fulfilled_at is None
        else:
            reply = order.case.events.filter(type="reply", created_at__gt=order.created_at)
            assert order.fulfilled_at == reply.order_by("created_at")[0].created_at


@pytest.mark.django_db
def test_rates_are_meaningful_overall_and_per_district(demo: Demo) -> None:
    # Twice the shared sample: each heavy district then has some 90 evaluations, so a rate of
    # exactly 1 (every one satisfied, about one chance in twenty at 45) would be a real defect.
    generate_cases(600, seed=SEED, now=NOW, batch_size=120)
    rows = compute_rates(
        demo.user("committee1"),
        start=NOW - dt.timedelta(days=366),
        end=NOW + dt.timedelta(seconds=1),
        group_by="district",
    )
    total = Counter()
    for row in rows:
        for key in ("dispatched", "responded", "replied", "resolved", "evaluated", "satisfied"):
            total[key] += row[key]
    for part, whole in (("responded", "dispatched"), ("resolved", "replied")):
        assert 0 < total[part] / total[whole] < 1
    assert 0.8 < total["satisfied"] / total["evaluated"] < 1
    by_name = {row["name"]: row for row in rows}
    assert set(by_name) == DISTRICTS
    for name in HEAVY:
        for rate in ("response_rate", "resolution_rate", "satisfaction_rate"):
            assert 0 < by_name[name][rate] < 1, (name, rate, by_name[name])


@pytest.mark.django_db
def test_same_seed_same_cases(demo: Demo) -> None:
    def snapshot(ids: list[int]) -> list[tuple]:
        cases = Case.objects.filter(pk__in=ids).order_by("created_at", "id")
        return [
            (
                c.created_at, c.category_id, c.region_id, c.channel, c.status, c.title,
                c.description, c.complainant_name, c.complainant_phone, c.lead_unit_id,
                c.resolve_by, c.rating, c.supervision_level,
                [(e.type, e.created_at, e.actor_id, e.unit_id) for e in c.events.all()],
            )
            for c in cases
        ]  # fmt: skip

    before = set(Case.objects.values_list("pk", flat=True))
    generate_cases(80, seed=7, now=NOW)
    first = set(Case.objects.values_list("pk", flat=True)) - before
    generate_cases(80, seed=7, now=NOW)
    second = set(Case.objects.values_list("pk", flat=True)) - before - first
    generate_cases(80, seed=8, now=NOW)
    third = set(Case.objects.values_list("pk", flat=True)) - before - first - second
    assert snapshot(sorted(first)) == snapshot(sorted(second))
    assert snapshot(sorted(first)) != snapshot(sorted(third))


@pytest.mark.django_db
def test_queries_grow_with_batches_not_cases(
    demo: Demo, django_assert_max_num_queries: object
) -> None:
    # The first run gives every possible lead unit without a 承办人 a demo handler account.
    assert generate_cases(5, seed=1, now=NOW).accounts_created > 0
    assert generate_cases(5, seed=1, now=NOW).accounts_created == 0
    handled = set(Membership.objects.filter(role=Role.HANDLER).values_list("unit_id", flat=True))
    assert set(Case.objects.exclude(lead_unit=None).values_list("lead_unit", flat=True)) <= handled
    setup, per_batch = 12, 13  # reference data once; per batch one statement per table
    with django_assert_max_num_queries(setup + 3 * per_batch) as small:  # type: ignore[operator]
        generate_cases(300, seed=2, now=NOW, batch_size=100)
    with django_assert_max_num_queries(setup + 6 * per_batch) as large:  # type: ignore[operator]
        generate_cases(600, seed=3, now=NOW, batch_size=100)
    assert len(large) - len(small) <= 3 * per_batch
    assert Case.objects.count() == 910


@pytest.mark.django_db
def test_seed_demo_command_reports_the_cases(demo: Demo) -> None:
    out = StringIO()
    call_command("seed_demo", cases=0, stdout=out)
    # Only the archived real case of 2023-10-19 (demo.archive), whatever --cases says.
    assert Case.objects.count() == 1 and "created in" not in out.getvalue()
    call_command("seed_demo", cases=25, stdout=out)
    # the year's 25, and once the complaints around the 不动产登记 topic (demo.topic_history)
    around = re.search(r"topics: (\d+) complaints around the 不动产登记 topic", out.getvalue())
    assert around and int(around[1]) > 0
    assert Case.objects.count() == 1 + 25 + int(around[1])
    assert re.search(r"cases: 25 created in [\d.]+ s \(\d+ cases/s\), \d+ events", out.getvalue())
