"""The local Paypro sandbox over HTTP: payin, query, cashier, signed notifies retried on Paypro's
documented schedule (on a manual local clock: time passes only by advancing it), faults,
settings."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any

import httpx
import pytest

from local.aws.clock import LocalClock
from local.sandboxes import signatures
from local.sandboxes.outbox import PAYPRO_NOTIFY_DELAYS
from local.sandboxes.paypro import PayproSandbox, SandboxConfig
from paygate.providers.paypro import signing

MERCHANT_NO = "1573818477"
SECRET = "test-app-secret"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class Receiver:
    """A merchant notify endpoint: records every request, answers `OK` after `fail_first`."""

    url: str = ""
    fail_first: int = 0
    always_fail: bool = False
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 3.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} notifies, got {len(self.requests)}")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def server_bind(self) -> None:  # skip the reverse-DNS lookup
        TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.socket.getsockname()[1]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with state.lock:
                state.requests.append(Received(self.path, dict(self.headers.items()), body))
                fail = state.always_fail or len(state.requests) <= state.fail_first
            answer = b"nope" if fail else b"OK"
            self.send_response(500 if fail else 200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = _QuietServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/webhooks/paypro"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def clock() -> Iterator[LocalClock]:
    """Manual: due work (a first notify) runs at once, retries only when the test advances."""
    local = LocalClock("manual")
    local.start()
    yield local
    local.stop()


@pytest.fixture
def sandbox(clock: LocalClock) -> Iterator[PayproSandbox]:
    config = SandboxConfig(merchant_no=MERCHANT_NO, app_secret=SECRET, timeout_delay_seconds=0.3)
    box = PayproSandbox(config, port=0, now=clock.now, timers=clock)
    box.start()
    yield box
    box.stop()


@pytest.fixture
def client(sandbox: PayproSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.base_url, timeout=5.0, trust_env=False) as http:
        yield http


def signed(fields: dict[str, Any], secret: str = SECRET) -> dict[str, Any]:
    """Signed as the Payment API page says: every field except `sign`, empty ones included (the
    gateway's signer skips empty values, and its client never sends one)."""
    return {**fields, "sign": signatures.paypro_sign(fields, secret)}


def payin_body(notify_url: str, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "amount": "50000",
        "tradeNo": "T" + uuid.uuid4().hex[:20],
        "notifyUrl": notify_url,
        "bankName": "VietQR",
        "timestamp": str(int(time.time() * 1000)),
        "remark": "test",
    }
    fields.update(overrides)
    return signed({key: value for key, value in fields.items() if value is not None})


def payin(http: httpx.Client, body: dict[str, Any], merchant_no: str = MERCHANT_NO) -> Any:
    response = http.post("/v1/payproVN/payin", json=body, headers={"merchantNo": merchant_no})
    assert response.status_code == 200
    return response.json()


def query(http: httpx.Client, trade_no: str) -> Any:
    body = signed({"tradeNo": trade_no, "timestamp": str(int(time.time() * 1000))})
    response = http.post(
        "/v1/payproVN/queryPayInResult", json=body, headers={"merchantNo": MERCHANT_NO}
    )
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def order(client: httpx.Client, receiver: Receiver) -> Callable[..., dict[str, Any]]:
    """Create a payin; returns the request body plus `platFormTradeNo`."""

    def make(**overrides: Any) -> dict[str, Any]:
        body = payin_body(receiver.url, **overrides)
        answer = payin(client, body)
        assert answer["code"] == "0000", answer
        return {**body, "platFormTradeNo": answer["data"]["platFormTradeNo"]}

    return make


def act(http: httpx.Client, pid: str, action: str, **body: Any) -> httpx.Response:
    return http.post(
        f"/pay/{pid}/{action}", json=body if body else None, headers={"Accept": "application/json"}
    )


def assert_failure(answer: Any, code: str) -> None:
    assert answer["code"] == code, answer
    assert answer["success"] is False
    assert answer["data"] is None
    assert isinstance(answer["timestamp"], int)


# -- payin -------------------------------------------------------------------------------------


def test_payin_answers_the_docs_shape_and_a_working_payment_link(
    client: httpx.Client, sandbox: PayproSandbox, receiver: Receiver
) -> None:
    body = payin_body(receiver.url)
    answer = payin(client, body)

    assert set(answer) == {"msg", "code", "timestamp", "success", "data"}
    assert (answer["msg"], answer["code"], answer["success"]) == ("success", "0000", True)
    assert isinstance(answer["timestamp"], int)
    data = answer["data"]
    assert set(data) == {"platFormTradeNo", "status", "desc", "remark", "paymentLink"}
    assert re.fullmatch(r"[a-z0-9]{16}", data["platFormTradeNo"])
    assert (data["status"], data["desc"], data["remark"]) == ("0015", "CREATED", "test")
    assert data["paymentLink"] == f"{sandbox.base_url}/pay/{data['platFormTradeNo']}"

    page = httpx.get(data["paymentLink"], trust_env=False)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    assert '<html lang="vi">' in text and "<main>" in text
    assert "50.000\u00a0₫" in text and body["tradeNo"] in text
    assert 'aria-label="Mã VietQR' in text
    pid = data["platFormTradeNo"]
    assert f'action="/pay/{pid}/pay"' in text and f'action="/pay/{pid}/decline"' in text
    assert ">Pay</button>" in text and ">Decline</button>" in text


def test_payin_without_remark_echoes_empty(client: httpx.Client, receiver: Receiver) -> None:
    answer = payin(client, payin_body(receiver.url, remark=None))
    assert answer["code"] == "0000"
    assert answer["data"]["remark"] == ""


def test_bad_sign_is_1002(client: httpx.Client, receiver: Receiver) -> None:
    body = payin_body(receiver.url)
    assert_failure(payin(client, {**body, "amount": "60000"}), "1002")
    assert_failure(payin(client, {**body, "sign": ""}), "1002")
    wrong_secret = signed({k: v for k, v in body.items() if k != "sign"}, "other-secret")
    assert_failure(payin(client, wrong_secret), "1002")


@pytest.mark.parametrize("merchant_no", ["1234567890", ""])
def test_wrong_merchant_is_1001(client: httpx.Client, receiver: Receiver, merchant_no: str) -> None:
    assert_failure(payin(client, payin_body(receiver.url), merchant_no=merchant_no), "1001")


@pytest.mark.parametrize(
    ("overrides", "field_name"),
    [
        ({"amount": "49999"}, "amount"),
        ({"amount": "50000.00"}, "amount"),
        ({"amount": 50000}, "amount"),
        ({"bankName": "MoMo"}, "bankName"),
        ({"notifyUrl": None}, "notifyUrl"),
        ({"tradeNo": ""}, "tradeNo"),
    ],
)
def test_invalid_parameter_is_1003_naming_the_field(
    client: httpx.Client, receiver: Receiver, overrides: dict[str, Any], field_name: str
) -> None:
    answer = payin(client, payin_body(receiver.url, **overrides))
    assert_failure(answer, "1003")
    assert field_name in answer["msg"]


def test_duplicate_trade_no_is_1004(client: httpx.Client, receiver: Receiver) -> None:
    body = payin_body(receiver.url)
    assert payin(client, body)["code"] == "0000"
    assert_failure(payin(client, body), "1004")


# -- cashier and notifies ----------------------------------------------------------------------


def test_pay_delivers_a_signed_success_notify(
    client: httpx.Client, receiver: Receiver, order: Callable[..., dict[str, Any]]
) -> None:
    created = order()
    pid = created["platFormTradeNo"]
    response = act(client, pid, "pay")

    assert response.status_code == 200
    result = response.json()
    assert (result["status"], result["delivered"]) == ("0000", True)
    (received,) = receiver.wait_for(1)
    assert received.path == "/webhooks/paypro"
    assert received.headers["Content-Type"] == "application/json"
    notify = received.json()
    assert notify == result["notify"]
    assert signing.is_valid(notify, [SECRET])
    assert all(isinstance(value, str) for value in notify.values())
    assert set(notify) == {
        "status", "message", "platFormTradeNo", "tradeNo", "amount", "successTime", "timestamp",
        "sign",
    }  # fmt: skip
    assert (notify["status"], notify["message"], notify["amount"]) == ("0000", "success", "50000")
    assert (notify["tradeNo"], notify["platFormTradeNo"]) == (created["tradeNo"], pid)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", notify["successTime"])
    assert re.fullmatch(r"\d{13}", notify["timestamp"])

    state = client.get(f"/_sandbox/orders/{created['tradeNo']}").json()
    assert state["status"] == "0000" and state["delivered"] is True
    assert [(d["statusCode"], d["body"]) for d in state["deliveries"]] == [(200, "OK")]
    page = client.get(f"/pay/{pid}").text
    assert "<button" not in page and "Paid" in page


def test_decline_delivers_00029(
    client: httpx.Client, receiver: Receiver, order: Callable[..., dict[str, Any]]
) -> None:
    created = order()
    assert act(client, created["platFormTradeNo"], "decline").json()["status"] == "00029"
    notify = receiver.wait_for(1)[0].json()
    assert signing.is_valid(notify, [SECRET])
    assert (notify["status"], notify["message"]) == ("00029", "Transaction rejected")
    assert notify["amount"] == "50000" and "successTime" not in notify


def test_pay_a_different_amount(
    client: httpx.Client, receiver: Receiver, order: Callable[..., dict[str, Any]]
) -> None:
    created = order(amount="100000")
    assert act(client, created["platFormTradeNo"], "pay", amount="60000").status_code == 200
    notify = receiver.wait_for(1)[0].json()
    assert notify["amount"] == "60000" and signing.is_valid(notify, [SECRET])
    assert query(client, created["tradeNo"])["data"]["amount"] == "60000"


def test_browser_form_post_redirects_to_the_cashier(
    client: httpx.Client, receiver: Receiver, order: Callable[..., dict[str, Any]]
) -> None:
    pid = order()["platFormTradeNo"]
    response = client.post(
        f"/pay/{pid}/pay", data={"amount": "70000"}, headers={"Accept": "text/html"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/pay/{pid}"
    assert receiver.wait_for(1)[0].json()["amount"] == "70000"
    assert "70.000\u00a0₫" in client.get(f"/pay/{pid}").text


def test_final_orders_refuse_a_second_outcome(
    client: httpx.Client,
    receiver: Receiver,
    order: Callable[..., dict[str, Any]],
    clock: LocalClock,
) -> None:
    pid = order()["platFormTradeNo"]
    assert act(client, pid, "pay").status_code == 200
    for action in ("pay", "decline"):
        again = act(client, pid, action)
        assert again.status_code == 409
        assert again.json() == {"error": "order already final"}
    clock.advance(24 * 3600)
    assert len(receiver.requests) == 1


def test_resend_delivers_identical_bytes(
    client: httpx.Client, receiver: Receiver, order: Callable[..., dict[str, Any]]
) -> None:
    pid = order()["platFormTradeNo"]
    act(client, pid, "pay")
    resent = act(client, pid, "resend")
    assert resent.status_code == 200 and resent.json()["delivered"] is True
    first, second = receiver.wait_for(2)
    assert first.body == second.body


def test_a_failed_notify_is_retried_2_s_later(
    client: httpx.Client,
    receiver: Receiver,
    order: Callable[..., dict[str, Any]],
    clock: LocalClock,
) -> None:
    receiver.fail_first = 1
    created = order()
    assert act(client, created["platFormTradeNo"], "pay").json()["delivered"] is False
    clock.advance(1.9)
    assert len(receiver.requests) == 1
    clock.advance(0.1)
    first, second = receiver.wait_for(2)
    assert first.body == second.body
    state = client.get(f"/_sandbox/orders/{created['tradeNo']}").json()
    assert [d["statusCode"] for d in state["deliveries"]] == [500, 200]
    assert state["delivered"] is True and state["gaveUp"] is False and not state["retrying"]
    clock.advance(24 * 3600)
    assert len(receiver.requests) == 2


def test_notify_follows_the_documented_schedule_then_gives_up(
    client: httpx.Client,
    receiver: Receiver,
    order: Callable[..., dict[str, Any]],
    clock: LocalClock,
) -> None:
    receiver.always_fail = True
    created = order()
    act(client, created["platFormTradeNo"], "pay")
    assert len(receiver.requests) == 1
    for number, delay in enumerate(PAYPRO_NOTIFY_DELAYS, start=2):  # 2 s, 5 s, ... 3 h
        clock.advance(delay - 0.5)
        assert len(receiver.requests) == number - 1
        clock.advance(0.5)
        assert len(receiver.requests) == number
    state = client.get(f"/_sandbox/orders/{created['tradeNo']}").json()
    assert len(state["deliveries"]) == 9 and state["gaveUp"] is True
    assert state["delivered"] is False and not state["retrying"]
    clock.advance(7 * 86_400)
    assert len(receiver.requests) == 9  # then nothing: the merchant uses the queries


def settings(client: httpx.Client, **changes: Any) -> dict[str, Any]:
    answer = client.post("/_sandbox/settings", json=changes)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_lost_notifies_are_never_attempted(
    client: httpx.Client,
    receiver: Receiver,
    order: Callable[..., dict[str, Any]],
    clock: LocalClock,
) -> None:
    assert settings(client, callbacks="lost")["callbacks"] == "lost"
    created = order()
    assert act(client, created["platFormTradeNo"], "pay").json()["delivered"] is False
    clock.advance(86_400)
    state = client.get(f"/_sandbox/orders/{created['tradeNo']}").json()
    assert state["deliveries"] == [] and state["lost"] is True and state["delivered"] is False
    assert receiver.requests == []
    assert query(client, created["tradeNo"])["data"]["status"] == "0000"  # queries tell


def test_an_unreachable_gateway_gets_the_retries(
    client: httpx.Client,
    receiver: Receiver,
    order: Callable[..., dict[str, Any]],
    clock: LocalClock,
) -> None:
    settings(client, callbacks="unreachable")
    created = order()
    act(client, created["platFormTradeNo"], "pay")
    clock.advance(2 + 5)
    settings(client, callbacks="deliver")
    clock.advance(10)
    state = client.get(f"/_sandbox/orders/{created['tradeNo']}").json()
    assert [d["statusCode"] for d in state["deliveries"]] == [None, None, None, 200]
    assert "unreachable" in state["deliveries"][0]["error"]
    assert len(receiver.requests) == 1


def test_status_query_faults(client: httpx.Client, order: Callable[..., dict[str, Any]]) -> None:
    created = order()
    act(client, created["platFormTradeNo"], "pay")
    settings(client, status_query="in_progress")
    answer = query(client, created["tradeNo"])
    assert (answer["code"], answer["data"]["status"]) == ("0000", "0015")
    assert_failure(query(client, "no-such-trade"), "1005")
    settings(client, status_query="silent")
    silent = client.post(
        "/v1/payproVN/queryPayInResult",
        json=signed({"tradeNo": created["tradeNo"], "timestamp": "1"}),
        headers={"merchantNo": MERCHANT_NO},
    )
    assert silent.status_code == 503
    settings(client, status_query="normal")
    assert query(client, created["tradeNo"])["data"]["status"] == "0000"


def test_an_open_order_stays_payable_unless_a_link_lifetime_is_set(
    client: httpx.Client, order: Callable[..., dict[str, Any]], clock: LocalClock
) -> None:
    assert settings(client)["link_lifetime_seconds"] is None
    forever = order()
    clock.advance(30 * 86_400)
    assert query(client, forever["tradeNo"])["data"]["status"] == "0015"
    assert act(client, forever["platFormTradeNo"], "pay").status_code == 200

    settings(client, link_lifetime_seconds=1800)
    short = order()
    clock.advance(1800)
    inside = order()
    clock.advance(1)
    refused = act(client, short["platFormTradeNo"], "pay")
    assert refused.status_code == 409 and refused.json() == {"error": "payment link expired"}
    assert query(client, short["tradeNo"])["data"]["status"] == "0015"
    assert act(client, inside["platFormTradeNo"], "pay").status_code == 200
    for bad in ({"link_lifetime_seconds": 0}, {"callbacks": "sometimes"}, {"colour": "red"}):
        assert client.post("/_sandbox/settings", json=bad).status_code == 400


# -- query -------------------------------------------------------------------------------------


def test_query_reports_each_status(
    client: httpx.Client, order: Callable[..., dict[str, Any]]
) -> None:
    paid, declined = order(), order()
    answer = query(client, paid["tradeNo"])
    assert (answer["code"], answer["success"]) == ("0000", True)
    assert answer["data"] == {
        "platFormTradeNo": paid["platFormTradeNo"],
        "tradeNo": paid["tradeNo"],
        "amount": "50000",
        "status": "0015",
        "desc": "CREATED",
    }
    act(client, paid["platFormTradeNo"], "pay")
    act(client, declined["platFormTradeNo"], "decline")
    assert query(client, paid["tradeNo"])["data"]["status"] == "0000"
    assert query(client, declined["tradeNo"])["data"]["status"] == "00029"

    answer = query(client, "no-such-trade")
    assert_failure(answer, "1005")
    assert answer["msg"] == "order not found"
    unsigned = {"tradeNo": paid["tradeNo"], "timestamp": "1", "sign": "0" * 32}
    bad = client.post(
        "/v1/payproVN/queryPayInResult", json=unsigned, headers={"merchantNo": MERCHANT_NO}
    )
    assert_failure(bad.json(), "1002")


# -- faults ------------------------------------------------------------------------------------


def test_server_error_fault_answers_503_once(client: httpx.Client, receiver: Receiver) -> None:
    assert (
        client.post("/_sandbox/faults", json={"payin": "server_error", "count": 1}).status_code
        == 200
    )
    body = payin_body(receiver.url)
    response = client.post("/v1/payproVN/payin", json=body, headers={"merchantNo": MERCHANT_NO})
    assert response.status_code == 503
    assert "error" in response.json()
    assert payin(client, body)["code"] == "0000"


def test_reject_fault_is_8000(client: httpx.Client, receiver: Receiver) -> None:
    client.post("/_sandbox/faults", json={"payin": "reject"})
    answer = payin(client, payin_body(receiver.url))
    assert_failure(answer, "8000")
    assert answer["msg"] == "system error"
    assert payin(client, payin_body(receiver.url))["code"] == "0000"


def test_timeout_fault_outlasts_the_caller_then_creates_the_order(
    client: httpx.Client, receiver: Receiver
) -> None:
    client.post("/_sandbox/faults", json={"payin": "timeout", "count": 1})
    body = payin_body(receiver.url)
    with pytest.raises(httpx.ReadTimeout):
        client.post(
            "/v1/payproVN/payin", json=body, headers={"merchantNo": MERCHANT_NO}, timeout=0.1
        )
    deadline = time.monotonic() + 2
    while client.get(f"/_sandbox/orders/{body['tradeNo']}").status_code == 404:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert_failure(payin(client, body), "1004")


def test_code_5000_fault_creates_the_order_but_answers_5000(
    client: httpx.Client, receiver: Receiver
) -> None:
    client.post("/_sandbox/faults", json={"payin": "code_5000"})
    body = payin_body(receiver.url)
    answer = payin(client, body)
    assert_failure(answer, "5000")
    assert client.get(f"/_sandbox/orders/{body['tradeNo']}").status_code == 200
    assert query(client, body["tradeNo"])["data"]["status"] == "0015"
    assert_failure(payin(client, body), "1004")  # our retry: the order exists


def test_accepted_timeout_fault_creates_the_order_and_never_answers(
    client: httpx.Client, receiver: Receiver
) -> None:
    settings(client, timeout_delay_seconds=0)
    client.post("/_sandbox/faults", json={"payin": "accepted_timeout"})
    body = payin_body(receiver.url)
    with pytest.raises(httpx.TransportError):
        client.post("/v1/payproVN/payin", json=body, headers={"merchantNo": MERCHANT_NO})
    assert client.get(f"/_sandbox/orders/{body['tradeNo']}").status_code == 200
    assert_failure(payin(client, body), "1004")


def test_faults_can_be_cleared_and_are_validated(client: httpx.Client, receiver: Receiver) -> None:
    queued = client.post("/_sandbox/faults", json={"payin": "reject", "count": 3})
    assert queued.json() == {"queued": ["reject"] * 3}
    assert client.delete("/_sandbox/faults").json() == {"cleared": 3}
    assert payin(client, payin_body(receiver.url))["code"] == "0000"
    assert client.post("/_sandbox/faults", json={"payin": "explode"}).status_code == 400
    assert client.post("/_sandbox/faults", json={"payin": "reject", "count": 0}).status_code == 400


# -- HTTP hygiene ------------------------------------------------------------------------------


def test_http_edges(client: httpx.Client) -> None:
    assert client.get("/_sandbox/health").json() == {"ok": True}
    missing = client.get("/nope")
    assert missing.status_code == 404 and missing.json() == {"error": "not found"}
    assert client.get("/_sandbox/orders/unknown").status_code == 404
    page = client.get("/pay/doesnotexist0000")
    assert page.status_code == 404 and 'lang="vi"' in page.text
    assert act(client, "doesnotexist0000", "pay").status_code == 404
    headers = {"merchantNo": MERCHANT_NO, "Content-Type": "application/json"}
    malformed = client.post("/v1/payproVN/payin", content=b"{not json", headers=headers)
    assert malformed.status_code == 400 and "error" in malformed.json()
    huge = client.post("/v1/payproVN/payin", content=b"x" * (64 * 1024 + 1), headers=headers)
    assert huge.status_code == 413
    assert client.get("/v1/payproVN/payin").status_code == 405
    assert client.get("/_sandbox/health").json() == {"ok": True}  # still serving


def test_stop_is_idempotent() -> None:
    box = PayproSandbox(SandboxConfig(), port=0)
    box.stop()  # never started
    box = PayproSandbox(SandboxConfig(), port=0)
    box.start()
    assert httpx.get(f"{box.base_url}/_sandbox/health", trust_env=False).status_code == 200
    box.stop()
    box.stop()


def _signed(fields: dict[str, Any]) -> dict[str, Any]:
    fields = {**fields, "timestamp": "1729153461856"}
    return {**fields, "sign": signing.sign(fields, SECRET)}


def test_payout_balance_and_result_hooks(sandbox: PayproSandbox, receiver: Receiver) -> None:
    headers = {"merchantNo": MERCHANT_NO}
    before = httpx.post(f"{sandbox.base_url}/v1/payproVN/queryBalance", json=_signed({}),
                        headers=headers).json()["data"]  # fmt: skip
    payout = {"tradeNo": "po_1", "amount": "60000", "accountName": "NGUYEN VAN A",
              "bankName": "ACB", "bankNumber": "0123", "notifyUrl": receiver.url}  # fmt: skip
    body = _signed(payout)
    answer = httpx.post(f"{sandbox.base_url}/v1/payproVN/payout", json=body, headers=headers)
    assert answer.json()["data"]["status"] == "0015"
    bad = _signed({**{k: v for k, v in body.items() if k not in ("sign", "timestamp")},
                   "tradeNo": "po_2", "accountName": "Nguyễn"})  # fmt: skip
    refused = httpx.post(f"{sandbox.base_url}/v1/payproVN/payout", json=bad, headers=headers)
    assert refused.json()["code"] == "1003" and "accountName" in refused.json()["msg"]
    result = httpx.post(f"{sandbox.base_url}/_sandbox/payouts/po_1/succeed").json()
    assert result["status"] == "0000" and signing.is_valid(result["notify"], [SECRET])
    after = httpx.post(f"{sandbox.base_url}/v1/payproVN/queryBalance", json=_signed({}),
                       headers=headers).json()["data"]  # fmt: skip
    assert int(before["availablAmount"]) - int(after["availablAmount"]) == 60_000
    query = _signed({"tradeNo": "po_1"})
    found = httpx.post(f"{sandbox.base_url}/v1/payproVN/queryPayOutResult", json=query,
                       headers=headers).json()["data"]  # fmt: skip
    assert found["status"] == "0000"
