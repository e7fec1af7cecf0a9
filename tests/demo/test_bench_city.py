"""``bench_city``: the synthetic city of issue 11, written set-based on PostgreSQL.

The replay test is the oracle: it knows nothing of how the generator decides a history. It
walks each sampled case's events through ``cases.workflow.TRANSITIONS`` (and the workflow's own
permission check) and through ``cases.sla`` for the deadlines, the way a real case would have
been written.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections import Counter, defaultdict
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from cases import sla, workflow
from cases.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    DailySequence,
    Evaluation,
    ExtensionRequest,
    Status,
    SupervisionOrder,
)
from demo.city import defer_indexes
from demo.management.commands import bench_city as command
from demo.management.commands.bench_city import should_defer
from demo.models import DeferredIndex
from org.models import User
from tests.conftest import Demo

TZ = ZoneInfo(settings.TIME_ZONE)
CODE = re.compile(r"^XN-(\d{8})-(\d{4,})$")
N = 2000
# Events the supervision scan writes without a transition, and the one close it makes itself.
SYSTEM_CLOSE = "close"


def bench_city(**options: object) -> str:
    """The command's generation and check steps. The measuring steps (gunicorn, and the
    router's training in a process of its own) cannot see a test's uncommitted city:
    ``.ci/run`` runs them whole on its own database."""
    out = StringIO()
    options.setdefault("skip", "rollup,router,measure,scan,report")
    call_command("bench_city", stdout=out, **options)
    return out.getvalue()


@pytest.fixture(autouse=True)
def record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The record a run keeps of its generate and rollup steps, out of the checkout's var/."""
    path = tmp_path / "record.json"
    monkeypatch.setattr(command, "record_path", lambda: path)
    return path


@pytest.fixture
def city(demo: Demo) -> str:
    """A city of 2,000 cases made by the CI mode (which checks its own shape)."""
    return bench_city(cases=N, quick=True, seed=11)


def _timelines(case_ids: list[int]) -> dict[int, list[CaseEvent]]:
    events: dict[int, list[CaseEvent]] = defaultdict(list)
    for event in CaseEvent.objects.filter(case_id__in=case_ids).order_by(
        "case_id", "created_at", "id"
    ):
        events[event.case_id].append(event)
    return events


def _sample(k: int, seed: int = 5) -> list[Case]:
    ids = sorted(Case.objects.values_list("pk", flat=True))
    chosen = random.Random(seed).sample(ids, min(k, len(ids)))
    return list(
        Case.objects.filter(pk__in=chosen)
        .select_related("category", "region", "dispatch_region", "lead_unit")
        .prefetch_related("co_units")
        .order_by("pk")
    )


# --- (a) only on PostgreSQL -------------------------------------------------------------------


@pytest.mark.django_db
def test_refuses_anything_but_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs on SQLite as is; on PostgreSQL the connection pretends to be SQLite."""
    if connection.vendor != "sqlite":
        monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match=r"bench_city needs PostgreSQL.*DATABASE_URL"):
        bench_city(cases=10)
    assert not Case.objects.exists()


# --- (b) the shape of 2,000 cases ---------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_makes_exactly_n_cases_with_events_and_the_shape_asked_for(city: str) -> None:
    assert Case.objects.count() == N
    assert "2,000 cases" in city and "rows/s" in city
    assert "rollup: skipped (--skip)" in city and "report: skipped (--skip)" in city
    # Every case has a history that starts with its submission.
    firsts = CaseEvent.objects.filter(type="submit").values_list("case_id", flat=True)
    assert sorted(firsts) == sorted(Case.objects.values_list("pk", flat=True))
    assert CaseEvent.objects.count() > 6 * N
    codes = list(Case.objects.values_list("tracking_code", "created_at"))
    assert len({code for code, _created in codes}) == N
    for code, created in codes:
        match = CODE.match(code)
        assert match, code
        assert match[1] == f"{timezone.localtime(created, TZ):%Y%m%d}"
    statuses = Counter(Case.objects.values_list("status", flat=True))
    assert 0.92 * N <= statuses[Status.CLOSED] <= 0.97 * N, statuses
    assert 0 < statuses[Status.REJECTED] < 0.05 * N
    assert all(statuses[status] > 0 for status in OPEN_STATUSES), statuses


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_city_has_the_believable_skew(city: str) -> None:
    """Ten years ending today, growing; districts by population; heating in winter; channels;
    some overdue, some re-handled, returned, extended, supervised."""
    now = timezone.now()
    created = list(Case.objects.values_list("created_at", flat=True))
    assert min(created) >= now - dt.timedelta(days=366 * 10) and max(created) <= now
    years = Counter(timezone.localtime(c, TZ).year for c in created)
    full = sorted(years)[1:-1]
    assert years[full[-1]] > years[full[0]]  # the hotline grows
    districts = Counter(Case.objects.values_list("district__name", flat=True))
    assert len(districts) == 7 and districts["城东区"] > 2 * districts["湟源县"]
    winter, summer = Counter(), Counter()
    for when, code in Case.objects.values_list("created_at", "category__code"):
        month = timezone.localtime(when, TZ).month
        bucket = winter if month in (11, 12, 1, 2) else summer if month in (6, 7, 8) else None
        if bucket is not None:
            bucket[code.startswith("heating")] += 1
    assert winter[True] / sum(winter.values()) > 0.3 > 0.05 > summer[True] / sum(summer.values())
    channels = Counter(Case.objects.values_list("channel", flat=True))
    assert set(channels) == {"phone", "web", "walk_in", "mini_program", "grid"}
    assert channels.most_common(1)[0][0] == "phone"
    levels = Counter(
        Case.objects.filter(status__in=[Status.DISPATCHED, Status.HANDLING]).values_list(
            "supervision_level", flat=True
        )
    )
    assert levels["overdue"] + levels["supervised"] > 0
    kinds = Counter(CaseEvent.objects.values_list("type", flat=True))
    for kind in ("reopen", "return", "request_extension", "supervise", "resolve_at_intake"):
        assert 0 < kinds[kind] < 0.2 * N, kind
    assert ExtensionRequest.objects.count() == kinds["request_extension"]
    assert SupervisionOrder.objects.count() == kinds["supervise"]
    assert Evaluation.objects.count() == kinds["evaluate"]
    heating = Case.objects.filter(category__code="heating-cold").values_list(
        "description", flat=True
    )
    assert any("暖气" in text for text in heating)
    assert all(re.fullmatch(r"1[3-9]\d{9}", p) for p in Case.objects.values_list(
        "complainant_phone", flat=True)[:200])  # fmt: skip


# --- (c) every history replays through the workflow's own table ------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_sampled_histories_replay_through_the_transition_table(city: str) -> None:
    cases = _sample(400)
    timelines = _timelines([c.pk for c in cases])
    users = {u.pk: u for u in User.objects.all()}  # one object each: memberships are cached
    for case in cases:
        timeline = timelines[case.pk]
        assert timeline and timeline[0].type == "submit", case.tracking_code
        assert timeline[0].created_at == case.created_at
        assert [e.pk for e in timeline] == sorted(e.pk for e in timeline), case.tracking_code
        status, last = "", None
        for event in timeline:
            where = (case.tracking_code, event.type, event.from_status)
            assert event.from_status == status, where
            assert last is None or event.created_at >= last, where
            role = event.payload.get("role")
            if event.type == "submit":
                assert event.to_status == Status.SUBMITTED
            elif event.type == SYSTEM_CLOSE and role is None:
                # The supervision scan archives a reply nobody evaluated (system close).
                assert event.from_status == Status.REPLIED and event.to_status == Status.CLOSED
                assert event.payload["not_evaluated"] and event.actor_id is None
            else:
                transition = workflow.TRANSITIONS[event.type]
                assert event.from_status in transition.sources, where
                expected = transition.target or event.from_status
                # A second 不满意 goes to a supervisor (_evaluate), not to 已评价.
                if (
                    event.type == "evaluate"
                    and event.payload["round"] >= workflow.MAX_REOPENS
                    and event.payload["rating"] == "unsatisfied"
                ):
                    expected = Status.REVIEW
                assert event.to_status == expected, where
                assert role in transition.roles, where
            # Whoever acted could have: the workflow's own permission check agrees (events of a
            # unit that later returned the case are judged against today's lead unit, so
            # they are left out, as are the intake steps before the case had a unit).
            if (
                event.actor_id is not None
                and event.unit_id in (None, case.lead_unit_id)
                and event.type not in ("submit", "return", "reject")
            ):
                acting = workflow._acting_role(users[event.actor_id], case, event.type)
                assert acting == role, where
            status, last = event.to_status, event.created_at
        assert status == case.status, case.tracking_code
        assert last <= timezone.now()


@pytest.mark.postgres
@pytest.mark.django_db
def test_sampled_cases_carry_what_their_history_and_the_calendar_say(city: str) -> None:
    calendar = sla.WorkCalendar.load()
    policy = settings.SUPERVISION
    cases = _sample(300, seed=7)
    timelines = _timelines([c.pk for c in cases])
    for case in cases:
        timeline = timelines[case.pk]
        kinds = [e.type for e in timeline]
        code = case.tracking_code
        assert case.accept_by == sla.accept_deadline(
            case.category, case.created_at, urgency=case.urgency, calendar=calendar
        ), code
        if case.dispatched_at is not None:
            assert case.contact_by == sla.contact_deadline(
                case.category, case.dispatched_at, urgency=case.urgency, calendar=calendar
            ), code
            urgent = case.category.is_urgent or case.urgency != "normal"
            sign_unit = "clock_hours" if urgent else "working_hours"
            assert case.sign_by == calendar.add(
                case.dispatched_at, policy["sign_hours"], sign_unit
            ), code
            resolve_by = sla.resolve_deadline(
                case.category,
                case.dispatched_at,
                urgency=case.urgency,
                is_complex=case.is_complex,
                calendar=calendar,
            )
            dispatch = [e for e in timeline if e.type == "dispatch"][-1]
            assert dispatch.payload["resolve_by"] == resolve_by.isoformat(), code
            assert dispatch.unit_id == case.lead_unit_id
            assert dispatch.payload["lead_unit"] == case.lead_unit.name
            assert sorted(dispatch.payload["co_units"]) == sorted(
                u.name for u in case.co_units.all()
            )
            if "decide_extension" not in kinds and "reopen" not in kinds:
                assert case.resolve_by == resolve_by, code
                assert case.warn_at == sla.warning_point(
                    case.dispatched_at, resolve_by, policy["warning_share"]
                ), code
        for event in timeline:
            if event.type == "reopen":
                expected = calendar.add(
                    event.created_at, workflow.REOPEN_RESOLVE_DAYS, "working_days"
                )
                assert event.payload["resolve_by"] == expected.isoformat(), code
                assert case.resolve_by == expected or case.status == Status.CLOSED
            if event.type == "supervise":
                order = SupervisionOrder.objects.get(pk=event.payload["order"])
                assert order.case_id == case.pk
                expected = calendar.add(event.created_at, 3, "working_days")
                assert event.payload["due_at"] == expected.isoformat()
            if event.type == "request_extension":
                assert ExtensionRequest.objects.get(pk=event.payload["request"]).case_id == case.pk
        firsts = [e for e in timeline if e.type == "contact" and e.payload["first"]]
        if firsts:
            assert firsts[0].created_at == case.contacted_at
            assert firsts[0].payload["on_time"] == (case.contacted_at <= case.contact_by)
        rounds = list(case.evaluations.order_by("round").values_list("round", "rating"))
        assert [r for r, _rating in rounds] == [
            e.payload["round"] for e in timeline if e.type == "evaluate"
        ], code
        if case.status in (Status.EVALUATED, Status.REVIEW):
            assert case.rating == rounds[-1][1]
        assert case.reopen_count == kinds.count("reopen")
        assert case.return_count == kinds.count("return")
        if case.status == Status.REJECTED:
            assert kinds == ["submit", "reject"] and case.closed_at is not None
        if case.status == Status.CLOSED:
            assert kinds[-1] == "close" and case.closed_at == timeline[-1].created_at
        # A reply nobody evaluated is archived by the scan within a week, never left open.
        if case.status == Status.REPLIED:
            window = dt.timedelta(days=policy["evaluate_days"])
            assert case.replied_at > timezone.now() - window


# --- (d) running it again adds, with fresh codes ---------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_running_again_adds_cases_and_resume_tops_up(demo: Demo) -> None:
    bench_city(cases=700, seed=1)
    bench_city(cases=500, seed=2)  # the same ten years again: 500 more, fresh numbers
    assert Case.objects.count() == 1200
    numbers: dict[str, list[int]] = defaultdict(list)
    for code in Case.objects.values_list("tracking_code", flat=True):
        match = CODE.match(code)
        assert match
        numbers[match[1]].append(int(match[2]))
    sequences = {f"{s.day:%Y%m%d}": s.last for s in DailySequence.objects.all()}
    for day, used in numbers.items():
        assert sorted(used) == list(range(1, len(used) + 1)), day  # unique, no gaps
        assert sequences[day] == len(used)
    # --resume tops the database up to N, continuing the timeline where it stands.
    out = bench_city(cases=1200, resume=True)
    assert "nothing to do" in out and Case.objects.count() == 1200
    bench_city(cases=1500, resume=True, seed=3)
    assert Case.objects.count() == 1500
    assert Case.objects.values("tracking_code").distinct().count() == 1500


# --- (e) a real submission afterwards gets a fresh code --------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_real_submission_after_the_city_gets_a_fresh_code(city: str, demo: Demo) -> None:
    generated = set(Case.objects.values_list("tracking_code", flat=True))
    client = APIClient()
    client.force_authenticate(demo.user("operator1"))
    submission = {
        "category": demo.category("heating-cold").pk,
        "region": demo.region("湟中区", "多巴镇", "多巴一村").pk,
        "description": "家里暖气不热，室温只有12度。",
        "complainant_name": "赵先生",
        "complainant_phone": "13909712345",
        "channel": "phone",
    }
    today = DailySequence.objects.filter(day=timezone.localdate()).first()
    response = client.post("/api/v1/cases/", submission, format="json")
    assert response.status_code == 201, response.content
    code = response.json()["tracking_code"]
    assert code not in generated
    assert code == f"XN-{timezone.localdate():%Y%m%d}-{(today.last if today else 0) + 1:04d}"
    # Late on the busiest generated day, the next number follows the generated ones.
    busiest = DailySequence.objects.exclude(day=timezone.localdate()).order_by("-last").first()
    assert busiest is not None and busiest.last > 1
    with time_machine.travel(dt.datetime.combine(busiest.day, dt.time(23, 50), TZ), tick=False):
        response = client.post("/api/v1/cases/", submission, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["tracking_code"] == f"XN-{busiest.day:%Y%m%d}-{busiest.last + 1:04d}"
    assert Case.objects.values("tracking_code").distinct().count() == N + 2


# --- indexes set aside for a large load come back, even after an interrupted run ----------------


def _secondary_indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN ('cases_case', 'cases_caseevent')"
        )
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.postgres
@pytest.mark.django_db
def test_indexes_set_aside_for_a_load_are_built_again(demo: Demo) -> None:
    before = _secondary_indexes()
    assert {"case_text_bigrams", "event_case_created"} <= before
    out = bench_city(cases=300, defer_indexes="yes", seed=4)
    assert "set aside" in out and "built again" in out
    assert _secondary_indexes() == before and not DeferredIndex.objects.exists()
    # A load that stops half-way leaves its record; the next run builds the indexes first.
    assert defer_indexes() > 20
    assert "case_text_bigrams" not in _secondary_indexes()
    out = bench_city(cases=100, defer_indexes="no", seed=5)
    assert "left dropped by an interrupted run" in out
    assert _secondary_indexes() == before and not DeferredIndex.objects.exists()
    assert Case.objects.count() == 400


@pytest.mark.postgres
@pytest.mark.django_db
def test_open_cases_carry_the_level_the_supervision_scan_would_have_left(city: str) -> None:
    """The scan raises a level when a deadline passes and never lowers it (督: 预警, 超期, 督办
    after three days overdue)."""
    now = timezone.now()
    office = dt.timedelta(hours=settings.SUPERVISION["office_after_hours"])
    levels = ["on_time", "warning", "overdue", "supervised"]
    working = Case.objects.filter(status__in=[Status.DISPATCHED, Status.HANDLING])
    assert working.exists()
    for case in working:
        level = levels.index(case.supervision_level)
        if case.resolve_by + office <= now:
            assert case.supervision_level == "supervised", case.tracking_code
        elif case.resolve_by <= now:
            assert level >= levels.index("overdue"), case.tracking_code
        elif case.warn_at <= now:
            assert level >= levels.index("warning"), case.tracking_code
        if case.supervision_level == "on_time":
            assert case.warn_at > now
            assert case.contacted_at is not None or case.contact_by > now
            assert case.status == Status.HANDLING or case.sign_by > now
    for case in Case.objects.filter(status=Status.SUBMITTED):
        assert (case.supervision_level == "overdue") == (case.accept_by <= now)


@pytest.mark.parametrize(
    ("choice", "to_write", "existing", "defer"),
    [
        ("auto", 10_000_000, 0, True),  # the big load into an empty database
        ("auto", 20_000, 0, True),  # CI's --cases 20000 --quick
        ("auto", 20_000, 100_000, False),  # adding a little to a lot: keep the indexes
        ("auto", 2_000, 0, False),  # too small to be worth a rebuild
        ("yes", 10, 1_000_000, True),
        ("no", 10_000_000, 0, False),
    ],
)
def test_indexes_are_set_aside_only_when_a_load_outweighs_the_tables(
    choice: str, to_write: int, existing: int, defer: bool
) -> None:
    assert should_defer(choice, to_write, existing) is defer


# --- (g) a later run reports the generation it did not do ----------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_run_that_skips_generation_reports_the_run_that_did_it(
    demo: Demo, record: Path, tmp_path: Path
) -> None:
    bench_city(cases=300, seed=4)
    kept = json.loads(record.read_text(encoding="utf-8"))["generate"]
    assert kept["figures"]["written"] == 300 and kept["figures"]["target_missed"] is False
    assert any(line.startswith("generate: 300 cases") for line in kept["lines"])
    # Nothing to do the second time: the record of the run that wrote the city stays.
    bench_city(cases=300, resume=True)
    assert json.loads(record.read_text(encoding="utf-8"))["generate"] == kept
    report = tmp_path / "performance.md"
    bench_city(cases=300, skip="generate,check,rollup,router,measure,scan", report=str(report))
    text = report.read_text(encoding="utf-8")
    assert f"(generate: as measured by the run of {kept['at']})" in text
    assert "generate: 300 cases" in text and "peak memory of this process" in text
