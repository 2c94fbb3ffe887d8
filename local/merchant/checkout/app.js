/* paygate reference checkout: pick a method, create the payment (api.js: the only calls the
 * page makes), then show its next step in words a shopper understands until the status is
 * final. Status changes are pushed over a WebSocket (URL in <meta name="paygate-status-socket">,
 * authorised by the payment's client_secret; once open, the page asks for the current status
 * over it). While the WebSocket is not open the page polls slowly (after 10 s, backing off to
 * 60 s) and stops 2 minutes after the payment's window ends (`expires_at` of every payment
 * document). Vietnamese by default, English with ?lang=en or the switch in the top bar; every
 * word comes from messages.js. ?dev=1 shows the developers' confirmation control.
 * No framework, nothing loaded from elsewhere. */
(function () {
  "use strict";

  const { PROVIDER_LABELS, el, vnd } = window.paygateMerchant;
  const MESSAGES = window.paygateCheckoutMessages;
  const api = window.paygateCheckoutApi;
  // The fallback poll, while the WebSocket is not open: it stops EXPIRY_SLACK_MS after the
  // payment's window ends (`expires_at` of the create's, every read's and every pushed
  // document), the time the gateway takes to expire it (its reconcile schedule runs each
  // minute), so the last poll shows the expiry. Money in motion has no window (`expires_at`
  // null): the poll stops MAX_WAIT_MS after the page started. Times are moved onto this
  // device's clock by its offset from the gateway's, learnt from a pushed message's `sent_at`
  // (until one arrives, the device's clock is taken as right).
  const POLL_MS = 10000;
  const MAX_POLL_MS = 60000;
  const EXPIRY_SLACK_MS = 2 * 60 * 1000;
  const MAX_WAIT_MS = 4 * 60 * 60 * 1000; // the longest customer window (template.yaml)
  const RECONNECT_MS = 1000;
  const MAX_RECONNECT_MS = 30000;
  const MAX_FAILED_CONNECTS = 5; // in a row, never opened: the page only polls from then on
  const SOCKET_URL = (document.querySelector('meta[name="paygate-status-socket"]') || {}).content || "";
  const TERMINAL = ["succeeded", "failed", "cancelled", "expired", "needs_review"];
  const TONES = {
    requires_confirmation: "warn", requires_action: "warn", needs_review: "warn",
    succeeded: "ok", failed: "bad", cancelled: "bad", expired: "bad",
  };
  // Bank-transfer details in the order a banking app asks for them; the first five can be copied.
  const TRANSFER_ORDER = ["bank", "account_no", "account_name", "amount", "transfer_code",
    "bank_abbr", "bank_code", "branch", "swift_code"];
  const COPYABLE = new Set(["bank", "account_no", "account_name", "amount", "transfer_code"]);

  const $ = (id) => document.getElementById(id);
  const query = new URL(window.location.href).searchParams;
  const state = {
    lang: query.get("lang") === "en" ? "en" : "vi",
    dev: query.get("dev") === "1",
    methods: [],
    payment: null,
    rendered: "",
    timer: null,
    delay: POLL_MS,
    socket: null, // the status push's WebSocket, while the payment is not final
    secret: "", // the payment's client secret: what the push's $connect checks
    startedAt: 0, // ms since the epoch, on this device's clock
    windowEnd: 0, // ms since the epoch, on this device's clock: no poll EXPIRY_SLACK_MS after it
    skew: 0, // this device's clock minus the gateway's (ms), from the last pushed sent_at
    reconnectDelay: RECONNECT_MS,
    reconnectTimer: null,
    failedConnects: 0,
  };

  /* ---- words --------------------------------------------------------------------------- */

  /** The message `key` ("status.failed") in the page's language, `{name}`s filled in. */
  function t(key, params) {
    let text = key.split(".").reduce((table, part) => (table ? table[part] : undefined), MESSAGES[state.lang]);
    if (typeof text !== "string") text = key;
    return text.replace(/\{(\w+)\}/g, (_, name) => String((params || {})[name] ?? ""));
  }

  const providerName = (provider) => PROVIDER_LABELS[provider] || provider;
  const methodName = (method) => t(`methods.${method in MESSAGES.vi.methods ? method : "other"}`);
  const fieldName = (name) => t(`fields.${name in MESSAGES.vi.fields ? name : "other"}`);

  function setUrl(name, value) {
    const url = new URL(window.location.href);
    if (value === null) url.searchParams.delete(name);
    else url.searchParams.set(name, value);
    window.history.replaceState(null, "", url);
  }

  /** Put every word of the page in the current language (what is shown stays shown). */
  function applyLanguage() {
    const other = state.lang === "vi" ? "en" : "vi";
    document.documentElement.lang = state.lang;
    document.title = t("pageTitle");
    document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
    document.querySelectorAll("[data-i18n-aria-label]").forEach((node) => {
      node.setAttribute("aria-label", t(node.dataset.i18nAriaLabel));
    });
    const link = $("language");
    const url = new URL(window.location.href);
    url.searchParams.set("lang", other);
    link.href = url.search;
    link.lang = other;
    link.hreflang = other;
    link.textContent = t("otherLanguage");
    if (state.methods.length) {
      labelMethods();
      const entry = selectedMethod();
      if (entry) describeAmount(entry);
      labelCustomerFields();
    }
    if (state.payment) {
      state.rendered = "";
      render(state.payment, { quiet: true });
    }
  }

  function switchLanguage(event) {
    event.preventDefault();
    state.lang = state.lang === "vi" ? "en" : "vi";
    setUrl("lang", state.lang === "vi" ? null : state.lang);
    applyLanguage();
    $("language").focus();
  }

  /* ---- the order form ---------------------------------------------------------------- */

  async function loadMethods() {
    const fieldset = $("methods");
    const answer = await api.methods();
    $("methods-loading").remove();
    if (!answer.ok || !answer.data || !answer.data.methods.length) {
      fieldset.append(el("p", { class: "error", role: "alert", "data-i18n": "methodsNone", text: t("methodsNone") }));
      $("pay").disabled = true;
      return;
    }
    state.methods = answer.data.methods;
    state.methods.forEach((entry, index) => {
      const id = `method-${entry.key || entry.provider}`;
      const input = el("input", {
        type: "radio", name: "method", id, value: entry.key || entry.provider, checked: index === 0,
        "aria-describedby": `${id}-hint`, onchange: () => selectMethod(entry),
      });
      fieldset.append(el("label", { class: "method", for: id }, input,
        el("span", { class: "method-text" }, el("span", { class: "method-name" }), el("small", { id: `${id}-hint` }))));
    });
    labelMethods();
    selectMethod(state.methods[0]);
  }

  function labelMethods() {
    for (const entry of state.methods) {
      const id = `method-${entry.key || entry.provider}`;
      const label = document.querySelector(`label[for="${id}"]`);
      label.querySelector(".method-name").textContent = methodName(entry.method);
      const where = t(`whereTo.${entry.method in MESSAGES.vi.whereTo ? entry.method : "other"}`, { provider: providerName(entry.provider) });
      const from = entry.minimum_amount > 1 ? ` · ${t("from", { amount: vnd(entry.minimum_amount) })}` : "";
      $(`${id}-hint`).textContent = where + from;
    }
  }

  function selectedMethod() {
    const checked = document.querySelector('input[name="method"]:checked');
    return state.methods.find((entry) => checked && (entry.key || entry.provider) === checked.value);
  }

  function describeAmount(entry) {
    $("amount-hint").textContent = entry.minimum_amount > 1
      ? t("amountHintMinimum", { amount: vnd(entry.minimum_amount), method: methodName(entry.method) })
      : t("amountHint");
  }

  function labelCustomerFields() {
    document.querySelectorAll("#customer-fields label").forEach((label) => {
      label.textContent = fieldName(label.dataset.field);
    });
  }

  function selectMethod(entry) {
    const amount = $("amount");
    if (!/^[0-9]+$/.test(amount.value) || Number(amount.value) < entry.minimum_amount) {
      amount.value = String(Math.max(entry.minimum_amount, 50000));
    }
    describeAmount(entry);
    const container = $("customer-fields");
    const kept = {};
    container.querySelectorAll("input").forEach((input) => { kept[input.name] = input.value; });
    container.replaceChildren();
    const types = { email: ["email", "email"], phone: ["tel", "tel"], full_name: ["text", "name"],
      first_name: ["text", "given-name"], last_name: ["text", "family-name"] };
    for (const name of entry.customer_fields) {
      const [type, autocomplete] = types[name] || ["text", "off"];
      container.append(el("div", { class: "field" },
        el("label", { for: `customer-${name}`, "data-field": name, text: fieldName(name) }),
        el("input", { id: `customer-${name}`, name, type, autocomplete, required: true, value: kept[name] || null })));
    }
    const shown = state.dev && entry.confirmation.length > 0;
    $("confirmation").replaceChildren(...(shown ? entry.confirmation.map((value) => el("option", { value, text: value })) : []));
    $("confirmation-field").hidden = !shown;
  }

  function showFormError(message, fieldId) {
    const box = $("form-error");
    box.textContent = message;
    box.hidden = false;
    document.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
    const field = fieldId && $(fieldId);
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-errormessage", "form-error");
      field.focus();
    } else {
      box.focus();
    }
  }

  async function submit(event) {
    event.preventDefault();
    const entry = selectedMethod();
    if (!entry) return showFormError(t("chooseMethod"));
    const amountText = $("amount").value.trim();
    if (!/^[0-9]+$/.test(amountText)) return showFormError(t("amountDigits"), "amount");
    const amount = Number(amountText);
    if (amount < entry.minimum_amount) {
      return showFormError(t("amountMinimum", { amount: vnd(entry.minimum_amount), method: methodName(entry.method) }), "amount");
    }
    const body = { method: entry.method, amount };
    if (entry.customer_fields.length) {
      body.customer = {};
      for (const name of entry.customer_fields) {
        const value = $(`customer-${name}`).value.trim();
        if (!value) return showFormError(t("fieldMissing", { field: fieldName(name).toLowerCase() }), `customer-${name}`);
        body.customer[name] = value;
      }
    }
    if (state.dev && entry.confirmation.length) body.confirmation = $("confirmation").value;

    const button = $("pay");
    button.disabled = true;
    button.textContent = t("paying");
    $("form-error").hidden = true;
    const answer = await api.create(entry.provider, body);
    button.disabled = false;
    button.textContent = t("payButton");
    if (!answer.ok) {
      const field = answer.data && answer.data.error && answer.data.error.field;
      const fieldId = field === "amount" ? "amount" : field && field.startsWith("customer.") ? `customer-${field.slice(9)}` : null;
      if (answer.status === 0) return showFormError(t("noAnswer"));
      if (fieldId && $(fieldId)) {
        const name = fieldId === "amount" ? t("summaryAmount") : fieldName(field.slice(9));
        return showFormError(t("fieldInvalid", { field: name.toLowerCase() }), fieldId);
      }
      return showFormError(t("createFailed"));
    }
    startPayment(answer.data);
  }

  /* ---- the payment ------------------------------------------------------------------- */

  function startPayment(payment) {
    $("order").hidden = true;
    $("payment").hidden = false;
    setUrl("payment", payment.id);
    state.rendered = "";
    state.delay = POLL_MS;
    state.reconnectDelay = RECONNECT_MS;
    state.failedConnects = 0;
    state.secret = payment.client_secret || state.secret;
    state.startedAt = Date.now();
    state.windowEnd = state.startedAt + MAX_WAIT_MS;
    learnWindow(payment);
    render(payment);
    $("payment-title").focus();
    openSocket();
    schedulePoll();
  }

  function waiting() {
    return Boolean(state.payment) && !TERMINAL.includes(state.payment.status);
  }

  /** The end of the customer's window from a payment document (`expires_at`, moved onto this
   * device's clock; `sentAt`: the gateway's time a pushed message was sent). A document older
   * than the one shown says nothing new. data-window-end: for scripts. */
  function learnWindow(payment, sentAt) {
    const sent = Date.parse(sentAt || "");
    if (sent) state.skew = Date.now() - sent;
    const shown = state.payment;
    if (!payment || (shown && shown.id === payment.id && payment.version < shown.version)) return;
    if (payment.expires_at === undefined) return;
    const end = Date.parse(payment.expires_at || "");
    state.windowEnd = end ? end + state.skew : state.startedAt + MAX_WAIT_MS;
    document.body.dataset.windowEnd = new Date(state.windowEnd).toISOString();
  }

  /** Whether the fallback poll may still run: until EXPIRY_SLACK_MS after the window. */
  function pollLeft() {
    return state.windowEnd + EXPIRY_SLACK_MS - Date.now();
  }

  function pushOpen() {
    return Boolean(state.socket) && state.socket.readyState === WebSocket.OPEN;
  }

  function schedulePoll() {
    clearTimeout(state.timer);
    state.timer = null;
    if (!waiting() || pushOpen()) return;
    const left = pollLeft();
    if (left <= 0) return; // the window is over and the gateway has had time to expire it
    state.timer = setTimeout(poll, Math.min(state.delay, left));
  }

  async function poll() {
    state.timer = null;
    const answer = await api.get(state.payment.id);
    if (answer.ok) {
      learnWindow(answer.data);
      render(answer.data);
    } else if (answer.status === 404) {
      setStatus(t("unknownPayment"), "bad", "");
      return;
    }
    state.delay = Math.min(state.delay * 2, MAX_POLL_MS);
    schedulePoll();
  }

  /* ---- the status push ---------------------------------------------------------------- */

  function openSocket() {
    closeSocket();
    if (!SOCKET_URL || !state.secret || !waiting() || typeof WebSocket !== "function") return;
    const paymentId = state.payment.id;
    const socket = new WebSocket(`${SOCKET_URL}?client_secret=${encodeURIComponent(state.secret)}`);
    state.socket = socket;
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      state.failedConnects = 0;
      clearTimeout(state.timer); // the push tells the news now
      state.timer = null;
      state.delay = POLL_MS;
      document.body.dataset.push = "open";
      // what changed before (or while reconnecting), and the end of the window
      socket.send(JSON.stringify({ action: "status", client_secret: state.secret }));
    });
    socket.addEventListener("message", (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch (error) { return; }
      if (!message || message.type !== "payment.status" || !message.payment) return;
      if (!state.payment || message.payment.id !== paymentId) return;
      learnWindow(message.payment, message.sent_at);
      render(message.payment);
      if (!waiting()) closeSocket();
    });
    socket.addEventListener("close", () => {
      if (state.socket !== socket) return; // closed on purpose
      state.socket = null;
      document.body.dataset.push = "closed";
      if (!state.timer) schedulePoll(); // the fallback while the WebSocket is down (one timer)
      if (!opened) state.failedConnects += 1;
      if (!waiting() || pollLeft() <= 0 || state.failedConnects >= MAX_FAILED_CONNECTS) return;
      // API Gateway ends idle connections after 10 minutes: open again (1 s later if it was open)
      state.reconnectDelay = opened ? RECONNECT_MS : Math.min(state.reconnectDelay * 2, MAX_RECONNECT_MS);
      state.reconnectTimer = setTimeout(openSocket, state.reconnectDelay);
    });
  }

  function closeSocket() {
    clearTimeout(state.reconnectTimer);
    const socket = state.socket;
    state.socket = null;
    if (socket) socket.close();
  }

  /** The status in words; the API's own state stays in data-status, for scripts only. */
  function setStatus(text, tone, status) {
    const box = $("status");
    box.dataset.tone = tone || "";
    box.dataset.status = status || "";
    box.textContent = text;
    box.hidden = TERMINAL.includes(status); // the result below says it, as its heading
  }

  function render(payment, options) {
    // An answer older than what is shown (a poll sent before a confirm or cancel answered)
    // is not news: every change raises the payment's version.
    const shown = state.payment;
    if (shown && shown.id === payment.id && payment.version < shown.version) return;
    state.payment = payment;
    const key = JSON.stringify([payment.status, payment.next_action, payment.failure]);
    if (key === state.rendered) return;
    state.rendered = key;
    $("payment-id").textContent = payment.id;
    $("payment-method").textContent = `${methodName(payment.method)} · ${providerName(payment.provider)}`;
    $("payment-amount").textContent = vnd(payment.amount);
    const known = payment.status in MESSAGES.vi.status;
    setStatus(t(`status.${known ? payment.status : "unknown"}`), TONES[payment.status], payment.status);

    const area = $("next-action");
    area.replaceChildren();
    if (TERMINAL.includes(payment.status)) {
      showResult(payment, !(options && options.quiet));
      return;
    }
    if (payment.status === "requires_confirmation") area.append(confirmation(payment));
    else if (payment.next_action) area.append(nextAction(payment, payment.next_action));
    else area.append(el("p", { class: "muted", text: t("waitingNext") }));
  }

  function showResult(payment, focus) {
    const box = $("result");
    const heading = el("h3", { id: "result-title", tabindex: "-1", text: t(`status.${payment.status}`) });
    const parts = [heading];
    const received = payment.amount_received;
    if (payment.status === "succeeded") parts.push(el("p", { text: t("thanks", { amount: vnd(received || payment.amount) }) }));
    if (received !== null && received !== undefined && received !== payment.amount) {
      parts.push(el("p", { text: t("amountReceived", { received: vnd(received), amount: vnd(payment.amount) }) }));
    }
    if (payment.status !== "succeeded") {
      const failure = payment.failure || {};
      const reason = failure.code === "amount_mismatch" ? "amount_mismatch" : payment.status;
      parts.push(el("p", { class: "failure-reason" }, el("strong", { text: t("reason") }), ` ${t(`failure.${reason}`)}`));
      if (failure.provider_code) parts.push(el("p", { class: "muted", text: t("providerCode", { code: failure.provider_code }) }));
      if (payment.status === "needs_review") parts.push(el("p", { text: t("reviewNote") }));
    }
    box.replaceChildren(...parts);
    box.className = "result";
    box.dataset.tone = TONES[payment.status] || "";
    box.hidden = false;
    $("restart").hidden = false;
    if (focus) heading.focus();
  }

  function confirmation(payment) {
    const message = el("p", { id: "action-message", role: "alert" });
    const act = async (action, button) => {
      const buttons = Array.from(document.querySelectorAll("#confirm-actions button"));
      buttons.forEach((item) => { item.disabled = true; });
      message.textContent = "";
      const answer = await api[action](payment.id);
      buttons.forEach((item) => { item.disabled = false; });
      if (answer.ok) {
        learnWindow(answer.data);
        render(answer.data);
        schedulePoll();
        return;
      }
      if (answer.status === 409) {
        message.textContent = t("noLongerPossible");
        poll();
      } else {
        message.textContent = answer.status === 0 ? t("noAnswer") : t(action === "confirm" ? "cannotConfirm" : "cannotCancel");
      }
      button.focus();
    };
    const confirmButton = el("button", { type: "button", class: "primary", text: t("confirmButton") });
    const cancelButton = el("button", { type: "button", class: "danger", text: t("cancelButton") });
    confirmButton.addEventListener("click", () => act("confirm", confirmButton));
    cancelButton.addEventListener("click", () => act("cancel", cancelButton));
    return el("div", {},
      el("p", { text: t("confirmIntro", { amount: vnd(payment.amount) }) }),
      el("div", { class: "actions", id: "confirm-actions" }, confirmButton, cancelButton),
      message);
  }

  function qrFigure(text, caption) {
    if (new TextEncoder().encode(text).length > api.MAX_QR_BYTES) return el("p", { class: "muted", text: t("qrTooLong") });
    const figure = el("figure", { class: "qr" });
    const image = el("img", {
      class: "qr-code", src: api.qrSource(text), alt: caption,
      onerror: () => figure.replaceWith(el("p", { class: "muted", text: t("qrFailed") })),
    });
    figure.append(image, el("figcaption", { text: caption }));
    return figure;
  }

  function nextAction(payment, action) {
    if (action.type === "redirect") return redirect(payment, action);
    if (action.type === "qr") return qr(payment, action);
    if (action.type === "bank_transfer_instructions") return bankTransfer(action);
    return el("p", { class: "muted", text: t("waitingNext") });
  }

  /** A provider's page: ATM card and wallet pages, or a bank's. Wallets are paid on a phone,
   * so their page's address is also shown as a QR code to open it there. */
  function redirect(payment, action) {
    const provider = providerName(payment.provider);
    const intro = el("p", { text: t(payment.method === "ewallet" ? "goToWallet" : "goToIntro", { provider }) });
    const params = action.params || {};
    if ((action.method || "GET") === "POST") {
      const form = el("form", { method: "post", action: action.url, target: "_blank", class: "actions" });
      for (const [name, value] of Object.entries(params)) form.append(el("input", { type: "hidden", name, value }));
      form.append(el("button", { type: "submit", class: "primary", text: t("goTo", { provider }) }));
      return el("div", {}, intro, form);
    }
    const url = new URL(action.url);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    const parts = [intro, el("div", { class: "actions" },
      el("a", { class: "button primary", href: url.toString(), target: "_blank", rel: "noopener", text: t("goTo", { provider }) }))];
    if (payment.method === "ewallet") parts.push(el("p", { class: "hint", text: t("phoneHint") }), qrFigure(url.toString(), t("qrCaption")));
    return el("div", {}, ...parts);
  }

  /** VietQR: Paypro answers a cashier link (`payment_link`); its QR code opens that page on a
   * phone. A VietQR payload (`qr_payload`), when a provider sends one, is the code to scan. */
  function qr(payment, action) {
    const parts = [el("p", { text: t("vietqrIntro", { provider: providerName(payment.provider) }) })];
    if (action.payment_link) {
      parts.push(el("div", { class: "actions" },
        el("a", { class: "button primary", href: action.payment_link, target: "_blank", rel: "noopener", text: t("vietqrOpen") })));
    }
    if (action.qr_payload) parts.push(qrFigure(action.qr_payload, t("qrPayloadCaption")));
    else if (action.payment_link) parts.push(el("p", { class: "hint", text: t("phoneHint") }), qrFigure(action.payment_link, t("qrCaption")));
    return el("div", {}, ...parts);
  }

  async function copy(value, what, button) {
    let copied = false;
    try {
      await navigator.clipboard.writeText(value);
      copied = true;
    } catch (_) {
      const area = el("textarea", { readonly: true, class: "visually-hidden" });
      area.value = value;
      document.body.append(area);
      area.select();
      copied = document.execCommand("copy");
      area.remove();
    }
    $("copy-status").textContent = t(copied ? "copiedStatus" : "copyFailed", { what });
    if (copied) {
      button.textContent = t("copied");
      setTimeout(() => { button.textContent = t("copy"); }, 2000);
    }
  }

  /** Monetix's transfer details (the Gate flow's display_data) and its own instruction texts. */
  function bankTransfer(action) {
    const list = el("dl", { class: "transfer" });
    const extra = Object.keys(action).filter((name) =>
      !TRANSFER_ORDER.includes(name) && !["type", "instructions"].includes(name) && ["string", "number"].includes(typeof action[name]));
    for (const name of [...TRANSFER_ORDER, ...extra]) {
      if (action[name] === null || action[name] === undefined || action[name] === "") continue;
      const raw = String(action[name]);
      const known = name in MESSAGES.vi.transfer;
      const label = known ? t(`transfer.${name}`) : t("transfer.other");
      const row = el("div", { "data-field": name }, el("dt", { text: label }),
        el("dd", { class: name === "amount" ? "amount" : null, translate: name === "amount" ? null : "no", text: name === "amount" ? vnd(raw) : raw }));
      if (COPYABLE.has(name)) {
        const what = label.toLowerCase();
        const button = el("button", { type: "button", class: "secondary copy", "aria-label": t("copyLabel", { what }), text: t("copy") });
        button.addEventListener("click", () => copy(raw, what, button));
        row.append(button);
      }
      list.append(row);
    }
    const parts = [el("p", { text: t("transferIntro") }), el("h3", { text: t("transferTitle") }), list];
    const texts = action.instructions || {};
    const lines = (texts[state.lang] && texts[state.lang].length) ? texts[state.lang] : texts.vi || texts.en || [];
    if (lines.length) {
      const lang = texts[state.lang] && texts[state.lang].length ? state.lang : texts.vi && texts.vi.length ? "vi" : "en";
      parts.push(el("div", { class: "instructions" },
        el("h3", { text: t("instructionsTitle") }),
        el("ol", { lang, translate: "no" }, ...lines.map((line) => el("li", { text: line })))));
    }
    return el("div", {}, ...parts);
  }

  function restart() {
    clearTimeout(state.timer);
    closeSocket();
    state.secret = "";
    state.payment = null;
    setUrl("payment", null);
    $("payment").hidden = true;
    $("result").hidden = true;
    $("restart").hidden = true;
    $("order").hidden = false;
    $("order-title").focus();
  }

  async function resume(id) {
    const answer = await api.get(id); // with the client secret this tab kept (none: no resume)
    if (answer.ok) startPayment({ ...answer.data, client_secret: api.secretOf(id) });
  }

  document.addEventListener("DOMContentLoaded", async () => {
    $("checkout-form").addEventListener("submit", submit);
    $("restart").addEventListener("click", restart);
    $("language").addEventListener("click", switchLanguage);
    applyLanguage();
    await loadMethods();
    const id = new URL(window.location.href).searchParams.get("payment");
    if (id) await resume(id);
    document.body.dataset.ready = "true";
  });
})();
