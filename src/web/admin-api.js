// Ponte admin page: the HTTP client and the session. The bearer token lives in the tab's
// session storage under the key the console, the knowledge page and the reports share (one
// sign-in per tab for all of them); `verify` checks that it is an administrator's. Every
// call goes to the same API the page documents elsewhere, so every change meets the
// server's validation; a failure carries the API's stable code and a sentence in the
// reader's language. A token refused mid-session (401) calls the handler the page
// registers with `onAuthLoss`. Without a token, the page may be signed in with a password
// (the session cookie /signin sets): calls then carry the X-Ponte-Csrf header the server
// asks of a cookie's writes, and forgetting the session ends it on the server. The page's copy of what the server holds is `data`, and
// `changed` tells the sections when a part of it was reloaded.

import { errorText } from './admin-texts.js';
import { endPasswordSession } from './staff-session.js';

const TOKEN_KEY = 'ponte.token';

let token = sessionStorage.getItem(TOKEN_KEY) || '';
// Signed in through the password session's cookie.
let cookie = false;
let authLoss = () => {};

/** What the server holds, as last read: the sections render from it. */
export const data = {
  people: [],
  projects: [],
  config: null,
  quickReplies: [],
  macros: [],
  parameters: [],
  tokens: [],
};

/** Fires `change` events (`detail`: the part of `data` that was reloaded). */
export const changed = new EventTarget();

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const storedToken = () => token;

/** Called with the failure when the server stops taking the token. */
export function onAuthLoss(handler) {
  authLoss = handler;
}

/** One API call; the parsed JSON answer, or an ApiError. */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
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
    throw new ApiError(0, 'network', errorText('network', 0));
  }
  const text = await response.text();
  let answer = null;
  try {
    answer = text ? JSON.parse(text) : null;
  } catch (_) {
    answer = null;
  }
  if (!response.ok) {
    // The server's own message is English for developers: the page says what the code means.
    const code = answer && typeof answer.code === 'string' ? answer.code : '';
    const failure = new ApiError(response.status, code, errorText(code, response.status));
    // Revoked or expired while the page was open. (A token's role never changes, so an
    // administrator's is never refused with 403 later.)
    if ((token || cookie) && response.status === 401) authLoss(failure);
    throw failure;
  }
  return answer;
}

/**
 * Tries `candidate` on an admin-only route; keeps it for the tab when it is accepted. A
 * `null` candidate tries the password session's cookie instead.
 */
export async function verify(candidate) {
  const previous = token;
  token = candidate || '';
  cookie = candidate === null;
  try {
    const answer = await api('GET', '/api/admin/parameters');
    if (candidate) sessionStorage.setItem(TOKEN_KEY, candidate);
    data.parameters = (answer && answer.parameters) || [];
    return answer;
  } catch (error) {
    token = previous === candidate ? '' : previous;
    cookie = false;
    if ([401, 403].includes(error.status)) sessionStorage.removeItem(TOKEN_KEY);
    throw error;
  }
}

export function forget() {
  if (cookie) {
    endPasswordSession();
    cookie = false;
  }
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
}

/** Reloads one part of `data` from the server and tells the sections. */
export async function reload(part) {
  const read = {
    people: async () => (await api('GET', '/api/desk/people')).people,
    projects: async () => (await api('GET', '/api/desk/projects')).projects,
    config: async () => api('GET', '/api/desk/config'),
    quickReplies: async () => (await api('GET', '/api/desk/quick-replies')).quick_replies,
    macros: async () => (await api('GET', '/api/desk/macros')).macros,
    parameters: async () => (await api('GET', '/api/admin/parameters')).parameters,
    tokens: async () => (await api('GET', '/api/admin/tokens')).tokens,
  }[part];
  data[part] = (await read()) || (part === 'config' ? null : []);
  changed.dispatchEvent(new CustomEvent('change', { detail: part }));
}

/** Path segment for an id typed by a person. */
export const segment = (id) => encodeURIComponent(id);

/** "a, b,, c" -> ["a", "b", "c"] */
export function splitList(text) {
  return String(text || '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}
