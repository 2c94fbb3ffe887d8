"""The platform sandbox's customer side: the Payment Page's parameter rules, and the HTML of
the bank's page / Payment Page with Pay and Decline."""

from __future__ import annotations

import html

from local.sandboxes.base import DIGITS, page, pay_forms, vnd
from local.sandboxes.platform_wire import METHOD_NAMES, Provider, SandboxPayment

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
    if not DIGITS.fullmatch(amount) or int(amount) <= 0:
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


def customer_page(payment: SandboxPayment, base: str) -> bytes:
    """Where the customer pays or declines (`base` is `/bank/<id>` or `/payment/<id>`)."""
    e = html.escape
    if payment.final:
        if payment.status == "success":
            paid = vnd(payment.paid_amount or payment.amount)
            outcome = f"Đã thanh toán / <span lang='en'>Paid</span>: {e(paid)}"
        else:
            outcome = "Bị từ chối / <span lang='en'>Declined</span>"
        detail = f"{payment.code or ''} {payment.message or ''}".strip()
        actions = (
            f'<p role="status"><strong>{outcome}</strong> (<span lang="en">{e(detail)}</span>)</p>'
        )
    else:
        actions = _instructions(payment) + pay_forms(base, str(payment.amount))
    method = e(METHOD_NAMES[payment.method])
    body = f"""<h1>Thanh toán <small lang="en">({method}, sandbox)</small></h1>
<dl>
  <dt>Số tiền / <span lang="en">Amount</span></dt><dd>{e(vnd(payment.amount))}</dd>
  <dt>Mã thanh toán / <span lang="en">Payment id</span></dt><dd>{e(payment.payment_id)}</dd>
</dl>
{actions}"""
    return page(f"Thanh toán - {METHOD_NAMES[payment.method]} (sandbox)", body)


# The Monetix docs' display_data titles (both title sets) as the customer reads them.
TRANSFER_LABELS = {
    "bankname": ("Ngân hàng", "Bank"),
    "bank_name": ("Ngân hàng", "Bank"),
    "bank_abbr": ("Tên viết tắt", "Bank short name"),
    "code": ("Mã ngân hàng", "Bank code"),
    "number": ("Số tài khoản", "Account number"),
    "account_no": ("Số tài khoản", "Account number"),
    "fullname": ("Chủ tài khoản", "Account holder"),
    "account_name": ("Chủ tài khoản", "Account holder"),
    "branch": ("Chi nhánh", "Branch"),
    "swiftcode": ("Mã SWIFT", "SWIFT code"),
    "content": ("Nội dung chuyển khoản", "Transfer description"),
    "transfer_code": ("Nội dung chuyển khoản", "Transfer code"),
    "request_amount": ("Số tiền", "Amount"),
}


def _instructions(payment: SandboxPayment) -> str:
    """Monetix transfer instructions (`display_data`), when the payment has them."""
    shown = payment.action or payment.page_instructions
    items = shown.get("display_data") or []
    if not items:
        return ""
    e = html.escape
    rows = ""
    for item in items:
        title = str(item["title"])
        vi, en = TRANSFER_LABELS.get(title.lower(), (None, title))
        label = (
            f'{e(vi)} / <span lang="en">{e(en)}</span>' if vi else f'<span lang="en">{e(en)}</span>'
        )
        data = str(item["data"])
        value = vnd(data) if title.lower() == "request_amount" and data.isdigit() else data
        rows += f"\n  <dt>{label}</dt><dd>{e(value)}</dd>"
    return f"""
<section aria-labelledby="instructions">
<h2 id="instructions">Thông tin chuyển khoản / <span lang="en">Transfer details</span></h2>
<dl>{rows}
</dl>
</section>"""


def error_page(message: str) -> bytes:
    body = f'<h1>Lỗi / <span lang="en">Error</span></h1>\n<p lang="en">{html.escape(message)}</p>'
    return page("Lỗi - sandbox", body)
