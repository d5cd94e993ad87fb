// Ponte's requester chat widget: its texts in every language and the choice of language.
// Loaded by widget.js before widget-view.js; shares what it owns on window.PonteWidgetParts.
(function () {
  "use strict";
  const W = window.PonteWidgetParts;
  if (!W) return;
  const { config, MAX_TEXT } = W;

  const TEXTS = {
    "pt-BR": {
      talk: "Conversar",
      close: "Fechar conversa",
      message: "Mensagem",
      placeholder: "Escreva sua mensagem…",
      send: "Enviar",
      conversation: "Conversa",
      assistant: "Assistente virtual",
      stageAssistant: "Respostas automáticas",
      desk: "Central de atendimento",
      waiting: "Aguardando um atendente",
      online: "Atendente online",
      queue: (n, eta) => "Você é o número " + n + " na fila" + (eta ? " (cerca de " + eta + " min)" : "") + ".",
      reconnecting: "Conexão perdida. Reconectando…",
      offline: "Não foi possível conectar ao atendimento. Tente novamente em instantes.",
      ticket: (n) => "Chamado " + n,
      read: "Ler aqui",
      hide: "Ocultar artigo",
      loading: "Carregando…",
      articleFailed: "Não foi possível carregar o artigo. Tente pelo portal.",
      viewInPortal: "Ver no portal",
      closeArticle: "Fechar",
      expand: "Mostrar descrição",
      collapse: "Ocultar descrição",
      articleClosed: "Artigo fechado",
      ended: "Esta conversa terminou.",
      restart: "Nova conversa",
      failed: "Não enviada. Toque para tentar de novo.",
      you: "Você",
      attendant: "Atendente",
      sources: "Fontes",
      specialists: "Escolha com quem falar:",
      joined: (name) => name + " entrou na conversa.",
      left: (name) => name + " saiu da conversa.",
      tooLong: "A mensagem passa de " + MAX_TEXT + " caracteres.",
      download: (name) => "Baixar " + name,
      fileFailed: "Não foi possível abrir o arquivo. Tente novamente.",
    },
    es: {
      talk: "Conversar",
      close: "Cerrar conversación",
      message: "Mensaje",
      placeholder: "Escriba su mensaje…",
      send: "Enviar",
      conversation: "Conversación",
      assistant: "Asistente virtual",
      stageAssistant: "Respuestas automáticas",
      desk: "Mesa de servicio",
      waiting: "Esperando a un agente",
      online: "Agente en línea",
      queue: (n, eta) => "Usted es el número " + n + " en la cola" + (eta ? " (unos " + eta + " min)" : "") + ".",
      reconnecting: "Se perdió la conexión. Reconectando…",
      offline: "No fue posible conectar con la atención. Inténtelo de nuevo en unos momentos.",
      ticket: (n) => "Ticket " + n,
      read: "Leer aquí",
      hide: "Ocultar artículo",
      loading: "Cargando…",
      articleFailed: "No fue posible cargar el artículo. Inténtelo en el portal.",
      viewInPortal: "Ver en el portal",
      closeArticle: "Cerrar",
      expand: "Mostrar descripción",
      collapse: "Ocultar descripción",
      articleClosed: "Artículo cerrado",
      ended: "Esta conversación terminó.",
      restart: "Nueva conversación",
      failed: "No enviado. Toque para reintentar.",
      you: "Usted",
      attendant: "Agente",
      sources: "Fuentes",
      specialists: "Elija con quién hablar:",
      joined: (name) => name + " se unió a la conversación.",
      left: (name) => name + " salió de la conversación.",
      tooLong: "El mensaje supera los " + MAX_TEXT + " caracteres.",
      download: (name) => "Descargar " + name,
      fileFailed: "No fue posible abrir el archivo. Inténtelo de nuevo.",
    },
    en: {
      talk: "Talk",
      close: "Close chat",
      message: "Message",
      placeholder: "Type your message…",
      send: "Send",
      conversation: "Conversation",
      assistant: "Virtual assistant",
      stageAssistant: "Automatic answers",
      desk: "Service desk",
      waiting: "Waiting for an attendant",
      online: "Attendant online",
      queue: (n, eta) => "You are number " + n + " in the queue" + (eta ? " (about " + eta + " min)" : "") + ".",
      reconnecting: "Connection lost. Reconnecting…",
      offline: "Could not reach the service desk. Please try again in a moment.",
      ticket: (n) => "Ticket " + n,
      read: "Read here",
      hide: "Hide article",
      loading: "Loading…",
      articleFailed: "The article could not be loaded. Try the portal.",
      viewInPortal: "View in portal",
      closeArticle: "Close",
      expand: "Show description",
      collapse: "Hide description",
      articleClosed: "Article closed",
      ended: "This conversation has ended.",
      restart: "New conversation",
      failed: "Not sent. Tap to retry.",
      you: "You",
      attendant: "Attendant",
      sources: "Sources",
      specialists: "Choose who to talk to:",
      joined: (name) => name + " joined the conversation.",
      left: (name) => name + " left the conversation.",
      tooLong: "The message is longer than " + MAX_TEXT + " characters.",
      download: (name) => "Download " + name,
      fileFailed: "The file could not be opened. Please try again.",
    },
  };

  function pickLanguage() {
    const wanted = [config.lang].concat(navigator.languages || [navigator.language || ""]);
    for (const tag of wanted) {
      if (!tag) continue;
      const lower = tag.toLowerCase();
      if (lower.startsWith("pt")) return "pt-BR";
      if (lower.startsWith("es")) return "es";
      if (lower.startsWith("en")) return "en";
    }
    return "en";
  }
  const lang = pickLanguage();
  const t = TEXTS[lang];

  Object.assign(W, {
    pickLanguage, TEXTS, lang, t,
  });
})();
