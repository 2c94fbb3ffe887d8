"""The checkout learns of its payment's status by the push (the local WebSocket API, authorised
by the payment's client secret), not by polling: with the page's timers stopped (Playwright's
clock, paused) no poll can run, and the paid status still arrives. While the WebSocket is
down the page polls slowly, and it stops at the end of the payment's window."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Request, WebSocketRoute, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tools.launcher import Runtime

from .conftest import Shots

POLL = re.compile(r"/merchant/payments/[^/?]+$")


def is_poll(request: Request) -> bool:
    return request.method == "GET" and POLL.search(request.url.split("?")[0]) is not None


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name)


@pytest.fixture
def polls(page: Page) -> list[str]:
    """Every status GET the page sends (the merchant proxy's, which reaches the gateway)."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if is_poll(request) else None)
    return seen


def open_paused(page: Page, runtime: Runtime) -> datetime:
    """The checkout with the page's clock at the gateway's time and paused: no timer of the
    page runs unless the test moves its clock. The paused time."""
    now = runtime.now()
    page.clock.install(time=now)
    page.clock.pause_at(now + timedelta(seconds=1))
    page.goto(f"{runtime.api_url}/checkout/?lang=en")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return now + timedelta(seconds=1)


def pay_by_vietqr(page: Page, runtime: Runtime) -> dict[str, Any]:
    """Create a VietQR payment from the page; the payment as the merchant API reads it."""
    page.locator("label.method", has_text="VietQR").click()
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#status")).to_have_attribute("data-status", "requires_action")
    payment_id = page.locator("#payment-id").inner_text()
    with runtime.client() as client:
        payment: dict[str, Any] = client.get(f"/v1/payments/{payment_id}").json()
    return payment


def test_the_paid_status_arrives_by_push_with_no_poll(
    page: Page, runtime: Runtime, polls: list[str], shots: Shots
) -> None:
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    open_paused(page, runtime)
    payment = pay_by_vietqr(page, runtime)
    expect(page.locator("body")).to_have_attribute("data-push", "open")
    # the status route answered: the page knows the end of the payment's window
    expect(page.locator("body")).to_have_attribute("data-window-end", re.compile(r"^\d{4}-"))
    shots(page, "waiting")

    paid = httpx.post(f"{payment['next_action']['payment_link']}/pay", json={}, timeout=10)
    assert paid.status_code == 200, paid.text
    expect(page.locator("#status")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#result-title")).to_have_text("Payment succeeded")
    shots(page, "paid-by-push")
    assert polls == []  # the page's clock never moved: only the push can have said it
    assert len(sockets) == 1 and "client_secret=" in sockets[0]
    assert runtime.api_key not in sockets[0]


# The page polls until this long after the window's end: the gateway's time to expire it.
EXPIRY_SLACK = timedelta(minutes=2)


def ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


def js_time(moment: datetime) -> str:
    """`moment` as JavaScript's `toISOString` writes it (milliseconds, UTC)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def refuse_sockets(page: Page, first_reaches_server: bool) -> list[WebSocketRoute]:
    """Every WebSocket of the page fails, as while API Gateway cannot be reached; with
    `first_reaches_server`, the first one reaches the gateway's WebSocket API instead."""
    routes: list[WebSocketRoute] = []

    def route(socket: WebSocketRoute) -> None:
        if first_reaches_server and not routes:
            socket.connect_to_server()
        else:
            socket.close(code=1011)
        routes.append(socket)

    page.route_web_socket(re.compile(r"^ws://"), route)
    return routes


@pytest.mark.parametrize("push", ["lost", "never_opens"])
def test_without_the_push_the_page_polls_slowly_and_stops_after_the_window(
    page: Page, runtime: Runtime, polls: list[str], shots: Shots, push: str
) -> None:
    """The push goes away after it opened (the window came from its status answer), or never
    opens (the window comes from the create's `expires_at`): the page polls slowly, past the
    window's end for `EXPIRY_SLACK`, then never again."""
    routes = refuse_sockets(page, first_reaches_server=push == "lost")
    paused = open_paused(page, runtime)
    payment = pay_by_vietqr(page, runtime)
    body = page.locator("body")
    # The create's `expires_at` on the page's clock, which stands 1 s after the gateway's: as
    # is without a pushed message's `sent_at`, 1 s later once the push's answer said it.
    expires_at = datetime.fromisoformat(payment["expires_at"])
    window_end = expires_at + (timedelta(seconds=1) if push == "lost" else timedelta())
    expect(body).to_have_attribute("data-window-end", js_time(window_end))
    assert timedelta(minutes=29) < window_end - paused <= timedelta(minutes=30)
    assert polls == []

    if push == "lost":
        routes[0].close(code=1001)  # the push goes away: the slow poll takes over
    expect(body).to_have_attribute("data-push", "closed")
    with page.expect_response(lambda response: is_poll(response.request)):
        page.clock.run_for(10_000)  # the first poll, 10 s after the WebSocket closed
    assert len(polls) == 1

    # past the window's end: the poll due by then runs (late), and the page keeps polling
    second = timedelta(seconds=1)
    with page.expect_response(lambda response: is_poll(response.request)):
        page.clock.fast_forward(ms(window_end + second - (paused + 10 * second)))
    with page.expect_response(lambda response: is_poll(response.request)):
        page.clock.fast_forward(ms(EXPIRY_SLACK - 2 * second))  # to 1 s before the slack ends
    assert len(polls) == 3  # one poll after the window's end, scheduled then
    with page.expect_response(lambda response: is_poll(response.request)):
        page.clock.run_for(1_000)  # the last, at the slack's end
    assert len(polls) == 4
    page.clock.run_for(2 * 60 * 60 * 1000)  # two more hours of the page's timers
    with pytest.raises(PlaywrightTimeoutError):
        page.wait_for_event("request", is_poll, timeout=2500)
    assert len(polls) == 4
    expect(page.locator("#status")).to_have_attribute("data-status", "requires_action")
    shots(page, "window-over")


def test_with_the_push_never_open_the_last_poll_shows_the_expiry(
    page: Page, runtime: Runtime, polls: list[str], shots: Shots
) -> None:
    """The gateway expires the unpaid payment at its window's end; the page, which never had
    the push, learns it from a poll in the slack after the window."""
    refuse_sockets(page, first_reaches_server=False)
    paused = open_paused(page, runtime)
    payment = pay_by_vietqr(page, runtime)
    window_end = datetime.fromisoformat(payment["expires_at"])
    with page.expect_response(lambda response: is_poll(response.request)):
        page.clock.fast_forward(ms(window_end - paused) - 5_000)
    expect(page.locator("#status")).to_have_attribute("data-status", "requires_action")

    runtime.advance((window_end - runtime.now() + EXPIRY_SLACK).total_seconds())
    assert runtime.wait_for_status(payment["id"], "expired")["expires_at"] is None
    with page.expect_response(lambda response: is_poll(response.request)):
        page.clock.run_for(ms(EXPIRY_SLACK))
    expect(page.locator("#status")).to_have_attribute("data-status", "expired")
    shots(page, "expired-by-poll")
    count = len(polls)
    page.clock.run_for(2 * 60 * 60 * 1000)  # final: no poll any more
    with pytest.raises(PlaywrightTimeoutError):
        page.wait_for_event("request", is_poll, timeout=2500)
    assert len(polls) == count
