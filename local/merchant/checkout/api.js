/* Every call the checkout makes, in one place, to the merchant's own backend (the "merchant
 * proxy", same origin, base path from <meta name="paygate-merchant-proxy">). Only the create
 * is made with the merchant's API key, which the proxy holds; its answer carries the
 * payment's client_secret, and every later call about that payment sends it in x-api-key
 * (the proxy passes it on and adds no key). The secret is kept in this tab's sessionStorage
 * so a reload (?payment=<id>) can resume; without it there is nothing to resume.
 *
 *   methods()              GET  {proxy}/methods              {"methods": [{key, provider, method,
 *                                                            minimum_amount, customer_fields, confirmation}]}
 *   create(provider, body) POST {proxy}/payments/{provider}  {method, amount, customer?, confirmation?}
 *   get(id)                GET  {proxy}/payments/{id}        → GET /v1/payments/{id} (client secret)
 *   confirm(id), cancel(id) POST {proxy}/payments/{id}/confirm|cancel (client secret)
 *   secretOf(id)           the client secret kept for a payment, or ""
 *   qrSource(text)         {proxy}/qr.svg?data={text}        the QR code for text (SVG drawn by segno)
 *
 * Each call answers {ok, status, data}; status 0 when nothing answered. */
(function () {
  "use strict";

  const { PROXY, call } = window.paygateMerchant;
  const id = (value) => encodeURIComponent(value);
  const KEPT = "paygate-client-secret:";

  function secretOf(paymentId) {
    try {
      return window.sessionStorage.getItem(KEPT + paymentId) || "";
    } catch (_) {
      return "";
    }
  }

  function keep(payment) {
    if (!payment || !payment.id || !payment.client_secret) return;
    try {
      window.sessionStorage.setItem(KEPT + payment.id, payment.client_secret);
    } catch (_) {
      /* storage refused: the page still works until it is reloaded */
    }
  }

  /* A call about one payment, authorised by its client secret alone. */
  function asShopper(method, path, paymentId, body) {
    const secret = secretOf(paymentId);
    if (!secret) return Promise.resolve({ ok: false, status: 401, data: null });
    return call(method, path, body, { "x-api-key": secret });
  }

  async function create(provider, body) {
    const answer = await call("POST", `/payments/${id(provider)}`, body);
    if (answer.ok) keep(answer.data);
    return answer;
  }

  window.paygateCheckoutApi = Object.freeze({
    MAX_QR_BYTES: 2048, // what the QR route accepts
    methods: () => call("GET", "/methods"),
    create,
    get: (paymentId) => asShopper("GET", `/payments/${id(paymentId)}`, paymentId),
    confirm: (paymentId) => asShopper("POST", `/payments/${id(paymentId)}/confirm`, paymentId, {}),
    cancel: (paymentId) => asShopper("POST", `/payments/${id(paymentId)}/cancel`, paymentId, {}),
    secretOf,
    qrSource: (text) => `${PROXY}/qr.svg?data=${encodeURIComponent(text)}`,
  });
})();
