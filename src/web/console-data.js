// Ponte — attendants' console: the desk's reference data (configuration, people, quick
// replies, macros) and how people and requesters are named on the page: display names
// instead of ids, their initials, and the small round avatar that shows them.

import { api } from "./console-api.js";
import { el } from "./console-dom.js";
import { t } from "./console-i18n.js";
import { state } from "./console-state.js";

export async function loadConfig() {
  const config = await api("GET", "/api/desk/config");
  state.config = config || state.config;
}

export async function loadPeople() {
  const answer = await api("GET", "/api/desk/people");
  state.people = (answer && answer.people) || [];
}

export async function loadQuickReplies() {
  const answer = await api("GET", "/api/desk/quick-replies");
  state.quickReplies = (answer && answer.quick_replies) || [];
}

export async function loadMacros() {
  const answer = await api("GET", "/api/desk/macros");
  state.macros = (answer && answer.macros) || [];
}

/** A person's display name (their id only when the desk does not know them). */
export function personName(id) {
  if (!id) return "";
  const person = state.people.find((p) => p.id === id);
  return person ? person.name : id;
}

const GUEST = "guest-";

/** How a chat's requester is called: the contact's name, "Visitor 3F2A" for an anonymous
 *  guest of the widget, else the requester's id (a portal user name). */
export function requesterName(record) {
  if (record.contact && record.contact.name) return record.contact.name;
  const id = String(record.requester || record.conversation_id || "");
  if (id.startsWith(GUEST)) return t("guest", { code: id.slice(-4).toUpperCase() });
  return id;
}

/** The first letter of the first and of the last word: "Maria da Silva" → "MS". */
export function initials(name) {
  const words = String(name || "").split(/[\s._@-]+/).filter((word) => /\p{L}|\p{N}/u.test(word));
  if (!words.length) return "?";
  const first = [...words[0]].find((c) => /\p{L}|\p{N}/u.test(c)) || "?";
  if (words.length === 1) return first.toUpperCase();
  const last = [...words[words.length - 1]].find((c) => /\p{L}|\p{N}/u.test(c)) || "";
  return (first + last).toUpperCase();
}

/** A round badge with `name`'s initials, its colour fixed by `key`; decorative (the name is
 *  always written beside it). */
export function avatar(name, key, extraClass) {
  let hash = 0;
  for (const c of String(key || name)) hash = (hash * 31 + c.codePointAt(0)) >>> 0;
  return el("span", { class: `avatar avatar-${hash % 8}${extraClass ? " " + extraClass : ""}`, "aria-hidden": "true" }, initials(name));
}

/** A requester's badge: their contact's initials; an anonymous guest's, "Visitor"'s. */
export function requesterAvatar(record) {
  const id = String(record.requester || "");
  const anonymous = !(record.contact && record.contact.name) && id.startsWith(GUEST);
  return avatar(anonymous ? t("guest", { code: "" }) : requesterName(record), id);
}
