"""Local stand-in for Smart Glocal's session API (Vietnam e-wallets), on 127.0.0.1, with Smart
Glocal's wire format and RSA signatures both ways (signatures.py; Smart Glocal's "Vietnam.
Ewallet payments" guide).

API (every call verified with the partner's public key: ``X-PARTNER-PROJECT`` and
``X-PARTNER-SIGN`` over the exact body): ``POST /api/v1/session/init/payment``,
``/session/create``, ``/session/start/payment``, ``/session/confirm``, ``/session/cancel``,
``/session/status``. Answers are signed with the sandbox's own key (generated at start unless
one is configured), sessions are ``ps_…`` and payments ``pm_…``.

Webhooks (signed, POSTed to ``SandboxConfig.webhook_url`` from the sandbox's one outbox on the
injected clock (`now`, `timers`; timing.py, outbox.py); kept in memory
only when it is None): the first attempt at once (after ``webhook_delay_seconds`` of real time,
so the gateway has stored the answer that caused it); delivered = HTTP 200; otherwise resent
"at increasing intervals (up to 15 minutes apart)" and "resending stops after 30 minutes"
(the docs; the intervals are this sandbox's ASSUMPTION: ``webhook_retry_delays`` = 1, 2, 4, 8,
15 minutes, 6 attempts). After the payment starts, ``ready_to_confirm`` (the
session's ``next_action`` is ``confirm``); after ``session/confirm``, ``action_required`` whose
``customer_interaction.redirect.url`` is the deeplink to this sandbox's QR page
``GET /qr/<session id>``; paying or failing there (``POST /qr/<id>/pay`` or ``/fail``, form or
JSON: scripts may POST directly) sends ``payment_finished``. For a project with
auto-confirmation (``SandboxConfig.auto_confirm_projects``) ``ready_to_confirm`` is skipped, as
the docs say. ``session/cancel`` (only while waiting for confirmation) answers the cancelled
session and sends ``payment_finished`` with session ``cancelled``.

Lifetimes on the clock (the docs): a session left waiting for ``session/confirm`` after
``ready_to_confirm`` is cancelled after 240 minutes, one left in ``action_required`` (the QR
not paid) after 60 minutes; both send ``payment_finished`` with session ``cancelled`` and
(ASSUMPTION) payment ``failed`` with error ``{"code": "timeout"}``.

ASSUMPTIONS (Smart Glocal does not document them): errors are HTTP 400 (401 for a bad
signature, 404 for an unknown session) with ``{"status": "error", "error": {code,
description}}``; codes are this sandbox's own except ``idempotency_key_already_exists``
(Bank 131 SDK). A failed payment finishes with session ``cancelled`` and payment ``failed``.

Test hooks: ``GET /_sandbox/health``, ``GET /_sandbox/sessions/<id>`` (state, webhooks
sent with their delivery attempts, ``confirm_calls``, ``status_calls``),
``POST /_sandbox/sessions/<id>/resend`` ``{"type": "ready_to_confirm"}`` (the last webhook of
that type again, byte for byte), ``POST /_sandbox/projects/<project>``
``{"auto_confirm": true}``, ``POST /_sandbox/faults`` ``{"method": "confirm", "count": 1}``
(the next calls of that method answer an error; ``DELETE`` clears them),
``POST /_sandbox/settings`` (partial;
answers the current settings): ``callbacks`` (``deliver`` | ``lost``: webhooks made meanwhile
are never sent, no attempts | ``unreachable``: attempts fail and are retried on the schedule),
``status_query`` (``normal`` | ``in_progress``: ``session/status`` answers the session and its
payment ``in_progress`` with nothing pending, whatever their state | ``silent``: HTTP 503).

Standalone: ``python -m local.sandboxes.smartglocal --port 3102 --partner-public-key our.pem``.
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.sandboxes.base import HTML, Callback, FaultQueue, Sandbox, page, vnd
from local.sandboxes.http import (
    HttpError,
    Reply,
    Route,
    RoutedHandler,
    compact,
    json_reply,
    redirect,
    serve_until_interrupted,
)
from local.sandboxes.outbox import (
    SMARTGLOCAL_RESEND_WINDOW_SECONDS,
    SMARTGLOCAL_WEBHOOK_DELAYS,
    delays,
)
from local.sandboxes.signatures import (
    SMARTGLOCAL_SIGN_HEADER,
    rsa_private_key_pem,
    rsa_public_pem,
    rsa_sign,
    rsa_verify,
)
from local.sandboxes.timing import Now, Timers

WEBHOOK_TIMEOUT_SECONDS = 10.0
SESSION_METHODS = ("init/payment", "create", "start/payment", "confirm", "cancel", "status")
IDEMPOTENCY_KEY_REUSED = "idempotency_key_already_exists"


@dataclass
class SandboxConfig:
    """Who may call the sandbox, where its webhooks go, and its timing knobs."""

    project: str = "local-project"
    partner_public_key_pem: str = ""  # verifies our requests; empty = signatures not checked
    private_key_pem: str = ""  # the sandbox's own key; empty = generate one at start
    webhook_url: str | None = None  # None: webhooks are kept in memory, not sent
    auto_confirm_projects: frozenset[str] = frozenset()
    webhook_delay_seconds: float = 0.05  # real time, after the answer that caused a webhook
    webhook_retry_delays: tuple[float, ...] = SMARTGLOCAL_WEBHOOK_DELAYS
    ready_to_confirm_seconds: float = 240 * 60.0  # the docs: then cancelled
    action_required_seconds: float = 60 * 60.0  # the docs: then cancelled


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _Webhook(Callback):
    """A webhook: its type, exact body and `X-PARTNER-SIGN`, and its delivery."""

    @property
    def type(self) -> str:
        return self.name.removeprefix("webhook ")

    @property
    def sign(self) -> str:
        return self.headers[SMARTGLOCAL_SIGN_HEADER]

    def snapshot(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "body": self.body.decode(),
            "sign": self.sign,
            "delivered": self.delivered,
            "lost": self.lost,
            "deliveries": list(self.attempts),
        }


@dataclass
class _Session:
    id: str
    project: str
    created_at: str
    status: str = "created"
    updated_at: str = ""
    next_action: str | None = None
    metadata: Any = None
    payment: dict[str, Any] | None = None
    actions: dict[str, str] = field(default_factory=dict)
    confirm_calls: int = 0
    status_calls: int = 0
    webhooks: list[_Webhook] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        session: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "created_at": self.created_at,
            "updated_at": self.updated_at or self.created_at,
            "acquiring_payments": [self.payment] if self.payment else [],
        }
        if self.next_action:
            session["next_action"] = self.next_action
        if self.metadata is not None:
            session["metadata"] = self.metadata
        if self.actions:
            session["actions"] = dict(self.actions)
        return session

    def touch(self, stamp: str) -> None:
        self.updated_at = stamp


def _problem(body: dict[str, Any]) -> str | None:
    """The first field a Vietnamese e-wallet payment lacks (the guide's `session/start/payment`
    step: country_ewallet, country_iso2, the sender's full name and document, the payer's
    email; "No recurring payments are available"), or None."""
    details = body.get("payment_details") or {}
    banking = details.get("internet_banking") or {}
    checks: list[tuple[bool, str]] = [
        (details.get("type") == "internet_banking", "payment_details.type"),
        (banking.get("type") == "country_ewallet", "payment_details.internet_banking.type"),
        (
            (banking.get("country_ewallet") or {}).get("country_iso2") == "VN",
            "payment_details.internet_banking.country_ewallet.country_iso2",
        ),
    ]
    amount = body.get("amount_details") or {}
    value = amount.get("amount")
    checks += [
        (
            isinstance(value, int) and not isinstance(value, bool) and value > 0,
            "amount_details.amount",
        ),
        (amount.get("currency") == "VND", "amount_details.currency"),
    ]
    customer = body.get("customer") or {}
    contacts = customer.get("contacts") or [{}]
    sender = (body.get("participant_details") or {}).get("sender") or {}
    options = body.get("payment_options") or {}
    checks += [
        (bool(customer.get("reference")), "customer.reference"),
        (bool(contacts and contacts[0].get("email")), "customer.contacts.email"),
        (bool(sender.get("full_name")), "participant_details.sender.full_name"),
        (bool(sender.get("document")), "participant_details.sender.document"),
        (options.get("recurrent", False) is False, "payment_options.recurrent"),
    ]
    for ok, name in checks:
        if not ok:
            return name
    return None


class SmartglocalSandbox(Sandbox):
    """The sandbox server: sessions in memory, one serving thread, one webhook outbox."""

    label = "smartglocal"
    callback_timeout = WEBHOOK_TIMEOUT_SECONDS

    def __init__(
        self,
        config: SandboxConfig,
        host: str = "127.0.0.1",
        port: int = 0,
        now: Now | None = None,
        timers: Timers | None = None,
    ) -> None:
        self.config = config
        if not config.private_key_pem:
            config.private_key_pem = rsa_private_key_pem()
        self.public_key_pem = rsa_public_pem(config.private_key_pem)
        self.auto_confirm = set(config.auto_confirm_projects)
        self._sessions: dict[str, _Session] = {}
        self._idempotency: dict[tuple[str, str], str] = {}
        self.faults = FaultQueue(SESSION_METHODS)
        self._ids = itertools.count(5666)
        super().__init__(_Handler, host, port, self._retry_after, now, timers)

    def _stamp(self) -> str:
        return _stamp(self._now())

    def _retry_after(self, attempts: int, elapsed: float) -> float | None:
        retry = delays(self.config.webhook_retry_delays, SMARTGLOCAL_RESEND_WINDOW_SECONDS)
        return retry(attempts, elapsed)

    # -- test hooks ----------------------------------------------------------------------------

    def settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply a validated partial update (see the module docstring); the current settings."""
        self.apply_settings(changes, lambda message: _error(400, "invalid_request", message))
        return self.common_settings()

    def session(self, session_id: str) -> dict[str, Any] | None:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            return {
                **session.document(),
                "project": session.project,
                "confirm_calls": session.confirm_calls,
                "status_calls": session.status_calls,
                "webhooks": [w.snapshot() for w in session.webhooks],
            }

    def webhooks(self, session_id: str) -> list[tuple[str, bytes, str]]:
        """Every webhook made for the session: (type, exact body bytes, X-PARTNER-SIGN)."""
        with self._lock:
            session = self._sessions.get(session_id)
            return [(w.type, w.body, w.sign) for w in session.webhooks] if session else []

    def set_auto_confirm(self, project: str, enabled: bool) -> None:
        with self._lock:
            if enabled:
                self.auto_confirm.add(project)
            else:
                self.auto_confirm.discard(project)

    def add_fault(self, method: str, count: int) -> dict[str, int]:
        self.faults.add(method, count)
        return self.faults.counts()

    def resend(self, session_id: str, webhook_type: str) -> _Webhook:
        """Deliver the last webhook of `webhook_type` again, byte for byte (and wait for it)."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                raise _error(404, "session_not_found", "no such session")
            sent = [w for w in session.webhooks if w.type == webhook_type]
            if not sent:
                raise _error(409, "no_webhook", f"no {webhook_type} webhook was sent")
            again = _Webhook(sent[-1].name, sent[-1].body, dict(sent[-1].headers))
        self.send(again, self.config.webhook_url)
        return again

    # -- the session API -----------------------------------------------------------------------

    def call(self, method: str, headers: dict[str, str], raw: bytes) -> Reply:
        """One session API call: authenticate, then dispatch."""
        project = headers.get("x-partner-project") or ""
        if project != self.config.project:
            return _error(401, "invalid_project", "unknown X-PARTNER-PROJECT").reply
        if self.config.partner_public_key_pem and not rsa_verify(
            raw, headers.get("x-partner-sign"), self.config.partner_public_key_pem
        ):
            return _error(401, "invalid_signature", "X-PARTNER-SIGN does not verify").reply
        try:
            body = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError):
            return _error(400, "invalid_request", "body is not valid JSON").reply
        if not isinstance(body, dict):
            return _error(400, "invalid_request", "body must be a JSON object").reply
        with self._lock:
            counted = self._sessions.get(str(body.get("session_id") or ""))
            if method == "confirm" and counted is not None:
                counted.confirm_calls += 1  # every attempt, refused or not
            if self.faults.take(method) is not None:
                return _error(400, "sandbox_fault", f"{method} failed (sandbox fault)").reply
        handler: dict[str, Callable[[str, dict[str, Any], str | None], Reply]] = {
            "init/payment": self._init_payment,
            "create": self._create,
            "start/payment": self._start_payment,
            "confirm": self._confirm,
            "cancel": self._cancel,
            "status": self._status,
        }
        try:
            return handler[method](project, body, headers.get("x-partner-idempotency-key"))
        except HttpError as exc:
            return exc.reply

    def _answer(self, session: _Session) -> Reply:
        body = compact({"status": "ok", "session": session.document()})
        sign = rsa_sign(body, self.config.private_key_pem)
        return Reply(200, body, headers=((SMARTGLOCAL_SIGN_HEADER, sign),))

    def _remember(self, project: str, key: str | None, session_id: str) -> None:
        if key:
            self._idempotency[(project, key)] = session_id

    def _check_key(self, project: str, key: str | None) -> None:
        if key and (project, key) in self._idempotency:
            raise _error(409, IDEMPOTENCY_KEY_REUSED, "this idempotency key was used before")

    def _new_session(self, project: str, metadata: Any) -> _Session:
        session = _Session(f"ps_{next(self._ids)}", project, self._stamp(), metadata=metadata)
        self._sessions[session.id] = session
        return session

    def _init_payment(self, project: str, body: dict[str, Any], key: str | None) -> Reply:
        problem = _problem(body)
        if problem:
            raise _error(400, "invalid_request", f"{problem} is missing or invalid")
        with self._lock:
            self._check_key(project, key)
            session = self._new_session(project, body.get("metadata"))
            self._remember(project, key, session.id)
            self._begin_payment(session, body)
            reply = self._answer(session)  # as the docs show it: in_progress, nothing pending
            self._after_start(session)
            return reply

    def _create(self, project: str, body: dict[str, Any], key: str | None) -> Reply:
        with self._lock:
            self._check_key(project, key)
            session = self._new_session(project, body.get("metadata"))
            self._remember(project, key, session.id)
            return self._answer(session)

    def _start_payment(self, project: str, body: dict[str, Any], key: str | None) -> Reply:
        problem = _problem(body)
        if problem:
            raise _error(400, "invalid_request", f"{problem} is missing or invalid")
        with self._lock:
            self._check_key(project, key)
            session = self._owned(project, body.get("session_id"))
            if session.status != "created":
                raise _error(400, "invalid_session_status", f"session is {session.status}")
            self._remember(project, key, session.id)
            if body.get("metadata") is not None:
                session.metadata = body["metadata"]
            self._begin_payment(session, body)
            reply = self._answer(session)
            self._after_start(session)
            return reply

    def _begin_payment(self, session: _Session, body: dict[str, Any]) -> None:
        """Start the payment (both in_progress, as the docs' answer shows)."""
        session.status = "in_progress"
        session.touch(self._stamp())
        session.payment = {
            "id": f"pm_{next(self._ids)}",
            "status": "in_progress",
            "created_at": session.updated_at,
            "customer": body["customer"],
            "payment_details": body["payment_details"],
            "amount_details": body["amount_details"],
            "participant_details": body["participant_details"],
            "payment_options": body.get("payment_options") or {"recurrent": False},
        }
        if session.metadata is not None:
            session.payment["metadata"] = session.metadata

    def _after_start(self, session: _Session) -> None:
        """After answering: ready_to_confirm, or with auto-confirmation straight to the QR."""
        assert session.payment is not None
        if session.project in self.auto_confirm:
            session.actions["confirm"] = session.updated_at
            self._require_action(session)
            return
        session.next_action = "confirm"
        session.payment["status"] = "pending"
        self._queue(session, "ready_to_confirm")
        self.later(self.config.ready_to_confirm_seconds, lambda: self._expire(session, "confirm"))

    def _require_action(self, session: _Session) -> None:
        assert session.payment is not None
        url = f"{self.base_url}/qr/{session.id}"
        session.payment["status"] = "pending"
        session.payment["customer_interaction"] = {
            "type": "redirect",
            "redirect": {"url": url, "base_url": url, "method": "GET", "params": {}},
        }
        session.touch(self._stamp())
        self._queue(session, "action_required")
        self.later(self.config.action_required_seconds, lambda: self._expire(session, "action"))

    def _expire(self, session: _Session, waiting_for: str) -> None:
        """Cancel the session if it still waits for `waiting_for` (its lifetime is over)."""
        with self._lock:
            payment = session.payment
            if session.status != "in_progress" or payment is None:
                return
            if waiting_for == "confirm" and session.next_action != "confirm":
                return
            if waiting_for == "action" and "customer_interaction" not in payment:
                return
            self.log(f"session {session.id}: no {waiting_for} in time, cancelled")
            session.next_action = None
            session.status = "cancelled"
            session.touch(self._stamp())
            payment["status"] = "failed"
            payment["finished_at"] = session.updated_at
            payment.pop("customer_interaction", None)
            payment["error"] = {"code": "timeout", "description": f"no {waiting_for} in time"}
            self._queue(session, "payment_finished")

    def _owned(self, project: str, session_id: Any) -> _Session:
        session = self._sessions.get(str(session_id or ""))
        if session is None or session.project != project:
            raise _error(404, "session_not_found", "no such session")
        return session

    def _confirming(self, project: str, body: dict[str, Any]) -> _Session:
        """The session waiting for `session/confirm` (or `session/cancel`), no longer waiting."""
        session = self._owned(project, body.get("session_id"))
        if session.next_action != "confirm":
            raise _error(400, "invalid_session_status", "session is not waiting for confirm")
        session.next_action = None
        return session

    def _confirm(self, project: str, body: dict[str, Any], _key: str | None) -> Reply:
        with self._lock:
            session = self._confirming(project, body)
            session.actions["confirm"] = self._stamp()
            assert session.payment is not None
            session.payment["status"] = "in_progress"
            reply = self._answer(session)  # then the QR deeplink, by action_required
            self._require_action(session)
            return reply

    def _cancel(self, project: str, body: dict[str, Any], _key: str | None) -> Reply:
        with self._lock:
            session = self._confirming(project, body)
            session.status = "cancelled"
            session.touch(self._stamp())
            self._queue(session, "payment_finished")
            return self._answer(session)

    def _status(self, project: str, body: dict[str, Any], _key: str | None) -> Reply:
        if self.status_query == "silent":
            raise _error(503, "service_unavailable", "sandbox fault: no answer")
        with self._lock:
            session = self._owned(project, body.get("session_id"))
            session.status_calls += 1
            if self.status_query != "in_progress":
                return self._answer(session)
            document = session.document()  # nothing new, whatever the truth
            document.update(status="in_progress")
            document.pop("next_action", None)
            for payment in document["acquiring_payments"]:
                payment["status"] = "in_progress"
                for name in ("customer_interaction", "finished_at", "error"):
                    payment.pop(name, None)
            answer = compact({"status": "ok", "session": document})
            sign = rsa_sign(answer, self.config.private_key_pem)
            return Reply(200, answer, headers=((SMARTGLOCAL_SIGN_HEADER, sign),))

    # -- the QR page ---------------------------------------------------------------------------

    def qr_page(self, session_id: str) -> Reply:
        with self._lock:
            session = self._sessions.get(session_id)
            shown = _qr_page(session) if session and session.payment else None
        if shown is None:
            return Reply(404, NOT_FOUND_PAGE, HTML)
        return Reply(200, shown, HTML, (("Cache-Control", "no-store"),))

    def finish(self, session_id: str, paid: bool) -> _Webhook:
        """The customer paid (or the payment failed) on the QR page: `payment_finished`."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session.payment is None:
                raise _error(404, "session_not_found", "no such session")
            interaction = session.payment.get("customer_interaction")
            if session.status != "in_progress" or interaction is None:
                raise _error(409, "invalid_session_status", "nothing to pay in this session")
            session.touch(self._stamp())
            session.status = "accepted" if paid else "cancelled"
            session.payment["status"] = "succeeded" if paid else "failed"
            session.payment["finished_at"] = session.updated_at
            session.payment.pop("customer_interaction", None)
            if paid:
                session.actions["capture"] = session.updated_at
            else:
                session.payment["error"] = {
                    "code": "payment_declined",
                    "description": "The e-wallet declined the payment",
                }
            return self._queue(session, "payment_finished")

    # -- webhooks ------------------------------------------------------------------------------

    def _queue(self, session: _Session, webhook_type: str) -> _Webhook:
        """Sign the webhook now (the state as it is) and send it; call with the lock held."""
        body = compact({"type": webhook_type, "status": "ok", "session": session.document()})
        sign = rsa_sign(body, self.config.private_key_pem)
        webhook = _Webhook(f"webhook {webhook_type}", body, {SMARTGLOCAL_SIGN_HEADER: sign})
        session.webhooks.append(webhook)
        self.send(webhook, self.config.webhook_url, self.config.webhook_delay_seconds)
        return webhook

    def attempt_record(
        self, number: int, at: datetime, status: int | None, text: str | None, error: str | None
    ) -> dict[str, Any]:
        record: dict[str, Any] = {"at": _stamp(at), "status_code": status}
        return {**record, **({"body": (text or "")[:500]} if error is None else {"error": error})}


def _qr_page(session: _Session) -> bytes:
    e = html.escape
    payment = session.payment or {}
    amount = (payment.get("amount_details") or {}).get("amount", 0)
    sid = e(session.id)
    if payment.get("customer_interaction") and session.status == "in_progress":
        actions = f"""
<div class="qr" role="img" aria-label="QR code (placeholder)">QR</div>
<form method="post" action="/qr/{sid}/pay"><button type="submit">Pay</button></form>
<form method="post" action="/qr/{sid}/fail"><button type="submit">Fail</button></form>"""
    else:
        state = f"Session {e(session.status)}, payment {e(str(payment.get('status', '-')))}."
        actions = f"<p role='status'>{state}</p>"
    body = f"""<h1>E-wallet payment <small>(Smart Glocal sandbox)</small></h1>
<dl><dt>Amount</dt><dd>{e(vnd(amount))}</dd><dt>Session</dt><dd>{sid}</dd>
<dt>Payment</dt><dd>{e(str(payment.get("id", "-")))}</dd></dl>
{actions}"""
    css = "form{display:inline-block;margin:1rem .5rem 0 0}\n"
    return page("E-wallet payment - Smart Glocal sandbox", body, lang="en", css=css)


NOT_FOUND_PAGE = page("Not found - Smart Glocal sandbox", "<h1>Not found</h1>", lang="en")


def _error(status: int, code: str, description: str) -> HttpError:
    """Smart Glocal's error answer, raised or returned as `.reply`."""
    return HttpError(
        json_reply(status, {"status": "error", "error": {"code": code, "description": description}})
    )


class _Handler(RoutedHandler):
    server_version = "SmartglocalSandbox/1.0"

    sandbox: SmartglocalSandbox

    def routes(self) -> list[Route]:
        sandbox = self.sandbox
        return [
            ("GET", r"/_sandbox/sessions/([^/]+)", self._session_state),
            ("POST", r"/_sandbox/sessions/([^/]+)/resend", self._resend),
            ("POST", r"/_sandbox/projects/([^/]+)", self._project),
            *self.sandbox_routes("method"),
            ("POST", r"/api/v1/session/(.+)", self._session_call),
            ("GET", r"/qr/([^/]+)", sandbox.qr_page),
            ("POST", r"/qr/([^/]+)/pay", lambda sid: self._finish(sid, paid=True)),
            ("POST", r"/qr/([^/]+)/fail", lambda sid: self._finish(sid, paid=False)),
        ]

    def error(self, status: int, message: str) -> HttpError:
        code = {404: "not_found", 405: "method_not_allowed"}.get(status, "invalid_request")
        return _error(status, code, message)

    def crash_reply(self, path: str) -> Reply:
        return _error(500, "internal_error", "sandbox error").reply

    def _session_call(self, method: str) -> Reply:
        raw = self.read_body()
        if method not in SESSION_METHODS:
            raise _error(404, "not_found", f"no method session/{method}")
        headers = {key.lower(): value for key, value in self.headers.items()}
        return self.sandbox.call(method, headers, raw)

    def _session_state(self, session_id: str) -> Reply:
        state = self.sandbox.session(session_id)
        if state is None:
            raise _error(404, "session_not_found", "no such session")
        return json_reply(200, state)

    def _resend(self, session_id: str) -> Reply:
        webhook_type = str(self.read_json().get("type") or "")
        webhook = self.sandbox.resend(session_id, webhook_type)
        webhook.wait_first(WEBHOOK_TIMEOUT_SECONDS * 2)
        return json_reply(200, webhook.snapshot())

    def _project(self, project: str) -> Reply:
        enabled = self.read_json().get("auto_confirm")
        if not isinstance(enabled, bool):
            raise _error(400, "invalid_request", "auto_confirm must be true or false")
        self.sandbox.set_auto_confirm(project, enabled)
        return json_reply(200, {"project": project, "auto_confirm": enabled})

    def _finish(self, session_id: str, paid: bool) -> Reply:
        self.read_body()
        webhook = self.sandbox.finish(session_id, paid)
        wants_html = "text/html" in (self.headers.get("Accept") or "")
        if wants_html:
            return redirect(f"/qr/{session_id}")
        webhook.wait_first(WEBHOOK_TIMEOUT_SECONDS * 2)
        return json_reply(200, webhook.snapshot())


def seeded_sandbox(
    secrets: dict[str, Any],
    host: str = "127.0.0.1",
    port: int = 0,
    webhook_url: str | None = None,
    sandbox_private_key_pem: str = "",
    now: Callable[[], datetime] | None = None,
    timers: Timers | None = None,
) -> SmartglocalSandbox:
    """A sandbox wired to the dev `SmartglocalSecret` entry of `secrets` (changed in place,
    before `provision()` writes it): our private key is generated when the entry has none, the
    sandbox verifies with its public half, and the sandbox's public key becomes the provider
    key the gateway verifies webhooks with. Not started."""
    entry = secrets.setdefault("SmartglocalSecret", {})
    entry.setdefault("project", "local-project")
    if not entry.get("private_key_pem"):
        entry["private_key_pem"] = rsa_private_key_pem()
    config = SandboxConfig(
        project=entry["project"],
        partner_public_key_pem=rsa_public_pem(entry["private_key_pem"]),
        private_key_pem=sandbox_private_key_pem,
        webhook_url=webhook_url,
    )
    sandbox = SmartglocalSandbox(config, host=host, port=port, now=now, timers=timers)
    entry["provider_public_key_pem"] = sandbox.public_key_pem
    entry.setdefault("provider_public_key_previous_pem", "")
    return sandbox


def main() -> None:
    """Run the sandbox standalone until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Local Smart Glocal (Vietnam e-wallet) sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3102)
    parser.add_argument("--project", default="local-project")
    parser.add_argument("--partner-public-key", type=Path, help="PEM verifying our requests")
    parser.add_argument("--webhook-url", default=None)
    args = parser.parse_args()
    pem = args.partner_public_key.read_text() if args.partner_public_key else ""
    config = SandboxConfig(
        project=args.project, partner_public_key_pem=pem, webhook_url=args.webhook_url
    )
    sandbox = SmartglocalSandbox(config, host=args.host, port=args.port)
    sandbox.log(
        f"sandbox on {sandbox.base_url} (project {args.project}); "
        f"its public key:\n{sandbox.public_key_pem}"
    )
    serve_until_interrupted(sandbox)


if __name__ == "__main__":
    main()
