"""The Paypro changed-amount walkthrough (docs/providers/paypro.md), run as written: a customer
who pays another amount leaves the payment `needs_review`. The same step without its JSON
content type (what `curl -d` sends) is refused by the sandbox, not read as a full payment."""

from __future__ import annotations

import httpx

from .conftest import Runtime, created
from .test_readme_walkthroughs import run_walkthrough, walkthrough_script


def test_the_changed_amount_walkthrough_ends_needs_review(runtime: Runtime) -> None:
    assert run_walkthrough(runtime, "walkthrough-paypro-amount")[-1] == "needs_review"


def test_the_walkthrough_sends_its_json_content_type() -> None:
    script = walkthrough_script("walkthrough-paypro-amount")
    assert """curl -s -X POST "$LINK/pay" -H 'content-type: application/json'""" in script


def test_the_step_without_its_content_type_is_refused(runtime: Runtime) -> None:
    body = {"amount": 50_000, "currency": "VND", "merchant_reference": "order-1003"}
    payment = created(runtime, "/v1/paypro/payments", body)
    link = payment["next_action"]["payment_link"]
    curl_d = {"content-type": "application/x-www-form-urlencoded"}  # curl -d's default
    answer = httpx.post(f"{link}/pay", content=b'{"amount": "40000"}', headers=curl_d)
    assert answer.status_code == 415, answer.text
    assert "Content-Type: application/json" in answer.json()["error"]
    with runtime.client() as client:
        assert client.get(f"/v1/payments/{payment['id']}").json()["status"] == "requires_action"
