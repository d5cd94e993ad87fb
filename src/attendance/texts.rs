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

/// The description of the ticket opened for a lost chat.
pub fn lost_ticket_description(minutes: u64) -> String {
    format!("Chat not taken by any attendant within {minutes} minutes (lost chat).")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_names_the_ticket() {
        for language in Language::ALL {
            assert!(lost_chat(language, "T-000042").contains("T-000042"));
        }
    }
}
