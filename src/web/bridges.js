// Ponte — the bridges page: an administrator watches the bridges to external chat services
// (health, enabled or not and why), turns one on or off, reads a bridge's deliveries and one
// event's attempts, and replays an event or a time range. The API never gives a secret, so
// none can show here. Every text from the server is inserted as text, never as HTML.
// This module wires the page: signing in and out, following the server every 5 s, and the
// controls; its parts are bridges-base.js, bridges-list.js and bridges-deliveries.js.

import { translatePage } from "./staff-lang.js";
import { $, api, failed, say, session, state } from "./bridges-base.js";
import { loadDeliveries, refresh, replayRange, selectBridge } from "./bridges-deliveries.js";
import { renderBridges } from "./bridges-list.js";
import { t } from "./bridges-texts.js";

// ---------------------------------------------------------------- sign in / out

// The token is checked by loading the bridges.
async function verify() {
  const answer = await api("GET", "/api/admin/bridges");
  state.bridges = (answer && answer.bridges) || [];
}

function entered(_, fromStorage) {
  state.signedIn = true;
  renderBridges();
  clearInterval(state.timer);
  // Health and deliveries change on their own (retries, replays): follow them.
  state.timer = setInterval(() => {
    if (state.signedIn && !document.hidden) refresh();
  }, 5000);
  if (!fromStorage) $("br-main").focus();
}

function left() {
  state.signedIn = false;
  clearInterval(state.timer);
  Object.assign(state, { bridges: [], selected: null, events: [], detail: null });
  $("bridge-list").replaceChildren();
  $("delivery-list").replaceChildren();
  $("deliveries").hidden = true;
  say("");
}

// ---------------------------------------------------------------- wiring

translatePage(t, "Ponte · " + t("heading"));
$("bridge-list").addEventListener("click", (event) => {
  const select = event.target.closest("button[data-select]");
  if (select) selectBridge(select.dataset.select);
});
$("refresh").addEventListener("click", refresh);
$("delivery-status").addEventListener("change", () => {
  loadDeliveries().catch(failed);
});
$("replay-form").addEventListener("submit", replayRange);
session.start({ verify, entered, left });
