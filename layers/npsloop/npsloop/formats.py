"""Numbers, intervals and dates as each page's language writes them: the one way every web page shows them.

Polish writes a decimal comma, an interval as "od −5 do 12" and a date as "23.08.2026"; English a decimal
point, "−5 to 12" and "23 Aug 2026". Negative numbers take the minus sign (U+2212), which screen readers
read as "minus" and which does not break from its number. Templates get a ``Formats`` as ``fmt``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from npsloop.domain.statistics import rounded

MINUS = "\u2212"
DASH = "–"  # no value
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "pl": ("styczeń", "luty", "marzec", "kwiecień", "maj", "czerwiec", "lipiec", "sierpień", "wrzesień",
           "październik", "listopad", "grudzień"),
}  # fmt: skip


@dataclass(frozen=True)
class Formats:
    locale: str

    @property
    def _polish(self) -> bool:
        return self.locale == "pl"

    def number(self, value: float | None, decimals: int = 0, *, sign: bool = False) -> str:
        """``value`` to ``decimals`` places, rounded half away from zero; ``sign``: "+3" for a change."""
        if value is None:
            return DASH
        scaled = rounded(value * 10**decimals)
        whole, fraction = divmod(abs(scaled), 10**decimals)
        text = f"{whole:,}"
        if self._polish:  # a no-break space between thousands: "12 840"
            text = text.replace(",", "\u00a0")
        if decimals:
            text += ("," if self._polish else ".") + f"{fraction:0{decimals}d}"
        prefix = MINUS if scaled < 0 else ("+" if sign and scaled > 0 else "")
        return prefix + text

    def score(self, value: float | None, survey: str, *, sign: bool = False) -> str:
        """A score of its scale: NPS and CSAT in whole points (CSAT a percentage), the CES mean to one place."""
        if value is None:
            return DASH
        text = self.number(value, 1 if survey == "ces" else 0, sign=sign)
        return text + ("%" if survey == "csat" else "")

    def interval(self, low: float | None, high: float | None, survey: str) -> str:
        """A 95% interval: "od −5 do 12" / "−5 to 12" (no unit inside, a CSAT's % after the pair)."""
        if low is None or high is None:
            return DASH
        a, b = self.score(low, survey).rstrip("%"), self.score(high, survey).rstrip("%")
        unit = "%" if survey == "csat" else ""
        return f"od {a} do {b}{unit}" if self._polish else f"{a} to {b}{unit}"

    def p_value(self, p: float) -> str:
        """A p-value to two significant digits: "p = 0,031"; below 0.001 "p < 0,001"."""
        if p < 0.001:
            return "p < " + ("0,001" if self._polish else "0.001")
        text = f"{p:.2g}" if p < 0.1 else f"{p:.2f}"
        return "p = " + (text.replace(".", ",") if self._polish else text)

    def count(self, n: int, forms: dict[str, str]) -> str:
        """ "8 tygodni" / "8 weeks": ``forms`` has ``one`` and ``many`` (and Polish ``few``: 2-4, 22-24...)."""
        if n == 1:
            form = forms["one"]
        elif self._polish and n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
            form = forms.get("few", forms["many"])
        else:
            form = forms["many"]
        return f"{self.number(n)} {form}"

    def percent(self, share: float, decimals: int = 1) -> str:
        """A share 0..1 as a percentage ("12,5%"); below 1% two places, so 0.05% is not "0.0%"."""
        places = 2 if 0 < share < 0.01 else decimals
        return self.number(share * 100, places) + "%"

    def day(self, value: date | datetime | str) -> str:
        """A calendar day: "23.08.2026" / "23 Aug 2026"."""
        day = date.fromisoformat(value) if isinstance(value, str) else value
        if self._polish:
            return f"{day.day:02d}.{day.month:02d}.{day.year}"
        return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"

    def days(self, first: date | str, last: date | str) -> str:
        """A range of days, both in full: "06.11.2026 – 19.11.2026"."""
        return f"{self.day(first)} – {self.day(last)}"

    def moment(self, instant: datetime, time_zone: str) -> str:
        """A time in a zone: "23.08.2026, 14:05" / "23 Aug 2026, 14:05"."""
        local = instant.astimezone(ZoneInfo(time_zone))
        return f"{self.day(local.date())}, {local:%H:%M}"

    def period(self, kind: str, first: date | str, last: date | str) -> str:
        """A trend period in full: a day, a week as its days, a month by name ("listopad 2026")."""
        start = date.fromisoformat(first) if isinstance(first, str) else first
        if kind == "day":
            return self.day(start)
        if kind == "month":
            return f"{_MONTH_NAMES['pl' if self._polish else 'en'][start.month - 1]} {start.year}"
        return self.days(first, last)

    def tick(self, kind: str, first: date | str) -> str:
        """A trend period on the chart's axis, short: "23.08" / "23 Aug" (a week by its first day), "11.2026"."""
        start = date.fromisoformat(first) if isinstance(first, str) else first
        if kind == "month":
            return f"{start.month:02d}.{start.year}" if self._polish else f"{_MONTHS_EN[start.month - 1]} {start.year}"
        return f"{start.day:02d}.{start.month:02d}" if self._polish else f"{start.day} {_MONTHS_EN[start.month - 1]}"
