// Ponte's staff pages: the HTTP client of the API. It sends the page's bearer token (or,
// signed in with a password, relies on the session cookie and sends the X-Ponte-Csrf header
// the server asks of a cookie's writes), JSON in
// and out, and turns a failed answer into an ApiError { status, code, message, detail }: the
// server's stable error code (see src/http/error.rs) read out in the reader's language by
// errors.js (`window.PonteErrors`, a classic script loaded before the page's modules), its
// English `message` kept as `detail` for the page to look into, never shown.

import { UI_LANG } from './staff-lang.js';

export class ApiError extends Error {
  constructor(status, code, message, detail) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail || '';
  }
}

// A client. `token()` gives the token to send (none while signed out); `network` is the
// sentence for a server that cannot be reached, `rateLimited(seconds)` (optional) the one
// for a 429, and `codes` (optional) the page's own sentences for some error codes.
export function createApi({ token, network, rateLimited, codes }) {
  const own = codes || {};

  async function failure(response) {
    let data = null;
    const text = await response.text().catch(() => '');
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = null; }
    }
    const code = data && typeof data.code === 'string' ? data.code : '';
    const detail = data && typeof data.message === 'string' ? data.message : '';
    let message = own[code] || window.PonteErrors.text(code, UI_LANG, response.status);
    if (response.status === 429 && rateLimited) {
      message = rateLimited(response.headers.get('Retry-After') || '1');
    }
    return new ApiError(response.status, code, message, detail);
  }

  // The answer to `method path` (with `body` as JSON, when given), accepting `accept`;
  // throws an ApiError unless it is a success.
  async function send(method, path, body, accept) {
    const headers = { Accept: accept || 'application/json' };
    const bearer = token();
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    else headers['X-Ponte-Csrf'] = '1';
    const init = { method, headers, cache: 'no-store', credentials: 'same-origin' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (_) {
      throw new ApiError(0, 'network', network);
    }
    if (!response.ok) throw await failure(response);
    return response;
  }

  // { status, data }: the answer's status and its JSON body (null when empty or not JSON).
  async function json(method, path, body) {
    const response = await send(method, path, body, 'application/json');
    const text = await response.text().catch(() => '');
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = null; }
    }
    return { status: response.status, data };
  }

  return { send, json };
}
