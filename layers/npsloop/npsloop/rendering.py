"""Emails and pages, rendered from Jinja2 templates with autoescaping (HTML) by pure functions."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import formataddr
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from npsloop.domain.surveys import SCALES, SurveyType
from npsloop.formats import Formats

if TYPE_CHECKING:
    from jinja2 import Environment

    from npsloop.domain.brand import Brand

_HERE = Path(__file__).resolve().parent
SUPPORTED_LOCALES = ("pl", "en")


@cache
def _environment() -> Environment:
    # Imported on the first render: the alert and case functions load Jinja2 only when they email.
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        # HTML templates are escaped; .txt templates (plain-text email parts) are not HTML and are not.
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=False),
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )


@cache
def strings(locale: str) -> dict[str, Any]:
    """Interface strings for a locale (falls back to English)."""
    name = locale if locale in SUPPORTED_LOCALES else "en"
    return tomllib.loads((_HERE / "i18n" / f"{name}.toml").read_text(encoding="utf-8"))


def format_date(instant: datetime, locale: str, time_zone: str) -> str:
    local = instant.astimezone(ZoneInfo(time_zone))
    return local.strftime("%d.%m.%Y") if locale == "pl" else local.strftime("%d %b %Y")


# Scale buttons: one neutral colour for every point (the brand's button colour): red-to-green scales
# are known to steer answers. At most six to a row, so the 0-10 row is two rows (0-5, 6-10) that fit a
# 320 px screen with 44 px tall, 42 px wide tap targets and no sideways scrolling.
MAX_POINTS_PER_ROW = 6


@dataclass(frozen=True)
class ScaleLink:
    score: int
    url: str


def scale_rows(links: list[ScaleLink]) -> list[list[ScaleLink]]:
    """One row up to MAX_POINTS_PER_ROW points, else two, the first one longer (0-5 / 6-10, 1-4 / 5-7)."""
    if len(links) <= MAX_POINTS_PER_ROW:
        return [links]
    half = (len(links) + 1) // 2
    return [links[:half], links[half:]]


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


def render_email(name: str, subject: str, context: dict[str, Any]) -> RenderedEmail:
    """``templates/<name>.html`` (autoescaped) and ``<name>.txt`` rendered with one context."""
    env = _environment()
    html = env.get_template(f"{name}.html").render(context)
    return RenderedEmail(subject=subject, html=html, text=env.get_template(f"{name}.txt").render(context))


def render_invitation(
    *,
    template_id: str,
    template_version: int,
    locale: str,
    survey_type: SurveyType,
    first_name: str | None,
    subject: str,
    question: str,
    intro: str | None,
    respond_url: str,
    unsubscribe_url: str,
    expires_at: datetime,
    time_zone: str,
    brand: Brand,
) -> RenderedEmail:
    t = strings(locale)
    scale = SCALES[survey_type]
    scale_links = [ScaleLink(score, f"{respond_url}?score={score}") for score in scale.values]
    low_label, high_label = t["low_label"][survey_type.value], t["high_label"][survey_type.value]
    context = {
        "locale": locale,
        "t": t,
        "brand": brand,
        "colours": brand.colours,
        "subject": subject,
        # A language's greeting may leave the name out (Polish: no bare nominative, see pl.toml).
        "greeting": t["greeting"].format(name=first_name) if first_name else t["greeting_anonymous"],
        "intro": intro or t["intro"],
        "question": question,
        "scale_links": scale_links,
        "scale_rows": scale_rows(scale_links),
        "low_label": low_label,
        "high_label": high_label,
        "scale_hint": t["scale_hint"].format(
            low=scale.low, high=scale.high, low_label=low_label, high_label=high_label
        ),
        "unsubscribe_url": unsubscribe_url,
        "expires": t["expires"].format(date=format_date(expires_at, locale, time_zone)),
        "sent_by": t["sent_by"].format(address=brand.postal_address),
    }
    return render_email(f"email/{template_id}@{template_version}", subject, context)


def build_mime(
    *,
    sender: str,
    sender_name: str | None,
    recipient: str,
    email: RenderedEmail,
    unsubscribe_url: str | None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A multipart/alternative message, plus ``headers``; with an unsubscribe URL, RFC 8058 one-click headers."""
    # RFC 5322 allows 998-character lines: long link headers must stay literal, never RFC 2047-encoded.
    message = EmailMessage(policy=policy.SMTP.clone(max_line_length=998))
    message["From"] = formataddr((sender_name, sender)) if sender_name else sender
    message["To"] = recipient
    message["Subject"] = email.subject
    if unsubscribe_url is not None:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(email.text, subtype="plain", charset="utf-8")
    message.add_alternative(email.html, subtype="html", charset="utf-8")
    return message.as_bytes()


def render_page(name: str, locale: str, **context: Any) -> str:
    """A web page; ``fmt`` writes its numbers, intervals and dates in its language (``npsloop.formats``)."""
    template = _environment().get_template(f"pages/{name}.html")
    return template.render(locale=locale, t=strings(locale), fmt=Formats(locale), **context)
