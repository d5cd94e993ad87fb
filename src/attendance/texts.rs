//! The few end-user texts the desk itself writes, in pt-BR, es and en.

use crate::lang::Language;

/// Told to a requester whose chat nobody took in time; `{ticket}` is the ticket number.
pub fn lost_chat(language: Language, ticket: &str) -> String {
    match language {
        Language::PtBr => format!(
            "Nenhum atendente pôde assumir sua conversa a tempo. Abrimos o chamado {ticket} \
             com o que você escreveu; a equipe vai retornar por ele."
        ),
        Language::Es => format!(
            "Ningún agente pudo atender su conversación a tiempo. Abrimos el ticket {ticket} \
             con lo que escribió; el equipo le responderá por ese medio."
        ),
        Language::En => format!(
            "No attendant could take your chat in time. We opened ticket {ticket} with what \
             you wrote; the team will get back to you there."
        ),
    }
}

/// Told to a requester whose chat nobody took in time when the conversation already had a
/// ticket: that ticket stays the way back, and no second one is opened.
pub fn lost_chat_existing_ticket(language: Language, ticket: &str) -> String {
    match language {
        Language::PtBr => format!(
            "Nenhum atendente pôde assumir sua conversa a tempo. Seu chamado {ticket} segue \
             aberto; a equipe vai retornar por ele."
        ),
        Language::Es => format!(
            "Ningún agente pudo atender su conversación a tiempo. Su ticket {ticket} sigue \
             abierto; el equipo le responderá por ese medio."
        ),
        Language::En => format!(
            "No attendant could take your chat in time. Your ticket {ticket} stays open; the \
             team will get back to you there."
        ),
    }
}

/// The description of the ticket opened for a lost chat, in the conversation's language:
/// why it was opened, then what the requester wrote (`written`, one message a line).
pub fn lost_ticket_description(language: Language, minutes: u64, written: &str) -> String {
    let written = written.trim();
    let (why, wrote) = match language {
        Language::PtBr => (
            format!(
                "Conversa não assumida por nenhum atendente em {minutes} minutos (chat perdido)."
            ),
            "O solicitante escreveu:",
        ),
        Language::Es => (
            format!(
                "Conversación no atendida por ningún agente en {minutes} minutos (chat perdido)."
            ),
            "El solicitante escribió:",
        ),
        Language::En => (
            format!("Chat not taken by any attendant within {minutes} minutes (lost chat)."),
            "The requester wrote:",
        ),
    };
    if written.is_empty() {
        why
    } else {
        format!("{why}\n{wrote}\n{written}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_names_the_ticket() {
        for language in Language::ALL {
            assert!(lost_chat(language, "T-000042").contains("T-000042"));
            assert!(lost_chat_existing_ticket(language, "T-000042").contains("T-000042"));
            assert!(lost_ticket_description(language, 30, "oi").ends_with("\noi"));
        }
    }
}
