"""What every provider sandbox shares: the serving lifecycle, the settings every sandbox takes
(`callbacks`, `status_query`, `timeout_delay_seconds`), the queue of one-shot faults and the
create-under-a-fault rule, callback delivery through the one outbox (outbox.py, each provider's
retry schedule), the HTML shell of the customer pages, card masking and logging. The provider
rules (wire format, signatures, banks, validation, what counts as delivered) stay in each
sandbox's own module; nothing here imports the gateway or the local runtime."""

from __future__ import annotations

import html
import re
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

from local.sandboxes.http import DropConnection, HttpError, Reply, SandboxServer
from local.sandboxes.outbox import CALLBACK_MODES, Delivery, Outbox, RetryAfter
from local.sandboxes.timing import Now, Timers

STATUS_QUERY_MODES = ("normal", "in_progress", "silent")
HTML = "text/html; charset=utf-8"
DIGITS = re.compile(r"[0-9]+")
Check = Callable[[Any], bool]


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def whole_amount(value: Any) -> int | None:
    """An optional positive whole amount (form text or JSON number); ValueError when invalid."""
    if value in (None, ""):
        return None
    text = str(value)
    if isinstance(value, bool) or not DIGITS.fullmatch(text) or int(text) <= 0:
        raise ValueError("amount must be a positive whole number")
    return int(text)


def mask_card(pan: str) -> str:
    """What a card number may be kept as: the first 6 and last 4 digits (the platform docs'
    `424242******4242`); shorter numbers are wholly masked."""
    digits = "".join(ch for ch in pan if ch.isdigit())
    if len(digits) < 13:
        return "*" * len(digits)
    return f"{digits[:6]}{'*' * (len(digits) - 10)}{digits[-4:]}"


def log(label: str, line: str) -> None:
    sys.stderr.write(f"[{label}] {line}\n")
    sys.stderr.flush()


def page(title: str, body: str, lang: str = "vi", css: str = "") -> bytes:
    """A customer page: `body` (markup) in the one shell every sandbox uses."""
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
<style>
body{{font-family:system-ui,sans-serif;max-width:30rem;margin:2rem auto;padding:0 1rem}}
.qr{{width:12rem;height:12rem;border:3px dashed #444;display:grid;place-items:center}}
form{{margin:1rem 0}} button{{font-size:1rem;padding:.5rem 1.5rem}} input{{font-size:1rem}}
{css}</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
""".encode()


def vnd(amount: int | str) -> str:
    """`50000` → `50.000 ₫`, the Vietnamese way, a non-breaking space before the ₫."""
    return f"{int(amount):,}".replace(",", ".") + "\u00a0₫"


def pay_forms(action: str, placeholder: str, decline: str = "Decline") -> str:
    """The Pay (with an optional amount actually paid) and Decline forms of a customer page."""
    e = html.escape
    return f"""
<form method="post" action="{e(action)}/pay">
  <label for="amount">Số tiền thực trả (tuỳ chọn) / <span lang="en">amount paid, optional</span>
  </label>
  <input id="amount" name="amount" inputmode="numeric" pattern="[0-9]*"
    placeholder="{e(placeholder)}">
  <button type="submit" lang="en">Pay</button>
</form>
<form method="post" action="{e(action)}/{decline.lower()}">
  <button type="submit" lang="en">{decline}</button>
</form>"""


class FaultQueue:
    """One-shot faults for the next calls, in the order queued."""

    def __init__(self, kinds: Iterable[str]) -> None:
        self.kinds = tuple(kinds)
        self._queue: deque[str] = deque()
        self._lock = threading.Lock()

    def add(self, kind: str, count: int) -> list[str]:
        with self._lock:
            self._queue.extend([kind] * count)
            return list(self._queue)

    def clear(self) -> int:
        with self._lock:
            cleared = len(self._queue)
            self._queue.clear()
            return cleared

    def take(self, kind: str | None = None) -> str | None:
        """The next fault (of `kind` only, when given), consumed."""
        with self._lock:
            for index, queued in enumerate(self._queue):
                if kind is None or queued == kind:
                    del self._queue[index]
                    return queued
            return None

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {kind: self._queue.count(kind) for kind in dict.fromkeys(self._queue)}

    def problem(self, kind: Any, count: Any) -> str | None:
        """Why a `POST /_sandbox/faults` request is invalid, or None."""
        if kind not in self.kinds:
            return f"must be one of {', '.join(self.kinds)}"
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
            return "count must be an integer from 1 to 1000"
        return None


# One client for every callback, shared by the sandboxes' threads: `httpx.post` built a new
# client, and with it an SSL context from the CA bundle, for every attempt (milliseconds of
# CPU each; callbacks go to the gateway on 127.0.0.1 over plain HTTP). No connection is kept
# between attempts: a receiver that closed one would fail the next attempt on it.
_CALLBACKS = httpx.Client(trust_env=False, limits=httpx.Limits(max_keepalive_connections=0))


def post_callback(
    url: str, body: bytes, timeout: float, unreachable: bool, headers: dict[str, str] | None = None
) -> tuple[int | None, str | None, str | None]:
    """One delivery attempt: (HTTP status, response text, error); an `unreachable` fault fails
    as a connection error without reaching the receiver."""
    try:
        if unreachable:
            raise httpx.ConnectError("gateway unreachable (sandbox fault)")
        response = _CALLBACKS.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", **(headers or {})},
            timeout=timeout,
        )
    except Exception as exc:  # any failure to reach the receiver is a failed attempt
        return None, None, f"{type(exc).__name__}: {exc}"
    return response.status_code, response.text, None


@dataclass
class Callback:
    """One callback (notify, webhook) as made: its exact bytes and headers, every delivery
    attempt, and how its delivery ended."""

    name: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False
    retrying: bool = False
    gave_up: bool = False
    lost: bool = False
    first: threading.Event = field(default_factory=threading.Event)  # first attempt (or none)

    def wait_first(self, timeout: float) -> bool:
        """Whether the first attempt delivered (waits up to `timeout` real seconds for it)."""
        return self.first.wait(timeout) and self.delivered


class Sandbox:
    """A provider sandbox's server, lock, outbox (on the given clock), common settings and
    callback delivery."""

    label = "sandbox"
    faults: FaultQueue
    settings_checks: dict[str, Check] = {}  # the sandbox's own settings (besides the common)
    callback_timeout = 5.0  # seconds per delivery attempt

    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        host: str,
        port: int,
        retry_after: RetryAfter,
        now: Now | None,
        timers: Timers | None,
        timeout_delay_seconds: float = 30.0,
    ) -> None:
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self.status_query = "normal"
        self.timeout_delay_seconds = timeout_delay_seconds
        self._outbox = Outbox(self.label, retry_after, now, timers)
        self._now = self._outbox.now
        self._server = SandboxServer((host, port), handler, self)
        self._host = host
        self._port: int = self._server.socket.getsockname()[1]
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def base_url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    def start(self) -> None:
        """Serve in a background daemon thread."""
        if self._thread is None and not self._stopped:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},  # how long stop() may wait for the loop
                name=f"{self.label}-sandbox",
                daemon=True,
            )
            self._thread.start()
            self._outbox.start()

    def stop(self) -> None:
        """Stop serving and retrying; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        self._outbox.stop()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def log(self, line: str) -> None:
        log(self.label, line)

    def later(self, when: datetime | float, fn: Callable[[], object]) -> None:
        """A lifetime on the sandbox's clock: `fn` at `when` (or `when` seconds from now), on
        the sandbox's own lane, in time order with its callbacks."""
        if not isinstance(when, datetime):
            when = self._now() + timedelta(seconds=when)
        self._outbox.call_at(when, fn)

    # -- callbacks -----------------------------------------------------------------------------

    def send(self, callback: Callback, url: str | None, real_delay: float = 0.0) -> Callback:
        """Queue `callback` on the outbox: the first attempt at once (after `real_delay` real
        seconds), retries on the provider's schedule; without a `url` it is only kept."""
        with self._lock:
            callback.first = threading.Event()  # this sending's first attempt
            if not url or self._stopping.is_set():
                callback.first.set()
                return callback
            callback.delivered = callback.gave_up = callback.lost = False
            callback.retrying = True
        delivery = Delivery(
            callback.name,
            lambda unreachable: self._attempt(callback, url, unreachable),
            first_real_delay=real_delay,
            on_done=lambda finished: self._delivery_done(callback, finished),
        )
        self._outbox.submit(delivery)
        return callback

    def _delivery_done(self, callback: Callback, delivery: Delivery) -> None:
        with self._lock:
            callback.retrying = False
            callback.gave_up, callback.lost = delivery.gave_up, delivery.lost
        callback.first.set()

    def _attempt(self, callback: Callback, url: str, unreachable: bool) -> bool:
        with self._lock:
            number = len(callback.attempts) + 1
        at = self._now()
        status, text, error = post_callback(
            url, callback.body, self.callback_timeout, unreachable, callback.headers
        )
        delivered = self.accepted(status, text)
        with self._lock:
            callback.attempts.append(self.attempt_record(number, at, status, text, error))
            callback.delivered = callback.delivered or delivered
        callback.first.set()  # after `delivered`: a waiting caller reads both
        self.log(f"{callback.name} attempt {number} -> {status or error}")
        return delivered

    def accepted(self, status: int | None, text: str | None) -> bool:
        """The provider's rule for a delivered callback (HTTP 200 unless it says more)."""
        return status == 200

    def attempt_record(
        self, number: int, at: datetime, status: int | None, text: str | None, error: str | None
    ) -> dict[str, Any]:
        """How a delivery attempt shows in the sandbox's test hooks."""
        delivered = self.accepted(status, text)
        return {"attempt": number, "at": at.isoformat(), "status_code": status, "error": error,
                "delivered": delivered}  # fmt: skip

    def under_fault(
        self,
        create: Callable[[], Reply],
        refusals: dict[str, Callable[[], Reply]],
        after: dict[str, Callable[[], Reply]] | None = None,
    ) -> Reply:
        """A create call under the next queued fault: `timeout` answers normally after
        `timeout_delay_seconds` (real time, cut short by stop()); a `refusals` fault answers
        its reply and creates nothing; an `after` fault creates, then answers its reply;
        `accepted_timeout` creates, then closes the connection without an answer."""
        fault = self.faults.take()
        if fault in refusals:
            return refusals[fault]()
        if fault == "timeout":
            self._stopping.wait(self.timeout_delay_seconds)
        created = create()
        if fault in (after or {}):
            return (after or {})[fault]()
        if fault == "accepted_timeout":
            self._stopping.wait(self.timeout_delay_seconds)
            raise DropConnection
        return created

    # -- settings ------------------------------------------------------------------------------

    def apply_settings(self, changes: dict[str, Any], refuse: Callable[[str], HttpError]) -> None:
        """Validate a partial update (all or nothing), then apply it."""
        checks: dict[str, Check] = {
            "callbacks": lambda v: v in CALLBACK_MODES,
            "status_query": lambda v: v in STATUS_QUERY_MODES,
            "timeout_delay_seconds": lambda v: is_number(v) and 0 <= v <= 600,
            **self.settings_checks,
        }
        for name, value in changes.items():
            check = checks.get(name)
            if check is None:
                raise refuse(f"unknown setting {name}; known: {', '.join(checks)}")
            if not check(value):
                raise refuse(f"invalid value for {name}: {value!r}")
        with self._lock:
            for name, value in changes.items():
                if name == "callbacks":
                    self._outbox.set_callbacks(value)
                elif name == "timeout_delay_seconds":
                    self.timeout_delay_seconds = float(value)
                elif name == "status_query":
                    self.status_query = value
                else:
                    self.set_setting(name, value)

    def set_setting(self, name: str, value: Any) -> None:
        raise NotImplementedError(name)

    def common_settings(self) -> dict[str, Any]:
        return {
            "callbacks": self._outbox.callbacks,
            "status_query": self.status_query,
            "timeout_delay_seconds": self.timeout_delay_seconds,
        }
