/* paygate reference checkout: pick a method, create the payment through the merchant's own
 * backend (the "merchant proxy", which holds the API key), poll the payment and render its
 * next_action until the status is final. No framework, nothing loaded from elsewhere.
 *
 * Merchant proxy contract (same origin, base path from <meta name="paygate-merchant-proxy">):
 *   GET  {proxy}/methods                 {"methods": [{key, provider, method, minimum_amount,
 *                                          customer_fields, confirmation}]}
 *   POST {proxy}/payments/{provider}     {method, amount, customer?, confirmation?} → the Payment
 *   GET  {proxy}/payments/{id}           → the Payment (GET /v1/payments/{id})
 *   POST {proxy}/payments/{id}/confirm   → POST /v1/payments/{id}/confirm
 *   POST {proxy}/payments/{id}/cancel    → POST /v1/payments/{id}/cancel
 *   GET  {proxy}/qr.svg?data={text}      → the QR code for text (SVG drawn by segno)
 */
(function () {
  "use strict";

  const { PROXY, METHOD_LABELS, PROVIDER_LABELS, el, vnd, call } = window.paygateMerchant;
  const POLL_MS = 1000;
  const MAX_POLL_MS = 5000;
  const TERMINAL = ["succeeded", "failed", "cancelled", "expired", "needs_review"];
  const METHOD_HINTS = {
    vietqr: "Scan a QR code with your banking app",
    ewallet: "Pay in your e-wallet app",
    bank_transfer: "Transfer from your bank account",
    napas_atm: "Vietnamese domestic ATM card",
    nganluong_wallet: "Pay with your Ngân Lượng account",
  };
  const CUSTOMER_FIELDS = {
    email: { label: "Email", type: "email", autocomplete: "email" },
    full_name: { label: "Full name", type: "text", autocomplete: "name" },
    first_name: { label: "First name", type: "text", autocomplete: "given-name" },
    last_name: { label: "Last name", type: "text", autocomplete: "family-name" },
    phone: { label: "Phone", type: "tel", autocomplete: "tel" },
    document: { label: "ID document number", type: "text", autocomplete: "off" },
    id: { label: "Customer id", type: "text", autocomplete: "off" },
  };
  const STATUS = {
    created: ["Payment created", ""],
    pending: ["Waiting for the payment provider…", ""],
    requires_confirmation: ["Please confirm the payment", "warn"],
    requires_action: ["Complete the payment", "warn"],
    processing: ["Processing your payment…", ""],
    succeeded: ["Payment succeeded", "ok"],
    failed: ["Payment failed", "bad"],
    cancelled: ["Payment cancelled", "bad"],
    expired: ["Payment expired", "bad"],
    needs_review: ["Payment received, under review", "warn"],
  };
  // Bank-transfer fields (Monetix display_data, both options) and their labels.
  const TRANSFER_FIELDS = {
    bank: ["Ngân hàng", "Bank"],
    bank_name: ["Ngân hàng", "Bank"],
    bank_abbr: ["Tên viết tắt", "Bank short name"],
    code: ["Mã ngân hàng", "Bank code"],
    branch: ["Chi nhánh", "Branch"],
    swift_code: ["Mã SWIFT", "SWIFT code"],
    account_no: ["Số tài khoản", "Account number"],
    account_name: ["Tên chủ tài khoản", "Account name"],
    amount: ["Số tiền", "Amount"],
    transfer_code: ["Nội dung chuyển khoản", "Transfer code"],
    content: ["Nội dung chuyển khoản", "Transfer description"],
  };
  // Instruction texts from Monetix's "Bank transfers in Vietnam" docs: option 2 (with a transfer
  // code) and option 1 (account details and a payment description).
  const INSTRUCTIONS = {
    with_code: {
      vi: [
        "Hãy đảm bảo rằng bạn chuyển đến Tài khoản người thụ hưởng",
        "Vui lòng sử dụng các tính năng \"Copy/Paste\" có sẵn để sao chép chính xác các thông tin trên.",
        "Các thông tin chuyển khoản chỉ sử dụng một lần. Vui lòng tạo yêu cầu thanh toán với thông tin chuyển khoản mới ở lần nạp tiền tiếp theo.",
        "Chúng tôi không chịu trách nhiệm cho bất kỳ sai sót chuyển tiền nào do Tài khoản Người thụ hưởng không chính xác.",
        "Một lần chuyển khoản được hoàn tất, số dư của bạn sẽ tự động được ghi có.",
        "Vui lòng liên hệ với bộ phận Dịch vụ Khách hàng nếu bạn gặp vấn đề với chuyển khoản / tiền gửi của mình.",
      ],
      en: [
        "Please ensure you transfer to Beneficiary Account.",
        "IMPORTANT! Please copy Transfer Code and put it in the Reference filed in your Bank application. Please ensure Beneficiary Account and Amounts already correct. Please use available 'Copy/Paste' features.",
        "We are not responsible for any transfer errors to incorrect Beneficiary Account.",
        "Once transfer completed, your balance will be automatically credited.",
        "Please contact Customer Service (CS) if you have issues with your transfer/Deposits.",
      ],
    },
    without_code: {
      vi: [
        "Vui lòng chuyển khoản đúng thông tin Số tài khoản/Tên chủ tài khoản/Tên ngân hàng cùng với số tiền chính xác. Nếu bạn không chuyển khoản đúng các thông tin trên, giao dịch có thể bị chậm trễ hoặc chúng tôi không nhận được chuyển khoản từ bạn.",
        "Vui lòng sử dụng các tính năng \"Copy/Paste\" có sẵn để sao chép chính xác các thông tin trên.",
        "Các thông tin chuyển khoản chỉ sử dụng một lần. Vui lòng tạo yêu cầu thanh toán với thông tin chuyển khoản mới ở lần nạp tiền tiếp theo.",
        "Chúng tôi không chịu trách nhiệm cho bất kỳ sai sót chuyển tiền nào do Tài khoản Người thụ hưởng không chính xác.",
        "Một lần chuyển khoản được hoàn tất, số dư của bạn sẽ tự động được ghi có.",
        "Vui lòng liên hệ với bộ phận Dịch vụ Khách hàng nếu bạn gặp vấn đề với chuyển khoản / tiền gửi của mình.",
      ],
      en: [
        "Please ensure you transfer to Beneficiary Account.",
        "IMPORTANT! Please copy Transaction ID and put in the Reference filed in your Bank application. Ensure Beneficiary Account and Amounts already correct. Please use available 'Copy/Paste' features.",
        "The transfer information is used only once. Please create a payment request with new transfer information on your next deposit.",
        "We are not responsible for any transfer errors to incorrect Beneficiary Account.",
        "Once transfer completed, your balance will be automatically credited.",
        "Please contact Customer Service (CS) if you have issues with your transfer/Deposits.",
      ],
    },
  };

  const $ = (id) => document.getElementById(id);
  const state = { methods: [], payment: null, rendered: "", timer: null, delay: POLL_MS };

  function methodLabel(entry) {
    return METHOD_LABELS[entry.method] || entry.method;
  }

  function errorText(answer) {
    const error = answer.data && answer.data.error;
    if (error && error.message) return error.message;
    if (answer.data && answer.data.message) return answer.data.message;
    return `The request failed (HTTP ${answer.status}).`;
  }

  /* ---- the order form ---------------------------------------------------------------- */

  async function loadMethods() {
    const fieldset = $("methods");
    let answer;
    try {
      answer = await call("GET", "/methods");
    } catch (_) {
      answer = { ok: false, status: 0, data: null };
    }
    $("methods-loading").remove();
    if (!answer.ok || !answer.data || !answer.data.methods.length) {
      fieldset.append(el("p", { class: "error", role: "alert", text: "No payment method is available right now." }));
      $("pay").disabled = true;
      return;
    }
    state.methods = answer.data.methods;
    state.methods.forEach((entry, index) => {
      const key = entry.key || entry.provider;
      const id = `method-${key}`;
      const provider = PROVIDER_LABELS[entry.provider] || entry.provider;
      const from = entry.minimum_amount > 1 ? ` · from ${vnd(entry.minimum_amount)}` : "";
      const hint = `${METHOD_HINTS[entry.method] || "Pay"} · via ${provider}${from}`;
      const input = el("input", {
        type: "radio", name: "method", id, value: key, checked: index === 0,
        "aria-describedby": `${id}-hint`, onchange: () => selectMethod(entry),
      });
      fieldset.append(
        el("label", { class: "method", for: id }, input,
          el("span", {}, el("span", { text: methodLabel(entry) }), el("small", { id: `${id}-hint`, text: hint }))),
      );
    });
    selectMethod(state.methods[0]);
  }

  function selectedMethod() {
    const checked = document.querySelector('input[name="method"]:checked');
    return state.methods.find((entry) => checked && (entry.key || entry.provider) === checked.value);
  }

  function selectMethod(entry) {
    const amount = $("amount");
    if (!/^[0-9]+$/.test(amount.value) || Number(amount.value) < entry.minimum_amount) {
      amount.value = String(Math.max(entry.minimum_amount, 50000));
    }
    $("amount-hint").textContent = entry.minimum_amount > 1
      ? `Whole đồng, at least ${vnd(entry.minimum_amount)} for ${methodLabel(entry)}.`
      : "Whole đồng, no separators.";
    const container = $("customer-fields");
    container.replaceChildren();
    for (const name of entry.customer_fields) {
      const spec = CUSTOMER_FIELDS[name] || { label: name.replace(/_/g, " "), type: "text", autocomplete: "off" };
      container.append(
        el("div", { class: "field" },
          el("label", { for: `customer-${name}`, text: spec.label }),
          el("input", { id: `customer-${name}`, name, type: spec.type, autocomplete: spec.autocomplete, required: true })),
      );
    }
    const confirmation = $("confirmation");
    confirmation.replaceChildren(...entry.confirmation.map((value) => el("option", { value, text: value })));
    $("confirmation-field").hidden = entry.confirmation.length === 0;
  }

  function showFormError(message, fieldId) {
    const box = $("form-error");
    box.textContent = message;
    box.hidden = false;
    document.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
    const field = fieldId && $(fieldId);
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    } else {
      box.focus();
    }
  }

  async function submit(event) {
    event.preventDefault();
    const entry = selectedMethod();
    if (!entry) return showFormError("Choose a payment method.");
    const amountText = $("amount").value.trim();
    if (!/^[0-9]+$/.test(amountText)) return showFormError("Enter the amount in whole đồng, digits only.", "amount");
    const amount = Number(amountText);
    if (amount < entry.minimum_amount) {
      return showFormError(`The amount must be at least ${vnd(entry.minimum_amount)} for ${methodLabel(entry)}.`, "amount");
    }
    const body = { method: entry.method, amount };
    if (entry.customer_fields.length) {
      body.customer = {};
      for (const name of entry.customer_fields) {
        const value = $(`customer-${name}`).value.trim();
        if (!value) return showFormError(`Enter your ${(CUSTOMER_FIELDS[name] || { label: name }).label.toLowerCase()}.`, `customer-${name}`);
        body.customer[name] = value;
      }
    }
    if (entry.confirmation.length) body.confirmation = $("confirmation").value;

    const button = $("pay");
    button.disabled = true;
    button.textContent = "Creating the payment…";
    $("form-error").hidden = true;
    let answer;
    try {
      answer = await call("POST", `/payments/${encodeURIComponent(entry.provider)}`, body);
    } catch (_) {
      answer = { ok: false, status: 0, data: null };
    }
    button.disabled = false;
    button.textContent = "Pay";
    if (!answer.ok) {
      const field = answer.data && answer.data.error && answer.data.error.field;
      const fieldId = field === "amount" ? "amount" : field && field.startsWith("customer.") ? `customer-${field.slice(9)}` : null;
      const message = answer.status === 0 ? "The shop's server did not answer. Try again." : errorText(answer);
      return showFormError(message, fieldId && $(fieldId) ? fieldId : null);
    }
    startPayment(answer.data);
  }

  /* ---- the payment ------------------------------------------------------------------- */

  function startPayment(payment) {
    $("order").hidden = true;
    $("payment").hidden = false;
    const url = new URL(window.location.href);
    url.searchParams.set("payment", payment.id);
    window.history.replaceState(null, "", url);
    state.rendered = "";
    state.delay = POLL_MS;
    render(payment);
    $("payment-title").focus();
    schedulePoll();
  }

  function schedulePoll() {
    clearTimeout(state.timer);
    if (!state.payment || TERMINAL.includes(state.payment.status)) return;
    state.timer = setTimeout(poll, state.delay);
  }

  async function poll() {
    const id = state.payment.id;
    try {
      const answer = await call("GET", `/payments/${encodeURIComponent(id)}`);
      if (answer.ok) {
        state.delay = POLL_MS;
        render(answer.data);
      } else if (answer.status === 404) {
        setStatusText("This payment is unknown.", "bad");
        return;
      } else {
        state.delay = Math.min(state.delay * 2, MAX_POLL_MS);
      }
    } catch (_) {
      state.delay = Math.min(state.delay * 2, MAX_POLL_MS);
    }
    schedulePoll();
  }

  function setStatusText(text, tone, status) {
    const box = $("status");
    box.dataset.tone = tone || "";
    box.dataset.status = status || "";
    box.replaceChildren(el("span", { text }), status ? el("span", { class: "badge muted", text: `(${status})` }) : null);
  }

  function render(payment) {
    // An answer older than what is shown (a poll sent before a confirm or cancel answered)
    // is not news: every change raises the payment's version.
    const shown = state.payment;
    if (shown && shown.id === payment.id && payment.version < shown.version) return;
    state.payment = payment;
    const key = JSON.stringify([payment.status, payment.next_action, payment.failure]);
    if (key === state.rendered) return;
    state.rendered = key;
    $("payment-id").textContent = payment.id;
    const entry = state.methods.find((item) => item.method === payment.method);
    $("payment-method").textContent = `${entry ? methodLabel(entry) : METHOD_LABELS[payment.method] || payment.method} · ${PROVIDER_LABELS[payment.provider] || payment.provider}`;
    $("payment-amount").textContent = vnd(payment.amount);
    const [label, tone] = STATUS[payment.status] || [payment.status, ""];
    setStatusText(label, tone, payment.status);

    const area = $("next-action");
    area.replaceChildren();
    if (TERMINAL.includes(payment.status)) {
      showResult(payment);
      return;
    }
    if (payment.status === "requires_confirmation") area.append(confirmation(payment));
    else if (payment.next_action) area.append(nextAction(payment.next_action));
    else area.append(el("p", { class: "muted", text: "Waiting for the next step… this page updates by itself." }));
  }

  function showResult(payment) {
    const box = $("result");
    const [label, tone] = STATUS[payment.status] || [payment.status, ""];
    const heading = el("h3", { id: "result-title", tabindex: "-1", text: label });
    const parts = [heading];
    if (payment.status === "succeeded") {
      parts.push(el("p", { text: `Thank you! ${vnd(payment.amount_received || payment.amount)} was paid.` }));
    }
    if (payment.amount_received !== null && payment.amount_received !== undefined && payment.amount_received !== payment.amount) {
      parts.push(el("p", { text: `Amount received: ${vnd(payment.amount_received)} (requested ${vnd(payment.amount)}).` }));
    }
    if (payment.failure) {
      const failure = payment.failure;
      parts.push(el("p", { class: "failure-reason" }, el("strong", { text: "Reason: " }), document.createTextNode(failure.message)));
      const provider = [failure.provider_code, failure.provider_message].filter(Boolean).join(": ");
      if (provider) parts.push(el("p", { class: "muted", text: `Provider answer: ${provider} (code ${failure.code})` }));
    }
    box.replaceChildren(...parts);
    box.className = "result";
    box.dataset.tone = tone;
    box.hidden = false;
    $("restart").hidden = false;
    heading.focus();
  }

  function confirmation(payment) {
    const message = el("p", { id: "action-message", role: "alert" });
    const act = async (action, button) => {
      const buttons = Array.from(document.querySelectorAll("#confirm-actions button"));
      buttons.forEach((item) => { item.disabled = true; });
      message.textContent = "";
      let answer;
      try {
        answer = await call("POST", `/payments/${encodeURIComponent(payment.id)}/${action}`, {});
      } catch (_) {
        answer = { ok: false, status: 0, data: null };
      }
      buttons.forEach((item) => { item.disabled = false; });
      if (answer.ok) {
        render(answer.data);
        schedulePoll();
        return;
      }
      if ([403, 404, 405].includes(answer.status)) {
        message.textContent = `This gateway cannot ${action} payments yet (HTTP ${answer.status}). The payment keeps waiting; try again later.`;
      } else if (answer.status === 409) {
        message.textContent = `The payment can no longer be ${action === "confirm" ? "confirmed" : "cancelled"}: ${errorText(answer)}`;
        poll();
      } else {
        message.textContent = answer.status === 0 ? "The shop's server did not answer. Try again." : errorText(answer);
      }
      button.focus();
    };
    const confirmButton = el("button", { type: "button", class: "primary", text: "Confirm payment" });
    const cancelButton = el("button", { type: "button", class: "danger", text: "Cancel payment" });
    confirmButton.addEventListener("click", () => act("confirm", confirmButton));
    cancelButton.addEventListener("click", () => act("cancel", cancelButton));
    return el("div", {},
      el("p", { text: `Confirm that you want to pay ${vnd(payment.amount)}. Nothing is charged until you confirm.` }),
      el("div", { class: "actions", id: "confirm-actions" }, confirmButton, cancelButton),
      message);
  }

  const MAX_QR_BYTES = 2048; // what the merchant proxy's QR route accepts

  function qrFigure(text, caption) {
    if (new TextEncoder().encode(text).length > MAX_QR_BYTES) {
      return el("p", { class: "muted", text: "This code is too long to show as a QR code." });
    }
    const src = `${PROXY}/qr.svg?data=${encodeURIComponent(text)}`;
    const figure = el("figure", { class: "qr" });
    const image = el("img", {
      class: "qr-code", src, alt: caption,
      onerror: () => figure.replaceWith(el("p", { class: "muted", text: "The QR code could not be shown: use the link." })),
    });
    figure.append(image, el("figcaption", { text: caption }));
    return figure;
  }

  function nextAction(action) {
    if (action.type === "redirect") return redirect(action);
    if (action.type === "qr") return qr(action);
    if (action.type === "bank_transfer_instructions") return bankTransfer(action);
    return el("p", { text: `Unsupported next action: ${action.type}` });
  }

  function redirect(action) {
    const params = action.params || {};
    if ((action.method || "GET") === "POST") {
      const form = el("form", { method: "post", action: action.url, target: "_blank", class: "actions" });
      for (const [name, value] of Object.entries(params)) form.append(el("input", { type: "hidden", name, value }));
      form.append(el("button", { type: "submit", class: "primary", text: "Open the payment page" }));
      return el("div", {}, el("p", { text: "Continue on the payment provider's page. This page updates when you are done." }), form);
    }
    const url = new URL(action.url);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return el("div", {},
      el("p", { text: "Continue on the payment provider's page, or scan the code with your phone. This page updates when you are done." }),
      el("div", { class: "actions" },
        el("a", { class: "button primary", href: url.toString(), target: "_blank", rel: "noopener", text: "Open the payment page" })),
      qrFigure(url.toString(), "QR code: open the payment page on your phone"));
  }

  function qr(action) {
    const payload = action.qr_payload || action.payment_link;
    const parts = [el("p", { text: "Scan the QR code with your banking or wallet app, or open the payment page." })];
    if (payload) parts.push(qrFigure(payload, action.qr_payload ? "QR code to pay in your banking app" : "QR code: open the payment page on your phone"));
    if (action.payment_link) {
      parts.push(el("div", { class: "actions" },
        el("a", { class: "button primary", href: action.payment_link, target: "_blank", rel: "noopener", text: "Open the payment page" })));
    }
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
    $("copy-status").textContent = copied ? `Copied ${what}.` : `Could not copy ${what}; select it and copy by hand.`;
    if (copied) {
      const original = button.textContent;
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = original; }, 2000);
    }
  }

  function bankTransfer(action) {
    const list = el("dl", { class: "transfer" });
    const skip = new Set(["type"]);
    const names = Object.keys(TRANSFER_FIELDS).filter((name) => action[name] !== null && action[name] !== undefined);
    for (const name of Object.keys(action)) {
      if (!skip.has(name) && !names.includes(name) && ["string", "number"].includes(typeof action[name])) names.push(name);
    }
    for (const name of names) {
      const [vi, en] = TRANSFER_FIELDS[name] || [null, name.replace(/_/g, " ")];
      const raw = String(action[name]);
      const shown = name === "amount" ? vnd(raw) : raw;
      const label = vi ? `${vi} / ${en}` : en;
      const button = el("button", { type: "button", class: "secondary", "aria-label": `Copy ${en.toLowerCase()}`, text: "Copy" });
      button.addEventListener("click", () => copy(raw, en.toLowerCase(), button));
      list.append(el("div", { "data-field": name }, el("dt", { text: label }), el("dd", { text: shown }), button));
    }
    const texts = action.transfer_code ? INSTRUCTIONS.with_code : INSTRUCTIONS.without_code;
    const instructions = el("div", { class: "instructions" },
      el("h3", { lang: "vi", text: "Hướng dẫn chuyển khoản" }),
      el("ol", { lang: "vi" }, ...texts.vi.map((line) => el("li", { text: line }))),
      el("h3", { text: "Transfer instructions" }),
      el("ol", { lang: "en" }, ...texts.en.map((line) => el("li", { text: line }))));
    return el("div", {},
      el("p", { text: "Transfer exactly this amount with these details from your banking app. This page updates when the money arrives." }),
      list, instructions);
  }

  function restart() {
    clearTimeout(state.timer);
    state.payment = null;
    const url = new URL(window.location.href);
    url.searchParams.delete("payment");
    window.history.replaceState(null, "", url);
    $("payment").hidden = true;
    $("result").hidden = true;
    $("restart").hidden = true;
    $("order").hidden = false;
    $("order-title").focus();
  }

  async function resume(id) {
    const answer = await call("GET", `/payments/${encodeURIComponent(id)}`);
    if (answer.ok) startPayment(answer.data);
  }

  document.addEventListener("DOMContentLoaded", async () => {
    $("checkout-form").addEventListener("submit", submit);
    $("restart").addEventListener("click", restart);
    await loadMethods();
    const id = new URL(window.location.href).searchParams.get("payment");
    if (id) await resume(id);
    document.body.dataset.ready = "true";
  });
})();
