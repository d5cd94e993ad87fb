// Ponte — attendants' console: small DOM and formatting helpers (`$`, `el`, times and
// durations in the reader's language, debounce, the status line that announces what
// happened). User-supplied text only ever becomes text nodes here: `el` never parses markup.

import { LANG, t } from "./console-i18n.js";

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function duration(ms) {
  const total = Math.max(0, Math.floor((ms || 0) / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}

export function shortDuration(ms) {
  const minutes = Math.round((ms || 0) / 60000);
  if (minutes < 1) return "< 1 min";
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const timeFormat = new Intl.DateTimeFormat(LANG, { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(LANG, { dateStyle: "short", timeStyle: "short" });

export function toDate(value) {
  if (value === undefined || value === null) return null;
  // Seconds or milliseconds since the epoch.
  if (typeof value === "number") return new Date(value < 1e12 ? value * 1000 : value);
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The time today, else the date and time. */
export function formatTime(value) {
  const date = toDate(value);
  if (!date) return "";
  return date.toDateString() === new Date().toDateString() ? timeFormat.format(date) : dateTimeFormat.format(date);
}

/** A `<time>` element for `value`, machine-readable too. */
export function timeElement(value, attrs) {
  const date = toDate(value);
  return el("time", { ...attrs, datetime: date ? date.toISOString() : undefined }, formatTime(value));
}

export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

export function randomId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return Date.now().toString(36) + Math.random().toString(36).slice(2);
}

/** Whether a key pressed in `target` is typing (a text field, a list box, editable text). */
export function isTyping(target) {
  if (!target || !(target instanceof Element)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

let announceTimer = null;
export function announce(text, isError) {
  const line = $("status-line");
  line.textContent = text;
  line.classList.toggle("is-error", Boolean(isError));
  line.classList.add("visible");
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => line.classList.remove("visible"), isError ? 8000 : 4000);
}

export function showError(error) {
  announce(error && error.message ? error.message : String(error || t("error_network")), true);
}

/** A paperclip drawn inline (an emoji shows as an empty box without an emoji font). */
export function clipIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [name, value] of [["viewBox", "0 0 24 24"], ["class", "clip-icon"], ["aria-hidden", "true"], ["focusable", "false"]]) svg.setAttribute(name, value);
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.5 3.5 0 0 1 5 5l-8.6 8.6a2 2 0 0 1-2.8-2.8l7.9-7.9");
  for (const [name, value] of [["fill", "none"], ["stroke", "currentColor"], ["stroke-width", "2"], ["stroke-linecap", "round"]]) path.setAttribute(name, value);
  svg.append(path);
  return svg;
}
