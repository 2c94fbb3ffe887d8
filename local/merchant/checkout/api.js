/* Every call the checkout makes, in one place: today to the merchant's own backend (the
 * "merchant proxy", same origin, base path from <meta name="paygate-merchant-proxy">, which
 * holds the API key). Switching to a per-payment client secret changes this file only.
 *
 *   methods()              GET  {proxy}/methods              {"methods": [{key, provider, method,
 *                                                            minimum_amount, customer_fields, confirmation}]}
 *   create(provider, body) POST {proxy}/payments/{provider}  {method, amount, customer?, confirmation?}
 *   get(id)                GET  {proxy}/payments/{id}        → GET /v1/payments/{id}
 *   confirm(id), cancel(id) POST {proxy}/payments/{id}/confirm|cancel
 *   qrSource(text)         {proxy}/qr.svg?data={text}        the QR code for text (SVG drawn by segno)
 *
 * Each call answers {ok, status, data}; status 0 when nothing answered. */
(function () {
  "use strict";

  const { PROXY, call } = window.paygateMerchant;
  const id = (value) => encodeURIComponent(value);

  window.paygateCheckoutApi = Object.freeze({
    MAX_QR_BYTES: 2048, // what the QR route accepts
    methods: () => call("GET", "/methods"),
    create: (provider, body) => call("POST", `/payments/${id(provider)}`, body),
    get: (paymentId) => call("GET", `/payments/${id(paymentId)}`),
    confirm: (paymentId) => call("POST", `/payments/${id(paymentId)}/confirm`, {}),
    cancel: (paymentId) => call("POST", `/payments/${id(paymentId)}/cancel`, {}),
    qrSource: (text) => `${PROXY}/qr.svg?data=${encodeURIComponent(text)}`,
  });
})();
