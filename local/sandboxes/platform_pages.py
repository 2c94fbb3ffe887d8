"""The platform sandbox's customer side: the Payment Page's parameter rules, and the HTML of
the bank's page / Payment Page with Pay and Decline."""

from __future__ import annotations

import html
import re

from local.sandboxes.platform_wire import METHOD_NAMES, Provider, SandboxPayment

_DIGITS = re.compile(r"[0-9]+")
PAGE_METHODS: dict[str, tuple[Provider, str]] = {
    "vietnam-atm": ("ecommpay", "napas_atm"),
    "nganluong-wallet": ("ecommpay", "nganluong_wallet"),
    "bank-transfer-vietnam": ("monetix", "bank_transfer"),
}
PAGE_BASE = ("project_id", "payment_id", "payment_amount", "payment_currency")
PAGE_REQUIRED = {
    ("vietnam-atm", 1): ("customer_id", "customer_email", "customer_phone"),
    ("vietnam-atm", 2): (),
    ("nganluong-wallet", 0): ("customer_id", "customer_email", "customer_phone"),
    ("bank-transfer-vietnam", 0): ("customer_id", "customer_first_name", "customer_last_name",
                                   "customer_email"),
}  # fmt: skip


def page_problem(
    params: dict[str, str], provider: Provider, project_id: int, atm_channel: int
) -> str | None:
    """The first missing or invalid Payment Page parameter, as a message naming it."""
    for name in PAGE_BASE:
        if not params.get(name):
            return f"Required parameter not provided: {name}"
    if params["project_id"] != str(project_id):
        return "Invalid parameter project_id: not this project"
    amount = params["payment_amount"]
    if not _DIGITS.fullmatch(amount) or int(amount) <= 0:
        return "Invalid parameter payment_amount: a positive whole number of VND"
    if params["payment_currency"] != "VND":
        return "Invalid parameter payment_currency: must be VND"
    forced = params.get("force_payment_method", "")
    method = PAGE_METHODS.get(forced)
    if method is None or method[0] != provider:
        known = [name for name, m in PAGE_METHODS.items() if m[0] == provider]
        return f"Invalid parameter force_payment_method: one of {', '.join(known)}"
    channel = atm_channel if forced == "vietnam-atm" else 0
    for name in PAGE_REQUIRED[(forced, channel)]:
        if not params.get(name):
            return f"Required parameter not provided: {name}"
    return None


def _vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " ₫"


def customer_page(payment: SandboxPayment, base: str) -> bytes:
    """Where the customer pays or declines (`base` is `/bank/<id>` or `/payment/<id>`)."""
    e = html.escape
    if payment.final:
        if payment.status == "success":
            paid = _vnd(payment.paid_amount or payment.amount)
            outcome = f"Đã thanh toán / <span lang='en'>Paid</span>: {e(paid)}"
        else:
            outcome = "Bị từ chối / <span lang='en'>Declined</span>"
        detail = f"{payment.code or ''} {payment.message or ''}".strip()
        actions = (
            f'<p role="status"><strong>{outcome}</strong> (<span lang="en">{e(detail)}</span>)</p>'
        )
    else:
        actions = (
            _instructions(payment)
            + f"""
<form method="post" action="{e(base)}/pay">
  <label for="amount">Số tiền thực trả (tuỳ chọn) / <span lang="en">amount paid, optional</span>
  </label>
  <input id="amount" name="amount" inputmode="numeric" pattern="[0-9]*"
    placeholder="{payment.amount}">
  <button type="submit" lang="en">Pay</button>
</form>
<form method="post" action="{e(base)}/decline">
  <button type="submit" lang="en">Decline</button>
</form>"""
        )
    return f"""<!doctype html>
<html lang="vi">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Thanh toán - {e(METHOD_NAMES[payment.method])} (sandbox)</title>
<style>body{{font-family:system-ui,sans-serif;max-width:30rem;margin:2rem auto;padding:0 1rem}}
form{{margin:1rem 0}} button{{font-size:1rem;padding:.5rem 1.5rem}}</style></head>
<body><main>
<h1>Thanh toán <small lang="en">({e(METHOD_NAMES[payment.method])}, sandbox)</small></h1>
<dl>
  <dt>Số tiền / <span lang="en">Amount</span></dt><dd>{e(_vnd(payment.amount))}</dd>
  <dt>Mã thanh toán / <span lang="en">Payment id</span></dt><dd>{e(payment.payment_id)}</dd>
</dl>
{actions}
</main></body></html>
""".encode()


def _instructions(payment: SandboxPayment) -> str:
    """Monetix transfer instructions (`display_data`), when the payment has them."""
    shown = payment.action or payment.page_instructions
    items = shown.get("display_data") or []
    if not items:
        return ""
    e = html.escape
    rows = "".join(
        f'\n  <dt lang="en">{e(str(item["title"]))}</dt><dd>{e(str(item["data"]))}</dd>'
        for item in items
    )
    return f"""
<section aria-labelledby="instructions">
<h2 id="instructions">Thông tin chuyển khoản / <span lang="en">Transfer details</span></h2>
<dl>{rows}
</dl>
</section>"""


def error_page(message: str) -> bytes:
    return (
        '<!doctype html>\n<html lang="vi"><head><meta charset="utf-8">'
        "<title>Lỗi - sandbox</title></head><body><main><h1>Lỗi / "
        f'<span lang="en">Error</span></h1><p lang="en">{html.escape(message)}</p>'
        "</main></body></html>\n"
    ).encode()
