// Ponte bridges page: a bridge's deliveries (#deliveries), filtered by status, one event's
// attempts, and replaying an event or a time range; `refresh` follows the server.

import { $, api, bridgePath, el, failed, keepingFocus, say, state, timeCell } from "./bridges-base.js";
import { loadBridges, renderBridges } from "./bridges-list.js";
import { t } from "./bridges-texts.js";

export async function selectBridge(id) {
  state.selected = id;
  state.detail = null;
  $("attempts").hidden = true;
  $("deliveries").hidden = false;
  $("deliveries-heading").textContent = t("deliveries_heading", { id });
  renderBridges();
  try {
    await loadDeliveries();
  } catch (error) {
    failed(error);
  }
}

export async function loadDeliveries() {
  if (!state.selected) return;
  const status = $("delivery-status").value;
  const query = new URLSearchParams({ limit: "100" });
  if (status) query.set("status", status);
  const answer = await api("GET", bridgePath(state.selected) + "/deliveries?" + query.toString());
  state.events = (answer && answer.events) || [];
  keepingFocus(renderDeliveries);
}

function statusText(status) {
  return t("status_" + status) || status;
}

function renderDeliveries() {
  $("delivery-list").replaceChildren(
    ...state.events.map((event) => {
      const replayable = event.status === "dead" || event.status === "delivered";
      return el(
        "tr",
        { "data-event-id": event.id, "data-status": event.status, class: state.detail === event.id ? "br-selected" : "" },
        el("th", { scope: "row", class: "br-mono", text: event.id }),
        el("td", { text: event.event_type }),
        el("td", { class: "br-mono", text: event.conversation_id }),
        timeCell(event.created_at),
        el("td", {}, el("span", { class: "br-badge br-badge-" + event.status, text: statusText(event.status) })),
        el("td", { class: "br-number", text: event.attempts }),
        el("td", { class: "br-error-text", text: event.last_error || "" }),
        el(
          "td",
          { class: "br-actions" },
          el("button", {
            type: "button",
            class: "secondary",
            "data-attempts": event.id,
            "data-focus-key": "attempts:" + event.id,
            "aria-label": t("show_attempts_label", { id: event.id }),
            text: t("show_attempts"),
            onclick: () => showAttempts(event.id),
          }),
          replayable &&
            el("button", {
              type: "button",
              "data-replay": event.id,
              "data-focus-key": "replay:" + event.id,
              "aria-label": t("replay_label", { id: event.id }),
              text: t("replay"),
              onclick: (click) => replayOne(event.id, click.currentTarget),
            }),
        ),
      );
    }),
  );
  $("delivery-empty").hidden = state.events.length > 0;
}

async function showAttempts(eventId) {
  if (!state.selected) return;
  try {
    const answer = await api("GET", bridgePath(state.selected) + "/deliveries/" + encodeURIComponent(eventId));
    state.detail = eventId;
    renderAttempts(eventId, (answer && answer.attempts) || []);
    keepingFocus(renderDeliveries);
    $("attempts-heading").focus();
  } catch (error) {
    failed(error);
  }
}

function renderAttempts(eventId, attempts) {
  $("attempts").hidden = false;
  $("attempts-heading").textContent = t("attempts_heading", { id: eventId });
  $("attempt-list").replaceChildren(
    ...attempts.map((attempt) =>
      el(
        "tr",
        { "data-attempt": attempt.attempt },
        el("th", { scope: "row", class: "br-number", text: attempt.attempt }),
        timeCell(attempt.at),
        el("td", { class: "br-number", text: attempt.status_code ?? t("no_answer") }),
        el("td", { class: "br-number", text: t("latency_ms", { ms: attempt.latency_ms }) }),
        el("td", { class: "br-error-text", text: attempt.error || "" }),
      ),
    ),
  );
  $("attempt-empty").hidden = attempts.length > 0;
}

async function replayOne(eventId, button) {
  if (!state.selected) return;
  button.disabled = true;
  try {
    await api("POST", bridgePath(state.selected) + "/replay", { event_id: eventId });
    say(t("replayed_one", { id: eventId }));
    await refresh();
  } catch (error) {
    button.disabled = false;
    failed(error);
  }
}

export async function replayRange(event) {
  event.preventDefault();
  const error = $("replay-error");
  error.textContent = "";
  const since = new Date($("replay-since").value).getTime();
  const until = new Date($("replay-until").value).getTime();
  if (!state.selected || !Number.isFinite(since) || !Number.isFinite(until) || since >= until) {
    error.textContent = t("replay_bad_range");
    $("replay-since").setAttribute("aria-invalid", "true");
    $("replay-since").focus();
    return;
  }
  $("replay-since").removeAttribute("aria-invalid");
  try {
    const answer = await api("POST", bridgePath(state.selected) + "/replay", { since, until });
    const count = (answer && answer.replayed) || 0;
    say(count === 1 ? t("replayed_single") : t("replayed", { count }));
    await refresh();
  } catch (failure) {
    if (failure.status === 401) failed(failure);
    else error.textContent = failure.message;
  }
}

// The attempts shown stay those of the event chosen; the lists follow the server.
export async function refresh() {
  try {
    await loadBridges();
    await loadDeliveries();
  } catch (error) {
    failed(error);
  }
}
