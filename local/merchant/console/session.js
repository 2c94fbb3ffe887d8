/* The console's operator session: who is signed in, their ID token (kept in sessionStorage:
 * gone when the tab closes, never in a cookie), sign-in and sign-out. Loaded before app.js as
 * window.paygateSession.
 *
 * Two ways to sign in, chosen by the page's <meta> tags:
 *   - <meta name="paygate-sign-in" content="/_local/cognito/sign-in">: the local runtime's
 *     user pool (make run): the form below posts {username, password} there and gets
 *     {id_token, expires_in, email, groups}.
 *   - <meta name="paygate-hosted-ui" content="https://<domain>.auth.<region>.amazoncognito.com">
 *     with <meta name="paygate-client-id" content="...">: the user pool's hosted UI
 *     (deployed, ops/upload_console.py writes these): authorization code with PKCE, the code
 *     exchanged at /oauth2/token for the ID token.
 * The server is the guard: the gateway refuses a missing or expired token (401) and a viewer's
 * review (403); what the page hides for a viewer is only a convenience. */
(function () {
  "use strict";

  const KEY = "paygate-operator";
  const VERIFIER = "paygate-pkce-verifier";
  const meta = (name) => (document.querySelector(`meta[name="${name}"]`) || {}).content || "";
  const LOCAL_SIGN_IN = meta("paygate-sign-in");
  const HOSTED_UI = meta("paygate-hosted-ui").replace(/\/+$/, "");
  const CLIENT_ID = meta("paygate-client-id");

  function decodeClaims(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const text = atob(part + "=".repeat((4 - (part.length % 4)) % 4));
      return JSON.parse(decodeURIComponent(Array.from(text, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join("")));
    } catch (_) {
      return null;
    }
  }

  function save(token) {
    const claims = decodeClaims(token);
    if (!claims) return null;
    const groups = Array.isArray(claims["cognito:groups"]) ? claims["cognito:groups"] : [];
    const session = { token, email: claims.email || claims.sub, groups, expires: Number(claims.exp) * 1000 };
    window.sessionStorage.setItem(KEY, JSON.stringify(session));
    return session;
  }

  /* The current session, or null (none, or past its token's expiry by the browser's clock:
   * the gateway's 401 decides in the end). */
  function current() {
    try {
      const session = JSON.parse(window.sessionStorage.getItem(KEY) || "null");
      if (session && session.token && (!session.expires || session.expires > Date.now())) return session;
    } catch (_) {
      /* a damaged entry is no session */
    }
    return null;
  }

  function signOut() {
    window.sessionStorage.removeItem(KEY);
  }

  async function signInLocal(username, password) {
    try {
      const response = await fetch(LOCAL_SIGN_IN, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ username, password }),
      });
      const data = await response.json().catch(() => null);
      if (!response.ok) {
        const message = data && data.error && data.error.message;
        return { ok: false, message: message || `Không đăng nhập được (HTTP ${response.status}). Sign-in failed: try again.` };
      }
      const session = save(data.id_token);
      return session ? { ok: true, session } : { ok: false, message: "Máy chủ trả về mã không hợp lệ. The server answered an unreadable token." };
    } catch (_) {
      return { ok: false, message: "Máy chủ không trả lời: thử lại. The server did not answer: try again." };
    }
  }

  function base64url(bytes) {
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function redirectUri() {
    return `${window.location.origin}${window.location.pathname}`;
  }

  /* Hosted UI: to the user pool's sign-in page with a PKCE challenge. */
  async function startHostedSignIn() {
    const verifier = base64url(window.crypto.getRandomValues(new Uint8Array(32)));
    window.sessionStorage.setItem(VERIFIER, verifier);
    const digest = await window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    const params = new URLSearchParams({
      response_type: "code",
      client_id: CLIENT_ID,
      redirect_uri: redirectUri(),
      scope: "openid email",
      code_challenge_method: "S256",
      code_challenge: base64url(new Uint8Array(digest)),
    });
    window.location.assign(`${HOSTED_UI}/oauth2/authorize?${params}`);
  }

  /* Back from the hosted UI with ?code=: exchanged for the ID token, the code removed from
   * the address bar. */
  async function finishHostedSignIn() {
    const params = new URLSearchParams(window.location.search);
    const code = params.get("code");
    const verifier = window.sessionStorage.getItem(VERIFIER);
    if (!HOSTED_UI || !code || !verifier) return null;
    window.sessionStorage.removeItem(VERIFIER);
    window.history.replaceState(null, "", redirectUri() + window.location.hash);
    const body = new URLSearchParams({
      grant_type: "authorization_code", client_id: CLIENT_ID, code, redirect_uri: redirectUri(), code_verifier: verifier,
    });
    try {
      const response = await fetch(`${HOSTED_UI}/oauth2/token`, {
        method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body,
      });
      const data = await response.json();
      return response.ok && data.id_token ? save(data.id_token) : null;
    } catch (_) {
      return null;
    }
  }

  function hostedSignOut() {
    const params = new URLSearchParams({ client_id: CLIENT_ID, logout_uri: redirectUri() });
    window.location.assign(`${HOSTED_UI}/logout?${params}`);
  }

  window.paygateSession = Object.freeze({
    hosted: Boolean(HOSTED_UI && CLIENT_ID),
    current,
    signOut,
    signInLocal,
    startHostedSignIn,
    finishHostedSignIn,
    hostedSignOut,
    isReviewer: (session) => Boolean(session && session.groups.includes("reviewer")),
  });
})();
