"""Erasure of a customer's call-back contact details: ``python -m npsloop.erasure --table NAME --customer ID``.

Deletes the customer's ``contact`` items (``INV#<invitation>`` / ``CONTACT``) and removes ``contact``
from their cases; idempotent, so a retried request does no harm. Against AWS it uses the usual
credential chain and needs dynamodb:Scan, dynamodb:DeleteItem and dynamodb:UpdateItem on the table;
``--endpoint-url http://127.0.0.1:4566`` points it at the local stack. docs/data-model.md "contact".
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import boto3

from npsloop.adapters.dynamodb_cases import DynamoCases
from npsloop.ports.cases import CustomerContacts


def erase(contacts: CustomerContacts, customer_id: str) -> int:
    """How many items lost the customer's contact details."""
    return contacts.erase_contacts(customer_id)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m npsloop.erasure", description=__doc__.splitlines()[0])
    parser.add_argument("--table", required=True)
    parser.add_argument("--customer", required=True, help="the customer id of the erasure request")
    parser.add_argument("--endpoint-url", default=None)
    args = parser.parse_args(argv)
    client = boto3.client("dynamodb", endpoint_url=args.endpoint_url)
    changed = erase(DynamoCases(args.table, client), args.customer)
    print(f"contact details erased from {changed} item(s)")
    return 0
