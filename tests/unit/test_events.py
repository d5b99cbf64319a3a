import pytest
from pydantic import ValidationError

from npsloop.domain.events import OrderCompleted, UnknownDetailType, parse_business_event

SAMPLES = {
    "order-completed.json": "order_id:ORD-2026-5531",
    "order-completed-pl.json": "order_id:ORD-2026-8812",
    "support-ticket-closed.json": "ticket_id:TKT-4417",
    "store-visit-recorded.json": "visit_id:VIS-WAW-03-7781",
}


@pytest.mark.parametrize(("name", "business_key"), SAMPLES.items())
def test_every_sample_event_parses_to_its_business_key(event, name, business_key):
    envelope = event(name)

    parsed = parse_business_event(envelope["detail-type"], envelope["detail"])

    assert parsed.business_key == business_key


def test_locales_are_reduced_to_the_supported_language(event):
    envelope = event("order-completed-pl.json")

    parsed = parse_business_event("OrderCompleted", envelope["detail"])

    assert parsed.customer.locale == "pl"


def test_an_unsupported_locale_is_rejected_with_the_field_named(event):
    detail = event("order-completed.json")["detail"]
    detail["customer"]["locale"] = "de-DE"

    with pytest.raises(ValidationError, match=r"customer\.locale"):
        OrderCompleted.model_validate(detail)


def test_an_unknown_time_zone_is_rejected(event):
    detail = event("order-completed.json")["detail"]
    detail["customer"]["time_zone"] = "Mars/Olympus_Mons"

    with pytest.raises(ValidationError, match="not a known IANA time zone name"):
        OrderCompleted.model_validate(detail)


def test_consent_defaults_to_no_when_absent(event):
    detail = event("order-completed.json")["detail"]
    del detail["customer"]["consents"]

    assert OrderCompleted.model_validate(detail).customer.consents.email is False


@pytest.mark.parametrize("value", ["yes", "true", "True", 1, 0, "false", "no", None, "1"])
def test_consent_must_be_a_json_boolean(event, value):
    detail = event("order-completed.json")["detail"]
    detail["customer"]["consents"]["email"] = value

    with pytest.raises(ValidationError, match=r"customer\.consents\.email"):
        OrderCompleted.model_validate(detail)


def test_an_event_with_a_yes_for_consent_is_parked_naming_the_field_and_nothing_is_sent(
    invite, mailer, store, parking, event
):
    envelope = event("order-completed.json")
    envelope["detail"]["customer"]["consents"] = {"email": "yes", "sms": 1}

    (outcome,) = invite.accept(envelope)

    assert outcome.result == "parked"
    assert mailer.sent == [] and store.invitations == {}
    ((_, reason),) = parking.parked
    assert "customer.consents.email" in reason and "customer.consents.sms" in reason


def test_an_unknown_detail_type_is_refused():
    with pytest.raises(UnknownDetailType):
        parse_business_event("OrderShipped", {})


def test_the_invalid_sample_is_invalid(event):
    envelope = event("invalid-order-completed.json")

    with pytest.raises(ValidationError):
        parse_business_event(envelope["detail-type"], envelope["detail"])


@pytest.mark.parametrize("address", ["zażółć@example.pl", "jane@exämple.com", "a b@example.com", "jane@localhost"])
def test_addresses_ses_cannot_send_to_are_rejected(event, address):
    detail = event("order-completed.json")["detail"]
    detail["customer"]["email"] = address

    with pytest.raises(ValidationError, match=r"customer\.email"):
        OrderCompleted.model_validate(detail)
