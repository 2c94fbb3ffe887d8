"""POST /v1/payments/{id}/confirm and /cancel, and the session/status query."""

from __future__ import annotations

import pytest

from local.aws.provision import Provisioned
from local.sandboxes.smartglocal import SmartglocalSandbox
from paygate import wiring
from paygate.providers.smartglocal.client import SmartglocalClient
from paygate.providers.smartglocal.transformers import Session
from paygate.settings import SmartglocalSettings, load_settings

from .conftest import Api, body_of
from .reconcile_support import FanOut, later_clock
from .smartglocal_support import JSON, create, deliver_next, get


def held(api: Api, sandbox: SmartglocalSandbox) -> dict[str, str]:
    """A manual payment waiting in requires_confirmation."""
    payment = create(api, confirmation="manual")
    deliver_next(api, sandbox, payment["provider_reference"], "ready_to_confirm")
    assert get(api, payment["id"])["status"] == "requires_confirmation"
    return payment


def test_manual_confirm_then_the_qr_then_success(
    api: Api, smartglocal_sandbox: SmartglocalSandbox
) -> None:
    payment = held(api, smartglocal_sandbox)
    confirmed = api.answer(200, "POST", f"/v1/payments/{payment['id']}/confirm")
    assert confirmed["status"] == "requires_confirmation"  # until action_required
    reference = payment["provider_reference"]
    deliver_next(api, smartglocal_sandbox, reference, "action_required")
    assert get(api, payment["id"])["status"] == "requires_action"
    smartglocal_sandbox.finish(reference, paid=True)
    deliver_next(api, smartglocal_sandbox, reference, "payment_finished")
    assert get(api, payment["id"])["status"] == "succeeded"


def test_manual_cancel_is_cancelled_at_once(
    api: Api, smartglocal_sandbox: SmartglocalSandbox
) -> None:
    payment = held(api, smartglocal_sandbox)
    assert api.answer(200, "POST", f"/v1/payments/{payment['id']}/cancel")["status"] == "cancelled"
    deliver_next(api, smartglocal_sandbox, payment["provider_reference"], "payment_finished")
    after = get(api, payment["id"])
    assert (after["status"], after["version"]) == ("cancelled", 4)


def test_a_cancel_whose_webhook_lands_first_is_still_cancelled(
    api: Api, smartglocal_sandbox: SmartglocalSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Smart Glocal's webhook for the cancelled session may reach us before its answer to our
    `session/cancel` does: the merchant's cancel still ends `cancelled`, never `expired`, and
    the history has no `expired` in it."""
    payment = held(api, smartglocal_sandbox)
    cancel = SmartglocalClient.cancel

    def webhook_first(client: SmartglocalClient, session_id: str) -> Session:
        answer = cancel(client, session_id)
        deliver_next(api, smartglocal_sandbox, session_id, "payment_finished")
        assert get(api, payment["id"])["status"] == "requires_confirmation"
        return answer

    monkeypatch.setattr(SmartglocalClient, "cancel", webhook_first)
    assert api.answer(200, "POST", f"/v1/payments/{payment['id']}/cancel")["status"] == "cancelled"
    monkeypatch.undo()
    deliver_next(api, smartglocal_sandbox, payment["provider_reference"], "payment_finished")
    assert get(api, payment["id"])["status"] == "cancelled"


def test_a_held_session_cancelled_by_smart_glocal_expires_at_the_window(
    api: Api, smartglocal_sandbox: SmartglocalSandbox
) -> None:
    """Smart Glocal's own cancel of a held session (its 240-minute hold) is applied by the
    reconciler's query at the window's end, as `expired`; the webhook alone does not."""
    payment = held(api, smartglocal_sandbox)
    gateway = wiring.smartglocal(load_settings(SmartglocalSettings))
    gateway._client().cancel(payment["provider_reference"])  # as its hold ran out
    deliver_next(api, smartglocal_sandbox, payment["provider_reference"], "payment_finished")
    assert get(api, payment["id"])["status"] == "requires_confirmation"
    FanOut(clock=later_clock(minutes=241)).run()
    assert get(api, payment["id"])["status"] == "expired"


@pytest.mark.parametrize("action", ["confirm", "cancel"])
def test_action_on_a_payment_not_waiting_is_a_409(api: Api, action: str) -> None:
    payment = create(api, confirmation="manual")  # pending: nothing to confirm yet
    error = api.answer(409, "POST", f"/v1/payments/{payment['id']}/{action}")["error"]
    assert error["code"] == "invalid_state"
    assert "pending" in error["message"] and "requires_confirmation" in error["message"]


def test_confirm_twice_is_a_409_once_cancelled(
    api: Api, smartglocal_sandbox: SmartglocalSandbox
) -> None:
    payment = held(api, smartglocal_sandbox)
    api.call("POST", f"/v1/payments/{payment['id']}/cancel")
    assert api.call("POST", f"/v1/payments/{payment['id']}/confirm")["statusCode"] == 409


def test_confirm_of_another_providers_payment_is_a_409(api: Api) -> None:
    body = {"amount": 50000, "currency": "VND", "merchant_reference": "pp-1"}
    paypro = body_of(api.call("POST", "/v1/paypro/payments", body, JSON))
    response = api.call("POST", f"/v1/payments/{paypro['id']}/confirm")
    assert response["statusCode"] == 409
    assert "paypro" in body_of(response)["error"]["message"]


def test_confirm_of_an_unknown_payment_is_a_404(api: Api) -> None:
    assert api.call("POST", "/v1/payments/pay_nope/confirm")["statusCode"] == 404


def test_provider_refusal_of_confirm_is_a_502_and_the_payment_waits(
    api: Api, smartglocal_sandbox: SmartglocalSandbox
) -> None:
    payment = held(api, smartglocal_sandbox)
    smartglocal_sandbox.add_fault("confirm", 1)
    response = api.call("POST", f"/v1/payments/{payment['id']}/confirm")
    assert response["statusCode"] == 502
    error = body_of(response)["error"]
    assert (error["provider_code"], error["payment_id"]) == ("sandbox_fault", payment["id"])
    assert get(api, payment["id"])["status"] == "requires_confirmation"


def test_status_query_maps_like_the_webhooks(
    api: Api, aws: Provisioned, smartglocal_sandbox: SmartglocalSandbox
) -> None:
    gateway = wiring.smartglocal(load_settings(SmartglocalSettings))
    manual = create(api, confirmation="manual")
    assert gateway.refresh(manual["id"]).status == "requires_confirmation"
    auto = create(api)  # its ready_to_confirm "got lost": the status query confirms it
    assert gateway.refresh(auto["id"]).status == "pending"
    state = smartglocal_sandbox.session(auto["provider_reference"])
    assert state is not None and state["confirm_calls"] == 1
    assert gateway.refresh(auto["id"]).status == "requires_action"
    smartglocal_sandbox.finish(auto["provider_reference"], paid=True)
    assert gateway.refresh(auto["id"]).status == "succeeded"
