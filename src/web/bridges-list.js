// Ponte bridges page: the table of bridges (#bridge-list), each with its kind, endpoint,
// state (and why it is off), health and backlog, and the buttons to show its deliveries
// (wired by bridges.js) and to turn it on or off.

import { $, api, bridgePath, el, failed, keepingFocus, say, state, timeCell } from "./bridges-base.js";
import { t } from "./bridges-texts.js";

export async function loadBridges() {
  const answer = await api("GET", "/api/admin/bridges");
  state.bridges = (answer && answer.bridges) || [];
  keepingFocus(renderBridges);
}

function stateCell(bridge) {
  const cell = el("td", {}, el("span", {
    class: "br-badge " + (bridge.enabled ? "br-badge-on" : "br-badge-off"),
    text: bridge.enabled ? t("enabled") : t("disabled"),
  }));
  if (!bridge.enabled && bridge.disabled_reason) {
    const known = { admin: t("reason_admin"), gone: t("reason_gone") };
    cell.append(el("span", { class: "br-reason", text: known[bridge.disabled_reason] || bridge.disabled_reason }));
  }
  return cell;
}

export function renderBridges() {
  const list = $("bridge-list");
  list.replaceChildren(
    ...state.bridges.map((bridge) => {
      const health = bridge.health || {};
      const selected = state.selected === bridge.id;
      const failing = (health.failures_since_success || 0) > 0;
      return el(
        "tr",
        { "data-bridge-id": bridge.id, class: selected ? "br-selected" : "", "aria-current": selected ? "true" : false },
        el("th", { scope: "row", text: bridge.id }),
        el("td", { text: bridge.kind }),
        el("td", { class: "br-endpoint", text: bridge.endpoint }),
        stateCell(bridge),
        timeCell(health.last_success_at),
        timeCell(health.last_failure_at),
        el("td", { class: "br-number" + (failing ? " br-warn" : ""), text: health.failures_since_success ?? 0 }),
        el("td", { class: "br-number", text: health.backlog ?? 0 }),
        el("td", { class: "br-number" + ((health.dead || 0) > 0 ? " br-warn" : ""), text: health.dead ?? 0 }),
        el(
          "td",
          { class: "br-actions" },
          el("button", {
            type: "button",
            class: "secondary",
            "data-select": bridge.id,
            "data-focus-key": "select:" + bridge.id,
            "aria-pressed": selected ? "true" : "false",
            "aria-label": t("show_deliveries_label", { id: bridge.id }),
            text: t("show_deliveries"),
          }),
          el("button", {
            type: "button",
            class: bridge.enabled ? "danger" : "",
            "data-toggle": bridge.id,
            "data-focus-key": "toggle:" + bridge.id,
            "aria-label": t(bridge.enabled ? "disable_label" : "enable_label", { id: bridge.id }),
            text: bridge.enabled ? t("disable") : t("enable"),
            onclick: (event) => toggleBridge(bridge, event.currentTarget),
          }),
        ),
      );
    }),
  );
  $("bridge-empty").hidden = state.bridges.length > 0;
}

async function toggleBridge(bridge, button) {
  button.disabled = true;
  const action = bridge.enabled ? "disable" : "enable";
  try {
    await api("POST", bridgePath(bridge.id) + "/" + action);
    say(t(action === "enable" ? "enabled_done" : "disabled_done", { id: bridge.id }));
    await loadBridges();
  } catch (error) {
    button.disabled = false;
    failed(error);
  }
}
