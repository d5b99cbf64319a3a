"""Working time in a store's time zone: SLA due times and "next working day" retries.

An SLA of N hours counts only working hours (by default 09:00-17:00, Monday to Friday, public
holidays excluded) in the store's own time zone, so a detractor who answers on Friday evening does
not make a case overdue on Saturday. Arithmetic is done on UTC instants; each day's window is built
from the local wall clock, so daylight-saving changes shorten or lengthen the night, not the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS_AHEAD = 3660  # ten years: a calendar without working days must not loop forever


@dataclass(frozen=True)
class WorkingCalendar:
    start: time
    end: time
    weekdays: frozenset[int]  # ISO weekdays: 1 = Monday ... 7 = Sunday
    holidays: frozenset[date]

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError("the working day must start before it ends")
        if not self.weekdays or not self.weekdays <= set(range(1, 8)):
            raise ValueError("weekdays must be a non-empty subset of 1..7")

    def is_working_day(self, day: date) -> bool:
        return day.isoweekday() in self.weekdays and day not in self.holidays

    def window(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The working window of a local day, as UTC instants."""
        return (
            datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC),
            datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC),
        )

    def add_working_hours(self, instant: datetime, hours: float, time_zone: str) -> datetime:
        """The instant when ``hours`` of working time have passed after ``instant``."""
        if hours < 0:
            raise ValueError("hours must not be negative")
        zone = ZoneInfo(time_zone)
        remaining = timedelta(hours=hours)
        cursor = instant.astimezone(UTC)
        day = cursor.astimezone(zone).date()
        for _ in range(MAX_DAYS_AHEAD):
            if self.is_working_day(day):
                opens, closes = self.window(day, zone)
                begin = max(cursor, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day += timedelta(days=1)
        raise ValueError("the calendar has no working time in the next ten years")

    def next_working_day_start(self, instant: datetime, time_zone: str) -> datetime:
        """The start of the first working day after the local date of ``instant`` (a retry "tomorrow")."""
        zone = ZoneInfo(time_zone)
        day = instant.astimezone(zone).date() + timedelta(days=1)
        for _ in range(MAX_DAYS_AHEAD):
            if self.is_working_day(day):
                return self.window(day, zone)[0]
            day += timedelta(days=1)
        raise ValueError("the calendar has no working day in the next ten years")
