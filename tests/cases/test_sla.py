"""Deadlines on the Chinese holiday calendar: 调休, the override table, office hours, caps.

Every expected datetime is worked out by hand in the comments. Office hours are 09:00-12:00 and
13:30-17:30 local time (seven working hours a day); ``working_days`` ends at 17:30 on the Nth
working day after the day of receipt.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import holidays
import pytest
from django.conf import settings
from pytest_django import DjangoAssertNumQueries

from cases.models import CalendarDay, Category, TimeUnit, Urgency
from cases.sla import (
    WorkCalendar,
    accept_deadline,
    contact_deadline,
    resolve_deadline,
    warning_point,
)

LOCAL = ZoneInfo(settings.TIME_ZONE)

WD = TimeUnit.WORKING_DAYS
WH = TimeUnit.WORKING_HOURS
CH = TimeUnit.CLOCK_HOURS


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A local (Asia/Shanghai) aware datetime."""
    return datetime(year, month, day, hour, minute, second, tzinfo=LOCAL)


@pytest.fixture
def calendar() -> WorkCalendar:
    """The package calendar with no overrides; needs no database."""
    return WorkCalendar()


@pytest.fixture
def spring_festival_2027(db: None) -> None:
    """An ASSUMED 2027 Spring Festival schedule, entered as an administrator would.

    These rows are test fixtures modelled on the usual pattern (nine days off around 除夕, a
    make-up working Sunday before and Saturday after), NOT the official State Council schedule.
    """
    for day in range(5, 14):  # 2027-02-05 (Fri, 除夕) .. 2027-02-13 (Sat) off
        CalendarDay.objects.create(date=date(2027, 2, day), is_workday=False, note="春节")
    CalendarDay.objects.create(date=date(2027, 1, 31), is_workday=True, note="春节调休上班")
    CalendarDay.objects.create(date=date(2027, 2, 20), is_workday=True, note="春节调休上班")


class TestWhatThePackageKnows:
    """The facts the other tests rely on, checked against the installed ``holidays``."""

    def test_national_day_2026_with_make_up_days(self) -> None:
        cn = holidays.country_holidays("CN", years=2026)
        # 10-01, 02, 03, 05 are holidays, 10-06 and 10-07 days off substituted from the make-up
        # days; 10-04 is a plain Sunday.
        assert {date(2026, 10, d) for d in (1, 2, 3, 5, 6, 7)} <= set(cn)
        assert date(2026, 10, 4) not in cn
        assert not cn.is_working_day(date(2026, 10, 4))
        # 调休上班: Sunday 09-20 and Saturday 10-10 are working days; Mid-Autumn is Friday 09-25.
        assert date(2026, 9, 20).weekday() == 6
        assert date(2026, 10, 10).weekday() == 5
        assert cn.is_working_day(date(2026, 9, 20))
        assert cn.is_working_day(date(2026, 10, 10))
        assert date(2026, 9, 25) in cn

    def test_spring_festival_2027_has_no_make_up_days_in_the_package(self) -> None:
        cn = holidays.country_holidays("CN", years=2027)
        # holidays 0.109 knows 2027's statutory days (除夕 02-05 .. 02-08) and its own observed
        # rule (02-09, 02-10), but not the 调休 schedule: no weekend working days at all, so
        # Thu 02-11 and Fri 02-12 are working days and Sun 01-31 / Sat 02-20 are days off.
        assert {date(2027, 2, d) for d in range(5, 11)} <= set(cn)
        assert not [d for d in cn.weekend_workdays if d.year == 2027]
        assert cn.is_working_day(date(2027, 2, 11))
        assert cn.is_working_day(date(2027, 2, 12))
        assert not cn.is_working_day(date(2027, 1, 31))
        assert not cn.is_working_day(date(2027, 2, 20))


class TestNationalDay2026:
    def test_seven_working_days_across_the_golden_week(self, calendar: WorkCalendar) -> None:
        # given a case dispatched on Wednesday 2026-09-30 at 10:00
        # when it gets 7 working days
        deadline = calendar.add(at(2026, 9, 30, 10), 7, WD)
        # then: 10-01..10-07 off; 10-08 Thu (1), 10-09 Fri (2), 10-10 Sat make-up (3),
        # 10-11 Sun off, 10-12 (4), 10-13 (5), 10-14 (6), 10-15 Thu (7) → 17:30
        assert deadline == at(2026, 10, 15, 17, 30)

    def test_two_working_hours_from_the_eve_of_the_holiday(self, calendar: WorkCalendar) -> None:
        # given a start at 16:30 on Wednesday 2026-09-30
        deadline = calendar.add(at(2026, 9, 30, 16, 30), 2, WH)
        # then 16:30-17:30 uses one hour; the next working day is Thursday 10-08 → 09:00 + 1h
        assert deadline == at(2026, 10, 8, 10, 0)

    def test_a_deadline_lands_on_the_make_up_saturday(self, calendar: WorkCalendar) -> None:
        # given a case dispatched on 2026-09-30
        deadline = calendar.add(at(2026, 9, 30, 10), 3, WD)
        # then 10-08 (1), 10-09 (2), Saturday 10-10 (3, 调休上班) → 17:30 that Saturday
        assert deadline == at(2026, 10, 10, 17, 30)
        assert calendar.is_workday(date(2026, 10, 10))

    def test_the_make_up_sunday_before_mid_autumn(self, calendar: WorkCalendar) -> None:
        # given a case received on Saturday 2026-09-19
        deadline = calendar.add(at(2026, 9, 19, 10), 1, WD)
        # then Sunday 09-20 is a make-up working day and the first one after receipt
        assert deadline == at(2026, 9, 20, 17, 30)

    def test_mid_autumn_friday_afternoon(self, calendar: WorkCalendar) -> None:
        # given a case submitted on Friday 2026-09-25 (中秋节) at 16:00
        deadline = calendar.add(at(2026, 9, 25, 16), 2, WH)
        # then 09-25 holiday, 09-26/27 weekend; Monday 09-28 09:00 + 2h = 11:00
        assert deadline == at(2026, 9, 28, 11, 0)

    def test_holidays_and_plain_weekend_are_days_off(self, calendar: WorkCalendar) -> None:
        off = [date(2026, 10, d) for d in range(1, 8)] + [date(2026, 10, 11)]
        assert [calendar.is_workday(d) for d in off] == [False] * len(off)
        assert calendar.is_workday(date(2026, 10, 8))


class TestSpringFestival2027ThroughTheOverrideTable:
    def test_working_days_skip_the_holiday(self, spring_festival_2027: None) -> None:
        # given the assumed schedule in the table and a case dispatched Thursday 2027-02-04
        cal = WorkCalendar.load()
        # when it gets 1 working day
        deadline = cal.add(at(2027, 2, 4, 10), 1, WD)
        # then 02-05..02-13 off, 02-14 is a Sunday → Monday 02-15 17:30
        assert deadline == at(2027, 2, 15, 17, 30)

    def test_without_the_rows_the_package_alone_differs(self, db: None) -> None:
        # given no rows: the package has Thu 02-11 as a working day
        cal = WorkCalendar.load()
        assert cal.add(at(2027, 2, 4, 10), 1, WD) == at(2027, 2, 11, 17, 30)

    def test_the_make_up_sunday_counts(self, spring_festival_2027: None) -> None:
        # given a case dispatched Thursday 2027-01-28 at 10:00, 7 working days
        cal = WorkCalendar.load()
        deadline = cal.add(at(2027, 1, 28, 10), 7, WD)
        # then 01-29 Fri (1), 01-30 Sat off, 01-31 Sun make-up (2), 02-01 (3), 02-02 (4),
        # 02-03 (5), 02-04 (6), 02-05..02-14 off, 02-15 Mon (7)
        assert deadline == at(2027, 2, 15, 17, 30)

    def test_the_same_case_without_the_rows(self, db: None) -> None:
        # 01-29 (1), 01-30/31 weekend, 02-01 (2), 02-02 (3), 02-03 (4), 02-04 (5),
        # 02-05..02-10 holiday, 02-11 (6), 02-12 (7)
        cal = WorkCalendar.load()
        assert cal.add(at(2027, 1, 28, 10), 7, WD) == at(2027, 2, 12, 17, 30)

    def test_the_make_up_saturday_counts(self, spring_festival_2027: None) -> None:
        # given a case dispatched Monday 2027-02-15, 5 working days
        cal = WorkCalendar.load()
        deadline = cal.add(at(2027, 2, 15, 10), 5, WD)
        # then 02-16 (1), 02-17 (2), 02-18 (3), 02-19 (4), Saturday 02-20 make-up (5);
        # without the row it would be Monday 02-22
        assert deadline == at(2027, 2, 20, 17, 30)
        assert WorkCalendar().add(at(2027, 2, 15, 10), 5, WD) == at(2027, 2, 22, 17, 30)

    def test_working_hours_jump_the_holiday(self, spring_festival_2027: None) -> None:
        # given 2 working hours from Thursday 2027-02-04 16:30
        cal = WorkCalendar.load()
        # then one hour that day, the second from 09:00 on Monday 02-15 (package alone: 02-11)
        assert cal.add(at(2027, 2, 4, 16, 30), 2, WH) == at(2027, 2, 15, 10, 0)
        assert WorkCalendar().add(at(2027, 2, 4, 16, 30), 2, WH) == at(2027, 2, 11, 10, 0)

    def test_a_weekend_start_counts_from_the_make_up_sunday(
        self, spring_festival_2027: None
    ) -> None:
        # given a submission on Saturday 2027-01-30 at 10:00 (a day off), 1 working hour
        cal = WorkCalendar.load()
        # then counting starts at 09:00 on the make-up Sunday 01-31
        assert cal.add(at(2027, 1, 30, 10), 1, WH) == at(2027, 1, 31, 10, 0)

    def test_load_with_a_range_sees_the_rows(self, spring_festival_2027: None) -> None:
        cal = WorkCalendar.load(date(2027, 2, 1), date(2027, 2, 28))
        assert cal.add(at(2027, 2, 4, 10), 1, WD) == at(2027, 2, 15, 17, 30)


class TestOverridesBothWays:
    def test_a_package_holiday_made_a_workday(self, db: None) -> None:
        # given Monday 2026-10-05 (National Day observed) declared a working day
        CalendarDay.objects.create(date=date(2026, 10, 5), is_workday=True, note="test")
        cal = WorkCalendar.load()
        # then 1 working day from 09-30 ends on 10-05 instead of 10-08
        assert cal.is_workday(date(2026, 10, 5))
        assert cal.add(at(2026, 9, 30, 10), 1, WD) == at(2026, 10, 5, 17, 30)

    def test_a_workday_made_a_holiday(self, db: None) -> None:
        # given Thursday 2026-10-08 declared a day off (e.g. a local holiday)
        CalendarDay.objects.create(date=date(2026, 10, 8), is_workday=False, note="test")
        cal = WorkCalendar.load()
        # then 1 working day from 09-30 ends on Friday 10-09
        assert not cal.is_workday(date(2026, 10, 8))
        assert cal.add(at(2026, 9, 30, 10), 1, WD) == at(2026, 10, 9, 17, 30)

    def test_overrides_can_be_given_without_the_database(self) -> None:
        cal = WorkCalendar(overrides={date(2026, 10, 10): False})
        # Saturday 10-10 is no longer a make-up day: 10-08 (1), 10-09 (2), 10-12 (3)
        assert cal.add(at(2026, 9, 30, 10), 3, WD) == at(2026, 10, 12, 17, 30)


class TestWorkingHours:
    # Week of Monday 2026-09-14: an ordinary week, no holiday, no make-up day.

    @pytest.mark.parametrize(
        ("start", "hours", "expected", "why"),
        [
            (at(2026, 9, 17, 10), 2, at(2026, 9, 17, 12), "ends at 12:00, not 13:30"),
            (at(2026, 9, 17, 11), 2, at(2026, 9, 17, 14, 30), "1h before lunch, 1h after"),
            (at(2026, 9, 17, 12, 30), 1, at(2026, 9, 17, 14, 30), "lunch start → 13:30"),
            (at(2026, 9, 17, 7), 1, at(2026, 9, 17, 10), "early start → 09:00"),
            (at(2026, 9, 16, 17), 1, at(2026, 9, 17, 9, 30), "0.5h tonight, 0.5h tomorrow"),
            (at(2026, 9, 16, 20), 1, at(2026, 9, 17, 10), "evening start → next 09:00"),
            (at(2026, 9, 17, 17, 30), 1, at(2026, 9, 18, 10), "start at closing time"),
            (at(2026, 9, 11, 17), 2, at(2026, 9, 14, 10, 30), "Fri 0.5h, weekend, Mon 1.5h"),
            (at(2026, 9, 12, 15), 1, at(2026, 9, 14, 10), "Saturday start → Monday"),
            (at(2026, 9, 14, 9), 7, at(2026, 9, 14, 17, 30), "a whole day"),
            (at(2026, 9, 14, 9), 8, at(2026, 9, 15, 10), "a day and an hour"),
            (at(2026, 9, 17, 10, 15, 30), 1, at(2026, 9, 17, 11, 15, 30), "seconds kept"),
        ],
    )
    def test_office_hours(
        self, calendar: WorkCalendar, start: datetime, hours: int, expected: datetime, why: str
    ) -> None:
        assert calendar.add(start, hours, WH) == expected, why

    def test_utc_input_is_counted_in_local_time(self, calendar: WorkCalendar) -> None:
        # given 08:30 UTC on 2026-09-30, i.e. 16:30 in Xining
        deadline = calendar.add(datetime(2026, 9, 30, 8, 30, tzinfo=UTC), 2, WH)
        # then as in the National Day example, returned in the local zone
        assert deadline == at(2026, 10, 8, 10)
        assert deadline.utcoffset() == at(2026, 10, 8).utcoffset()
        assert str(deadline.tzinfo) == settings.TIME_ZONE


class TestWorkingDaysAndClockHours:
    def test_the_day_of_receipt_never_counts(self, calendar: WorkCalendar) -> None:
        # early on Thursday 09-17: the first working day is still Friday 09-18
        assert calendar.add(at(2026, 9, 17, 8), 1, WD) == at(2026, 9, 18, 17, 30)
        # late on Friday 09-18 or on Saturday 09-19 → Sunday 09-20 (make-up working day)
        assert calendar.add(at(2026, 9, 18, 22), 1, WD) == at(2026, 9, 20, 17, 30)

    def test_clock_hours_ignore_the_calendar(self, calendar: WorkCalendar) -> None:
        # 20:00 on the eve of National Day + 24h = 20:00 on the holiday itself
        assert calendar.add(at(2026, 9, 30, 20), 24, CH) == at(2026, 10, 1, 20)
        assert calendar.add(at(2026, 10, 3, 11, 45), 2, "clock_hours") == at(2026, 10, 3, 13, 45)

    @pytest.mark.parametrize("unit", list(TimeUnit))
    def test_amount_zero_is_the_start(self, calendar: WorkCalendar, unit: TimeUnit) -> None:
        # nothing to count, even on a holiday evening
        assert calendar.add(at(2026, 10, 1, 20), 0, unit) == at(2026, 10, 1, 20)


class TestCaseDeadlines:
    """Unsaved categories: no database needed."""

    def test_the_12345_defaults(self, calendar: WorkCalendar) -> None:
        category = Category(code="x", name="x")
        # accept: 2 working hours from 16:30 on 09-30 → 10-08 10:00
        assert accept_deadline(category, at(2026, 9, 30, 16, 30), calendar=calendar) == at(
            2026, 10, 8, 10
        )
        # contact: 1 working day from 09-30 → 10-08 17:30
        assert contact_deadline(category, at(2026, 9, 30, 10), calendar=calendar) == at(
            2026, 10, 8, 17, 30
        )
        # resolve: 7 working days → 10-15 17:30 (see TestNationalDay2026)
        assert resolve_deadline(category, at(2026, 9, 30, 10), calendar=calendar) == at(
            2026, 10, 15, 17, 30
        )

    def test_complex_case_gets_fifteen_working_days(self, calendar: WorkCalendar) -> None:
        category = Category(code="x", name="x")
        deadline = resolve_deadline(
            category, at(2026, 9, 30, 10), is_complex=True, calendar=calendar
        )
        # 10-08 (1), 09 (2), Sat 10 (3), 12 (4), 13 (5), 14 (6), 15 (7), 16 (8), 19 (9),
        # 20 (10), 21 (11), 22 (12), 23 (13), 26 (14), Tue 10-27 (15)
        assert deadline == at(2026, 10, 27, 17, 30)

    def test_category_fields_are_honoured(self, calendar: WorkCalendar) -> None:
        # an urgent utility as the seed configures it: resolve in 24 clock hours
        utility = Category(code="x", name="x", resolve_amount=24, resolve_unit=CH)
        assert resolve_deadline(utility, at(2026, 9, 30, 10), calendar=calendar) == at(
            2026, 10, 1, 10
        )
        custom = Category(
            code="y",
            name="y",
            accept_amount=4,
            accept_unit=WH,
            contact_amount=3,
            contact_unit=CH,
            complex_resolve_amount=3,
            complex_resolve_unit=WD,
        )
        # 4 working hours from Thu 09-17 10:00: 10-12 (2h), 13:30-15:30 (2h)
        assert accept_deadline(custom, at(2026, 9, 17, 10), calendar=calendar) == at(
            2026, 9, 17, 15, 30
        )
        assert contact_deadline(custom, at(2026, 9, 17, 10), calendar=calendar) == at(
            2026, 9, 17, 13
        )
        # complex: 3 working days from 09-30 → make-up Saturday 10-10
        assert resolve_deadline(
            custom, at(2026, 9, 30, 10), is_complex=True, calendar=calendar
        ) == at(2026, 10, 10, 17, 30)

    def test_emergency_caps(self, calendar: WorkCalendar) -> None:
        category = Category(code="x", name="x")
        start = at(2026, 9, 30, 16, 30)
        emergency = Urgency.EMERGENCY
        # accept: min(10-08 10:00, 16:30 + 2h) = 18:30 the same evening
        assert accept_deadline(category, start, urgency=emergency, calendar=calendar) == at(
            2026, 9, 30, 18, 30
        )
        # contact: min(10-08 17:30, 16:30 + 2h)
        assert contact_deadline(category, start, urgency=emergency, calendar=calendar) == at(
            2026, 9, 30, 18, 30
        )
        # resolve, plain or complex: min(10-15 / 10-27, 16:30 + 24h) = 10-01 16:30
        for is_complex in (False, True):
            deadline = resolve_deadline(
                category, start, urgency=emergency, is_complex=is_complex, calendar=calendar
            )
            assert deadline == at(2026, 10, 1, 16, 30)

    def test_emergency_keeps_a_shorter_category_deadline(self, calendar: WorkCalendar) -> None:
        category = Category(
            code="x", name="x", accept_amount=1, accept_unit=CH, resolve_amount=12, resolve_unit=CH
        )
        start = at(2026, 9, 30, 10)
        assert accept_deadline(category, start, urgency="emergency", calendar=calendar) == at(
            2026, 9, 30, 11
        )
        assert resolve_deadline(category, start, urgency="emergency", calendar=calendar) == at(
            2026, 9, 30, 22
        )

    def test_urgent_is_not_capped(self, calendar: WorkCalendar) -> None:
        # 紧急 is a matter of the category's own SLA; only 特急 is capped here
        category = Category(code="x", name="x")
        deadline = resolve_deadline(
            category, at(2026, 9, 30, 10), urgency=Urgency.URGENT, calendar=calendar
        )
        assert deadline == at(2026, 10, 15, 17, 30)

    def test_without_a_calendar_one_is_loaded(
        self, spring_festival_2027: None, django_assert_num_queries: DjangoAssertNumQueries
    ) -> None:
        # given the 2027 rows and no calendar passed: the function reads them itself
        category = Category(code="x", name="x")
        with django_assert_num_queries(1):
            deadline = contact_deadline(category, at(2027, 2, 4, 10))
        assert deadline == at(2027, 2, 15, 17, 30)


class TestWarningPoint:
    def test_three_quarters_of_the_way(self) -> None:
        assert warning_point(at(2026, 9, 17, 10), at(2026, 9, 17, 12)) == at(2026, 9, 17, 11, 30)

    def test_in_clock_time_across_a_holiday(self) -> None:
        # 09-30 10:00 → 10-15 17:30 is 15 days 7.5 h = 367.5 h; 75 % = 275.625 h
        # = 11 days 11 h 37.5 min → 10-11 21:37:30; half way, 183.75 h = 7 days 15 h 45 min
        # → 10-07 10:00 + 15:45 = 10-08 01:45
        start, deadline = at(2026, 9, 30, 10), at(2026, 10, 15, 17, 30)
        assert warning_point(start, deadline) == at(2026, 10, 11, 21, 37, 30)
        assert warning_point(start, deadline, share=0.5) == at(2026, 10, 8, 1, 45)

    def test_share_out_of_range(self) -> None:
        with pytest.raises(ValueError, match="share"):
            warning_point(at(2026, 9, 17, 10), at(2026, 9, 17, 12), share=1.5)


class TestQueries:
    def test_load_is_one_query_and_then_none(
        self, spring_festival_2027: None, django_assert_num_queries: DjangoAssertNumQueries
    ) -> None:
        # given the override rows
        # when the calendar is loaded
        with django_assert_num_queries(1):
            cal = WorkCalendar.load(date(2026, 1, 1), date(2027, 12, 31))
        # then thousands of computations, even in years not asked about, touch no database
        category = Category(code="x", name="x")
        with django_assert_num_queries(0):
            for day in range(1, 29):
                for hour in range(0, 24, 3):
                    start = at(2027, 2, day, hour)
                    for unit in TimeUnit:
                        cal.add(start, 5, unit)
                    resolve_deadline(category, start, calendar=cal)
            assert cal.add(at(2030, 2, 1, 10), 15, WD) > at(2030, 2, 1, 10)
            assert cal.is_workday(date(2027, 1, 31))

    def test_load_without_a_range_is_one_query(
        self, db: None, django_assert_num_queries: DjangoAssertNumQueries
    ) -> None:
        with django_assert_num_queries(1):
            WorkCalendar.load()


class TestInvalidInput:
    def test_naive_start(self, calendar: WorkCalendar) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            calendar.add(datetime(2026, 9, 30, 10), 1, WD)

    def test_naive_in_the_convenience_functions(self, calendar: WorkCalendar) -> None:
        naive = datetime(2026, 9, 30, 10)
        with pytest.raises(ValueError, match="timezone-aware"):
            accept_deadline(Category(code="x", name="x"), naive, calendar=calendar)
        with pytest.raises(ValueError, match="timezone-aware"):
            warning_point(naive, at(2026, 9, 30, 12))

    def test_negative_amount(self, calendar: WorkCalendar) -> None:
        with pytest.raises(ValueError, match="negative"):
            calendar.add(at(2026, 9, 30, 10), -1, WH)

    def test_unknown_unit(self, calendar: WorkCalendar) -> None:
        with pytest.raises(ValueError):
            calendar.add(at(2026, 9, 30, 10), 1, "fortnights")
