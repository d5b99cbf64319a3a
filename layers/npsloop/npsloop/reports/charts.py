"""The report's charts as PNG: a trend with its 95% band, bars of stores with their intervals, and the
survey funnel (sent, delivered, answered).

Mail clients show PNG attached inline (``cid:``); SVG and ``data:`` URIs are blocked or dropped by
many of them. Pillow draws them with the vendored DejaVu Sans (``fonts/``, Polish glyphs included);
Lambda has no system fonts. Laid out for 400 CSS px (a phone's width), drawn at 3x: labels stay about
12 px on a 320 px screen; every chart has a table beside it in the email for clients that block images.

Pure: numbers and labels in, PNG bytes out. A point without answers is a gap, never a zero; a small
sample is drawn hollow and its band left out (it is never ranked or compared).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

FONTS = Path(__file__).resolve().parent / "fonts"
SCALE = 3  # drawn at 3x: 400 CSS px wide (1200 px), sharp on a phone and readable at 320-600 px
WIDTH = 400 * SCALE


@dataclass(frozen=True)
class Point:
    label: str  # the period's short label (x axis)
    value: float | None  # None: no answers that period
    low: float | None = None
    high: float | None = None
    small_sample: bool = False
    n: int = 0  # answers that period (the table beside the chart shows them)


@dataclass(frozen=True)
class Bar:
    label: str  # a store's id or name
    value: float | None
    low: float | None = None
    high: float | None = None
    small_sample: bool = False
    highlight: bool = False  # the recipient's own store


@dataclass(frozen=True)
class Step:
    label: str  # "Sent", "Delivered", "Answered" in the reader's language
    count: int
    note: str = ""  # e.g. "62.5% of sent", drawn after the count


@dataclass(frozen=True)
class Palette:
    text: str = "#1f2933"
    muted: str = "#4a5562"
    accent: str = "#1d4ed8"
    band: str = "#c7d4f5"
    grid: str = "#d5dae0"
    background: str = "#ffffff"


@cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONTS / name), size * SCALE)


def _axis(low: float, high: float) -> tuple[float, float, float]:
    """A round axis range and step that holds ``low..high``."""
    span = max(high - low, 1e-9)
    step = next(s for s in (0.5, 1, 2, 5, 10, 20, 25, 50) if span / s <= 6)
    bottom = step * (low // step)
    top = step * -(-high // step)
    if top == bottom:
        top = bottom + step
    return bottom, top, step


def _png(image: Image.Image) -> bytes:
    """zlib's default level: ``optimize=True`` (level 9 and a search of filters) took 2.5x the time for a
    file 10% smaller. A palette image would be half the size, but quantizing shifts the brand colours."""
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _fit(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """``text``, shortened with an ellipsis to fit ``width`` pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _period_labels(
    draw: ImageDraw.ImageDraw, points: list[Point], x: Any, *, slot: float, top: float, palette: Palette
) -> None:
    """Every k-th period's label, as many as fit side by side, always ending with the reported period."""
    font = _font(12)
    widest = max((font.getlength(p.label) for p in points), default=0) + 8 * SCALE
    every = max(1, math.ceil(widest / slot))
    for i, point in enumerate(points):
        if (len(points) - 1 - i) % every == 0:
            half = font.getlength(point.label) / 2
            centre = min(x(i), WIDTH - 2 * SCALE - half)  # the last label stays inside the picture
            draw.text((centre, top), point.label, font=font, fill=palette.muted, anchor="mt")


def trend_chart(title: str, points: list[Point], limits: tuple[float, float], palette: Palette = Palette()) -> bytes:
    """The last periods' scores as a line with a shaded 95% band; ``limits`` is the scale's range."""
    height = 230 * SCALE
    image = Image.new("RGB", (WIDTH, height), palette.background)
    draw = ImageDraw.Draw(image)
    draw.text((8 * SCALE, 8 * SCALE), title, font=_font(14, bold=True), fill=palette.text)
    known = [p for p in points if p.value is not None]
    values = [v for p in known for v in (p.value, p.low, p.high) if v is not None]
    lo, hi = (min(values), max(values)) if values else limits
    bottom, top, step = _axis(max(limits[0], lo), min(limits[1], hi))
    left, right, upper, lower = 38 * SCALE, WIDTH - 8 * SCALE, 40 * SCALE, height - 28 * SCALE

    def y(value: float) -> float:
        return lower - (value - bottom) / (top - bottom) * (lower - upper)

    def x(i: int) -> float:
        return left + (right - left) * (i + 0.5) / max(len(points), 1)

    tick = bottom
    while tick <= top + 1e-9:
        draw.line([(left, y(tick)), (right, y(tick))], fill=palette.grid, width=SCALE)
        draw.text((left - 5 * SCALE, y(tick)), _fmt(tick), font=_font(12), fill=palette.muted, anchor="rm")
        tick += step
    _period_labels(draw, points, x, slot=(right - left) / max(len(points), 1), top=lower + 6 * SCALE, palette=palette)
    # The band: one polygon per run of consecutive points with an interval (a gap breaks it).
    runs: list[list[int]] = [[]]
    for i, point in enumerate(points):
        banded = point.value is not None and not point.small_sample and point.low is not None
        if banded:
            runs[-1].append(i)
        elif runs[-1]:
            runs.append([])
    for run in runs:
        if len(run) == 1:
            i = run[0]
            draw.rectangle([x(i) - 6 * SCALE, y(points[i].high), x(i) + 6 * SCALE, y(points[i].low)], fill=palette.band)  # type: ignore[arg-type]
        elif run:
            upper_edge = [(x(i), y(points[i].high)) for i in run]  # type: ignore[arg-type]
            lower_edge = [(x(i), y(points[i].low)) for i in reversed(run)]  # type: ignore[arg-type]
            draw.polygon(upper_edge + lower_edge, fill=palette.band)
    previous: tuple[float, float] | None = None
    for i, point in enumerate(points):
        if point.value is None:
            previous = None
            continue
        here = (x(i), y(point.value))
        if previous is not None:
            draw.line([previous, here], fill=palette.accent, width=3 * SCALE)
        previous = here
    for i, point in enumerate(points):
        if point.value is None:
            continue
        r = 5 * SCALE
        box = [x(i) - r, y(point.value) - r, x(i) + r, y(point.value) + r]
        if point.small_sample:
            draw.ellipse(box, fill=palette.background, outline=palette.accent, width=2 * SCALE)
        else:
            draw.ellipse(box, fill=palette.accent)
    return _png(image)


def comparison_chart(
    title: str, bars: list[Bar], limits: tuple[float, float], palette: Palette = Palette(), small_label: str = ""
) -> bytes:
    """Horizontal bars (one per group) with their 95% interval as a whisker; small samples hollow."""
    row = 30 * SCALE
    top_margin = 40 * SCALE
    height = top_margin + row * max(len(bars), 1) + (44 if small_label else 26) * SCALE
    image = Image.new("RGB", (WIDTH, height), palette.background)
    draw = ImageDraw.Draw(image)
    draw.text((8 * SCALE, 8 * SCALE), title, font=_font(14, bold=True), fill=palette.text)
    values = [v for b in bars for v in (b.value, b.low, b.high) if v is not None]
    lo, hi = (min([*values, 0.0]), max([*values, 0.0])) if values else limits
    bottom, top, step = _axis(max(limits[0], lo), min(limits[1], hi))
    left, right = 96 * SCALE, WIDTH - 80 * SCALE

    def x(value: float) -> float:
        return left + (value - bottom) / (top - bottom) * (right - left)

    tick = bottom
    axis_y = top_margin + row * max(len(bars), 1)
    while tick <= top + 1e-9:
        draw.line([(x(tick), top_margin - 4 * SCALE), (x(tick), axis_y)], fill=palette.grid, width=SCALE)
        draw.text((x(tick), axis_y + 6 * SCALE), _fmt(tick), font=_font(11), fill=palette.muted, anchor="mt")
        tick += step
    zero = x(max(bottom, min(0.0, top)))
    for i, bar in enumerate(bars):
        middle = top_margin + row * i + row / 2
        font = _font(12, bold=bar.highlight)
        draw.text(
            (left - 6 * SCALE, middle),
            _fit(bar.label, font, left - 14 * SCALE),
            font=font,
            fill=palette.text,
            anchor="rm",
        )
        if bar.value is None:
            draw.text((left + 6 * SCALE, middle), "-", font=_font(12), fill=palette.muted, anchor="lm")
            continue
        box = [min(zero, x(bar.value)), middle - 9 * SCALE, max(zero, x(bar.value)), middle + 9 * SCALE]
        if bar.small_sample:
            draw.rectangle(box, outline=palette.accent, width=2 * SCALE)
        else:
            draw.rectangle(box, fill=palette.text if bar.highlight else palette.accent)
            if bar.low is not None and bar.high is not None:
                draw.line([(x(bar.low), middle), (x(bar.high), middle)], fill=palette.muted, width=2 * SCALE)
                for end in (bar.low, bar.high):
                    draw.line(
                        [(x(end), middle - 7 * SCALE), (x(end), middle + 7 * SCALE)],
                        fill=palette.muted,
                        width=2 * SCALE,
                    )
        label = _fmt(round(bar.value, 1)) + ("*" if bar.small_sample else "")
        draw.text((right + 6 * SCALE, middle), label, font=_font(11), fill=palette.text, anchor="lm")
    if small_label and any(b.small_sample for b in bars):
        draw.text((8 * SCALE, height - 6 * SCALE), f"* {small_label}", font=_font(10), fill=palette.muted, anchor="ls")
    return _png(image)


def funnel_chart(steps: list[Step], palette: Palette = Palette()) -> bytes:
    """One bar per step, as long as its share of the first step (the invitations sent), with its count.
    No title: the email's heading above it names it."""
    row = 34 * SCALE
    top_margin = 6 * SCALE
    height = top_margin + row * max(len(steps), 1) + 6 * SCALE
    image = Image.new("RGB", (WIDTH, height), palette.background)
    draw = ImageDraw.Draw(image)
    label_font, value_font = _font(12), _font(12, bold=True)
    left = 8 * SCALE + max((label_font.getlength(s.label) for s in steps), default=0) + 8 * SCALE
    left = min(left, 130 * SCALE)
    right = WIDTH - 8 * SCALE
    base = max((s.count for s in steps[:1]), default=0) or max((s.count for s in steps), default=0) or 1
    for i, step in enumerate(steps):
        middle = top_margin + row * i + row / 2
        draw.text(
            (left - 8 * SCALE, middle), _fit(step.label, label_font, left - 16 * SCALE),
            font=label_font, fill=palette.text, anchor="rm",
        )  # fmt: skip
        value = f"{step.count:,}".replace(",", "\u202f") + (f"  {step.note}" if step.note else "")
        room = right - left
        end = left + max(room * min(step.count / base, 1.0), SCALE)
        box = [left, middle - 11 * SCALE, end, middle + 11 * SCALE]
        draw.rectangle(box, fill=palette.band, outline=palette.accent, width=SCALE)
        # The count inside its bar when it fits there, else just after the bar's end.
        inside = value_font.getlength(value) + 12 * SCALE <= end - left
        start = left + 6 * SCALE if inside else end + 6 * SCALE
        draw.text((start, middle), _fit(value, value_font, right - start), font=value_font, fill=palette.text,
                  anchor="lm")  # fmt: skip
    return _png(image)
