// Ponte's pages: what an API error means, in the reader's language. The server answers
// every error with a stable code (`{message, code, type}`, see src/http/error.rs); its
// `message` is English for developers and never shown on a localized page. A page asks
// `PonteErrors.text(code, lang, status)` and shows that; an unknown code gets a sentence
// by status. Loaded before the page's own scripts (the widget loads it as one of its parts).
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
    invalid_document: [
      "O documento tem um campo vazio ou inválido.",
      "El documento tiene un campo vacío o no válido.",
      "The document has an empty or invalid field.",
    ],
    invalid_id: [
      "O identificador está vazio, é longo demais ou tem caracteres não permitidos.",
      "El identificador está vacío, es demasiado largo o tiene caracteres no permitidos.",
      "The id is empty, too long or holds characters that are not allowed.",
    ],
    invalid_parameter: [
      "Valor inválido para este parâmetro.",
      "Valor no válido para este parámetro.",
      "This value is not valid for the parameter.",
    ],
    conflict: [
      "Outra alteração chegou antes. Atualize e tente de novo.",
      "Otro cambio llegó antes. Actualice e inténtelo de nuevo.",
      "Another change came first. Refresh and try again.",
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
    // The desk.
    not_online: [
      "Fique online neste canal antes de assumir ou atender conversas.",
      "Póngase en línea en este canal antes de tomar o atender chats.",
      "Go online on this channel before taking or serving chats.",
    ],
    channel_not_enabled: [
      "Este canal não está habilitado para você.",
      "Este canal no está habilitado para usted.",
      "This channel is not enabled for you.",
    ],
    attendant_full: [
      "Você já atende o número máximo de conversas.",
      "Ya atiende el número máximo de chats.",
      "You already serve your maximum number of chats.",
    ],
    not_eligible: [
      "Esta conversa não pode ser atribuída a essa pessoa.",
      "Este chat no se puede asignar a esa persona.",
      "This chat cannot go to that person.",
    ],
    already_captured: [
      "Outra pessoa já assumiu esta conversa.",
      "Otra persona ya tomó este chat.",
      "Someone else already took this chat.",
    ],
    not_queued: [
      "Esta conversa não está mais na fila.",
      "Este chat ya no está en la cola.",
      "This chat is no longer queued.",
    ],
    not_active: [
      "Esta conversa não está em atendimento.",
      "Este chat no está en atención.",
      "This chat is not in progress.",
    ],
    not_responsible: [
      "Só o responsável pela conversa pode fazer isso.",
      "Solo el responsable del chat puede hacer esto.",
      "Only the person responsible for the chat can do this.",
    ],
    not_participant: [
      "Você não participa desta conversa.",
      "Usted no participa en este chat.",
      "You are not in this chat.",
    ],
    responsible_cannot_leave: [
      "O responsável sai só transferindo ou finalizando a conversa.",
      "El responsable sale solo transfiriendo o cerrando el chat.",
      "The person responsible leaves only by transferring or closing the chat.",
    ],
    pause_reason_required: [
      "Escolha um motivo para a pausa.",
      "Elija un motivo para la pausa.",
      "Choose a reason for the pause.",
    ],
    unknown_pause_reason: [
      "Este motivo de pausa não existe mais.",
      "Este motivo de pausa ya no existe.",
      "This pause reason no longer exists.",
    ],
    close_reason_required: [
      "Escolha um motivo para finalizar.",
      "Elija un motivo para cerrar.",
      "Choose a reason for closing.",
    ],
    unknown_close_reason: [
      "Este motivo de finalização não existe mais.",
      "Este motivo de cierre ya no existe.",
      "This close reason no longer exists.",
    ],
    already_closed: [
      "Esta conversa já foi finalizada.",
      "Este chat ya se cerró.",
      "This chat is already closed.",
    ],
    not_closed: [
      "Esta conversa não está finalizada.",
      "Este chat no está cerrado.",
      "This chat is not closed.",
    ],
    not_linked: [
      "Vocês dois precisam ter um ao outro como contato.",
      "Ambos deben tenerse como contacto.",
      "You must both have linked each other as contacts.",
    ],
    unknown_person: ["Pessoa desconhecida.", "Persona desconocida.", "Unknown person."],
    unknown_chat: ["Conversa desconhecida.", "Chat desconocido.", "Unknown chat."],
    unknown_conversation: ["Conversa desconhecida.", "Conversación desconocida.", "Unknown conversation."],
    unknown_quick_reply: ["Resposta rápida desconhecida.", "Respuesta rápida desconocida.", "Unknown quick reply."],
    unknown_macro: ["Macro desconhecida.", "Macro desconocida.", "Unknown macro."],
    invalid_tag: ["Etiqueta inválida.", "Etiqueta no válida.", "Invalid tag."],
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
    // Bridges.
    unknown_bridge: ["Ponte desconhecida.", "Puente desconocido.", "Unknown bridge."],
    invalid_bridge: [
      "A definição da ponte é inválida.",
      "La definición del puente no es válida.",
      "The bridge definition is not valid.",
    ],
    // The server itself.
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

  window.PonteErrors = { text, has: (code) => Object.prototype.hasOwnProperty.call(TEXTS, code) };
})();
