"""Deadlines (时限) on Xining's office calendar: working days and working hours.

The calendar
    A day is a working day (工作日) when the ``holidays`` package says so for China, unless a
    ``CalendarDay`` row exists for that date: the row wins in both directions (放假 turns a
    working day into a day off, 调休上班 turns a weekend or a holiday into a working day).
    The package already knows the State Council's make-up working days (调休) for the years it
    has been updated for, e.g. Sunday 2026-09-20 and Saturday 2026-10-10 around National Day
    2026. For a year it has not caught up with, it knows only the statutory holidays and its own
    "observed" rule, not the published 调休 schedule; an administrator enters that schedule in
    the ``CalendarDay`` table (the admin's 节假日调整) as soon as it is published.

Office hours
    ``WORKING_PERIODS`` in local time (``settings.TIME_ZONE``, Asia/Shanghai): 09:00-12:00 and
    13:30-17:30, seven working hours on each working day.

Units (``TimeUnit``)
    ``clock_minutes`` (自然分钟)
        ``start + amount`` minutes: emergencies answered within the half hour, and drills.
    ``clock_hours`` (自然小时)
        ``start + amount`` hours; the calendar plays no part.
    ``working_hours`` (工作小时)
        Only time inside office hours on working days counts. A start outside office hours
        (lunch, evening, weekend, holiday) starts counting at the next working period. The
        deadline is the earliest moment the hours are used up: two working hours from 10:00 end
        at 12:00, not at 13:30.
    ``working_days`` (工作日)
        The end of office hours (17:30 local) on the Nth working day after the local date of
        the start. The day of receipt never counts, whether or not it is a working day and
        whatever the hour.

    An amount of 0 returns the start unchanged: there is nothing to count.

Case deadlines
    Each ``Category`` carries its own SLA. The model's field defaults are the 12345 hotline's:
    accept within 2 working hours of submission (受理), first contact within 1 working day of
    dispatch (响应), resolve within 7 working days of dispatch (办结), 15 working days for a case
    marked complex (复杂件). Urgent utilities (water, power, gas, heating) are configured per
    category in clock hours (24 clock hours by the seed), so nothing here special-cases
    ``Category.is_urgent`` or ``Urgency.URGENT``. An ``Urgency.EMERGENCY`` (特急) case is capped
    whatever its category says: accepted within 2 clock hours, contacted within 2 clock hours,
    resolved within 24 clock hours (the earlier of the cap and the category's deadline).

All inputs must be timezone-aware; results are aware datetimes in ``settings.TIME_ZONE``.
Nothing here writes to the database; ``WorkCalendar.load`` reads the overrides in one query and
the instance then answers any number of questions without touching the database again.

What is computed once per process
    The package's answers depend on nothing but the date (its data is code), so one package
    object and its answers serve the whole process: building one computes every holiday of its
    years, a few milliseconds that every complaint used to pay for its accept deadline. The
    overrides are still read on every ``load``, so an administrator's 调休 entry counts at once,
    in every process.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, tzinfo

import holidays
from django.utils import timezone

from cases.models import CalendarDay, Category, TimeUnit, Urgency

WORKING_PERIODS: tuple[tuple[time, time], ...] = (
    (time(9, 0), time(12, 0)),
    (time(13, 30), time(17, 30)),
)
END_OF_DAY: time = WORKING_PERIODS[-1][1]

# 特急 caps, in clock hours.
EMERGENCY_ACCEPT_HOURS = 2
EMERGENCY_CONTACT_HOURS = 2
EMERGENCY_RESOLVE_HOURS = 24

# How far around the requested range ``WorkCalendar.load`` reads overrides: a deadline of 15
# working days across the Spring Festival ends well within two years of its start.
_LOAD_BEFORE = timedelta(days=366)
_LOAD_AFTER = timedelta(days=2 * 366)


_package_lock = threading.Lock()
_package_holidays: holidays.HolidayBase | None = None
_package_answers: dict[date, bool] = {}


def _package_is_workday(day: date) -> bool:
    """The ``holidays`` package's answer for ``day``, computed once per process.

    The answer does not depend on which years the object was built for (it fills in a year
    when first asked about it), so one object serves every calendar. The lock covers that
    filling in, which is not safe from two threads at once (gthread workers)."""
    try:
        return _package_answers[day]
    except KeyError:
        pass
    global _package_holidays
    with _package_lock:
        if _package_holidays is None:
            _package_holidays = holidays.country_holidays("CN", years=[])
        answer = _package_answers[day] = _package_holidays.is_working_day(day)
    return answer


def _local_zone() -> tzinfo:
    # Office hours are Xining's whatever timezone a request has activated.
    return timezone.get_default_timezone()


def _require_aware(value: datetime, name: str) -> None:
    if timezone.is_naive(value):
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")


class WorkCalendar:
    """China's working-day calendar with the ``CalendarDay`` overrides applied.

    Build one with ``WorkCalendar.load()`` (one query) and reuse it: answers are cached per date
    and never query the database. ``WorkCalendar(overrides={...})`` builds one without the
    database, for scripts and tests.
    """

    def __init__(
        self, overrides: Mapping[date, bool] | None = None, *, years: range | None = None
    ) -> None:
        # ``years`` is accepted for callers that name the span they will ask about; the
        # package's answers are the same whatever it is (see ``_package_is_workday``).
        self._overrides: dict[date, bool] = dict(overrides or {})

    @classmethod
    def load(cls, start: date | None = None, end: date | None = None) -> WorkCalendar:
        """The calendar with the overrides around ``start``..``end`` (all of them if unbounded).

        Overrides are read from a year before ``start`` to two years after ``end``, so every
        deadline counted from a date in the range sees them. Outside that window the instance
        falls back to the package alone.
        """
        rows = CalendarDay.objects.all()
        if start is not None:
            rows = rows.filter(date__gte=start - _LOAD_BEFORE)
        if end is not None:
            rows = rows.filter(date__lte=end + _LOAD_AFTER)
        return cls(dict(rows.values_list("date", "is_workday")))

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is a working day: the override if there is one, else the package
        (which counts the weekend make-up days, 调休上班, it knows about as working days)."""
        answer = self._overrides.get(day)
        return _package_is_workday(day) if answer is None else answer

    def add(self, start: datetime, amount: int, unit: TimeUnit | str) -> datetime:
        """The deadline ``amount`` ``unit`` after ``start``, aware, in ``settings.TIME_ZONE``.

        Raises ``ValueError`` for a naive ``start``, a negative ``amount`` or an unknown unit.
        """
        _require_aware(start, "start")
        if amount < 0:
            raise ValueError(f"amount must not be negative, got {amount}")
        unit = TimeUnit(unit)
        local = timezone.localtime(start, _local_zone())
        if amount == 0:
            return local
        if unit == TimeUnit.CLOCK_HOURS:
            return timezone.localtime(start + timedelta(hours=amount), _local_zone())
        if unit == TimeUnit.CLOCK_MINUTES:
            return timezone.localtime(start + timedelta(minutes=amount), _local_zone())
        if unit == TimeUnit.WORKING_HOURS:
            return self._add_working_hours(local, timedelta(hours=amount))
        return self._add_working_days(local, amount)

    def _next_workday(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def _add_working_hours(self, local: datetime, remaining: timedelta) -> datetime:
        zone = _local_zone()
        day = local.date()
        # Time of day from which the current day counts (naive, like WORKING_PERIODS).
        since = local.time()
        if not self.is_workday(day):
            day, since = self._next_workday(day), time.min
        while True:
            for opens, closes in WORKING_PERIODS:
                begin = max(opens, since)
                if begin >= closes:
                    continue
                available = datetime.combine(day, closes) - datetime.combine(day, begin)
                if remaining <= available:
                    return datetime.combine(day, begin, tzinfo=zone) + remaining
                remaining -= available
            day, since = self._next_workday(day), time.min

    def _add_working_days(self, local: datetime, amount: int) -> datetime:
        # The day of receipt does not count, so counting starts on the following day.
        day = local.date()
        for _ in range(amount):
            day = self._next_workday(day)
        return datetime.combine(day, END_OF_DAY, tzinfo=_local_zone())


def _calendar_for(calendar: WorkCalendar | None, start: datetime) -> WorkCalendar:
    if calendar is not None:
        return calendar
    _require_aware(start, "start")
    day = timezone.localtime(start, _local_zone()).date()
    return WorkCalendar.load(day, day)


def _capped(
    calendar: WorkCalendar, start: datetime, deadline: datetime, urgency: str, cap_hours: int
) -> datetime:
    if urgency != Urgency.EMERGENCY:
        return deadline
    return min(deadline, calendar.add(start, cap_hours, TimeUnit.CLOCK_HOURS))


def accept_deadline(
    category: Category,
    submitted_at: datetime,
    *,
    urgency: Urgency | str = Urgency.NORMAL,
    calendar: WorkCalendar | None = None,
) -> datetime:
    """受理时限: the category's accept SLA from submission; 特急 within 2 clock hours at most."""
    calendar = _calendar_for(calendar, submitted_at)
    deadline = calendar.add(submitted_at, category.accept_amount, category.accept_unit)
    return _capped(calendar, submitted_at, deadline, urgency, EMERGENCY_ACCEPT_HOURS)


def contact_deadline(
    category: Category,
    dispatched_at: datetime,
    *,
    urgency: Urgency | str = Urgency.NORMAL,
    calendar: WorkCalendar | None = None,
) -> datetime:
    """响应时限: first contact with the complainant; 特急 within 2 clock hours at most."""
    calendar = _calendar_for(calendar, dispatched_at)
    deadline = calendar.add(dispatched_at, category.contact_amount, category.contact_unit)
    return _capped(calendar, dispatched_at, deadline, urgency, EMERGENCY_CONTACT_HOURS)


def resolve_deadline(
    category: Category,
    dispatched_at: datetime,
    *,
    urgency: Urgency | str = Urgency.NORMAL,
    is_complex: bool = False,
    calendar: WorkCalendar | None = None,
) -> datetime:
    """办结时限: the resolve SLA (复杂件: the complex one); 特急 within 24 clock hours at most."""
    calendar = _calendar_for(calendar, dispatched_at)
    if is_complex:
        amount, unit = category.complex_resolve_amount, category.complex_resolve_unit
    else:
        amount, unit = category.resolve_amount, category.resolve_unit
    deadline = calendar.add(dispatched_at, amount, unit)
    return _capped(calendar, dispatched_at, deadline, urgency, EMERGENCY_RESOLVE_HOURS)


def warning_point(start: datetime, deadline: datetime, share: float = 0.75) -> datetime:
    """When a deadline turns to 预警: ``share`` of the way from ``start`` to it, in clock time."""
    _require_aware(start, "start")
    _require_aware(deadline, "deadline")
    if not 0 <= share <= 1:
        raise ValueError(f"share must be between 0 and 1, got {share}")
    return timezone.localtime(start + (deadline - start) * share, _local_zone())
