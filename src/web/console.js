// Ponte — attendants' console. Plain ES2020, no build step, no framework.
// Every piece of user-supplied text goes through textContent / createElement, never innerHTML.
"use strict";

(() => {
  // ---------------------------------------------------------------- i18n

  const MESSAGES = {
    en: {
      skip: "Skip to content",
      app_title: "Attendants' console",
      signin_title: "Sign in",
      signin_help: "Use the access token an administrator issued to you.",
      signin_token: "Access token",
      signin_submit: "Sign in",
      signin_empty: "Type your access token.",
      signin_invalid: "This access token is not valid or has expired. Ask an administrator for a new one.",
      signin_forbidden: "This access token is not a staff token (attendant or analyst).",
      signin_failed: "Could not sign in: {message}",
      signout: "Sign out",
      chat_icon_label: "Chats",
      alert_label: "{count} chats need attention",
      alert_label_one: "1 chat needs attention",
      sidebar_label: "Chats",
      presence_title: "Presence",
      channel_web_chat: "Web chat",
      channel_whatsapp: "WhatsApp",
      online: "Online",
      offline: "Offline",
      paused: "Paused",
      paused_reason: "Paused: {reason}",
      pause: "Pause",
      resume: "Resume",
      pause_reason: "Pause reason on {channel}",
      pause_confirm: "Pause",
      choose_reason: "Choose a reason",
      in_state_for: "for {time}",
      totals: "Online {online} · paused {paused} · {active}/{max} chats",
      go_online_label: "Online on {channel}",
      search_label: "Search by ticket number or contact",
      search_placeholder: "Ticket number or contact",
      tabs_label: "Chats by state",
      tab_queued: "Queue",
      tab_in_progress: "In progress",
      tab_closed: "Closed",
      empty_queued: "Nobody is waiting.",
      empty_in_progress: "You have no chats in progress.",
      empty_closed: "No closed chats.",
      empty_search: "No chat matches this search.",
      unread: "unread",
      position: "#{position} in queue",
      eta: "about {time}",
      lost: "lost",
      blocked: "blocked",
      no_ticket: "no ticket",
      analysts_title: "Analyst contacts",
      analyst_chats_title: "Analyst chats",
      link: "Link",
      unlink: "Unlink",
      linked: "linked",
      start_chat: "Chat",
      start_chat_label: "Chat with {name}",
      link_label: "Link {name} as a contact",
      unlink_label: "Remove {name} from your contacts",
      no_analysts: "No other analysts.",
      no_analyst_chats: "No analyst chats yet.",
      analyst_chat_with: "Chat with {name}",
      back: "Back",
      capture: "Capture",
      decline: "Decline",
      reopen: "Reopen",
      contact: "Contact",
      toolbar_label: "Chat actions",
      macros: "Macros",
      tags: "Tags",
      transfer: "Transfer",
      invite: "Invite",
      leave: "Leave",
      close: "Close",
      remove_tag: "Remove tag {tag}",
      no_tags: "No tags.",
      composer_label: "Message",
      composer_placeholder: "Write a message. /shortcut sends a quick reply",
      composer_help: "Enter sends, Shift+Enter adds a new line. Type / and a shortcut for a quick reply.",
      quick_replies: "Quick replies",
      quick_help: "Choose one to put its shortcut in the message box; the server sends its text in the conversation's language.",
      no_quick_replies: "No quick replies yet.",
      personal: "personal",
      attach: "Attach file",
      uploading: "Sending {name}…",
      uploaded: "{name} sent.",
      send: "Send",
      contact_title: "Contact",
      contact_name: "Name",
      contact_id: "ID",
      contact_email: "E-mail",
      contact_phone: "Phone",
      contact_project: "Project",
      contract: "Contract",
      contract_status: "Contract status",
      contract_active: "Active contract",
      contract_blocked: "Contract blocked",
      contract_none: "No contract on file",
      block_contact: "Block contact",
      unblock_contact: "Unblock contact",
      contact_is_blocked: "This contact is blocked: their new messages are refused.",
      no_chat: "Choose a chat from the list.",
      close_title: "Close the chat",
      close_reason: "Reason",
      close_message: "Closing message (optional)",
      close_confirm: "Close chat",
      cancel: "Cancel",
      done: "Done",
      transfer_title: "Transfer the chat",
      transfer_to: "To",
      invite_title: "Invite a colleague",
      invite_name: "@name",
      macros_title: "Run a macro",
      macro: "Macro",
      run: "Run",
      no_macros: "No macros configured.",
      tags_title: "Tags",
      tag_new: "New tag",
      tag_add: "Add tag",
      state_queued: "In queue",
      state_in_progress: "In progress",
      state_closed: "Closed",
      state_lost: "Lost",
      responsible: "Responsible: {name}",
      participants: "With: {names}",
      closed_reason: "Closed: {reason}",
      ticket: "Ticket {ticket}",
      sender_requester: "Requester",
      sender_assistant: "Assistant",
      sender_attendant: "Attendant",
      sender_system: "System",
      sender_you: "You",
      transcript_forbidden: "The transcript shows once you capture this chat.",
      transcript_empty: "No messages yet.",
      download: "Download {name}",
      size_kb: "{size} KB",
      captured: "Chat captured.",
      declined: "Chat declined.",
      reopened: "Chat reopened.",
      closed_ok: "Chat closed.",
      transferred: "Chat transferred to {name}.",
      invited: "{name} invited.",
      left: "You left the chat.",
      macro_ran: "Macro “{name}” ran.",
      presence_saved: "Presence updated.",
      connection_lost: "Connection lost. Reconnecting…",
      error_generic: "Something went wrong ({status}).",
      error_network: "The server cannot be reached.",
      session_expired: "Your session ended. Sign in again.",
      person_state_online: "online",
      person_state_offline: "offline",
      person_state_paused: "paused",
      new_message_from: "New message in {name}",
      event_handoff: "Handed to the desk ({group}) with ticket {ticket}",
    },
    "pt-BR": {
      skip: "Ir para o conteúdo",
      app_title: "Console de atendimento",
      signin_title: "Entrar",
      signin_help: "Use o token de acesso que um administrador emitiu para você.",
      signin_token: "Token de acesso",
      signin_submit: "Entrar",
      signin_empty: "Digite o seu token de acesso.",
      signin_invalid: "Este token de acesso não é válido ou expirou. Peça um novo a um administrador.",
      signin_forbidden: "Este token de acesso não é de atendente nem de analista.",
      signin_failed: "Não foi possível entrar: {message}",
      signout: "Sair",
      chat_icon_label: "Chats",
      alert_label: "{count} chats precisam de atenção",
      alert_label_one: "1 chat precisa de atenção",
      sidebar_label: "Chats",
      presence_title: "Presença",
      channel_web_chat: "Web chat",
      channel_whatsapp: "WhatsApp",
      online: "Online",
      offline: "Offline",
      paused: "Em pausa",
      paused_reason: "Em pausa: {reason}",
      pause: "Pausar",
      resume: "Retomar",
      pause_reason: "Motivo da pausa em {channel}",
      pause_confirm: "Pausar",
      choose_reason: "Escolha um motivo",
      in_state_for: "há {time}",
      totals: "Online {online} · em pausa {paused} · {active}/{max} chats",
      go_online_label: "Online em {channel}",
      search_label: "Buscar por número do chamado ou contato",
      search_placeholder: "Número do chamado ou contato",
      tabs_label: "Chats por situação",
      tab_queued: "Fila",
      tab_in_progress: "Em atendimento",
      tab_closed: "Finalizados",
      empty_queued: "Ninguém está aguardando.",
      empty_in_progress: "Você não tem chats em atendimento.",
      empty_closed: "Nenhum chat finalizado.",
      empty_search: "Nenhum chat corresponde à busca.",
      unread: "não lido",
      position: "{position}º na fila",
      eta: "cerca de {time}",
      lost: "perdido",
      blocked: "bloqueado",
      no_ticket: "sem chamado",
      analysts_title: "Contatos de analistas",
      analyst_chats_title: "Chats entre analistas",
      link: "Vincular",
      unlink: "Desvincular",
      linked: "vinculado",
      start_chat: "Conversar",
      start_chat_label: "Conversar com {name}",
      link_label: "Vincular {name} como contato",
      unlink_label: "Remover {name} dos seus contatos",
      no_analysts: "Nenhum outro analista.",
      no_analyst_chats: "Nenhum chat entre analistas ainda.",
      analyst_chat_with: "Chat com {name}",
      back: "Voltar",
      capture: "Capturar",
      decline: "Recusar",
      reopen: "Reabrir",
      contact: "Contato",
      toolbar_label: "Ações do chat",
      macros: "Macros",
      tags: "Etiquetas",
      transfer: "Transferir",
      invite: "Convidar",
      leave: "Sair do chat",
      close: "Finalizar",
      remove_tag: "Remover etiqueta {tag}",
      no_tags: "Sem etiquetas.",
      composer_label: "Mensagem",
      composer_placeholder: "Escreva uma mensagem. /atalho envia uma resposta rápida",
      composer_help: "Enter envia, Shift+Enter quebra a linha. Digite / e um atalho para uma resposta rápida.",
      quick_replies: "Respostas rápidas",
      quick_help: "Escolha uma para colocar o atalho na caixa de mensagem; o servidor envia o texto no idioma da conversa.",
      no_quick_replies: "Nenhuma resposta rápida ainda.",
      personal: "pessoal",
      attach: "Anexar arquivo",
      uploading: "Enviando {name}…",
      uploaded: "{name} enviado.",
      send: "Enviar",
      contact_title: "Contato",
      contact_name: "Nome",
      contact_id: "ID",
      contact_email: "E-mail",
      contact_phone: "Telefone",
      contact_project: "Projeto",
      contract: "Contrato",
      contract_status: "Situação do contrato",
      contract_active: "Contrato ativo",
      contract_blocked: "Contrato bloqueado",
      contract_none: "Nenhum contrato registrado",
      block_contact: "Bloquear contato",
      unblock_contact: "Desbloquear contato",
      contact_is_blocked: "Este contato está bloqueado: as novas mensagens dele são recusadas.",
      no_chat: "Escolha um chat na lista.",
      close_title: "Finalizar o chat",
      close_reason: "Motivo",
      close_message: "Mensagem de encerramento (opcional)",
      close_confirm: "Finalizar chat",
      cancel: "Cancelar",
      done: "Concluir",
      transfer_title: "Transferir o chat",
      transfer_to: "Para",
      invite_title: "Convidar um colega",
      invite_name: "@nome",
      macros_title: "Executar uma macro",
      macro: "Macro",
      run: "Executar",
      no_macros: "Nenhuma macro configurada.",
      tags_title: "Etiquetas",
      tag_new: "Nova etiqueta",
      tag_add: "Adicionar etiqueta",
      state_queued: "Na fila",
      state_in_progress: "Em atendimento",
      state_closed: "Finalizado",
      state_lost: "Perdido",
      responsible: "Responsável: {name}",
      participants: "Com: {names}",
      closed_reason: "Finalizado: {reason}",
      ticket: "Chamado {ticket}",
      sender_requester: "Solicitante",
      sender_assistant: "Assistente",
      sender_attendant: "Atendente",
      sender_system: "Sistema",
      sender_you: "Você",
      transcript_forbidden: "A conversa aparece depois que você capturar este chat.",
      transcript_empty: "Nenhuma mensagem ainda.",
      download: "Baixar {name}",
      size_kb: "{size} KB",
      captured: "Chat capturado.",
      declined: "Chat recusado.",
      reopened: "Chat reaberto.",
      closed_ok: "Chat finalizado.",
      transferred: "Chat transferido para {name}.",
      invited: "{name} convidado(a).",
      left: "Você saiu do chat.",
      macro_ran: "Macro “{name}” executada.",
      presence_saved: "Presença atualizada.",
      connection_lost: "Conexão perdida. Reconectando…",
      error_generic: "Algo deu errado ({status}).",
      error_network: "Não foi possível falar com o servidor.",
      session_expired: "Sua sessão terminou. Entre novamente.",
      person_state_online: "online",
      person_state_offline: "offline",
      person_state_paused: "em pausa",
      new_message_from: "Nova mensagem de {name}",
      event_handoff: "Encaminhado ao atendimento ({group}) com o chamado {ticket}",
    },
    es: {
      skip: "Ir al contenido",
      app_title: "Consola de atención",
      signin_title: "Iniciar sesión",
      signin_help: "Use el token de acceso que le emitió un administrador.",
      signin_token: "Token de acceso",
      signin_submit: "Entrar",
      signin_empty: "Escriba su token de acceso.",
      signin_invalid: "Este token de acceso no es válido o caducó. Pida uno nuevo a un administrador.",
      signin_forbidden: "Este token de acceso no es de agente ni de analista.",
      signin_failed: "No se pudo iniciar sesión: {message}",
      signout: "Cerrar sesión",
      chat_icon_label: "Chats",
      alert_label: "{count} chats necesitan atención",
      alert_label_one: "1 chat necesita atención",
      sidebar_label: "Chats",
      presence_title: "Presencia",
      channel_web_chat: "Chat web",
      channel_whatsapp: "WhatsApp",
      online: "En línea",
      offline: "Desconectado",
      paused: "En pausa",
      paused_reason: "En pausa: {reason}",
      pause: "Pausar",
      resume: "Reanudar",
      pause_reason: "Motivo de la pausa en {channel}",
      pause_confirm: "Pausar",
      choose_reason: "Elija un motivo",
      in_state_for: "hace {time}",
      totals: "En línea {online} · en pausa {paused} · {active}/{max} chats",
      go_online_label: "En línea en {channel}",
      search_label: "Buscar por número de ticket o contacto",
      search_placeholder: "Número de ticket o contacto",
      tabs_label: "Chats por estado",
      tab_queued: "Cola",
      tab_in_progress: "En atención",
      tab_closed: "Cerrados",
      empty_queued: "Nadie está esperando.",
      empty_in_progress: "No tiene chats en atención.",
      empty_closed: "Ningún chat cerrado.",
      empty_search: "Ningún chat coincide con la búsqueda.",
      unread: "no leído",
      position: "n.º {position} en la cola",
      eta: "unos {time}",
      lost: "perdido",
      blocked: "bloqueado",
      no_ticket: "sin ticket",
      analysts_title: "Contactos de analistas",
      analyst_chats_title: "Chats entre analistas",
      link: "Vincular",
      unlink: "Desvincular",
      linked: "vinculado",
      start_chat: "Chatear",
      start_chat_label: "Chatear con {name}",
      link_label: "Vincular a {name} como contacto",
      unlink_label: "Quitar a {name} de sus contactos",
      no_analysts: "No hay otros analistas.",
      no_analyst_chats: "Todavía no hay chats entre analistas.",
      analyst_chat_with: "Chat con {name}",
      back: "Volver",
      capture: "Tomar",
      decline: "Rechazar",
      reopen: "Reabrir",
      contact: "Contacto",
      toolbar_label: "Acciones del chat",
      macros: "Macros",
      tags: "Etiquetas",
      transfer: "Transferir",
      invite: "Invitar",
      leave: "Salir del chat",
      close: "Cerrar",
      remove_tag: "Quitar la etiqueta {tag}",
      no_tags: "Sin etiquetas.",
      composer_label: "Mensaje",
      composer_placeholder: "Escriba un mensaje. /atajo envía una respuesta rápida",
      composer_help: "Enter envía, Mayús+Enter agrega una línea. Escriba / y un atajo para una respuesta rápida.",
      quick_replies: "Respuestas rápidas",
      quick_help: "Elija una para poner su atajo en el cuadro de mensaje; el servidor envía el texto en el idioma de la conversación.",
      no_quick_replies: "Todavía no hay respuestas rápidas.",
      personal: "personal",
      attach: "Adjuntar archivo",
      uploading: "Enviando {name}…",
      uploaded: "{name} enviado.",
      send: "Enviar",
      contact_title: "Contacto",
      contact_name: "Nombre",
      contact_id: "ID",
      contact_email: "Correo",
      contact_phone: "Teléfono",
      contact_project: "Proyecto",
      contract: "Contrato",
      contract_status: "Estado del contrato",
      contract_active: "Contrato activo",
      contract_blocked: "Contrato bloqueado",
      contract_none: "Sin contrato registrado",
      block_contact: "Bloquear contacto",
      unblock_contact: "Desbloquear contacto",
      contact_is_blocked: "Este contacto está bloqueado: sus nuevos mensajes se rechazan.",
      no_chat: "Elija un chat de la lista.",
      close_title: "Cerrar el chat",
      close_reason: "Motivo",
      close_message: "Mensaje de cierre (opcional)",
      close_confirm: "Cerrar chat",
      cancel: "Cancelar",
      done: "Listo",
      transfer_title: "Transferir el chat",
      transfer_to: "A",
      invite_title: "Invitar a un colega",
      invite_name: "@nombre",
      macros_title: "Ejecutar una macro",
      macro: "Macro",
      run: "Ejecutar",
      no_macros: "No hay macros configuradas.",
      tags_title: "Etiquetas",
      tag_new: "Nueva etiqueta",
      tag_add: "Agregar etiqueta",
      state_queued: "En cola",
      state_in_progress: "En atención",
      state_closed: "Cerrado",
      state_lost: "Perdido",
      responsible: "Responsable: {name}",
      participants: "Con: {names}",
      closed_reason: "Cerrado: {reason}",
      ticket: "Ticket {ticket}",
      sender_requester: "Solicitante",
      sender_assistant: "Asistente",
      sender_attendant: "Agente",
      sender_system: "Sistema",
      sender_you: "Usted",
      transcript_forbidden: "La conversación aparece cuando tome este chat.",
      transcript_empty: "Todavía no hay mensajes.",
      download: "Descargar {name}",
      size_kb: "{size} KB",
      captured: "Chat tomado.",
      declined: "Chat rechazado.",
      reopened: "Chat reabierto.",
      closed_ok: "Chat cerrado.",
      transferred: "Chat transferido a {name}.",
      invited: "{name} invitado(a).",
      left: "Salió del chat.",
      macro_ran: "Macro «{name}» ejecutada.",
      presence_saved: "Presencia actualizada.",
      connection_lost: "Se perdió la conexión. Reconectando…",
      error_generic: "Algo salió mal ({status}).",
      error_network: "No se puede contactar al servidor.",
      session_expired: "Su sesión terminó. Inicie sesión de nuevo.",
      person_state_online: "en línea",
      person_state_offline: "desconectado",
      person_state_paused: "en pausa",
      new_message_from: "Nuevo mensaje de {name}",
      event_handoff: "Derivado a la mesa de atención ({group}) con el ticket {ticket}",
    },
  };

  function pickLanguage() {
    const wanted = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"]);
    const first = String(wanted[0] || "en").toLowerCase();
    if (first.startsWith("pt")) return "pt-BR";
    if (first.startsWith("es")) return "es";
    return "en";
  }

  const LANG = pickLanguage();

  function t(key, vars) {
    const table = MESSAGES[LANG] || MESSAGES.en;
    let text = table[key] ?? MESSAGES.en[key] ?? key;
    if (vars) {
      text = text.replace(/\{(\w+)\}/g, (_, name) => (vars[name] !== undefined ? String(vars[name]) : ""));
    }
    return text;
  }

  function translatePage() {
    document.documentElement.lang = LANG;
    document.title = "Ponte — " + t("app_title");
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
    for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.setAttribute("placeholder", t(el.dataset.i18nPlaceholder));
  }

  // ---------------------------------------------------------------- helpers

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [name, value] of Object.entries(attrs)) {
        if (value === undefined || value === null || value === false) continue;
        if (name === "class") node.className = value;
        else if (name === "text") node.textContent = value;
        else if (name === "dataset") Object.assign(node.dataset, value);
        else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
        else node.setAttribute(name, value === true ? "" : String(value));
      }
    }
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function duration(ms) {
    const total = Math.max(0, Math.floor((ms || 0) / 1000));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
  }

  function shortDuration(ms) {
    const minutes = Math.round((ms || 0) / 60000);
    if (minutes < 1) return "< 1 min";
    if (minutes < 60) return `${minutes} min`;
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  }

  const timeFormat = new Intl.DateTimeFormat(LANG, { hour: "2-digit", minute: "2-digit" });
  const dateTimeFormat = new Intl.DateTimeFormat(LANG, { dateStyle: "short", timeStyle: "short" });

  function toDate(value) {
    if (value === undefined || value === null) return null;
    if (typeof value === "number") {
      // Seconds or milliseconds since the epoch.
      return new Date(value < 1e12 ? value * 1000 : value);
    }
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  }

  function formatTime(value) {
    const date = toDate(value);
    if (!date) return "";
    const today = new Date();
    return date.toDateString() === today.toDateString() ? timeFormat.format(date) : dateTimeFormat.format(date);
  }

  function debounce(fn, wait) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), wait);
    };
  }

  function randomId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  let announceTimer = null;
  function announce(text, isError) {
    const line = $("status-line");
    line.textContent = text;
    line.classList.toggle("is-error", Boolean(isError));
    line.classList.add("visible");
    clearTimeout(announceTimer);
    announceTimer = setTimeout(() => line.classList.remove("visible"), isError ? 8000 : 4000);
  }

  // ---------------------------------------------------------------- API

  const TOKEN_KEY = "ponte.token";
  let token = sessionStorage.getItem(TOKEN_KEY) || "";

  class ApiError extends Error {
    constructor(status, message, code) {
      super(message);
      this.status = status;
      this.code = code || "";
    }
  }

  async function api(method, path, body, options) {
    const headers = { Authorization: `Bearer ${token}` };
    let payload;
    if (options && options.raw) {
      payload = body;
      headers["Content-Type"] = options.contentType || "application/octet-stream";
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    let response;
    try {
      response = await fetch(path, { method, headers, body: payload, cache: "no-store" });
    } catch (error) {
      throw new ApiError(0, t("error_network"), "network");
    }
    if (options && options.blob && response.ok) return response.blob();
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = null; }
    }
    if (!response.ok) {
      const message = (data && typeof data.message === "string" && data.message) || t("error_generic", { status: response.status });
      const error = new ApiError(response.status, message, data && data.code);
      if (response.status === 401 && !(options && options.signin)) sessionExpired();
      throw error;
    }
    return data;
  }

  function showError(error) {
    announce(error && error.message ? error.message : String(error), true);
  }

  function wsUrl(path, params) {
    const url = new URL(path, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    for (const [key, value] of Object.entries(params || {})) url.searchParams.set(key, value);
    url.searchParams.set("token", token);
    return url.toString();
  }

  // ---------------------------------------------------------------- state

  const state = {
    me: null,            // presence view of the caller
    config: { pause_reasons: [], close_reasons: [] },
    people: [],
    quickReplies: [],
    macros: [],
    chats: [],           // every chat from the last list load
    tab: "queued",
    search: "",
    open: null,          // { id, record, analyst: {with} | null }
    messages: new Map(), // seq -> message for the open chat
    lastSeq: 0,
    myMessageIds: new Set(),
    chatSocket: null,
    chatSocketFor: null,
    chatRetry: 0,
    chatRetryTimer: null,
    staffSocket: null,
    staffRetry: 0,
    staffRetryTimer: null,
    pauseOpen: new Set(),
    links: new Set(),
    analystChats: [],
    alert: { alert: false, unread: [], queue_unread: [] },
    signedIn: false,
    contactCache: new Map(),
  };

  const SINCE_KEY = "ponte.presence-since";
  const LINKS_KEY = "ponte.analyst-links";
  const ANALYST_CHATS_KEY = "ponte.analyst-chats";

  function loadJson(storage, key, fallback) {
    try {
      const value = JSON.parse(storage.getItem(key));
      return value ?? fallback;
    } catch (_) {
      return fallback;
    }
  }

  // ---------------------------------------------------------------- sign in / out

  function showConsole(visible) {
    $("signin").hidden = visible;
    $("console").hidden = !visible;
    $("topbar-user").hidden = !visible;
  }

  async function signIn(candidate, fromForm) {
    const error = $("signin-error");
    error.textContent = "";
    token = candidate;
    let me;
    try {
      me = await api("GET", "/api/desk/presence", undefined, { signin: true });
    } catch (failure) {
      token = "";
      if (failure.status === 401 || failure.status === 403 || fromForm) sessionStorage.removeItem(TOKEN_KEY);
      if (!fromForm) {
        if (failure.status !== 401) error.textContent = failure.message;
        return false;
      }
      if (failure.status === 401) error.textContent = t("signin_invalid");
      else if (failure.status === 403) error.textContent = t("signin_forbidden");
      else error.textContent = t("signin_failed", { message: failure.message });
      $("signin-token").setAttribute("aria-invalid", "true");
      $("signin-token").focus();
      return false;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    $("signin-token").value = "";
    $("signin-token").removeAttribute("aria-invalid");
    state.me = me;
    state.signedIn = true;
    state.links = new Set(loadJson(localStorage, `${LINKS_KEY}.${me.id}`, []));
    state.analystChats = loadJson(sessionStorage, ANALYST_CHATS_KEY, []);
    showConsole(true);
    $("user-name").textContent = me.name || me.id;
    renderPresence();
    await Promise.allSettled([loadConfig(), loadPeople(), loadQuickReplies(), loadMacros()]);
    renderPresence();
    renderAnalysts();
    await refreshLists();
    connectStaff();
    if (fromForm) $("main").focus();
    return true;
  }

  function signOut(message) {
    state.signedIn = false;
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(ANALYST_CHATS_KEY);
    token = "";
    closeChatSocket();
    if (state.staffSocket) {
      const socket = state.staffSocket;
      state.staffSocket = null;
      socket.onclose = null;
      socket.close();
    }
    clearTimeout(state.staffRetryTimer);
    state.open = null;
    state.chats = [];
    $("chat-list").replaceChildren();
    $("transcript").replaceChildren();
    $("chat").hidden = true;
    $("chat-placeholder").hidden = false;
    document.body.classList.remove("chat-open");
    showConsole(false);
    $("signin-error").textContent = message || "";
    $("signin-token").focus();
  }

  function sessionExpired() {
    if (state.signedIn) signOut(t("session_expired"));
  }

  // ---------------------------------------------------------------- reference data

  async function loadConfig() {
    const config = await api("GET", "/api/desk/config");
    state.config = config || state.config;
  }

  async function loadPeople() {
    const answer = await api("GET", "/api/desk/people");
    state.people = (answer && answer.people) || [];
    const names = $("people-names");
    names.replaceChildren(
      ...state.people
        .filter((person) => !state.me || person.id !== state.me.id)
        .map((person) => el("option", { value: "@" + person.name }, person.name)),
    );
  }

  async function loadQuickReplies() {
    const answer = await api("GET", "/api/desk/quick-replies");
    state.quickReplies = (answer && answer.quick_replies) || [];
  }

  async function loadMacros() {
    const answer = await api("GET", "/api/desk/macros");
    state.macros = (answer && answer.macros) || [];
  }

  function personName(id) {
    if (!id) return "";
    const person = state.people.find((p) => p.id === id);
    return person ? person.name : id;
  }

  // ---------------------------------------------------------------- presence

  function stateKey(value) {
    if (!value) return "offline";
    return value.state === "paused" ? `paused:${value.reason || ""}` : value.state;
  }

  function presenceSince(channel, value) {
    const since = loadJson(sessionStorage, SINCE_KEY, {});
    const key = stateKey(value);
    const mine = state.me ? state.me.id : "";
    const entry = since[`${mine}:${channel}`];
    if (entry && entry.key === key) return entry.at;
    const at = Date.now();
    since[`${mine}:${channel}`] = { key, at };
    sessionStorage.setItem(SINCE_KEY, JSON.stringify(since));
    return at;
  }

  function channelLabel(channel) {
    const key = `channel_${channel}`;
    const text = t(key);
    return text === key ? channel : text;
  }

  function renderPresence() {
    const list = $("presence");
    const me = state.me;
    if (!me) return;
    const focusedId = document.activeElement && list.contains(document.activeElement) ? document.activeElement.id : null;
    const channels = Object.keys(me.channels || {});
    const items = channels.map((channel) => {
      const value = me.channels[channel] || { state: "offline" };
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

      const stateText = isPaused ? t("paused_reason", { reason: value.reason || "" }) : t(isOnline ? "online" : "offline");
      const status = el("span", { id: `presence-state-${channel}`, class: `presence-state state-${value.state}` },
        el("span", { class: "dot", "aria-hidden": "true" }),
        el("span", { class: "presence-state-text" }, stateText),
        " ",
        el("span", { class: "presence-timer", dataset: { since: String(since) } }, t("in_state_for", { time: duration(Date.now() - since) })),
      );

      const row = el("li", { class: "presence-row", dataset: { channel } },
        el("div", { class: "presence-main" },
          el("label", { for: checkboxId, class: "switch-label" }, checkbox, el("span", { class: "channel-name" }, channelLabel(channel))),
          status,
        ),
      );

      const controls = el("div", { class: "presence-controls" });
      if (isPaused) {
        const resume = el("button", { type: "button", class: "button small secondary", id: `presence-resume-${channel}` }, t("resume"));
        resume.addEventListener("click", () => setPresence(channel, "online"));
        controls.append(resume);
      } else if (isOnline) {
        const pauseButton = el("button", {
          type: "button",
          class: "button small secondary",
          id: `presence-pause-${channel}`,
          "aria-expanded": state.pauseOpen.has(channel) ? "true" : "false",
          "aria-controls": `pause-form-${channel}`,
        }, t("pause"));
        pauseButton.addEventListener("click", () => {
          if (state.pauseOpen.has(channel)) state.pauseOpen.delete(channel);
          else state.pauseOpen.add(channel);
          renderPresence();
          const select = $(`pause-reason-${channel}`);
          if (select) select.focus();
        });
        controls.append(pauseButton);
      }
      row.append(controls);

      if (isOnline && state.pauseOpen.has(channel)) {
        const selectId = `pause-reason-${channel}`;
        const select = el("select", { id: selectId, class: "pause-reason", dataset: { pauseChannel: channel }, required: true },
          el("option", { value: "" }, t("choose_reason")),
          ...(state.config.pause_reasons || []).map((reason) => el("option", { value: reason }, reason)),
        );
        const confirm = el("button", { type: "submit", class: "button small primary" }, t("pause_confirm"));
        const form = el("form", { class: "pause-form", id: `pause-form-${channel}` },
          el("label", { for: selectId }, t("pause_reason", { channel: channelLabel(channel) })),
          el("div", { class: "pause-form-row" }, select, confirm),
        );
        // Picking a reason with the mouse (or touch) pauses straight away; with the keyboard
        // the arrows only browse and Enter / the Pause button confirms.
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
          if (browsingWithKeys) return;
          if (select.value) {
            state.pauseOpen.delete(channel);
            setPresence(channel, "paused", select.value);
          }
        });
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          if (!select.value) { select.focus(); return; }
          state.pauseOpen.delete(channel);
          setPresence(channel, "paused", select.value);
        });
        row.append(form);
      }
      return row;
    });
    list.replaceChildren(...items);
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

  async function refreshPresence() {
    try {
      state.me = await api("GET", "/api/desk/presence");
      renderPresence();
    } catch (_) { /* shown elsewhere */ }
  }

  function tick() {
    for (const timer of document.querySelectorAll(".presence-timer")) {
      const since = Number(timer.dataset.since);
      if (since) timer.textContent = t("in_state_for", { time: duration(Date.now() - since) });
    }
  }

  // ---------------------------------------------------------------- chat lists

  function isMember(record, person) {
    return record.responsible === person || (record.participants || []).includes(person);
  }

  function wasMember(record, person) {
    return isMember(record, person) || (record.former_participants || []).includes(person);
  }

  function tabOf(record) {
    if (record.state === "queued") return "queued";
    if (record.state === "in_progress") return "in_progress";
    return "closed";
  }

  function visibleIn(tab, record) {
    if (tabOf(record) !== tab) return false;
    const me = state.me ? state.me.id : "";
    if (tab === "queued") return true;
    if (tab === "in_progress") return isMember(record, me);
    return wasMember(record, me) || record.state === "lost";
  }

  async function fetchChats() {
    const query = state.search.trim();
    if (!query) {
      const answer = await api("GET", "/api/desk/chats");
      return (answer && answer.chats) || [];
    }
    // The ticket filter is an exact match: also try "t-000123" as "T-000123" and a bare
    // number as "T-" followed by six digits.
    const tickets = new Set([query, query.toUpperCase()]);
    if (/^\d{1,6}$/.test(query)) tickets.add(`T-${query.padStart(6, "0")}`);
    const answers = await Promise.all([
      ...[...tickets].map((ticket) => api("GET", `/api/desk/chats?ticket=${encodeURIComponent(ticket)}`).catch(() => ({ chats: [] }))),
      api("GET", `/api/desk/chats?contact=${encodeURIComponent(query)}`).catch(() => ({ chats: [] })),
    ]);
    const seen = new Map();
    for (const chat of answers.flatMap((answer) => (answer && answer.chats) || [])) {
      if (!seen.has(chat.conversation_id)) seen.set(chat.conversation_id, chat);
    }
    return [...seen.values()];
  }

  let refreshing = null;
  let refreshAgain = false;

  async function refreshLists() {
    if (!state.signedIn) return;
    if (refreshing) { refreshAgain = true; return refreshing; }
    refreshing = (async () => {
      try {
        const [chats, alert] = await Promise.all([fetchChats(), api("GET", "/api/desk/alert")]);
        state.chats = chats;
        state.alert = alert || state.alert;
        if (state.searchChanged) {
          // A new search whose results are all under another tab: show that tab.
          state.searchChanged = false;
          const tabs = ["queued", "in_progress", "closed"];
          const found = tabs.filter((tab) => chats.some((record) => visibleIn(tab, record)));
          if (state.search.trim() && found.length && !found.includes(state.tab)) selectTab(found[0]);
        }
        renderLists();
        renderAlert();
        syncOpenRecord();
      } catch (error) {
        if (error.status !== 401) showError(error);
      }
    })();
    await refreshing;
    refreshing = null;
    if (refreshAgain) {
      refreshAgain = false;
      await refreshLists();
    }
  }

  const scheduleRefresh = debounce(() => refreshLists(), 250);

  function chatTitle(record) {
    if (record.contact && record.contact.name) return record.contact.name;
    return record.requester || record.conversation_id;
  }

  function renderLists() {
    for (const tab of ["queued", "in_progress", "closed"]) {
      const count = state.chats.filter((record) => visibleIn(tab, record)).length;
      const unread = state.chats.some((record) => visibleIn(tab, record) && record.unread);
      const badge = $(`count-${tab}`);
      badge.textContent = count ? String(count) : "";
      badge.classList.toggle("has-unread", unread);
    }
    const list = $("chat-list");
    const focused = document.activeElement && list.contains(document.activeElement)
      ? document.activeElement.closest("li") && document.activeElement.closest("li").dataset.chatId
      : null;
    const records = state.chats.filter((record) => visibleIn(state.tab, record));
    const openId = state.open ? state.open.id : null;
    const items = records.map((record) => {
      const id = record.conversation_id;
      const meta = [];
      meta.push(record.ticket || record.lost_ticket || t("no_ticket"));
      meta.push(channelLabel(record.channel));
      if (record.state === "queued" && record.position) {
        let text = t("position", { position: record.position });
        if (record.eta_ms) text += ` · ${t("eta", { time: shortDuration(record.eta_ms) })}`;
        meta.push(text);
      }
      if (record.state === "lost") meta.push(t("lost"));
      if (record.state === "in_progress" && record.responsible && state.me && record.responsible !== state.me.id) {
        meta.push(personName(record.responsible));
      }
      const li = el("li", {
        class: "chat-item" + (id === openId ? " is-open" : "") + (record.unread ? " is-unread" : ""),
        tabindex: "0",
        dataset: { chatId: id },
        "aria-current": id === openId ? "true" : undefined,
      },
        el("span", { class: "chat-item-main" },
          el("span", { class: "chat-item-title" }, chatTitle(record)),
          record.blocked ? el("span", { class: "pill pill-danger" }, t("blocked")) : null,
          record.contact && record.contact.contract_status === "blocked" ? el("span", { class: "pill pill-warn" }, t("contract_blocked")) : null,
        ),
        el("span", { class: "chat-item-meta" }, meta.join(" · ")),
        (record.tags && record.tags.length) ? el("span", { class: "chat-item-tags" }, record.tags.join(", ")) : null,
        record.unread ? el("span", { class: "unread-dot", role: "img", "aria-label": t("unread") }) : null,
      );
      li.addEventListener("click", () => openChat(id));
      li.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          openChat(id);
        } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          const sibling = event.key === "ArrowDown" ? li.nextElementSibling : li.previousElementSibling;
          if (sibling) sibling.focus();
        }
      });
      return li;
    });
    list.replaceChildren(...items);
    const empty = $("chat-list-empty");
    empty.hidden = records.length > 0;
    empty.textContent = state.search.trim() ? t("empty_search") : t(`empty_${state.tab}`);
    if (focused) {
      const again = list.querySelector(`li[data-chat-id="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  function renderAlert() {
    const alert = state.alert || {};
    const ids = new Set([...(alert.unread || []), ...(alert.queue_unread || [])]);
    const on = Boolean(alert.alert) || ids.size > 0;
    const badge = $("alert");
    badge.hidden = !on;
    const count = ids.size || (on ? 1 : 0);
    badge.textContent = on ? String(count) : "";
    badge.setAttribute("aria-label", count === 1 ? t("alert_label_one") : t("alert_label", { count }));
    const icon = $("chat-icon");
    icon.setAttribute("aria-label", on ? `${t("chat_icon_label")}: ${badge.getAttribute("aria-label")}` : t("chat_icon_label"));
    document.title = (on ? `(${count}) ` : "") + "Ponte — " + t("app_title");
  }

  function selectTab(tab, focus) {
    state.tab = tab;
    for (const button of document.querySelectorAll('[role="tab"]')) {
      const selected = button.dataset.tab === tab;
      button.setAttribute("aria-selected", selected ? "true" : "false");
      button.tabIndex = selected ? 0 : -1;
      if (selected && focus) button.focus();
    }
    $("chat-panel").setAttribute("aria-labelledby", `tab-${tab}`);
    renderLists();
  }

  // ---------------------------------------------------------------- staff live feed

  function connectStaff() {
    if (!state.signedIn) return;
    clearTimeout(state.staffRetryTimer);
    let socket;
    try {
      socket = new WebSocket(wsUrl("/api/desk/live"));
    } catch (_) {
      retryStaff();
      return;
    }
    state.staffSocket = socket;
    socket.onopen = () => {
      state.staffRetry = 0;
      $("connection").hidden = true;
      // Anything missed while disconnected.
      scheduleRefresh();
    };
    socket.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      onStaffFrame(frame);
    };
    socket.onclose = () => {
      if (state.staffSocket !== socket) return;
      state.staffSocket = null;
      retryStaff();
    };
    socket.onerror = () => { /* onclose follows */ };
  }

  function retryStaff() {
    if (!state.signedIn) return;
    const connection = $("connection");
    connection.textContent = t("connection_lost");
    connection.hidden = false;
    const delay = Math.min(30000, 1000 * 2 ** state.staffRetry) * (0.75 + Math.random() * 0.5);
    state.staffRetry = Math.min(state.staffRetry + 1, 6);
    state.staffRetryTimer = setTimeout(async () => {
      // A dropped socket may mean the token is gone: check before reconnecting.
      try {
        await api("GET", "/api/desk/presence");
      } catch (error) {
        if (error.status === 401 || error.status === 403) return;
      }
      connectStaff();
    }, delay);
  }

  const PEOPLE_OPS = new Set(["upsert_person", "set_presence"]);
  const CONFIG_OPS = new Set(["configure"]);
  const QUICK_OPS = new Set(["upsert_quick_reply", "delete_quick_reply"]);
  const MACRO_OPS = new Set(["upsert_macro", "delete_macro"]);

  const refreshPeople = debounce(async () => {
    try { await loadPeople(); renderAnalysts(); } catch (_) { /* ignore */ }
  }, 500);

  function onStaffFrame(frame) {
    if (frame.type === "lagged") {
      scheduleRefresh();
      return;
    }
    if (frame.type === "unread") {
      scheduleRefresh();
      return;
    }
    if (frame.type !== "desk") return;
    // The server flattens the operation into the frame (`{"type":"desk","op":"capture",
    // "conversation_id":...}`); a nested `{"type":"desk","op":{"op":...}}` is accepted too.
    const op = frame.op && typeof frame.op === "object" ? frame.op : frame;
    const kind = typeof op.op === "string" ? op.op : "";
    if (PEOPLE_OPS.has(kind)) {
      refreshPeople();
      if (state.me && op.person === state.me.id) refreshPresence();
    }
    if (CONFIG_OPS.has(kind)) loadConfig().then(renderPresence).catch(() => {});
    if (QUICK_OPS.has(kind)) loadQuickReplies().catch(() => {});
    if (MACRO_OPS.has(kind)) loadMacros().catch(() => {});
    if (kind === "start_analyst_chat" && state.me && (op.to === state.me.id || op.from === state.me.id)) {
      rememberAnalystChat(op.conversation_id, op.to === state.me.id ? op.from : op.to);
    }
    if (kind === "link_contact" && state.me && op.analyst === state.me.id) {
      state.links.add(op.other);
      saveLinks();
      renderAnalysts();
    }
    if (kind === "unlink_contact" && state.me && op.analyst === state.me.id) {
      state.links.delete(op.other);
      saveLinks();
      renderAnalysts();
    }
    scheduleRefresh();
    // Capturing, closing or being assigned a chat changes the caller's load.
    if (["capture", "close", "transfer", "reopen", "enqueue", "reroute", "choose", "leave", "invite", "start_outbound"].includes(kind)) {
      debouncedPresence();
    }
  }

  const debouncedPresence = debounce(refreshPresence, 600);

  // ---------------------------------------------------------------- open chat

  function findRecord(id) {
    return state.chats.find((record) => record.conversation_id === id) || null;
  }

  function syncOpenRecord() {
    if (!state.open || state.open.analyst) return;
    const record = findRecord(state.open.id);
    if (!record) return;
    const before = state.open.record;
    state.open.record = record;
    renderChatHeader();
    const me = state.me ? state.me.id : "";
    const couldRead = before && (wasMember(before, me));
    if (!couldRead && wasMember(record, me) && !state.chatSocket) {
      // Just captured (here or by a transfer): load the transcript and follow it.
      loadTranscript();
    }
    if (record.unread && isMember(record, me) && document.visibilityState === "visible") markReadSoon();
  }

  async function openChat(id, analystWith) {
    if (state.open && state.open.id === id) {
      showChatPane();
      $("composer").focus();
      return;
    }
    closeChatSocket();
    state.open = { id, record: analystWith ? null : findRecord(id), analyst: analystWith ? { with: analystWith } : null };
    state.messages = new Map();
    state.lastSeq = 0;
    $("transcript").replaceChildren();
    $("transcript-note").hidden = true;
    $("composer").value = "";
    $("composer-error").textContent = "";
    updateSuggestions();
    $("chat").hidden = false;
    $("chat-placeholder").hidden = true;
    showChatPane();
    renderChatHeader();
    renderLists();
    renderAnalysts();
    await loadTranscript();
    const record = state.open && state.open.record;
    if (record && record.unread && state.me && isMember(record, state.me.id)) markReadSoon();
    if (record && record.state === "queued") $("capture").focus();
    else if (!$("composer").disabled) $("composer").focus();
    else $("transcript").focus();
  }

  function showChatPane() {
    document.body.classList.add("chat-open");
  }

  function backToList() {
    document.body.classList.remove("chat-open");
    const id = state.open ? state.open.id : null;
    const li = id && $("chat-list").querySelector(`li[data-chat-id="${CSS.escape(id)}"]`);
    if (li) li.focus();
    else $("search").focus();
  }

  const markReadSoon = debounce(async () => {
    if (!state.open || state.open.analyst) return;
    const record = state.open.record;
    if (!record || !state.me || !isMember(record, state.me.id)) return;
    try {
      const updated = await api("POST", `/api/desk/chats/${encodeURIComponent(state.open.id)}/read`);
      if (updated) replaceRecord(updated);
      const alert = await api("GET", "/api/desk/alert");
      state.alert = alert || state.alert;
      renderAlert();
    } catch (_) { /* not important */ }
  }, 400);

  function replaceRecord(updated) {
    if (!updated || !updated.conversation_id) return;
    const index = state.chats.findIndex((record) => record.conversation_id === updated.conversation_id);
    if (index >= 0) state.chats[index] = updated;
    else state.chats.push(updated);
    if (state.open && state.open.id === updated.conversation_id) state.open.record = updated;
    renderLists();
    renderChatHeader();
  }

  function renderChatHeader() {
    const open = state.open;
    if (!open) return;
    const me = state.me ? state.me.id : "";
    const title = $("chat-title");
    const meta = $("chat-meta");
    $("chat").classList.toggle("no-contact", Boolean(open.analyst));
    if (open.analyst) {
      title.textContent = t("analyst_chat_with", { name: personName(open.analyst.with) });
      meta.textContent = "";
      for (const id of ["capture", "decline", "reopen", "leave"]) $(id).hidden = true;
      $("toolbar").hidden = true;
      $("composer-form").hidden = false;
      $("tag-list").hidden = true;
      $("contact-panel").hidden = true;
      $("contact-toggle").hidden = true;
      setComposerEnabled(true);
      return;
    }
    $("composer-form").hidden = false;
    $("tag-list").hidden = false;
    $("contact-toggle").hidden = false;
    $("contact-panel").hidden = false;
    const record = open.record;
    if (!record) {
      title.textContent = open.id;
      meta.textContent = "";
      return;
    }
    title.textContent = chatTitle(record);
    const parts = [];
    const ticket = record.ticket || record.lost_ticket;
    if (ticket) parts.push(t("ticket", { ticket }));
    parts.push(channelLabel(record.channel));
    parts.push(t(`state_${record.state}`));
    if (record.state === "queued" && record.position) parts.push(t("position", { position: record.position }));
    if (record.responsible) parts.push(t("responsible", { name: personName(record.responsible) }));
    if (record.participants && record.participants.length) {
      parts.push(t("participants", { names: record.participants.map(personName).join(", ") }));
    }
    if (record.close_reason) parts.push(t("closed_reason", { reason: record.close_reason }));
    meta.textContent = parts.join(" · ");

    const member = isMember(record, me);
    const active = record.state === "in_progress" && member;
    $("capture").hidden = record.state !== "queued";
    // Declining hands a chat one was given (automatic or manual routing) to someone else.
    $("decline").hidden = !(record.state === "in_progress" && record.responsible === me && record.origin !== "outbound");
    $("reopen").hidden = !(record.state === "closed" || record.state === "lost");
    $("leave").hidden = !(active && record.responsible !== me);
    for (const id of ["macros", "tags", "transfer", "invite", "close"]) $(id).disabled = !active;
    $("transfer").disabled = !active || record.responsible !== me;
    // Actions and the composer only where the caller can act: a chat of theirs in progress.
    $("toolbar").hidden = !active;
    $("composer-form").hidden = !active;
    setComposerEnabled(active);
    renderTags();
    renderContact();
  }

  function setComposerEnabled(enabled) {
    for (const id of ["composer", "send", "quick-replies", "attach-input"]) $(id).disabled = !enabled;
    document.querySelector(".file-button").classList.toggle("is-disabled", !enabled);
  }

  function renderTags() {
    const record = state.open && state.open.record;
    const tags = (record && record.tags) || [];
    const active = record && record.state === "in_progress" && state.me && isMember(record, state.me.id);
    const make = (tag) => {
      const chip = el("li", { class: "tag" }, el("span", {}, tag));
      if (active) {
        const remove = el("button", { type: "button", class: "tag-remove", "aria-label": t("remove_tag", { tag }) }, "×");
        remove.addEventListener("click", () => removeTag(tag));
        chip.append(remove);
      }
      return chip;
    };
    $("tag-list").replaceChildren(...tags.map(make));
    const dialogList = $("dialog-tag-list");
    dialogList.replaceChildren(...(tags.length ? tags.map(make) : [el("li", { class: "muted small" }, t("no_tags"))]));
  }

  async function renderContact() {
    const record = state.open && state.open.record;
    const details = $("contact-details");
    if (!record) { details.replaceChildren(); return; }
    const requester = record.requester;
    let contact = state.contactCache.get(requester);
    if (contact === undefined) {
      state.contactCache.set(requester, null);
      try {
        const answer = await api("GET", `/api/desk/contacts?q=${encodeURIComponent(requester)}`);
        contact = ((answer && answer.contacts) || []).find((c) => c.id === requester) || null;
      } catch (_) {
        contact = null;
      }
      state.contactCache.set(requester, contact);
      if (!state.open || !state.open.record || state.open.record.requester !== requester) return;
    }
    const summary = record.contact || {};
    const rows = [
      ["contact_name", (contact && contact.name) || summary.name],
      ["contact_id", requester],
      ["contact_email", contact && contact.email],
      ["contact_phone", contact && contact.phone],
      ["contact_project", (contact && contact.project_id) || record.project_id],
      ["contract", (contact && contact.contract) || summary.contract],
    ];
    details.replaceChildren(...rows.filter(([, value]) => value).flatMap(([key, value]) => [el("dt", {}, t(key)), el("dd", {}, value)]));
    const status = (contact && contact.contract_status) || summary.contract_status;
    const hasContract = Boolean((contact && contact.contract) || summary.contract || status === "blocked");
    const statusLine = $("contract-status");
    statusLine.className = "contract-status " + (!hasContract ? "contract-none" : status === "blocked" ? "contract-blocked" : "contract-active");
    statusLine.replaceChildren(
      el("span", { class: "visually-hidden" }, t("contract_status") + ": "),
      el("span", { class: "dot", "aria-hidden": "true" }),
      !hasContract ? t("contract_none") : status === "blocked" ? t("contract_blocked") : t("contract_active"),
    );
    const blocked = Boolean(record.blocked);
    const button = $("block-contact");
    button.textContent = blocked ? t("unblock_contact") : t("block_contact");
    button.setAttribute("aria-pressed", blocked ? "true" : "false");
    button.title = blocked ? t("contact_is_blocked") : "";
  }

  // ---------------------------------------------------------------- transcript

  // Messages written from this console carry `console-<person>-...` as client_message_id,
  // which is how a message is known to be the caller's (the API does not say who wrote it).
  function myMessagePrefix() {
    return `console-${state.me ? state.me.id : ""}-`;
  }

  function isMine(message) {
    const id = message.client_message_id;
    return message.sender_kind === "attendant" && typeof id === "string" && (state.myMessageIds.has(id) || id.startsWith(myMessagePrefix()));
  }

  function senderLabel(message) {
    if (isMine(message)) return t("sender_you");
    if (message.sender_kind === "attendant" && state.open && state.open.analyst) return personName(state.open.analyst.with);
    const record = state.open && state.open.record;
    if (message.sender_kind === "requester" && record && record.contact && record.contact.name) return record.contact.name;
    const key = `sender_${message.sender_kind}`;
    const text = t(key);
    return text === key ? message.sender_kind : text;
  }

  function attachmentOf(message) {
    const payload = message.payload;
    if (payload && typeof payload === "object" && payload.attachment && payload.attachment.id) return payload.attachment;
    return null;
  }

  function renderMessage(message) {
    const kind = String(message.sender_kind || "system").replace(/[^a-z_]/g, "");
    const other = kind === "attendant" && state.open && state.open.analyst && !isMine(message);
    const node = el("div", {
      class: `message from-${kind}` + (isMine(message) ? " is-mine" : "") + (other ? " is-other" : ""),
      dataset: { seq: String(message.seq) },
    },
      el("div", { class: "message-meta" },
        el("span", { class: "message-sender" }, senderLabel(message)),
        el("time", { class: "message-time" }, formatTime(message.created_at)),
      ),
    );
    const attachment = attachmentOf(message);
    const payload = message.payload && typeof message.payload === "object" ? message.payload : null;
    if (attachment) {
      node.append(renderAttachment(attachment));
    } else if (!message.body && payload && payload.event) {
      // A bodiless event (e.g. the hand-off to the desk): one quiet line.
      node.classList.add("is-event");
      const key = `event_${String(payload.event)}`;
      const known = t(key) !== key;
      node.append(el("div", { class: "message-body" },
        known ? t(key, { group: payload.group || "", ticket: payload.ticket || "" }) : String(payload.event),
        " · ",
        el("time", {}, formatTime(message.created_at))));
    } else {
      node.append(el("div", { class: "message-body" }, message.body || ""));
    }
    return node;
  }

  function renderAttachment(attachment) {
    const name = attachment.file_name || "attachment";
    const sizeKb = Math.max(1, Math.round((attachment.size || 0) / 1024));
    const wrap = el("div", { class: "message-body attachment" });
    const button = el("button", { type: "button", class: "attachment-link", "aria-label": t("download", { name }) },
      clipIcon(),
      el("span", {}, name),
      el("span", { class: "muted small" }, ` (${t("size_kb", { size: sizeKb })})`),
    );
    button.addEventListener("click", () => downloadAttachment(attachment));
    wrap.append(button);
    if (attachment.kind === "image" || String(attachment.content_type || "").startsWith("image/")) {
      const img = el("img", { class: "attachment-preview", alt: name, loading: "lazy" });
      wrap.append(img);
      api("GET", `/api/attachments/${encodeURIComponent(attachment.id)}`, undefined, { blob: true })
        .then((blob) => { img.src = URL.createObjectURL(blob); })
        .catch(() => img.remove());
    }
    return wrap;
  }

  function clipIcon() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", "clip-icon");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.5 3.5 0 0 1 5 5l-8.6 8.6a2 2 0 0 1-2.8-2.8l7.9-7.9");
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    svg.append(path);
    return svg;
  }

  async function downloadAttachment(attachment) {
    try {
      const blob = await api("GET", `/api/attachments/${encodeURIComponent(attachment.id)}`, undefined, { blob: true });
      const url = URL.createObjectURL(blob);
      const link = el("a", { href: url, download: attachment.file_name || "attachment", class: "visually-hidden" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (error) {
      showError(error);
    }
  }

  function addMessages(messages) {
    const transcript = $("transcript");
    const nearBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
    let added = false;
    for (const message of messages) {
      if (!message || typeof message.seq !== "number") continue;
      if (state.messages.has(message.seq)) continue;
      state.messages.set(message.seq, message);
      const node = renderMessage(message);
      // Keep order by seq even if something arrives out of order.
      let before = null;
      if (message.seq < state.lastSeq) {
        for (const child of transcript.children) {
          if (Number(child.dataset.seq) > message.seq) { before = child; break; }
        }
      }
      transcript.insertBefore(node, before);
      state.lastSeq = Math.max(state.lastSeq, message.seq);
      added = true;
    }
    if (added) {
      $("transcript-note").hidden = true;
      if (nearBottom || messages.length > 1) transcript.scrollTop = transcript.scrollHeight;
    }
    return added;
  }

  async function loadTranscript() {
    const open = state.open;
    if (!open) return;
    const id = open.id;
    const note = $("transcript-note");
    const record = open.record;
    if (record && !open.analyst && state.me && !wasMember(record, state.me.id)) {
      // The server lets only the people serving a chat read it: nothing to ask for yet.
      note.textContent = t("transcript_forbidden");
      note.hidden = false;
      return;
    }
    try {
      let after = state.lastSeq;
      // Page through (the server caps a page).
      for (let page = 0; page < 50; page += 1) {
        const answer = await api("GET", `/api/desk/chats/${encodeURIComponent(id)}/messages?after=${after}&limit=200`);
        if (!state.open || state.open.id !== id) return;
        const messages = (answer && answer.messages) || [];
        addMessages(messages);
        if (messages.length < 200) break;
        after = messages[messages.length - 1].seq;
      }
      if (state.messages.size === 0) {
        note.textContent = t("transcript_empty");
        note.hidden = false;
      }
      followChat();
    } catch (error) {
      if (!state.open || state.open.id !== id) return;
      if (error.status === 403) {
        note.textContent = t("transcript_forbidden");
        note.hidden = false;
      } else {
        showError(error);
      }
    }
  }

  function closeChatSocket() {
    clearTimeout(state.chatRetryTimer);
    const socket = state.chatSocket;
    state.chatSocket = null;
    state.chatSocketFor = null;
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
  }

  function followChat() {
    const open = state.open;
    if (!open) return;
    if (state.chatSocket && state.chatSocketFor === open.id) return;
    closeChatSocket();
    const id = open.id;
    let socket;
    try {
      socket = new WebSocket(wsUrl(`/api/conversations/${encodeURIComponent(id)}/live`, { after: String(state.lastSeq) }));
    } catch (_) {
      return;
    }
    state.chatSocket = socket;
    state.chatSocketFor = id;
    socket.onopen = () => { state.chatRetry = 0; };
    socket.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      if (frame.type !== "message" || !frame.message) return;
      if (!state.open || state.open.id !== id) return;
      const added = addMessages([frame.message]);
      if (added && frame.message.sender_kind === "requester" && document.visibilityState === "visible") markReadSoon();
    };
    socket.onclose = () => {
      if (state.chatSocket !== socket) return;
      state.chatSocket = null;
      state.chatSocketFor = null;
      if (!state.open || state.open.id !== id || !state.signedIn) return;
      const delay = Math.min(30000, 1000 * 2 ** state.chatRetry) * (0.75 + Math.random() * 0.5);
      state.chatRetry = Math.min(state.chatRetry + 1, 6);
      state.chatRetryTimer = setTimeout(() => {
        if (state.open && state.open.id === id) followChat();
      }, delay);
    };
  }

  // ---------------------------------------------------------------- writing

  async function send() {
    const open = state.open;
    const composer = $("composer");
    const text = composer.value;
    if (!open || !text.trim()) return;
    const error = $("composer-error");
    error.textContent = "";
    const clientId = `${myMessagePrefix()}${randomId()}`;
    state.myMessageIds.add(clientId);
    $("send").disabled = true;
    try {
      const answer = await api("POST", `/api/desk/chats/${encodeURIComponent(open.id)}/messages`, { text, client_message_id: clientId });
      composer.value = "";
      updateSuggestions();
      if (state.open && state.open.id === open.id) addMessages((answer && answer.messages) || []);
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      $("send").disabled = composer.disabled;
      composer.focus();
    }
  }

  function quickText(reply) {
    const texts = reply.texts || {};
    return texts[LANG] || texts.en || texts["pt-BR"] || texts.es || Object.values(texts)[0] || "";
  }

  function updateSuggestions() {
    const box = $("quick-suggestions");
    const value = $("composer").value;
    const match = /^\/([a-z0-9_-]*)$/i.exec(value.trim());
    if (!match || $("composer").disabled) {
      box.hidden = true;
      box.replaceChildren();
      $("composer").removeAttribute("aria-controls");
      return;
    }
    const prefix = "/" + match[1].toLowerCase();
    const found = state.quickReplies.filter((reply) => reply.shortcut.startsWith(prefix)).slice(0, 6);
    if (!found.length) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    box.replaceChildren(...found.map((reply) => {
      const button = el("button", { type: "button", class: "quick-suggestion" },
        el("strong", {}, reply.shortcut), " ", el("span", { class: "muted" }, quickText(reply)));
      button.addEventListener("click", () => {
        $("composer").value = reply.shortcut;
        updateSuggestions();
        $("composer").focus();
      });
      return el("li", {}, button);
    }));
    box.hidden = false;
    $("composer").setAttribute("aria-controls", "quick-suggestions");
  }

  function openQuickDialog() {
    const list = $("quick-list");
    if (!state.quickReplies.length) {
      list.replaceChildren(el("li", { class: "muted" }, t("no_quick_replies")));
    } else {
      list.replaceChildren(...state.quickReplies.map((reply) => {
        const button = el("button", { type: "button", class: "quick-item", dataset: { shortcut: reply.shortcut } },
          el("strong", {}, reply.shortcut),
          reply.owner ? el("span", { class: "pill" }, t("personal")) : null,
          el("span", { class: "quick-item-text" }, quickText(reply)),
        );
        button.addEventListener("click", () => {
          $("dialog-quick").close();
          $("composer").value = reply.shortcut;
          updateSuggestions();
          $("composer").focus();
        });
        return el("li", {}, button);
      }));
    }
    showDialog("dialog-quick");
  }

  async function upload(file) {
    const open = state.open;
    if (!open || !file) return;
    announce(t("uploading", { name: file.name }));
    try {
      const answer = await api("POST", `/api/conversations/${encodeURIComponent(open.id)}/attachments?name=${encodeURIComponent(file.name)}`, file, {
        raw: true,
        contentType: file.type || "application/octet-stream",
      });
      if (answer && answer.message && state.open && state.open.id === open.id) addMessages([answer.message]);
      announce(t("uploaded", { name: file.name }));
    } catch (error) {
      $("composer-error").textContent = error.message;
    }
  }

  // ---------------------------------------------------------------- actions

  async function act(path, body, doneText) {
    const open = state.open;
    if (!open) return null;
    const updated = await api("POST", `/api/desk/chats/${encodeURIComponent(open.id)}/${path}`, body);
    if (updated && updated.conversation_id) replaceRecord(updated);
    if (doneText) announce(doneText);
    scheduleRefresh();
    debouncedPresence();
    return updated;
  }

  async function capture() {
    try {
      const record = await act("capture", undefined, t("captured"));
      if (record && record.state === "in_progress") {
        selectTab("in_progress");
        await loadTranscript();
        $("composer").focus();
      }
    } catch (error) {
      showError(error);
    }
  }

  function showDialog(id) {
    const dialog = $(id);
    for (const error of dialog.querySelectorAll(".error")) error.textContent = "";
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    const first = dialog.querySelector("select, input, textarea, button:not([data-dismiss])");
    if (first) first.focus();
  }

  function setupDialog(id, onSubmit) {
    const dialog = $(id);
    const form = dialog.querySelector("form");
    for (const dismiss of dialog.querySelectorAll("[data-dismiss]")) {
      dismiss.addEventListener("click", () => dialog.close());
    }
    if (onSubmit) {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const error = form.querySelector(".error");
        if (error) error.textContent = "";
        const submit = form.querySelector('[type="submit"]');
        if (submit) submit.disabled = true;
        try {
          const keepOpen = await onSubmit();
          if (!keepOpen) dialog.close();
        } catch (failure) {
          if (error) error.textContent = failure.message;
        } finally {
          if (submit) submit.disabled = false;
        }
      });
    }
    dialog.addEventListener("close", () => {
      const back = dialog.dataset.returnFocus && $(dialog.dataset.returnFocus);
      if (back && !back.disabled && !back.hidden) back.focus();
    });
  }

  function openCloseDialog() {
    const select = $("close-reason");
    select.replaceChildren(
      el("option", { value: "" }, t("choose_reason")),
      ...(state.config.close_reasons || []).map((reason) => el("option", { value: reason }, reason)),
    );
    $("close-message").value = "";
    $("dialog-close").dataset.returnFocus = "composer";
    showDialog("dialog-close");
  }

  function openTransferDialog() {
    const me = state.me ? state.me.id : "";
    const select = $("transfer-to");
    const stateWord = (person) => {
      const values = Object.values(person.channels || {});
      if (values.some((v) => v.state === "online")) return t("person_state_online");
      if (values.some((v) => v.state === "paused")) return t("person_state_paused");
      return t("person_state_offline");
    };
    select.replaceChildren(
      el("option", { value: "" }, "—"),
      ...state.people.filter((person) => person.id !== me).map((person) =>
        el("option", { value: person.id }, `${person.name} (${stateWord(person)}, ${person.active_chats}/${person.max_chats})`)),
    );
    $("dialog-transfer").dataset.returnFocus = "transfer";
    loadPeople().then(() => {
      // Refresh the labels with the latest presence without losing the choice.
      const chosen = select.value;
      select.replaceChildren(
        el("option", { value: "" }, "—"),
        ...state.people.filter((person) => person.id !== me).map((person) =>
          el("option", { value: person.id }, `${person.name} (${stateWord(person)}, ${person.active_chats}/${person.max_chats})`)),
      );
      select.value = chosen;
    }).catch(() => {});
    showDialog("dialog-transfer");
  }

  function openMacrosDialog() {
    const select = $("macro-select");
    select.replaceChildren(
      el("option", { value: "" }, state.macros.length ? "—" : t("no_macros")),
      ...state.macros.map((definition) => el("option", { value: definition.id }, definition.name)),
    );
    $("macro-steps").textContent = "";
    $("dialog-macros").dataset.returnFocus = "macros";
    showDialog("dialog-macros");
  }

  function describeMacro(definition) {
    return (definition.actions || []).map((action) => {
      switch (action.action) {
        case "tag": return `+${action.tag}`;
        case "untag": return `−${action.tag}`;
        case "transfer": return `${t("transfer")} → ${personName(action.to)}`;
        case "send_quick_reply": return action.shortcut;
        case "close": return `${t("close")}: ${action.reason}`;
        default: return action.action;
      }
    }).join(" · ");
  }

  async function removeTag(tag) {
    const open = state.open;
    if (!open) return;
    try {
      const updated = await api("DELETE", `/api/desk/chats/${encodeURIComponent(open.id)}/tags/${encodeURIComponent(tag)}`);
      if (updated) replaceRecord(updated);
    } catch (error) {
      showError(error);
    }
  }

  // ---------------------------------------------------------------- analysts

  function saveLinks() {
    if (state.me) localStorage.setItem(`${LINKS_KEY}.${state.me.id}`, JSON.stringify([...state.links]));
  }

  function rememberAnalystChat(conversationId, other) {
    if (!conversationId) return;
    if (!state.analystChats.some((chat) => chat.id === conversationId)) {
      state.analystChats.unshift({ id: conversationId, with: other });
      sessionStorage.setItem(ANALYST_CHATS_KEY, JSON.stringify(state.analystChats));
    }
    renderAnalysts();
  }

  function renderAnalysts() {
    const section = $("analysts");
    const me = state.me;
    const isAnalyst = me && me.kind === "analyst";
    section.hidden = !isAnalyst;
    if (!isAnalyst) return;
    const others = state.people.filter((person) => person.kind === "analyst" && person.id !== me.id);
    const list = $("analyst-list");
    if (!others.length) {
      list.replaceChildren(el("li", { class: "muted small" }, t("no_analysts")));
    } else {
      list.replaceChildren(...others.map((person) => {
        const linked = state.links.has(person.id);
        const online = Object.values(person.channels || {}).some((v) => v.state === "online");
        const toggle = el("button", {
          type: "button",
          class: "button small secondary",
          "aria-pressed": linked ? "true" : "false",
          "aria-label": linked ? t("unlink_label", { name: person.name }) : t("link_label", { name: person.name }),
          dataset: { analystLink: person.id },
        }, linked ? t("unlink") : t("link"));
        toggle.addEventListener("click", async () => {
          try {
            await api(linked ? "DELETE" : "PUT", `/api/desk/links/${encodeURIComponent(person.id)}`);
            if (linked) state.links.delete(person.id);
            else state.links.add(person.id);
            saveLinks();
            renderAnalysts();
          } catch (error) {
            showError(error);
          }
        });
        const chat = el("button", {
          type: "button",
          class: "button small primary",
          "aria-label": t("start_chat_label", { name: person.name }),
          dataset: { analystChat: person.id },
        }, t("start_chat"));
        chat.addEventListener("click", async () => {
          try {
            const started = await api("POST", "/api/desk/analyst-chats", { to: person.id });
            rememberAnalystChat(started.conversation_id, person.id);
            openChat(started.conversation_id, person.id);
          } catch (error) {
            showError(error);
          }
        });
        return el("li", { class: "analyst" },
          el("span", { class: "analyst-name" },
            el("span", { class: `dot ${online ? "state-online" : "state-offline"}`, "aria-hidden": "true" }),
            person.name,
            el("span", { class: "visually-hidden" }, ` (${online ? t("person_state_online") : t("person_state_offline")})`)),
          el("span", { class: "analyst-actions" }, toggle, chat));
      }));
    }
    const chats = $("analyst-chat-list");
    if (!state.analystChats.length) {
      chats.replaceChildren(el("li", { class: "muted small" }, t("no_analyst_chats")));
    } else {
      const openId = state.open ? state.open.id : null;
      chats.replaceChildren(...state.analystChats.map((chat) => {
        const li = el("li", {
          class: "chat-item" + (chat.id === openId ? " is-open" : ""),
          tabindex: "0",
          dataset: { analystChatId: chat.id },
        }, el("span", { class: "chat-item-title" }, t("analyst_chat_with", { name: personName(chat.with) })));
        li.addEventListener("click", () => openChat(chat.id, chat.with));
        li.addEventListener("keydown", (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            openChat(chat.id, chat.with);
          }
        });
        return li;
      }));
    }
  }

  // ---------------------------------------------------------------- wiring

  function wire() {
    translatePage();

    $("signin-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = $("signin-token").value.trim();
      if (!value) {
        $("signin-error").textContent = t("signin_empty");
        $("signin-token").setAttribute("aria-invalid", "true");
        $("signin-token").focus();
        return;
      }
      $("signin-submit").disabled = true;
      try {
        await signIn(value, true);
      } finally {
        $("signin-submit").disabled = false;
      }
    });
    $("signout").addEventListener("click", () => signOut(""));

    $("chat-icon").addEventListener("click", () => {
      // Jump to the first chat that needs attention.
      const alert = state.alert || {};
      const mine = (alert.unread || [])[0];
      const queued = (alert.queue_unread || [])[0];
      if (mine) { selectTab("in_progress"); openChat(mine); }
      else if (queued) { selectTab("queued"); openChat(queued); }
      else { document.body.classList.remove("chat-open"); $("search").focus(); }
    });

    // Tabs: click, arrows, Home/End.
    const tabs = [...document.querySelectorAll('[role="tab"]')];
    for (const tab of tabs) {
      tab.addEventListener("click", () => selectTab(tab.dataset.tab, true));
      tab.addEventListener("keydown", (event) => {
        const index = tabs.indexOf(tab);
        let next = null;
        if (event.key === "ArrowRight" || event.key === "ArrowDown") next = tabs[(index + 1) % tabs.length];
        else if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = tabs[(index - 1 + tabs.length) % tabs.length];
        else if (event.key === "Home") next = tabs[0];
        else if (event.key === "End") next = tabs[tabs.length - 1];
        if (next) {
          event.preventDefault();
          selectTab(next.dataset.tab, true);
        }
      });
    }

    const search = $("search");
    const runSearch = debounce(() => {
      state.search = search.value;
      state.searchChanged = true;
      refreshLists();
    }, 300);
    search.addEventListener("input", runSearch);
    search.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        state.search = search.value;
        state.searchChanged = true;
        refreshLists();
      } else if (event.key === "ArrowDown") {
        const first = $("chat-list").querySelector("li");
        if (first) { event.preventDefault(); first.focus(); }
      }
    });

    $("back").addEventListener("click", backToList);
    $("capture").addEventListener("click", capture);
    $("decline").addEventListener("click", async () => {
      try { await act("decline", undefined, t("declined")); } catch (error) { showError(error); }
    });
    $("reopen").addEventListener("click", async () => {
      try {
        const record = await act("reopen", undefined, t("reopened"));
        if (record) {
          selectTab(tabOf(record));
          closeChatSocket();
          await loadTranscript();
        }
      } catch (error) { showError(error); }
    });
    $("leave").addEventListener("click", async () => {
      try {
        await act("leave", undefined, t("left"));
        closeChatSocket();
      } catch (error) { showError(error); }
    });
    $("contact-toggle").addEventListener("click", () => {
      const panel = $("contact-panel");
      const open = !panel.classList.contains("is-expanded");
      panel.classList.toggle("is-expanded", open);
      $("contact-toggle").setAttribute("aria-expanded", open ? "true" : "false");
      if (open) panel.focus();
    });
    $("contact-panel").tabIndex = -1;
    $("block-contact").addEventListener("click", async () => {
      const record = state.open && state.open.record;
      if (!record) return;
      try {
        await api("PUT", `/api/desk/contacts/${encodeURIComponent(record.requester)}/block`, { blocked: !record.blocked });
        record.blocked = !record.blocked;
        renderContact();
        scheduleRefresh();
      } catch (error) {
        showError(error);
      }
    });

    $("close").addEventListener("click", openCloseDialog);
    $("transfer").addEventListener("click", openTransferDialog);
    $("invite").addEventListener("click", () => {
      $("invite-name").value = "";
      $("dialog-invite").dataset.returnFocus = "invite";
      showDialog("dialog-invite");
    });
    $("macros").addEventListener("click", openMacrosDialog);
    $("tags").addEventListener("click", () => {
      renderTags();
      $("tag-input").value = "";
      $("dialog-tags").dataset.returnFocus = "tags";
      showDialog("dialog-tags");
    });
    $("quick-replies").addEventListener("click", () => {
      $("dialog-quick").dataset.returnFocus = "composer";
      openQuickDialog();
    });
    $("macro-select").addEventListener("change", () => {
      const definition = state.macros.find((m) => m.id === $("macro-select").value);
      $("macro-steps").textContent = definition ? describeMacro(definition) : "";
    });

    setupDialog("dialog-close", async () => {
      const reason = $("close-reason").value;
      if (!reason) { $("close-reason").focus(); throw new Error(t("close_reason")); }
      const message = $("close-message").value.trim();
      const body = { reason };
      if (message) body.closing_message = message;
      await act("close", body, t("closed_ok"));
      $("dialog-close").dataset.returnFocus = "reopen";
    });
    setupDialog("dialog-transfer", async () => {
      const to = $("transfer-to").value;
      if (!to) { $("transfer-to").focus(); throw new Error(t("transfer_to")); }
      await act("transfer", { to }, t("transferred", { name: personName(to) }));
      $("dialog-transfer").dataset.returnFocus = "search";
    });
    setupDialog("dialog-invite", async () => {
      const name = $("invite-name").value.trim();
      if (!name) { $("invite-name").focus(); throw new Error(t("invite_name")); }
      await act("invite", { name }, t("invited", { name }));
    });
    setupDialog("dialog-macros", async () => {
      const id = $("macro-select").value;
      if (!id) { $("macro-select").focus(); throw new Error(t("macro")); }
      const definition = state.macros.find((m) => m.id === id);
      const open = state.open;
      const updated = await api("POST", `/api/desk/chats/${encodeURIComponent(open.id)}/macros/${encodeURIComponent(id)}`);
      if (updated) replaceRecord(updated);
      announce(t("macro_ran", { name: definition ? definition.name : id }));
      scheduleRefresh();
    });
    setupDialog("dialog-tags", async () => {
      const tag = $("tag-input").value.trim();
      if (!tag) { $("tag-input").focus(); throw new Error(t("tag_new")); }
      await act("tags", { tag });
      $("tag-input").value = "";
      renderTags();
      $("tag-input").focus();
      return true; // keep the dialog open for more tags
    });
    setupDialog("dialog-quick", null);

    $("composer-form").addEventListener("submit", (event) => {
      event.preventDefault();
      send();
    });
    $("composer").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        send();
      } else if (event.key === "Escape" && !$("quick-suggestions").hidden) {
        $("quick-suggestions").hidden = true;
      } else if (event.key === "ArrowDown" && !$("quick-suggestions").hidden) {
        const first = $("quick-suggestions").querySelector("button");
        if (first) { event.preventDefault(); first.focus(); }
      }
    });
    $("quick-suggestions").addEventListener("keydown", (event) => {
      const buttons = [...$("quick-suggestions").querySelectorAll("button")];
      const index = buttons.indexOf(document.activeElement);
      if (event.key === "ArrowDown" && index < buttons.length - 1) { event.preventDefault(); buttons[index + 1].focus(); }
      else if (event.key === "ArrowUp") { event.preventDefault(); (index > 0 ? buttons[index - 1] : $("composer")).focus(); }
      else if (event.key === "Escape") { event.preventDefault(); $("quick-suggestions").hidden = true; $("composer").focus(); }
    });
    $("composer").addEventListener("input", updateSuggestions);
    $("attach-input").addEventListener("change", () => {
      const input = $("attach-input");
      const file = input.files && input.files[0];
      if (file) upload(file);
      input.value = "";
    });

    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && state.signedIn) {
        scheduleRefresh();
        const record = state.open && state.open.record;
        if (record && record.unread) markReadSoon();
      }
    });

    setInterval(tick, 1000);
    // A slow safety net for anything the live feed missed (queue positions, timers).
    setInterval(() => { if (state.signedIn && document.visibilityState === "visible") refreshLists(); }, 30000);

    if (token) {
      signIn(token, false).then((ok) => { if (!ok) { showConsole(false); $("signin-token").focus(); } });
    } else {
      showConsole(false);
      $("signin-token").focus();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})();
