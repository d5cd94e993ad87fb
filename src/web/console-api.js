// Ponte — attendants' console: the HTTP API client (`api`, with the bearer token kept for the
// tab's session, or, signed in with a password, the session cookie plus the X-Ponte-Csrf
// header the server asks of a cookie's writes) and the addresses of the live sockets. A 401 anywhere but signing in tells
// the page the session ended (the `unauthorized` event). An error's text comes from its
// stable code (errors.js, errors-staff.js), never from the server's English message.

import { LANG, t } from "./console-i18n.js";
import { KEYS, emit } from "./console-state.js";

let token = sessionStorage.getItem(KEYS.token) || "";

export function currentToken() {
  return token;
}

/** Uses `value` from now on (not kept yet: see `keepToken`). */
export function useToken(value) {
  token = value;
}

/** Keeps the token in use for the tab's session (a reload stays signed in). */
export function keepToken() {
  sessionStorage.setItem(KEYS.token, token);
}

/** Forgets the token, here and in the tab's session. */
export function forgetToken() {
  token = "";
  sessionStorage.removeItem(KEYS.token);
}

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code || "";
  }
}

/** Calls the API: `options.raw` sends `body` as it is, `options.blob` answers a Blob,
 *  `options.signin` keeps a 401 from ending the session. */
export async function api(method, path, body, options) {
  const headers = token ? { Authorization: `Bearer ${token}` } : { "X-Ponte-Csrf": "1" };
  let payload;
  if (options && options.raw) {
    payload = body;
    headers["Content-Type"] = options.contentType || "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: payload, cache: "no-store", credentials: "same-origin",
    });
  } catch (_) {
    throw new ApiError(0, t("error_network"), "network");
  }
  if (options && options.blob && response.ok) return response.blob();
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (_) { data = null; }
  }
  if (!response.ok) {
    const code = data && typeof data.code === "string" ? data.code : "";
    const error = new ApiError(response.status, window.PonteErrors.text(code, LANG, response.status), code);
    if (response.status === 401 && !(options && options.signin)) emit("unauthorized");
    throw error;
  }
  return data;
}

export function wsUrl(path, params) {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  for (const [key, value] of Object.entries(params || {})) url.searchParams.set(key, value);
  // Without a token the socket carries the session cookie (same origin).
  if (token) url.searchParams.set("token", token);
  return url.toString();
}
