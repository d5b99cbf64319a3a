"""The business-event contract: what upstream systems put on the npsloop bus.

Each detail-type has a model; ``parse_business_event`` picks it by the envelope's detail-type.
Documented for integrators in docs/events.md.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool

from npsloop.domain.types import EmailAddress, Identifier, Label, Locale, PhoneNumber, TimeZoneName


class _Contract(BaseModel):
    # Unknown fields are ignored so upstream systems can add data without breaking us.
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)


class ChannelConsents(_Contract):
    """Consent per channel, as recorded by the upstream system. Absent means no consent.

    Strict JSON booleans: ``"yes"``, ``"true"`` or ``1`` are refused (the event is parked naming the
    field), not read as consent - an upstream system that sends them has a bug we must not guess around.
    """

    email: StrictBool = False
    sms: StrictBool = False


class Customer(_Contract):
    id: Identifier
    email: EmailAddress | None = None
    phone: PhoneNumber | None = None
    locale: Locale = "en"
    time_zone: TimeZoneName = "Europe/Warsaw"
    first_name: str | None = Field(default=None, max_length=80)
    vip: bool = False
    consents: ChannelConsents = ChannelConsents()


class SurveyContext(_Contract):
    """Where the experience happened; every field is a segmentation dimension."""

    store: Label | None = None
    region: Label | None = None
    channel: Label | None = None
    product: Label | None = None
    agent: Label | None = None
    customer_segment: Label | None = None

    def dimensions(self) -> dict[str, str]:
        return {key: value for key, value in self.model_dump().items() if value is not None}


class BusinessEvent(_Contract):
    detail_type: ClassVar[str]
    key_field: ClassVar[str]

    event_id: Identifier
    occurred_at: AwareDatetime
    customer: Customer
    context: SurveyContext = SurveyContext()

    @property
    def business_key(self) -> str:
        """The id that makes one survey per business fact (order, ticket, visit)."""
        return f"{self.key_field}:{getattr(self, self.key_field)}"


class OrderCompleted(BusinessEvent):
    detail_type: ClassVar[str] = "OrderCompleted"
    key_field: ClassVar[str] = "order_id"

    order_id: Identifier
    order_total: Decimal | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


class SupportTicketClosed(BusinessEvent):
    detail_type: ClassVar[str] = "SupportTicketClosed"
    key_field: ClassVar[str] = "ticket_id"

    ticket_id: Identifier
    resolution: Label | None = None


class StoreVisitRecorded(BusinessEvent):
    detail_type: ClassVar[str] = "StoreVisitRecorded"
    key_field: ClassVar[str] = "visit_id"

    visit_id: Identifier


EVENT_MODELS: dict[str, type[BusinessEvent]] = {
    model.detail_type: model for model in (OrderCompleted, SupportTicketClosed, StoreVisitRecorded)
}


class UnknownDetailType(ValueError):
    pass


def parse_business_event(detail_type: str, detail: dict[str, Any]) -> BusinessEvent:
    """Validate ``detail`` against the model for ``detail_type`` (raises pydantic.ValidationError)."""
    model = EVENT_MODELS.get(detail_type)
    if model is None:
        raise UnknownDetailType(f"unsupported detail-type {detail_type!r}; expected one of {sorted(EVENT_MODELS)}")
    return model.model_validate(detail)
