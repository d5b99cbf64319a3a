"""The customer's contact details for a call back: kept for the least time, shown to the fewest people.

The business event's ``customer.email`` and ``customer.phone`` are kept as a ``contact`` item
(``INV#<invitation>`` / ``CONTACT``) only while the invitation's link can still bring an answer: the
item's ``ttl`` is the link's expiry, so DynamoDB deletes it then (docs/data-model.md). A case that opens
copies it and drops it when it is resolved or closed. Nothing else holds it: not the invitation, the
response, the export, logs, URLs or the SNS message.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from npsloop.domain.types import EmailAddress, PhoneNumber


class CustomerContact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    email: EmailAddress | None = None
    phone: PhoneNumber | None = None  # E.164, as the business event carries it

    @property
    def empty(self) -> bool:
        return self.email is None and self.phone is None

    @property
    def phone_display(self) -> str | None:
        """The number as people read it ("+48 601 234 567"); the raw E.164 if the library cannot parse it."""
        if self.phone is None:
            return None
        import phonenumbers

        try:
            parsed = phonenumbers.parse(self.phone, None)
        except phonenumbers.NumberParseException:
            return self.phone
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    @property
    def tel_uri(self) -> str | None:
        """RFC 3966 ``tel:`` link: the E.164 number itself (it is validated as digits after "+")."""
        return f"tel:{self.phone}" if self.phone else None

    @property
    def mailto_uri(self) -> str | None:
        return f"mailto:{self.email}" if self.email else None
