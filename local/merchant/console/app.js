/* paygate operator console: find payments (or payouts) by order reference, status and date,
 * open one to read its fields and its timeline, and resolve a needs_review payment with a
 * note. Operators sign in first (session.js); every call carries their ID token in the
 * Authorization header, which the merchant proxy passes on (it adds no API key to these
 * routes). A viewer sees no Accept/Reject: the gateway answers a viewer's review 403 anyway.
 * No framework, nothing loaded from elsewhere.
 *
 * Merchant proxy contract (same origin, base path from <meta name="paygate-merchant-proxy">),
 * {kind} is payments or payouts:
 *   GET  {proxy}/{kind}?merchant_reference&status&created_from&created_to&cursor
 *                                        → {"data": [Payment...], "next_cursor": str | null}
 *   GET  {proxy}/{kind}/{id}             → the Payment (or Payout)
 *   GET  {proxy}/{kind}/{id}/timeline    → {"payment_id", "entries": [...]} oldest first
 *   POST {proxy}/{kind}/{id}/review      {decision, note} + Idempotency-Key → the Payment
 *
 * Views (the URL's hash): #/ the search, #/payments/{id} or #/payouts/{id} one payment.
 */
(function () {
  "use strict";

  const { METHOD_LABELS, PROVIDER_LABELS, el, vnd } = window.paygateMerchant;
  const session = window.paygateSession;
  // A page may be empty and still carry a cursor (filters the index cannot apply): follow up
  // to this many empty pages in a row, then leave the rest to the More button.
  const MAX_EMPTY_PAGES = 10;
  const STATUSES = [
    "created", "pending", "requires_confirmation", "requires_action", "processing",
    "succeeded", "failed", "cancelled", "expired", "needs_review",
  ];
  const TONES = {
    succeeded: "ok",
    failed: "bad", cancelled: "bad", expired: "bad",
    needs_review: "warn", requires_action: "warn", requires_confirmation: "warn",
    applied: "ok", stale: "muted", duplicate: "muted", unknown_payment: "bad",
  };
  const CAUSE_LABELS = {
    create: "Created through the API",
    webhook: "Provider callback",
    reconciliation: "Reconciliation",
    merchant_action: "Merchant action",
  };
  // The API's field names → the search form's inputs (a 422 names the field).
  const FILTER_INPUTS = {
    merchant_reference: "reference",
    status: "status",
    created_from: "created-from",
    created_to: "created-to",
  };

  const $ = (id) => document.getElementById(id);
  const state = {
    search: null, // {kind, params, cursor, count, generation}
    generation: 0,
    detail: null, // {kind, id, payment}
    attempt: null, // the review submission being sent: {decision, note, key}
    lastOpened: null,
    seen: new Map(), // "{kind}/{id}" → the payment as the search last listed it
  };

  /* One payment or payout. A payout is an operator route; a payment's own read
   * (GET /v1/payments/{id}) is a merchant route that an operator's sign-in does not open
   * (the merchant proxy passes no key to it), so the console shows the payment as its
   * search listed it. */
  async function readOne(kind, id) {
    const listed = state.seen.get(`${kind}/${id}`);
    if (kind === "payments") {
      return listed ? { ok: true, status: 200, data: listed }
        : { ok: false, status: 404, data: { error: { code: "not_listed", message: "Tìm giao dịch trước. Search for this payment first, then open it from the results" } } };
    }
    return call("GET", `/${kind}/${encodeURIComponent(id)}`);
  }

  /* A call as the signed-in operator; a 401 (no, expired or refused token) signs out. */
  async function call(method, path, body, headers) {
    const signedIn = session.current();
    const answer = await window.paygateMerchant.call(method, path, body, {
      ...(headers || {}),
      ...(signedIn ? { Authorization: signedIn.token } : {}),
    });
    if (answer.status === 401) {
      session.signOut();
      showSignIn("Phiên đăng nhập đã hết hạn: đăng nhập lại. Your session ended: sign in again.");
    }
    return answer;
  }

  /* ---- signing in ---------------------------------------------------------------------- */

  function showSignIn(message) {
    state.detail = null;
    $("who").hidden = true;
    $("search").hidden = true;
    $("detail").hidden = true;
    $("sign-in").hidden = false;
    $("sign-in-form").querySelectorAll(".field").forEach((field) => { field.hidden = session.hosted; });
    const box = $("sign-in-error");
    if (message) {
      box.textContent = message;
      box.hidden = false;
    }
    (session.hosted ? $("sign-in-button") : $("sign-in-email")).focus();
  }

  function showSignedIn(signedIn) {
    $("sign-in").hidden = true;
    $("who").hidden = false;
    $("who-email").textContent = signedIn.email;
    $("who-role").textContent = `(${signedIn.groups.join(", ") || "no group"})`;
    document.body.dataset.role = session.isReviewer(signedIn) ? "reviewer" : "viewer";
  }

  async function signIn(event) {
    event.preventDefault();
    const box = $("sign-in-error");
    clearError(box, $("sign-in-form"));
    if (session.hosted) return session.startHostedSignIn();
    const username = $("sign-in-email").value.trim();
    const password = $("sign-in-password").value;
    if (!username) return showError(box, "Nhập email. Enter your email.", "sign-in-email");
    if (!password) return showError(box, "Nhập mật khẩu. Enter your password.", "sign-in-password");
    $("sign-in-button").disabled = true;
    const result = await session.signInLocal(username, password);
    $("sign-in-button").disabled = false;
    $("sign-in-password").value = "";
    if (!result.ok) return showError(box, result.message, "sign-in-password");
    showSignedIn(result.session);
    await route();
  }

  function signOut() {
    session.signOut();
    state.search = null;
    $("result-rows").replaceChildren();
    $("results").hidden = true;
    if (session.hosted) return session.hostedSignOut();
    showSignIn("Đã đăng xuất. Signed out.");
  }

  function statusText(status) {
    return String(status).replace(/_/g, " ");
  }

  function badge(value, extra) {
    return el("span", { class: `badge${extra ? ` ${extra}` : ""}`, "data-tone": TONES[value] || "", "data-value": value, text: statusText(value) });
  }

  function when(iso) {
    const date = new Date(iso);
    const text = Number.isNaN(date.getTime()) ? String(iso) : `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
    return el("time", { datetime: iso, text });
  }

  function methodText(payment) {
    const method = METHOD_LABELS[payment.method] || payment.method || "—";
    return `${method} · ${PROVIDER_LABELS[payment.provider] || payment.provider}`;
  }

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  function announce(message) {
    const box = $("announce");
    box.textContent = "";
    window.requestAnimationFrame(() => { box.textContent = message; });
  }

  function errorText(answer) {
    if (answer.status === 0) return "The server did not answer. Try again.";
    const error = answer.data && answer.data.error;
    if (error && error.message) return `${error.message} (${error.code}, HTTP ${answer.status})`;
    return `The request failed (HTTP ${answer.status}).`;
  }

  function showError(box, message, fieldId) {
    box.textContent = message;
    box.hidden = false;
    const field = fieldId && $(fieldId);
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    } else {
      box.focus();
    }
  }

  function clearError(box, form) {
    box.hidden = true;
    box.textContent = "";
    form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
  }

  /* ---- the search ---------------------------------------------------------------------- */

  function nextDay(day) {
    const date = new Date(`${day}T00:00:00Z`);
    date.setUTCDate(date.getUTCDate() + 1);
    return `${date.toISOString().slice(0, 10)}T00:00:00Z`;
  }

  // The form as the list's query; the to-date is inclusive here, exclusive in the API.
  function filters() {
    const params = new URLSearchParams();
    const reference = $("reference").value.trim();
    if (reference) params.set("merchant_reference", reference);
    if ($("status").value) params.set("status", $("status").value);
    const from = $("created-from").value;
    const to = $("created-to").value;
    if (from) params.set("created_from", `${from}T00:00:00Z`);
    if (to) params.set("created_to", nextDay(to));
    return { params, invalid: from && to && from > to ? "created-to" : null };
  }

  function kind() {
    return document.querySelector('input[name="kind"]:checked').value;
  }

  async function search(event) {
    event.preventDefault();
    clearError($("search-error"), $("search-form"));
    const { params, invalid } = filters();
    if (invalid) return showError($("search-error"), "“Created to” must not be before “Created from”.", invalid);
    state.generation += 1;
    state.search = { kind: kind(), params, cursor: null, count: 0, generation: state.generation };
    $("result-rows").replaceChildren();
    $("results").hidden = true;
    $("more").hidden = true;
    await loadPages();
  }

  async function loadPages() {
    const search = state.search;
    const button = $("search-button");
    button.disabled = true;
    $("more").disabled = true;
    $("search-status").textContent = "Searching…";
    let empty = 0;
    let answer;
    for (;;) {
      const params = new URLSearchParams(search.params);
      if (search.cursor) params.set("cursor", search.cursor);
      const query = params.toString();
      answer = await call("GET", `/${search.kind}${query ? `?${query}` : ""}`);
      if (search.generation !== state.generation) return; // a newer search took over
      if (!answer.ok) break;
      const items = answer.data.data || [];
      appendRows(search.kind, items);
      search.count += items.length;
      search.cursor = answer.data.next_cursor || null;
      if (items.length || !search.cursor) break;
      empty += 1;
      if (empty >= MAX_EMPTY_PAGES) break;
    }
    button.disabled = false;
    $("more").disabled = false;
    if (!answer.ok) {
      $("search-status").textContent = "";
      const field = answer.data && answer.data.error && answer.data.error.field;
      return showError($("search-error"), errorText(answer), FILTER_INPUTS[field] || null);
    }
    const noun = search.kind === "payouts" ? "payout" : "payment";
    const found = search.count === 1 ? `1 ${noun}` : `${search.count} ${noun}s`;
    $("search-status").textContent = search.count
      ? `${found} found${search.cursor ? "; more with the More button" : ""}.`
      : `No ${noun}s found${search.cursor ? " yet; press More to keep looking" : ""}.`;
    $("results-caption").textContent = `${search.count === 1 ? noun : `${noun}s`} found`;
    $("results").hidden = search.count === 0;
    $("more").hidden = !search.cursor;
  }

  function appendRows(listKind, items) {
    const rows = $("result-rows");
    for (const payment of items) {
      state.seen.set(`${listKind}/${payment.id}`, payment);
      const href = `#/${listKind}/${encodeURIComponent(payment.id)}`;
      const link = el("a", { href, text: payment.id, class: "id" });
      const row = el("tr", { role: "row", "data-id": payment.id },
        el("td", { role: "cell", "data-label": "Id" }, link),
        el("td", { role: "cell", "data-label": "Reference", text: payment.merchant_reference || "—" }),
        el("td", { role: "cell", "data-label": "Method", text: methodText(payment) }),
        el("td", { role: "cell", "data-label": "Amount", class: "number", text: vnd(payment.amount) }),
        el("td", { role: "cell", "data-label": "Status" }, badge(payment.status)),
        el("td", { role: "cell", "data-label": "Created" }, when(payment.created_at)));
      // The whole row opens the payment; the link is the keyboard's (and a new tab's) way.
      row.addEventListener("click", (event) => {
        if (event.target.closest("a") || window.getSelection().toString()) return;
        window.location.hash = href;
      });
      rows.append(row);
    }
  }

  async function more() {
    if (!state.search || !state.search.cursor) return;
    const before = $("result-rows").children.length;
    await loadPages();
    const first = $("result-rows").children[before];
    if (first) first.querySelector("a").focus();
  }

  /* ---- one payment --------------------------------------------------------------------- */

  function facts(pairs) {
    const list = el("dl", { class: "summary" });
    for (const [label, value] of pairs) {
      if (value === null || value === undefined || value === "") continue;
      list.append(el("dt", { text: label }), el("dd", {}, typeof value === "object" && value.nodeType ? value : document.createTextNode(String(value))));
    }
    return list;
  }

  function destinationText(destination) {
    return Object.entries(destination || {})
      .filter(([, value]) => value !== null && value !== undefined && typeof value !== "object")
      .map(([name, value]) => `${name.replace(/_/g, " ")}: ${value}`)
      .join(", ");
  }

  function renderPayment(detail) {
    const payment = detail.payment;
    const noun = detail.kind === "payouts" ? "Payout" : "Payment";
    $("detail-title").textContent = `${noun} ${payment.id}`;
    const received = payment.amount_received === null || payment.amount_received === undefined ? null : vnd(payment.amount_received);
    const parts = [
      el("div", { id: "detail-status", class: "detail-status" }, el("span", { text: "Status " }), badge(payment.status, "large")),
      facts([
        ["Amount", vnd(payment.amount)],
        ["Amount received", received],
        ["Order reference", payment.merchant_reference],
        ["Method", methodText(payment)],
        ["Provider reference", payment.provider_reference],
        ["Destination", payment.destination ? destinationText(payment.destination) : null],
        ["Created", when(payment.created_at)],
        ["Updated", when(payment.updated_at)],
        ["Version", payment.version],
      ]),
    ];
    if (payment.failure) {
      const failure = payment.failure;
      parts.push(el("section", { class: "note bad", "aria-labelledby": "failure-title" },
        el("h3", { id: "failure-title", text: "Failure" }),
        facts([["Reason", failure.message], ["Code", failure.code], ["Provider code", failure.provider_code], ["Provider message", failure.provider_message]])));
    }
    if (payment.review) {
      const review = payment.review;
      parts.push(el("section", { class: "note", "aria-labelledby": "decision-title" },
        el("h3", { id: "decision-title", text: "Review decision" }),
        facts([["Decision", review.decision], ["Note", review.note], ["By", review.reviewed_by_email || review.reviewed_by], ["User id", review.reviewed_by_email ? review.reviewed_by : null], ["At", review.reviewed_at ? when(review.reviewed_at) : null]])));
    }
    $("detail-body").replaceChildren(...parts);
    const open = payment.status === "needs_review";
    const reviewer = session.isReviewer(session.current());
    $("review").hidden = !open || !reviewer;
    $("review-viewer").hidden = !open || reviewer;
  }

  function statusChange(entry) {
    const change = entry.from
      ? el("p", { class: "what" }, badge(entry.from), el("span", { class: "arrow", "aria-hidden": "true", text: " → " }),
        el("span", { class: "visually-hidden", text: " to " }), badge(entry.to))
      : el("p", { class: "what" }, el("span", { text: "Status " }), badge(entry.to));
    return [
      change,
      facts([
        ["Cause", CAUSE_LABELS[entry.cause] || entry.cause],
        ["Provider code", entry.provider_code],
        ["Failure code", entry.failure_code],
        ["By", entry.actor_email ? `${entry.actor_email} (${entry.actor})` : entry.actor],
        ["Note", entry.note],
      ]),
    ];
  }

  function callback(entry) {
    const provider = PROVIDER_LABELS[entry.provider] || entry.provider;
    return [
      el("p", { class: "what" }, el("span", { text: `Callback from ${provider}: ` }), badge(entry.outcome)),
      el("details", {},
        el("summary", { text: "Body (masked)" }),
        el("pre", { class: "body", text: JSON.stringify(entry.body, null, 2) })),
    ];
  }

  function renderTimeline(entries) {
    const items = entries.map((entry) => {
      const content = entry.type === "status_change" ? statusChange(entry)
        : entry.type === "callback" ? callback(entry)
          : [el("p", { class: "what", text: entry.type })];
      return el("li", {
        class: "entry",
        "data-type": entry.type,
        "data-cause": entry.cause,
        "data-to": entry.to,
        "data-tone": TONES[entry.to || entry.outcome] || "",
      }, el("p", { class: "when" }, when(entry.at)), ...content);
    });
    $("timeline").replaceChildren(...items);
    $("timeline-status").textContent = items.length ? "" : "Nothing recorded yet.";
  }

  async function loadTimeline(detail) {
    $("timeline-status").textContent = "Loading the timeline…";
    const answer = await call("GET", `/${detail.kind}/${encodeURIComponent(detail.id)}/timeline`);
    if (state.detail !== detail) return;
    if (!answer.ok) {
      $("timeline").replaceChildren();
      $("timeline-status").textContent = `The timeline could not be loaded: ${errorText(answer)}`;
      return;
    }
    renderTimeline(answer.data.entries || []);
  }

  async function openDetail(detailKind, id) {
    const detail = { kind: detailKind, id, payment: null };
    state.detail = detail;
    state.attempt = null;
    state.lastOpened = id;
    $("search").hidden = true;
    $("detail").hidden = false;
    $("detail-error").hidden = true;
    $("detail-body").replaceChildren();
    $("timeline").replaceChildren();
    $("review").hidden = true;
    $("review-viewer").hidden = true;
    $("review-note").value = "";
    clearError($("review-error"), $("review-form"));
    $("detail-title").textContent = `${detailKind === "payouts" ? "Payout" : "Payment"} ${id}`;
    $("detail-title").focus();
    const [answer] = await Promise.all([
      readOne(detailKind, id),
      loadTimeline(detail),
    ]);
    if (state.detail !== detail) return;
    if (!answer.ok) {
      $("detail-error").textContent = answer.status === 404 ? `No ${detailKind === "payouts" ? "payout" : "payment"} with this id.` : errorText(answer);
      $("detail-error").hidden = false;
      return;
    }
    detail.payment = answer.data;
    renderPayment(detail);
  }

  /* ---- the review ---------------------------------------------------------------------- */

  async function review(event) {
    event.preventDefault();
    const detail = state.detail;
    if (!detail || !detail.payment) return;
    const decision = event.submitter && event.submitter.value;
    if (decision !== "accept" && decision !== "reject") return;
    const box = $("review-error");
    clearError(box, $("review-form"));
    const note = $("review-note").value.trim();
    if (!note) return showError(box, "Write a note: what you checked and why you decide so.", "review-note");
    // One key per submission: a retry of the same decision and note sends the same key, so
    // the gateway answers it once; anything else is a new submission.
    const attempt = state.attempt;
    if (!attempt || attempt.decision !== decision || attempt.note !== note) {
      state.attempt = { decision, note, key: newKey() };
    }
    const buttons = Array.from($("review-form").querySelectorAll("button"));
    buttons.forEach((button) => { button.disabled = true; });
    announce(decision === "accept" ? "Accepting…" : "Rejecting…");
    const answer = await call("POST", `/${detail.kind}/${encodeURIComponent(detail.id)}/review`,
      { decision, note }, { "Idempotency-Key": state.attempt.key });
    buttons.forEach((button) => { button.disabled = false; });
    if (state.detail !== detail) return;
    if (answer.ok) {
      state.attempt = null;
      $("review-note").value = "";
      detail.payment = answer.data;
      renderPayment(detail);
      announce(`${decision === "accept" ? "Accepted" : "Rejected"}: the ${detail.kind === "payouts" ? "payout" : "payment"}'s status is now ${statusText(answer.data.status)}.`);
      $("detail-title").focus();
      await loadTimeline(detail);
      return;
    }
    if (answer.status === 0 || answer.status >= 500) {
      announce("");
      return showError(box, `${errorText(answer)} Pressing the same button again sends the same decision once.`, null);
    }
    state.attempt = null;
    announce("");
    const field = answer.data && answer.data.error && answer.data.error.field;
    showError(box, errorText(answer), field === "note" ? "review-note" : null);
    if (answer.status === 409) await refresh(detail);
  }

  async function refresh(detail) {
    const answer = await readOne(detail.kind, detail.id);
    if (state.detail !== detail || !answer.ok) return;
    detail.payment = answer.data;
    renderPayment(detail);
    await loadTimeline(detail);
  }

  /* ---- views --------------------------------------------------------------------------- */

  function showSearch() {
    state.detail = null;
    $("sign-in").hidden = true;
    $("detail").hidden = true;
    $("search").hidden = false;
    const row = state.lastOpened && Array.from($("result-rows").children).find((item) => item.dataset.id === state.lastOpened);
    if (row) row.querySelector("a").focus();
    else $("search-title").focus();
  }

  function route() {
    if (!session.current()) return showSignIn("");
    const match = /^#\/(payments|payouts)\/([^/?#]+)$/.exec(window.location.hash);
    if (match) return openDetail(match[1], decodeURIComponent(match[2]));
    return showSearch();
  }

  document.addEventListener("DOMContentLoaded", async () => {
    $("status").append(...STATUSES.map((status) => el("option", { value: status, text: statusText(status) })));
    $("search-form").addEventListener("submit", search);
    $("more").addEventListener("click", more);
    $("review-form").addEventListener("submit", review);
    $("sign-in-form").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", signOut);
    window.addEventListener("hashchange", route);
    const signedIn = session.current() || (await session.finishHostedSignIn());
    if (signedIn) showSignedIn(signedIn);
    await route();
    document.body.dataset.ready = "true";
  });
})();
