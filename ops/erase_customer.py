"""Erase one customer's personal data everywhere the gateway keeps it, keeping the money facts
(docs/privacy.md, "Erasing a customer").

The customer is named by the merchant's customer id (`customer.id` at create: every payment
and payout item keeps it as `customer_id`) or by an email address (then every payment whose
stored fields still hold that address: a live Payment Page URL, a wallet payout's account,
the merchant's description or metadata). For each payment found:

- the payment item: its customer id is removed; the next action's customer parameters
  (`customer_*` and the signature that covered them), the payout destination's holder,
  account and card, and any description or metadata text naming the customer become `*****`
  (`paygate.masking.forget`). Amounts, statuses, ids, references, times, the history and the
  review stay. No version bump and no event: an erasure is no status change.
- its stored provider notifications (`by_payment`, expired or not): every personal field of
  the body becomes `*****` (outcome, dedupe key and time stay).
- the idempotency records whose kept answer names it: the answer is rewritten the same way
  (a retry with the same key still replays the payment, without the customer's data).

Events already published (SNS) and log lines cannot be recalled: neither carries contact
data (docs/privacy.md). A Scan reads the table (an operator's tool, never a request path).

    python -m ops.erase_customer --table <PaymentsTable> --idempotency-table <IdempotencyTable> \\
        (--customer-id <id> | --email <address>)
    python -m ops.erase_customer --local --customer-id <id>     # the local runtime (make run)
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qsl, quote_plus, urlsplit

from ops import cli
from paygate.domain import Payment, PayoutDestination, RedirectAction
from paygate.masking import ERASED, forget
from paygate.repository import PaymentRepository

# The payment fields read for identifiers to look for elsewhere (a Payment Page URL's customer
# parameters, a payout destination's account and holder).
_DESTINATION_IDENTIFIERS = ("account_number", "account_name", "card_holder")


@dataclass
class ErasureReport:
    payments: list[str] = field(default_factory=list)
    payments_erased: int = 0
    changed_meanwhile: list[str] = field(default_factory=list)  # run again for these
    webhooks_erased: int = 0
    idempotency_records_erased: int = 0


def identifiers_of(payment: Payment, given: set[str]) -> set[str]:
    """What else names the customer in `payment`: its customer id, the Payment Page URL's
    customer values, the payout destination's account and holder (beside `given`)."""
    found = set(given)
    if payment.customer_id:
        found.add(payment.customer_id)
    action = payment.next_action
    if isinstance(action, RedirectAction):
        for name, value in parse_qsl(urlsplit(action.url).query):
            if name.startswith("customer_") and value:
                found.add(value)
    if payment.destination is not None:
        for name in _DESTINATION_IDENTIFIERS:
            value = getattr(payment.destination, name)
            if value and value != ERASED:
                found.add(value)
    return found


def erased(payment: Payment, identifiers: set[str]) -> Payment:
    """`payment` without its personal fields (the money facts untouched)."""
    action = payment.next_action
    forgotten_action = (
        type(action).model_validate(forget(action.model_dump(), identifiers)) if action else None
    )
    destination = (
        PayoutDestination.model_validate(forget(payment.destination.model_dump(), identifiers))
        if payment.destination
        else None
    )
    return payment.model_copy(
        update={
            "customer_id": None,
            "next_action": forgotten_action,
            "destination": destination,
            "description": forget(payment.description, identifiers),
            "metadata": forget(payment.metadata, identifiers),
        }
    )


def _mentions(payment: Payment, email: str) -> bool:
    """True when a stored field of `payment` holds `email` (as typed or URL-encoded)."""
    text = json.dumps(payment.model_dump(mode="json")).lower()
    return email.lower() in text or quote_plus(email).lower() in text


def erase_customer(
    repository: PaymentRepository,
    idempotency_table: str | None,
    *,
    customer_id: str | None = None,
    email: str | None = None,
) -> ErasureReport:
    """Erase the personal data of the customer with `customer_id` or `email` (module doc)."""
    if not customer_id and not email:
        raise ValueError("name the customer: customer_id or email")
    given = {value for value in (customer_id, email) if value}
    if customer_id:
        payments = repository.customer_payments(customer_id)
    else:
        assert email is not None
        payments = [p for p in repository.all_payments() if _mentions(p, email)]
    report = ErasureReport(payments=[payment.id for payment in payments])
    identifiers = set(given)
    for payment in payments:
        identifiers |= identifiers_of(payment, given)
    for payment in payments:
        if repository.erase_personal(payment, erased(payment, identifiers)):
            report.payments_erased += 1
        else:
            report.changed_meanwhile.append(payment.id)
        for key, body in repository.stored_webhooks(payment.id):
            repository.replace_webhook_body(key, forget(body, identifiers))
            report.webhooks_erased += 1
        if idempotency_table:
            for record in repository.idempotency_records(idempotency_table, payment.id):
                data = forget(record["data"], identifiers)
                repository.replace_idempotency_data(idempotency_table, record["id"], data)
                report.idempotency_records_erased += 1
    return report


def main() -> int:
    parser = cli.parser("Erase one customer's personal data")
    parser.add_argument("--table", help="the stack's PaymentsTable")
    parser.add_argument("--idempotency-table", help="the stack's IdempotencyTable")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer-id", help="the merchant's customer id (customer.id)")
    who.add_argument("--email", help="an email address the customer's payments hold")
    args = parser.parse_args()
    if args.local:
        table = cli.local_table("PaymentsTable")
        idempotency_table = cli.local_table("IdempotencyTable")
    elif args.table:
        table, idempotency_table = args.table, args.idempotency_table
    else:
        parser.error("give --table (and --idempotency-table), or --local")
    # The retention only matters to writes of new notifications, which this never makes.
    repository = PaymentRepository(table, timedelta(days=1))
    report = erase_customer(
        repository, idempotency_table, customer_id=args.customer_id, email=args.email
    )
    print(json.dumps(report.__dict__))
    return 0 if not report.changed_meanwhile else 1


if __name__ == "__main__":
    sys.exit(main())
