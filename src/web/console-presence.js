// Ponte — attendants' console: the caller's presence on each channel (online, offline, paused
// with a reason), how long they have been in that state, and their totals for the day.

import { api } from "./console-api.js";
import { $, announce, debounce, duration, el, shortDuration, showError } from "./console-dom.js";
import { channelLabel, reasonLabel, t } from "./console-i18n.js";
import { scheduleRefresh } from "./console-lists.js";
import { KEYS, loadJson, myId, state } from "./console-state.js";

function stateKey(value) {
  if (!value) return "offline";
  return value.state === "paused" ? `paused:${value.reason || ""}` : value.state;
}

/** When the caller entered `value` on `channel`, as this tab saw it. */
function presenceSince(channel, value) {
  const since = loadJson(sessionStorage, KEYS.since, {});
  const key = stateKey(value);
  const entry = since[`${myId()}:${channel}`];
  if (entry && entry.key === key) return entry.at;
  const at = Date.now();
  since[`${myId()}:${channel}`] = { key, at };
  sessionStorage.setItem(KEYS.since, JSON.stringify(since));
  return at;
}

function pauseForm(channel) {
  const selectId = `pause-reason-${channel}`;
  const select = el("select", { id: selectId, class: "pause-reason", dataset: { pauseChannel: channel }, required: true },
    el("option", { value: "" }, t("choose_reason")),
    ...(state.config.pause_reasons || []).map((reason) => el("option", { value: reason }, reasonLabel(reason))),
  );
  const form = el("form", { class: "pause-form", id: `pause-form-${channel}` },
    el("label", { for: selectId }, t("pause_reason", { channel: channelLabel(channel) })),
    el("div", { class: "pause-form-row" }, select, el("button", { type: "submit", class: "button small primary" }, t("pause_confirm"))),
  );
  // Picking a reason with the mouse (or touch) pauses straight away; with the keyboard the
  // arrows only browse and Enter / the Pause button confirms.
  let browsingWithKeys = false;
  select.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    browsingWithKeys = event.key.startsWith("Arrow") || event.key === "Home" || event.key === "End" || event.key.length === 1;
  });
  select.addEventListener("pointerdown", () => { browsingWithKeys = false; });
  select.addEventListener("change", () => {
    if (browsingWithKeys || !select.value) return;
    state.pauseOpen.delete(channel);
    setPresence(channel, "paused", select.value);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!select.value) { select.focus(); return; }
    state.pauseOpen.delete(channel);
    setPresence(channel, "paused", select.value);
  });
  return form;
}

function presenceRow(channel) {
  const value = state.me.channels[channel] || { state: "offline" };
  const isOnline = value.state === "online";
  const isPaused = value.state === "paused";
  const since = presenceSince(channel, value);
  const checkboxId = `presence-${channel}`;
  const checkbox = el("input", {
    type: "checkbox",
    id: checkboxId,
    class: "switch",
    dataset: { presenceChannel: channel },
    "aria-describedby": `presence-state-${channel}`,
  });
  checkbox.checked = isOnline;
  checkbox.addEventListener("change", () => setPresence(channel, checkbox.checked ? "online" : "offline"));
  const stateText = isPaused ? t("paused_reason", { reason: reasonLabel(value.reason) }) : t(isOnline ? "online" : "offline");
  const row = el("li", { class: "presence-row", dataset: { channel } },
    el("div", { class: "presence-main" },
      el("label", { for: checkboxId, class: "switch-label" }, checkbox, el("span", { class: "channel-name" }, channelLabel(channel))),
      el("span", { id: `presence-state-${channel}`, class: `presence-state state-${value.state}` },
        el("span", { class: "dot", "aria-hidden": "true" }),
        el("span", { class: "presence-state-text" }, stateText),
        " ",
        el("span", { class: "presence-timer", dataset: { since: String(since) } }, t("in_state_for", { time: duration(Date.now() - since) })),
      ),
    ),
  );
  const controls = el("div", { class: "presence-controls" });
  if (isPaused) {
    controls.append(el("button", {
      type: "button", class: "button small secondary", id: `presence-resume-${channel}`,
      onclick: () => setPresence(channel, "online"),
    }, t("resume")));
  } else if (isOnline) {
    controls.append(el("button", {
      type: "button",
      class: "button small secondary",
      id: `presence-pause-${channel}`,
      "aria-expanded": state.pauseOpen.has(channel) ? "true" : "false",
      "aria-controls": `pause-form-${channel}`,
      onclick: () => {
        if (state.pauseOpen.has(channel)) state.pauseOpen.delete(channel);
        else state.pauseOpen.add(channel);
        renderPresence();
        const select = $(`pause-reason-${channel}`);
        if (select) select.focus();
      },
    }, t("pause")));
  }
  row.append(controls);
  if (isOnline && state.pauseOpen.has(channel)) row.append(pauseForm(channel));
  return row;
}

export function renderPresence() {
  const list = $("presence");
  const me = state.me;
  if (!me) return;
  const focusedId = document.activeElement && list.contains(document.activeElement) ? document.activeElement.id : null;
  list.replaceChildren(...Object.keys(me.channels || {}).map(presenceRow));
  $("presence-totals").textContent = t("totals", {
    online: shortDuration(me.time_online_ms),
    paused: shortDuration(me.time_paused_ms),
    active: me.active_chats ?? 0,
    max: me.max_chats ?? 0,
  });
  if (focusedId && $(focusedId)) $(focusedId).focus();
}

async function setPresence(channel, wanted, reason) {
  const body = { channel, state: wanted };
  if (reason) body.reason = reason;
  try {
    state.me = await api("PUT", "/api/desk/presence", body);
    announce(t("presence_saved"));
  } catch (error) {
    showError(error);
  }
  renderPresence();
  scheduleRefresh();
}

export async function refreshPresence() {
  try {
    state.me = await api("GET", "/api/desk/presence");
    renderPresence();
  } catch (_) { /* shown elsewhere */ }
}

/** Capturing, closing or being given a chat changes the caller's load: read it again soon. */
export const presenceSoon = debounce(refreshPresence, 600);

/** Moves the "for 03:12" timers on. */
export function tick() {
  for (const timer of document.querySelectorAll(".presence-timer")) {
    const since = Number(timer.dataset.since);
    if (since) timer.textContent = t("in_state_for", { time: duration(Date.now() - since) });
  }
}
