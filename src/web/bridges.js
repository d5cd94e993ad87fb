// Ponte — the bridges page: an administrator watches the bridges to external chat services
// (health, enabled or not and why), turns one on or off, reads a bridge's deliveries and one
// event's attempts, and replays an event or a time range. The API never gives a secret, so
// none can show here. Every text from the server is inserted as text, never as HTML.
"use strict";

(() => {
  // ---------------------------------------------------------------- texts

  const MESSAGES = {
    en: {
      skip: "Skip to content",
      heading: "Bridges",
      sign_out: "Sign out",
      signin_heading: "Sign in",
      signin_hint: "Administrators sign in with their access token.",
      token_label: "Access token",
      sign_in: "Sign in",
      signin_empty: "Type your access token.",
      signin_invalid: "This access token is not valid or has expired.",
      signin_forbidden: "Only an administrator may see the bridges.",
      list_heading: "Bridges",
      refresh: "Refresh",
      col_bridge: "Bridge",
      col_kind: "Kind",
      col_endpoint: "Endpoint",
      col_state: "State",
      col_last_success: "Last success",
      col_last_failure: "Last failure",
      col_failures: "Failures since success",
      col_backlog: "Backlog",
      col_dead: "Dead",
      col_actions: "Actions",
      no_bridges: "No bridge is defined.",
      enabled: "Enabled",
      disabled: "Disabled",
      reason_admin: "stopped by an administrator",
      reason_gone: "the receiver answered 410 Gone",
      never: "never",
      enable: "Enable",
      disable: "Disable",
      enable_label: "Enable bridge {id}",
      disable_label: "Disable bridge {id}",
      show_deliveries: "Deliveries",
      show_deliveries_label: "Show the deliveries of bridge {id}",
      enabled_done: "Bridge {id} enabled.",
      disabled_done: "Bridge {id} disabled.",
      deliveries_heading: "Deliveries of {id}",
      filter_label: "Status",
      status_all: "All",
      status_pending: "Pending",
      status_delivered: "Delivered",
      status_dead: "Dead",
      col_event: "Event",
      col_type: "Type",
      col_conversation: "Conversation",
      col_created: "Created",
      col_status: "Status",
      col_attempts: "Attempts",
      col_last_error: "Last error",
      no_deliveries: "No event matches.",
      show_attempts: "Attempts",
      show_attempts_label: "Show the attempts of event {id}",
      replay: "Replay",
      replay_label: "Replay event {id}",
      replayed: "{count} events sent back for delivery.",
      replayed_single: "1 event sent back for delivery.",
      replayed_one: "Event {id} sent back for delivery.",
      attempts_heading: "Attempts of {id}",
      col_attempt: "#",
      col_at: "When",
      col_status_code: "HTTP status",
      col_latency: "Latency",
      col_error: "Error",
      no_attempts: "Not attempted yet.",
      no_answer: "no answer",
      latency_ms: "{ms} ms",
      replay_heading: "Replay a time range",
      replay_hint: "Delivered and dead events created in the range are delivered again, with their original ids.",
      replay_since: "From",
      replay_until: "Until",
      replay_range: "Replay range",
      replay_bad_range: "Give a start before the end.",
      error_generic: "Something went wrong ({status}).",
      error_network: "The server cannot be reached.",
      session_expired: "Your session ended. Sign in again.",
    },
    "pt-BR": {
      skip: "Pular para o conteúdo",
      heading: "Pontes",
      sign_out: "Sair",
      signin_heading: "Entrar",
      signin_hint: "Administradores entram com seu token de acesso.",
      token_label: "Token de acesso",
      sign_in: "Entrar",
      signin_empty: "Digite seu token de acesso.",
      signin_invalid: "Este token de acesso não é válido ou expirou.",
      signin_forbidden: "Somente um administrador pode ver as pontes.",
      list_heading: "Pontes",
      refresh: "Atualizar",
      col_bridge: "Ponte",
      col_kind: "Tipo",
      col_endpoint: "Endereço",
      col_state: "Estado",
      col_last_success: "Último sucesso",
      col_last_failure: "Última falha",
      col_failures: "Falhas desde o sucesso",
      col_backlog: "Pendentes",
      col_dead: "Mortos",
      col_actions: "Ações",
      no_bridges: "Nenhuma ponte definida.",
      enabled: "Ativada",
      disabled: "Desativada",
      reason_admin: "parada por um administrador",
      reason_gone: "o destino respondeu 410 Gone",
      never: "nunca",
      enable: "Ativar",
      disable: "Desativar",
      enable_label: "Ativar a ponte {id}",
      disable_label: "Desativar a ponte {id}",
      show_deliveries: "Entregas",
      show_deliveries_label: "Mostrar as entregas da ponte {id}",
      enabled_done: "Ponte {id} ativada.",
      disabled_done: "Ponte {id} desativada.",
      deliveries_heading: "Entregas de {id}",
      filter_label: "Situação",
      status_all: "Todas",
      status_pending: "Pendentes",
      status_delivered: "Entregues",
      status_dead: "Mortas",
      col_event: "Evento",
      col_type: "Tipo",
      col_conversation: "Conversa",
      col_created: "Criado",
      col_status: "Situação",
      col_attempts: "Tentativas",
      col_last_error: "Último erro",
      no_deliveries: "Nenhum evento corresponde.",
      show_attempts: "Tentativas",
      show_attempts_label: "Mostrar as tentativas do evento {id}",
      replay: "Reenviar",
      replay_label: "Reenviar o evento {id}",
      replayed: "{count} eventos voltaram para entrega.",
      replayed_single: "1 evento voltou para entrega.",
      replayed_one: "O evento {id} voltou para entrega.",
      attempts_heading: "Tentativas de {id}",
      col_attempt: "#",
      col_at: "Quando",
      col_status_code: "Status HTTP",
      col_latency: "Latência",
      col_error: "Erro",
      no_attempts: "Ainda não tentado.",
      no_answer: "sem resposta",
      latency_ms: "{ms} ms",
      replay_heading: "Reenviar um intervalo",
      replay_hint: "Eventos entregues e mortos criados no intervalo são entregues de novo, com seus ids originais.",
      replay_since: "De",
      replay_until: "Até",
      replay_range: "Reenviar intervalo",
      replay_bad_range: "Informe um início anterior ao fim.",
      error_generic: "Algo deu errado ({status}).",
      error_network: "Não foi possível contatar o servidor.",
      session_expired: "Sua sessão terminou. Entre novamente.",
    },
    es: {
      skip: "Saltar al contenido",
      heading: "Puentes",
      sign_out: "Cerrar sesión",
      signin_heading: "Iniciar sesión",
      signin_hint: "Los administradores inician sesión con su token de acceso.",
      token_label: "Token de acceso",
      sign_in: "Iniciar sesión",
      signin_empty: "Escriba su token de acceso.",
      signin_invalid: "Este token de acceso no es válido o caducó.",
      signin_forbidden: "Solo un administrador puede ver los puentes.",
      list_heading: "Puentes",
      refresh: "Actualizar",
      col_bridge: "Puente",
      col_kind: "Tipo",
      col_endpoint: "Dirección",
      col_state: "Estado",
      col_last_success: "Último éxito",
      col_last_failure: "Último fallo",
      col_failures: "Fallos desde el éxito",
      col_backlog: "Pendientes",
      col_dead: "Muertos",
      col_actions: "Acciones",
      no_bridges: "No hay ningún puente definido.",
      enabled: "Activado",
      disabled: "Desactivado",
      reason_admin: "detenido por un administrador",
      reason_gone: "el destino respondió 410 Gone",
      never: "nunca",
      enable: "Activar",
      disable: "Desactivar",
      enable_label: "Activar el puente {id}",
      disable_label: "Desactivar el puente {id}",
      show_deliveries: "Entregas",
      show_deliveries_label: "Mostrar las entregas del puente {id}",
      enabled_done: "Puente {id} activado.",
      disabled_done: "Puente {id} desactivado.",
      deliveries_heading: "Entregas de {id}",
      filter_label: "Estado",
      status_all: "Todos",
      status_pending: "Pendientes",
      status_delivered: "Entregados",
      status_dead: "Muertos",
      col_event: "Evento",
      col_type: "Tipo",
      col_conversation: "Conversación",
      col_created: "Creado",
      col_status: "Estado",
      col_attempts: "Intentos",
      col_last_error: "Último error",
      no_deliveries: "Ningún evento coincide.",
      show_attempts: "Intentos",
      show_attempts_label: "Mostrar los intentos del evento {id}",
      replay: "Reenviar",
      replay_label: "Reenviar el evento {id}",
      replayed: "{count} eventos volvieron a la entrega.",
      replayed_single: "1 evento volvió a la entrega.",
      replayed_one: "El evento {id} volvió a la entrega.",
      attempts_heading: "Intentos de {id}",
      col_attempt: "#",
      col_at: "Cuándo",
      col_status_code: "Estado HTTP",
      col_latency: "Latencia",
      col_error: "Error",
      no_attempts: "Aún no se intentó.",
      no_answer: "sin respuesta",
      latency_ms: "{ms} ms",
      replay_heading: "Reenviar un intervalo",
      replay_hint: "Los eventos entregados y muertos creados en el intervalo se entregan de nuevo, con sus ids originales.",
      replay_since: "Desde",
      replay_until: "Hasta",
      replay_range: "Reenviar intervalo",
      replay_bad_range: "Indique un inicio anterior al fin.",
      error_generic: "Algo salió mal ({status}).",
      error_network: "No se puede contactar al servidor.",
      session_expired: "Su sesión terminó. Inicie sesión de nuevo.",
    },
  };

  function pickLanguage() {
    const wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
    const first = String(wanted[0] || "en").toLowerCase();
    if (first.startsWith("pt")) return "pt-BR";
    if (first.startsWith("es")) return "es";
    return "en";
  }

  const LANG = pickLanguage();

  function t(key, vars) {
    let text = (MESSAGES[LANG] || MESSAGES.en)[key] ?? MESSAGES.en[key] ?? key;
    if (vars) text = text.replace(/\{(\w+)\}/g, (_, name) => (vars[name] !== undefined ? String(vars[name]) : ""));
    return text;
  }

  function translatePage() {
    document.documentElement.lang = LANG;
    document.title = "Ponte · " + t("heading");
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  }

  // ---------------------------------------------------------------- helpers

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
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

  const dateTime = new Intl.DateTimeFormat(LANG, { dateStyle: "short", timeStyle: "medium" });

  function when(ms) {
    return typeof ms === "number" ? dateTime.format(new Date(ms)) : t("never");
  }

  // A <time> element: readable text, the exact instant for machines.
  function timeCell(ms) {
    if (typeof ms !== "number") return el("td", { class: "br-muted", text: t("never") });
    return el("td", {}, el("time", { datetime: new Date(ms).toISOString(), text: when(ms) }));
  }

  function say(text, isError) {
    const line = $("br-status");
    line.textContent = text;
    line.classList.toggle("br-status-error", Boolean(isError));
  }

  // ---------------------------------------------------------------- API

  const TOKEN_KEY = "ponte.admin-token";
  let token = sessionStorage.getItem(TOKEN_KEY) || "";

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json", Authorization: "Bearer " + token };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch (_) {
      throw new ApiError(0, t("error_network"));
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      // The server's own message is English for developers: the page says what the code means.
      const message = window.PonteErrors.text(data && data.code, LANG, response.status);
      throw new ApiError(response.status, message);
    }
    return data;
  }

  const bridgePath = (id) => "/api/admin/bridges/" + encodeURIComponent(id);

  // A failure after signing in: an ended session goes back to the form, anything else is told.
  function failed(error) {
    if (error && error.status === 401) {
      signOut(t("session_expired"));
      return;
    }
    say(error && error.message ? error.message : String(error), true);
  }

  // ---------------------------------------------------------------- state

  const state = {
    signedIn: false,
    bridges: [],
    selected: null, // the bridge whose deliveries show
    events: [],
    detail: null, // the event whose attempts show
    timer: null,
  };

  // Re-rendering replaces rows: the focused control is found again by its key.
  function keepingFocus(render) {
    const key = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.focusKey : null;
    render();
    if (key) {
      const again = document.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
      if (again) again.focus();
    }
  }

  // ---------------------------------------------------------------- bridges

  async function loadBridges() {
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

  function renderBridges() {
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
              onclick: () => selectBridge(bridge.id),
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

  // ---------------------------------------------------------------- deliveries

  async function selectBridge(id) {
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

  async function loadDeliveries() {
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

  async function replayRange(event) {
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
  async function refresh() {
    try {
      await loadBridges();
      await loadDeliveries();
    } catch (error) {
      failed(error);
    }
  }

  // ---------------------------------------------------------------- sign in / out

  function showApp(visible) {
    $("signin").hidden = visible;
    $("bridges").hidden = !visible;
    $("signout").hidden = !visible;
  }

  async function signIn(candidate, fromForm) {
    const error = $("signin-error");
    error.textContent = "";
    token = candidate;
    try {
      const answer = await api("GET", "/api/admin/bridges");
      state.bridges = (answer && answer.bridges) || [];
    } catch (failure) {
      token = "";
      sessionStorage.removeItem(TOKEN_KEY);
      if (!fromForm) return;
      if (failure.status === 401) error.textContent = t("signin_invalid");
      else if (failure.status === 403) error.textContent = t("signin_forbidden");
      else error.textContent = failure.message;
      $("signin-token").setAttribute("aria-invalid", "true");
      $("signin-token").focus();
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    $("signin-token").value = "";
    $("signin-token").removeAttribute("aria-invalid");
    state.signedIn = true;
    showApp(true);
    renderBridges();
    clearInterval(state.timer);
    // Health and deliveries change on their own (retries, replays): follow them.
    state.timer = setInterval(() => {
      if (state.signedIn && !document.hidden) refresh();
    }, 5000);
    if (fromForm) $("br-main").focus();
  }

  function signOut(message) {
    state.signedIn = false;
    clearInterval(state.timer);
    token = "";
    sessionStorage.removeItem(TOKEN_KEY);
    Object.assign(state, { bridges: [], selected: null, events: [], detail: null });
    $("bridge-list").replaceChildren();
    $("delivery-list").replaceChildren();
    $("deliveries").hidden = true;
    showApp(false);
    say("");
    $("signin-error").textContent = message || "";
    $("signin-token").focus();
  }

  // ---------------------------------------------------------------- wiring

  translatePage();
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("signin-token").value.trim();
    if (!value) {
      $("signin-error").textContent = t("signin_empty");
      $("signin-token").focus();
      return;
    }
    signIn(value, true);
  });
  $("signout").addEventListener("click", () => signOut(""));
  $("refresh").addEventListener("click", refresh);
  $("delivery-status").addEventListener("change", () => {
    loadDeliveries().catch(failed);
  });
  $("replay-form").addEventListener("submit", replayRange);
  if (token) signIn(token, false);
  else $("signin-token").focus();
})();
