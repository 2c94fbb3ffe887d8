/* What the checkout page and the operator console share: where the merchant proxy answers
 * (<meta name="paygate-merchant-proxy">, same origin), the methods' and providers' names, a
 * DOM builder, VND amounts, and one JSON call to the proxy. Loaded before each page's app.js
 * as window.paygateMerchant. */
(function () {
  "use strict";

  const PROXY = (document.querySelector('meta[name="paygate-merchant-proxy"]') || {}).content || "/merchant";
  const METHOD_LABELS = {
    vietqr: "VietQR",
    ewallet: "E-wallet",
    bank_transfer: "Bank transfer",
    napas_atm: "ATM card (NAPAS)",
    nganluong_wallet: "Ngân Lượng wallet",
  };
  const PROVIDER_LABELS = { paypro: "Paypro", smartglocal: "Smart Glocal", monetix: "Monetix", ecommpay: "ecommpay" };

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    node.append(...children.filter((child) => child !== null && child !== undefined));
    return node;
  }

  /* `100000` → "100.000 ₫" (vi-VN grouping; a non-breaking space keeps ₫ with its number). */
  function vnd(amount) {
    return `${Number(amount).toLocaleString("vi-VN")}\u00a0₫`;
  }

  /* A JSON call to the proxy: {ok, status, data}; status 0 when nothing answered. */
  async function call(method, path, body, headers) {
    const options = { method, headers: { Accept: "application/json", ...(headers || {}) } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    try {
      const response = await fetch(PROXY + path, options);
      let data = null;
      try {
        data = await response.json();
      } catch (_) {
        data = null;
      }
      return { ok: response.ok, status: response.status, data };
    } catch (_) {
      return { ok: false, status: 0, data: null };
    }
  }

  window.paygateMerchant = Object.freeze({ PROXY, METHOD_LABELS, PROVIDER_LABELS, el, vnd, call });
})();
