"""One report email: HTML (mobile first, the survey emails' brand) and text, charts as inline PNGs.

A raw MIME message: ``multipart/related`` holding the ``multipart/alternative`` (text, HTML) and one
``image/png`` part per chart with a ``Content-ID`` the HTML names as ``cid:``. Every chart has a table
beside it for clients that block images. A unit without answers gets a sentence, never an empty chart.
"""

from __future__ import annotations

import hashlib
from email import policy
from email.message import EmailMessage
from email.utils import formataddr
from functools import partial
from typing import TYPE_CHECKING, Any

from npsloop.domain.reports import ReportDefinition, ReportJob, ReportUnit, Section, UnitKind
from npsloop.domain.surveys import SurveyType
from npsloop.formats import Formats
from npsloop.rendering import RenderedEmail, render_email, strings
from npsloop.reports import charts as draw
from npsloop.reports.sections import LIMITS, bars

if TYPE_CHECKING:
    from npsloop.domain.brand import Brand
    from npsloop.ports.reports import ChartCache
    from npsloop.services.reports import Block

TEMPLATE = "email/report@1"


def _unit_name(t: dict[str, Any], unit: ReportUnit) -> str:
    return str(t["unit"][unit.kind.value]).format(id=unit.id)


def _period_name(t: dict[str, Any], job: ReportJob, locale: str) -> str:
    if job.end == job.start or (job.end - job.start).days < 7:
        return str(t["period"]["week"]).format(start=job.start.strftime("%d.%m"), end=job.end.strftime("%d.%m.%Y"))
    return str(t["period"]["month"]).format(month=job.start.strftime("%m.%Y"))


def _chart(cache: ChartCache, key: str, draw_it: Any) -> tuple[str, bytes]:
    """The chart's Content-ID and bytes: drawn once per key (scope, period, program, language), then reused."""
    png = cache.get(key)
    if png is None:
        png = draw_it()
        cache.put(key, png)
    return f"{hashlib.sha256(key.encode()).hexdigest()[:16]}@npsloop", png


def percent(value: float | None, locale: str) -> str:
    """62.5 -> "62.5%" (en) or "62,5%" (pl); no share (nothing sent) -> "–"."""
    if value is None:
        return "–"
    text = f"{value:.1f}".removesuffix(".0")
    return (text.replace(".", ",") if locale == "pl" else text) + "%"


def _funnel(
    cache: ChartCache, key: str, numbers: dict[str, Any], t: dict[str, Any], *, locale: str, palette: draw.Palette
) -> tuple[str, bytes]:
    words = t["funnel_section"]
    of_sent = str(words["of_sent"])
    steps = [
        draw.Step(str(words["chart_sent"]), numbers["sent"]),
        draw.Step(str(words["delivered"]), numbers["delivered"],
                  of_sent.format(pct=percent(numbers["delivered_rate"], locale))),
        draw.Step(str(words["answered"]), numbers["answered"],
                  of_sent.format(pct=percent(numbers["response_rate"], locale))),
    ]  # fmt: skip
    return _chart(cache, key, partial(draw.funnel_chart, steps, palette))


def render_report(
    *,
    definition: ReportDefinition,
    job: ReportJob,
    blocks: list[Block],
    brand: Brand,
    sender: str,
    stop_url: str,
    charts: ChartCache,
) -> bytes:
    locale = job.language
    t = strings(locale)["reports"]
    palette = draw.Palette(text=brand.colours.text, muted=brand.colours.muted, accent=brand.colours.accent)
    images: list[tuple[str, bytes]] = []
    views = []
    for block in blocks:
        survey = SurveyType(block.survey_type)
        limits = LIMITS[survey]
        base = f"{definition.id}/{job.period}/{block.unit.key}/{block.program_id}/{locale}"
        view: dict[str, Any] = {"block": block, "unit_name": _unit_name(t, block.unit), "trend_cid": None}
        if block.has_answers and Section.TREND in definition.sections and block.trend:
            title = str(t["trend_title"]).format(program=survey.value.upper())
            cid, png = _chart(charts, f"{base}/trend", partial(draw.trend_chart, title, block.trend, limits, palette))
            images.append((cid, png))
            view["trend_cid"] = cid
        comparison = block.comparison
        view["bars_cid"] = None
        if block.has_answers and comparison and comparison["children"]:
            key = "children_title" if block.unit.kind is UnitKind.REGION else "regions_title"
            title = str(t[key]).format(program=survey.value.upper())
            children = comparison["children"]
            cid, png = _chart(
                charts,
                f"{base}/comparison",
                partial(draw.comparison_chart, title, bars(children), limits, palette, small_label=t["small_sample"]),
            )
            images.append((cid, png))
            view["bars_cid"] = cid
            view["bars_title"] = title
        view["funnel_cid"] = None
        if block.funnel and block.funnel["sent"]:
            cid, png = _funnel(charts, f"{base}/funnel", block.funnel, t, locale=locale, palette=palette)
            images.append((cid, png))
            view["funnel_cid"] = cid
        views.append(view)
    title = t["title"].get(definition.id, t["title"]["default"])
    period_name = _period_name(t, job, locale)
    subject = str(t["subject"]).format(title=title, period=period_name)
    scope = ", ".join(dict.fromkeys(_unit_name(t, u) for u in job.units))
    context = {
        "locale": locale,
        "t": t,
        "brand": brand,
        "colours": brand.colours,
        "subject": subject,
        "title": title,
        "period_name": period_name,
        "views": views,
        "stop_url": stop_url,
        "why": str(t["why"]).format(scope=scope),
        "footer": strings(locale)["sent_by"].format(address=brand.postal_address),
        "percent": partial(percent, locale=locale),
        "fmt": Formats(locale),  # numbers as the page's language writes them (0,5 godz.)
        "cause_names": strings(locale)["app"]["root_cause_name"],  # root-cause codes in words
    }
    email = render_email(TEMPLATE, subject, context)
    return build_related(
        sender=sender, sender_name=brand.sender_name.get(locale), recipient=job.email, email=email,
        stop_url=stop_url, images=images,
    )  # fmt: skip


def build_related(
    *,
    sender: str,
    sender_name: str | None,
    recipient: str,
    email: RenderedEmail,
    stop_url: str,
    images: list[tuple[str, bytes]],
) -> bytes:
    message = EmailMessage(policy=policy.SMTP.clone(max_line_length=998))
    message["From"] = formataddr((sender_name, sender)) if sender_name else sender
    message["To"] = recipient
    message["Subject"] = email.subject
    message["List-Unsubscribe"] = f"<{stop_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text, subtype="plain", charset="utf-8")
    message.add_alternative(email.html, subtype="html", charset="utf-8")
    # multipart/alternative (text, multipart/related (HTML, PNGs)): the images belong to the HTML only.
    html_part = message.get_body(("html",))
    assert html_part is not None
    for cid in dict.fromkeys(cid for cid, _ in images):
        png = next(png for c, png in images if c == cid)
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", disposition="inline")
    return message.as_bytes()
