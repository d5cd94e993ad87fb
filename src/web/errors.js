// Ponte's pages: what an API error means, in the reader's language. The server answers
// every error with a stable code (`{message, code, type}`, see src/http/error.rs); its
// `message` is English for developers and never shown on a localized page. A page asks
// `PonteErrors.text(code, lang, status)` and shows that; an unknown code gets a sentence
// by status. This file holds the codes a requester can meet (the widget loads it as one
// of its parts); errors-staff.js adds those of the desk, documents and bridges for the
// staff pages. Loaded before the page's own scripts.
(function () {
  "use strict";
  if (window.PonteErrors) return;

  // code -> [pt-BR, es, en]
  const TEXTS = {
    network: [
      "Não foi possível falar com o servidor. Verifique a conexão e tente de novo.",
      "No se pudo contactar con el servidor. Revise la conexión e inténtelo de nuevo.",
      "The server cannot be reached. Check the connection and try again.",
    ],
    unauthorized: [
      "Sua sessão não é válida. Entre de novo.",
      "Su sesión no es válida. Inicie sesión de nuevo.",
      "Your session is not valid. Please sign in again.",
    ],
    token_expired: [
      "Sua sessão expirou. Entre de novo.",
      "Su sesión caducó. Inicie sesión de nuevo.",
      "Your session has expired. Please sign in again.",
    ],
    forbidden: [
      "Você não tem permissão para fazer isso.",
      "No tiene permiso para hacer esto.",
      "You are not allowed to do this.",
    ],
    not_found: [
      "Não encontrado: talvez tenha sido removido.",
      "No encontrado: quizá se eliminó.",
      "Not found: it may have been removed.",
    ],
    rate_limited: [
      "Muitas solicitações. Aguarde um instante e tente de novo.",
      "Demasiadas solicitudes. Espere un momento e inténtelo de nuevo.",
      "Too many requests. Wait a moment and try again.",
    ],
    payload_too_large: [
      "O conteúdo enviado é grande demais.",
      "El contenido enviado es demasiado grande.",
      "What was sent is too large.",
    ],
    empty_text: [
      "A mensagem está vazia.",
      "El mensaje está vacío.",
      "The message is empty.",
    ],
    text_too_long: [
      "A mensagem é longa demais.",
      "El mensaje es demasiado largo.",
      "The message is too long.",
    ],
    contact_blocked: [
      "Este contato está bloqueado; novas mensagens não são aceitas.",
      "Este contacto está bloqueado; no se aceptan mensajes nuevos.",
      "This contact is blocked; new messages are not accepted.",
    ],
    guest_chat_disabled: [
      "O chat para visitantes está desligado: entre no portal para conversar.",
      "El chat para visitantes está desactivado: inicie sesión en el portal para conversar.",
      "Guest chat is off: sign in to the portal to chat.",
    ],
    chat_disabled: [
      "O chat não está disponível agora.",
      "El chat no está disponible ahora.",
      "Chat is not available now.",
    ],
    conversation_finished: [
      "Esta conversa já terminou.",
      "Esta conversación ya terminó.",
      "This conversation has ended.",
    ],
    option_not_offered: [
      "Essa opção não está mais disponível.",
      "Esa opción ya no está disponible.",
      "That option is no longer available.",
    ],
    ticket_not_found: [
      "Chamado não encontrado entre os seus chamados abertos.",
      "Ticket no encontrado entre sus tickets abiertos.",
      "Ticket not found among your open tickets.",
    ],
    already_rated: [
      "Esta conversa já foi avaliada.",
      "Esta conversación ya fue valorada.",
      "This conversation has already been rated.",
    ],
    conversation_open: [
      "A conversa ainda não terminou: avalie quando ela acabar.",
      "La conversación aún no terminó: valórela cuando termine.",
      "The conversation has not ended yet: rate it once it has.",
    ],
    name_required: [
      "Informe seu nome.",
      "Indique su nombre.",
      "Please enter your name.",
    ],
    name_too_long: [
      "O nome pode ter até 80 caracteres.",
      "El nombre puede tener hasta 80 caracteres.",
      "The name can have at most 80 characters.",
    ],
    invalid_email: [
      "Informe um e-mail válido, como nome@exemplo.com.",
      "Indique un correo electrónico válido, como nombre@ejemplo.com.",
      "Enter a valid e-mail address, such as name@example.com.",
    ],
    seq_out_of_range: [
      "Esta conversa mudou; recarregue a página.",
      "Esta conversación cambió; vuelva a cargar la página.",
      "This conversation has changed; reload the page.",
    ],

    unsupported_media_type: [
      "Este tipo de arquivo não é aceito.",
      "Este tipo de archivo no se acepta.",
      "This type of file is not accepted.",
    ],
    attachment_too_large: [
      "O arquivo passa do tamanho permitido.",
      "El archivo supera el tamaño permitido.",
      "The file is larger than allowed.",
    ],


    index_unavailable: [
      "A base de conhecimento não está disponível agora. Tente em instantes.",
      "La base de conocimiento no está disponible ahora. Inténtelo en unos momentos.",
      "The knowledge base is not available now. Try again in a moment.",
    ],
  };
  const UNAVAILABLE = [
    "O serviço está indisponível no momento; nada foi gravado. Tente em instantes.",
    "El servicio no está disponible en este momento; no se guardó nada. Inténtelo en unos momentos.",
    "The service is not available now; nothing was saved. Try again in a moment.",
  ];
  for (const code of ["unavailable", "store_unavailable", "nats_unavailable", "request_timeout"]) {
    TEXTS[code] = UNAVAILABLE;
  }
  const FAILED = [
    "Algo deu errado no servidor ({status}). Tente de novo.",
    "Algo salió mal en el servidor ({status}). Inténtelo de nuevo.",
    "Something went wrong on the server ({status}). Please try again.",
  ];
  const REFUSED = [
    "O servidor recusou o pedido ({status}).",
    "El servidor rechazó la solicitud ({status}).",
    "The server refused the request ({status}).",
  ];

  function column(lang) {
    const lower = String(lang || "").toLowerCase();
    if (lower.startsWith("pt")) return 0;
    if (lower.startsWith("es")) return 1;
    return 2;
  }

  // The sentence for an error of `code` (or, unknown, of HTTP `status`) in `lang`.
  function text(code, lang, status) {
    const row = TEXTS[code] || (status >= 500 || !status ? FAILED : REFUSED);
    return row[column(lang)].replace("{status}", String(status || 0));
  }

  // More codes (code -> [pt-BR, es, en]), from errors-staff.js.
  function add(more) {
    Object.assign(TEXTS, more);
  }

  window.PonteErrors = { text, add, has: (code) => Object.prototype.hasOwnProperty.call(TEXTS, code) };
})();
