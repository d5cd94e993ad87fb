// Ponte bridges page: what its parts share. Building elements, instants as the reader
// writes them, the status line, the page's state, its API client and its sign-in (an
// administrator's token, kept apart from the other staff pages' one), and telling a
// failure (an ended session goes back to the form).

import { createApi } from "./staff-api.js";
import { UI_LANG } from "./staff-lang.js";
import { createSignin } from "./staff-signin.js";
import { t } from "./bridges-texts.js";

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const dateTime = new Intl.DateTimeFormat(UI_LANG, { dateStyle: "short", timeStyle: "medium" });

function when(ms) {
  return typeof ms === "number" ? dateTime.format(new Date(ms)) : t("never");
}

// A <time> element: readable text, the exact instant for machines.
export function timeCell(ms) {
  if (typeof ms !== "number") return el("td", { class: "br-muted", text: t("never") });
  return el("td", {}, el("time", { datetime: new Date(ms).toISOString(), text: when(ms) }));
}

export function say(text, isError) {
  const line = $("br-status");
  line.textContent = text;
  line.classList.toggle("br-status-error", Boolean(isError));
}

// ---------------------------------------------------------------- API

export const session = createSignin({
  storageKey: "ponte.admin-token",
  app: "bridges",
  texts: {
    empty: t("signin_empty"),
    unknown: t("signin_invalid"),
    forbidden: t("signin_forbidden"),
    ended: t("session_expired"),
    signIn: t("sign_in"),
    signingIn: t("signing_in"),
  },
});

const client = createApi({ token: () => session.token, network: t("error_network") });

// The JSON answer to `method path`.
export async function api(method, path, body) {
  return (await client.json(method, path, body)).data;
}

export const bridgePath = (id) => "/api/admin/bridges/" + encodeURIComponent(id);

// A failure after signing in: an ended session goes back to the form, anything else is told.
export function failed(error) {
  if (session.lost(error)) return;
  say(error && error.message ? error.message : String(error), true);
}

// ---------------------------------------------------------------- state

export const state = {
  signedIn: false,
  bridges: [],
  selected: null, // the bridge whose deliveries show
  events: [],
  detail: null, // the event whose attempts show
  timer: null,
};

// Re-rendering replaces rows: the focused control is found again by its key.
export function keepingFocus(render) {
  const key = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.focusKey : null;
  render();
  if (key) {
    const again = document.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
    if (again) again.focus();
  }
}
