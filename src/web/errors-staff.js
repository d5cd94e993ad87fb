// Ponte's staff pages (console, knowledge, bridges, admin): what the API errors of the desk, of
// documents and of bridges mean, in pt-BR, es and en, added to errors.js's table (which
// the widget loads alone: a requester never meets these). Loaded right after errors.js.
(function () {
  "use strict";
  if (!window.PonteErrors) return;
  window.PonteErrors.add({
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
    invalid_reason_label: [
      "O rótulo de um motivo tem de 1 a 60 caracteres, em português (pt-BR), espanhol (es) ou inglês (en).",
      "El nombre de un motivo tiene de 1 a 60 caracteres, en portugués (pt-BR), español (es) o inglés (en).",
      "A reason's label has 1 to 60 characters, in Portuguese (pt-BR), Spanish (es) or English (en).",
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
    unknown_bridge: ["Ponte desconhecida.", "Puente desconocido.", "Unknown bridge."],
    invalid_bridge: [
      "A definição da ponte é inválida.",
      "La definición del puente no es válida.",
      "The bridge definition is not valid.",
    ],
  });
})();
