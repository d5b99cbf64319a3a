"""Notices to people: alerts, escalations and retry reminders, on the alerts topic and/or by email.

One ``Notice`` becomes an SNS message (JSON, with the attributes subscribers filter on: store,
region, team, rule, kind; English, one per rule) and/or an email rendered from
``templates/email/alert@1.{txt,html}`` (Jinja2, HTML autoescaped) in the recipient's language (from
routing). An alert email covers every rule an answer fired (``fired``): one email per answer and
recipient. The SNS message never carries the customer's email or phone (the customer id only); the
alert email to the case's owner carries them (``contact``) for the call back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from npsloop.domain.alerts import Channel, FiredRule, Person, Route, keyword_spans
from npsloop.domain.digests import DigestItem, DigestPeriod, digest_order
from npsloop.domain.responses import MAX_COMMENT_LENGTH
from npsloop.domain.surveys import SCALES, SurveyType
from npsloop.observability import count, logger
from npsloop.ports import Mailer, MailRejected, OutgoingEmail
from npsloop.ports.cases import AlertTopic, TopicMessage
from npsloop.rendering import RenderedEmail, build_mime, format_date, render_email, strings

if TYPE_CHECKING:
    from npsloop.domain.brand import Brand
    from npsloop.domain.contact import CustomerContact

TEMPLATE = "email/alert@1"
DIGEST_TEMPLATE = "email/digest@1"
NoticeKind = Literal["alert", "escalation", "retry"]
_HEADLINES = {
    "alert": "Customer feedback alert",
    "escalation": "Overdue follow-up case (escalated to you)",
    "retry": "Unreachable customer: try again today",
}


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    recipient: Person
    severity: str
    invitation_id: str
    program_id: str
    survey_type: str
    score: int
    customer_id: str
    context: dict[str, str]
    team: str
    rule: str | None = None
    comment: str | None = None
    keywords: tuple[str, ...] = ()
    case_id: str | None = None
    case_url: str | None = None
    due_at: datetime | None = None
    time_zone: str = "Europe/Warsaw"
    language: str = "en"  # of the email (the SNS message is English)
    fired: tuple[FiredRule, ...] = ()  # an alert email: every rule the answer fired
    contact: CustomerContact | None = None  # email only, to the case's owner; never on the topic
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def alert_id(self) -> str:
        return f"{self.invitation_id}:{self.kind}:{self.rule or '-'}"

    def body(self) -> dict[str, Any]:
        """The SNS message: everything a subscriber needs, the recipient by id only."""
        document = asdict(self)
        document.pop("recipient")
        document.pop("extra")
        document.pop("fired")
        document.pop("contact")
        document.pop("language")
        document.update(self.extra)
        document["alert_id"] = self.alert_id
        document["recipient_id"] = self.recipient.id
        document["keywords"] = list(self.keywords)
        document["due_at"] = self.due_at.isoformat() if self.due_at else None
        if self.comment and len(self.comment) > MAX_COMMENT_LENGTH:
            # SNS takes 256 KiB: a comment longer than the respond page allows (written some other
            # way) must not make the alert fail for ever. The email and the case keep it whole.
            document["comment"] = self.comment[:MAX_COMMENT_LENGTH]
            document["comment_truncated"] = True
        return {k: v for k, v in document.items() if v is not None}

    def attributes(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "rule": self.rule or "",
            "store": self.context.get("store", ""),
            "region": self.context.get("region", ""),
            "team": self.team,
            "severity": self.severity,
        }

    def subject(self) -> str:
        where = self.context.get("store") or self.context.get("region") or "-"
        return f"[{self.severity}] {_HEADLINES[self.kind]}: {self.survey_type.upper()} {self.score} at {where}"


def _due(instant: datetime, locale: str, time_zone: str) -> str:
    local = instant.astimezone(ZoneInfo(time_zone))
    weekday = strings(locale)["weekdays"][local.weekday()]
    day = local.strftime("%d.%m.%Y, %H:%M") if locale == "pl" else local.strftime("%d %b %Y, %H:%M")
    return f"{weekday} {day} ({local.tzname()})"


def _rule_lines(notice: Notice, t: dict[str, Any], found: list[str]) -> list[str]:
    labels = t["alert"]["rule"]
    lines = []
    for rule in notice.fired:
        if rule.kind == "keyword":
            quoted = ", ".join(t["alert"]["quote"].format(word) for word in found)
            lines.append(labels["keyword"].format(keywords=quoted or "-"))
        elif rule.kind == "theme":
            names = t["comment_themes"]["name"]
            themes = ", ".join(names.get(theme, theme) for theme in rule.themes)
            lines.append(t["comment_themes"]["rule"].format(themes=themes))
        else:
            lines.append(labels[rule.kind])
    return lines


def render_notice(notice: Notice, brand: Brand) -> RenderedEmail:
    """The subject and the plain-text and HTML bodies of a notice email, in the notice's language."""
    locale = notice.language if notice.language in ("pl", "en") else "en"
    t = strings(locale)
    a = t["alert"]
    keywords = tuple(k for rule in notice.fired for k in rule.keywords) or notice.keywords
    parts = keyword_spans(notice.comment or "", keywords)
    found = list(dict.fromkeys(text for text, hit in parts if hit))  # as written, in order, once
    high = SCALES[SurveyType(notice.survey_type)].high
    where = notice.context.get("store") or notice.context.get("region") or "-"
    headline = a["headline"][notice.kind]
    severity = a["severity"][notice.severity]
    subject = (
        a["subject"].format(severity=severity, score=notice.score, high=high, where=where)
        if notice.kind == "alert"
        else f"{severity}: {headline} ({where})"
    )
    context = {
        "locale": locale,
        "t": t,
        "a": a,
        "contact": t["contact"],
        "n": notice,
        "brand": brand,
        "colours": brand.colours,
        "subject": subject,
        "headline": headline,
        "severity": severity,
        "score": a["score_value"].format(score=notice.score, high=high, survey=notice.survey_type.upper()),
        "rules": _rule_lines(notice, t, found),
        "comment_parts": parts,
        "due": _due(notice.due_at, locale, notice.time_zone) if notice.due_at else None,
        "footer": a["footer"].format(team=notice.team, reference=notice.invitation_id),
    }
    return render_email(TEMPLATE, subject, context)


def _count_alerts(count: int, forms: dict[str, str], locale: str) -> str:
    """ "1 alert", "3 alerts"; Polish: 1 powiadomienie, 3 powiadomienia, 5 powiadomień, 22 powiadomienia."""
    if count == 1:
        form = "one"
    elif locale == "pl" and count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14):
        form = "few"
    else:
        form = "many"
    return forms.get(form, forms["many"]).format(n=count)


def render_digest(route: Route, period: DigestPeriod, items: list[DigestItem], brand: Brand) -> RenderedEmail:
    """One recipient's digest of one period, in the route's language: every alert's line, most urgent
    first (``digest_order``), each with its score, rules, comment as written, store, SLA due and case link."""
    locale = route.language if route.language in ("pl", "en") else "en"
    t = strings(locale)
    a, d = t["alert"], t["digest"]
    delivery = period.delivery.value
    alerts = _count_alerts(len(items), d["alerts"], locale)
    sent_on = format_date(period.end, locale, route.time_zone)
    lines = []
    for item in digest_order(items):
        parts = keyword_spans(item.comment or "", item.keywords)
        found = list(dict.fromkeys(text for text, hit in parts if hit))
        rules = []
        for kind in item.rules:
            if kind == "keyword":
                rules.append(
                    a["rule"]["keyword"].format(keywords=", ".join(a["quote"].format(w) for w in found) or "-")
                )
            elif kind == "trend":
                rules.append(d["rule_trend"])
            elif kind == "theme":
                rules.append(t["comment_themes"]["rule_any"])
            elif kind in a["rule"]:
                rules.append(a["rule"][kind])
        high = SCALES[SurveyType(item.survey_type)].high
        lines.append(
            {
                "item": item,
                "severity": a["severity"].get(item.severity, item.severity),
                "score": a["score_value"].format(score=item.score, high=high, survey=item.survey_type.upper()),
                "rules": rules,
                "comment_parts": parts,
                "where": " · ".join(v for v in (item.store, item.region, item.channel) if v),
                "where_label": a["store"] if item.store else a["region"],
                "due": _due(item.due_at, locale, route.time_zone) if item.due_at else None,
                "alerted": _due(item.alerted_at, locale, route.time_zone),
            }
        )
    subject = d["subject"][delivery].format(date=sent_on, alerts=alerts)
    context = {
        "locale": locale,
        "a": a,
        "d": d,
        "brand": brand,
        "colours": brand.colours,
        "subject": subject,
        "headline": d["headline"][delivery],
        "alerts": alerts,
        "covers": d["covers"].format(
            start=_due(period.start, locale, route.time_zone), end=_due(period.end, locale, route.time_zone)
        ),
        "lines": lines,
        "footer": d["footer"].format(team=route.team, when=d["when"][delivery]),
    }
    return render_email(DIGEST_TEMPLATE, subject, context)


@dataclass(frozen=True)
class MailSender:
    address: str
    name: str | None


class Notifier:
    """Sends a notice on the channels its route asks for. Errors other than a refused address propagate."""

    def __init__(
        self, topic: AlertTopic | None, mailer: Mailer | None, sender: MailSender | None, brand: Brand
    ) -> None:
        self._topic = topic
        self._mailer = mailer
        self._sender = sender
        self._brand = brand

    def send(self, notice: Notice, channel: Channel) -> None:
        if channel.sns:
            self.publish(notice)
        if channel.email:
            self.mail(notice)

    def publish(self, notice: Notice) -> None:
        """The notice on the alerts topic (if the function has one)."""
        if self._topic is not None:
            self._topic.publish(TopicMessage(notice.subject(), notice.body(), notice.attributes()))
            count("NoticesPublished", kind=notice.kind)

    def mail(self, notice: Notice) -> None:
        """The notice by email to its recipient (if the function sends email)."""
        if self._mailer is not None and self._sender is not None:
            self._mail(notice, self._mailer, self._sender)

    @property
    def brand(self) -> Brand:
        return self._brand

    def mail_rendered(self, recipient: Person, email: RenderedEmail, kind: str) -> None:
        """An email rendered elsewhere (a digest) to a colleague (if the function sends email)."""
        if self._mailer is not None and self._sender is not None:
            self._send_mail(recipient, email, kind, self._mailer, self._sender)

    def _mail(self, notice: Notice, mailer: Mailer, sender: MailSender) -> None:
        self._send_mail(notice.recipient, render_notice(notice, self._brand), notice.kind, mailer, sender)

    def _send_mail(
        self, recipient: Person, email: RenderedEmail, kind: str, mailer: Mailer, sender: MailSender
    ) -> None:
        raw = build_mime(
            sender=sender.address,
            sender_name=sender.name,
            recipient=recipient.email,
            email=email,
            unsubscribe_url=None,  # a work notice to a colleague, not a mailing
        )
        try:
            mailer.send(
                OutgoingEmail(
                    sender=sender.address,
                    recipient=recipient.email,
                    raw=raw,
                    # Never the "invitation" tag: the delivery function would file this email's reports
                    # under the survey invitation of the same id.
                    tags={"notice": kind},
                )
            )
        except MailRejected as exc:
            # A colleague's address refused for good: retrying will not help; the topic still has it.
            logger.error("notice email rejected", kind=kind, recipient_id=recipient.id, code=exc.code)
            count("NoticeEmailsRejected", kind=kind)
            return
        count("NoticesMailed", kind=kind)
