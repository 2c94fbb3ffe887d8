"""HTML pages of the platform sandbox: the bank's page / Payment Page with Pay and Decline."""

from __future__ import annotations

import html

from local.sandboxes.platform_wire import METHOD_NAMES, SandboxPayment


def _vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " ₫"


def customer_page(payment: SandboxPayment, base: str) -> bytes:
    """Where the customer pays or declines (`base` is `/bank/<id>` or `/payment/<id>`)."""
    e = html.escape
    if payment.final:
        outcome = (
            "Đã thanh toán / <span lang='en'>Paid</span>"
            if payment.status == "success"
            else ("Bị từ chối / <span lang='en'>Declined</span>")
        )
        actions = f'<p role="status"><strong>{outcome}</strong> ({e(payment.code or "")})</p>'
    else:
        actions = f"""
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


def error_page(message: str) -> bytes:
    return (
        '<!doctype html>\n<html lang="vi"><head><meta charset="utf-8">'
        "<title>Lỗi - sandbox</title></head><body><main><h1>Lỗi / "
        f'<span lang="en">Error</span></h1><p lang="en">{html.escape(message)}</p>'
        "</main></body></html>\n"
    ).encode()
