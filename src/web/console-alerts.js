// Ponte — attendants' console: alerting the attendant. A new chat in the queue and a
// requester's new message (in a chat of theirs or in the queue) play a short tone, made with
// the Web Audio API, and raise a desktop notification, each behind its own switch kept in the
// browser; only when that chat is not the one on screen (or the page is hidden). Turning the
// desktop switch on asks the browser's permission.

import { requesterName } from "./console-data.js";
import { $, announce } from "./console-dom.js";
import { LANG, t } from "./console-i18n.js";
import { findRecord } from "./console-lists.js";
import { KEYS, emit, isMember, myId, on, state } from "./console-state.js";

/** The queued chats at the last refresh (null until the first). */
let queued = null;
/** Chats whose requester wrote, with the time of the last message known then. */
const wrote = new Map();
let audio = null;

const notifications = () => (typeof window.Notification === "function" ? window.Notification : null);
const soundOn = () => localStorage.getItem(KEYS.sound) !== "off";
const desktopOn = () => localStorage.getItem(KEYS.desktop) === "on" && notifications() && notifications().permission === "granted";
const lastAt = (record) => (record && record.last_message ? record.last_message.created_at : 0);

/** News about chat `id` is worth an alert when the page is hidden or the chat is not open. */
function unseen(id) {
  return document.visibilityState === "hidden" || !state.open || state.open.id !== id;
}

/** Browsers start sound only after the reader did something: a click or a key wakes it. */
function wakeAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context || !soundOn()) return null;
  if (!audio) audio = new Context();
  if (audio.state === "suspended") audio.resume().catch(() => {});
  return audio;
}

/** A short soft tone: two rising notes for a new chat, one for a new message. */
function tone(frequencies) {
  const context = wakeAudio();
  if (!context) return;
  const start = context.currentTime + 0.01;
  frequencies.forEach((frequency, index) => {
    const at = start + index * 0.14;
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.18, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.22);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(at);
    oscillator.stop(at + 0.25);
  });
}

function notify(kind, record) {
  const id = record.conversation_id;
  const name = requesterName(record);
  const body = record.last_message ? record.last_message.body : "";
  if (soundOn()) tone(kind === "chat" ? [660, 880] : [880]);
  if (!desktopOn()) return;
  const title = kind === "chat" ? t("notify_new_chat") : t("notify_new_message", { name });
  const text = kind === "chat" ? [name, body].filter(Boolean).join(": ") : body;
  try {
    const Notification = notifications();
    const note = new Notification(title, { body: text, tag: `ponte-${id}`, lang: LANG });
    note.onclick = () => {
      window.focus();
      emit("open-chat", { id });
      if (typeof note.close === "function") note.close();
    };
  } catch (_) { /* a browser that wants a service worker for this: the tone played */ }
}

function onLists() {
  const waiting = state.chats.filter((record) => record.state === "queued");
  const fresh = queued === null ? [] : waiting.filter((record) => !queued.has(record.conversation_id));
  queued = new Set(waiting.map((record) => record.conversation_id));
  for (const record of fresh) {
    wrote.delete(record.conversation_id);
    if (unseen(record.conversation_id)) notify("chat", record);
  }
  for (const [id, known] of wrote) {
    const record = findRecord(id);
    // A refresh that started before the message came does not show it yet: wait for the next.
    if (!record || lastAt(record) <= known.at) {
      known.tries += 1;
      if (known.tries > 3) wrote.delete(id);
      continue;
    }
    wrote.delete(id);
    const mine = record.state === "in_progress" && isMember(record, myId());
    if ((mine || record.state === "queued") && unseen(id)) notify("message", record);
  }
}

async function desktopSwitched() {
  const box = $("alert-desktop");
  if (!box.checked) {
    localStorage.setItem(KEYS.desktop, "off");
    return;
  }
  const Notification = notifications();
  if (!Notification) {
    box.checked = false;
    announce(t("desktop_unsupported"), true);
    return;
  }
  let permission = Notification.permission;
  if (permission !== "granted") {
    try {
      permission = await Notification.requestPermission();
    } catch (_) {
      permission = "denied";
    }
  }
  const granted = permission === "granted";
  box.checked = granted;
  localStorage.setItem(KEYS.desktop, granted ? "on" : "off");
  announce(granted ? t("desktop_on") : t("desktop_denied"), !granted);
}

export function wireAlerts() {
  $("alert-sound").checked = soundOn();
  $("alert-desktop").checked = Boolean(desktopOn());
  $("alert-sound").addEventListener("change", () => {
    localStorage.setItem(KEYS.sound, $("alert-sound").checked ? "on" : "off");
    wakeAudio();
  });
  $("alert-desktop").addEventListener("change", desktopSwitched);
  for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, wakeAudio, { once: true, capture: true });
  on("lists", onLists);
  on("unread", ({ id }) => {
    if (!wrote.has(id)) wrote.set(id, { at: lastAt(findRecord(id)), tries: 0 });
  });
  on("signed-out", () => {
    queued = null;
    wrote.clear();
  });
}
