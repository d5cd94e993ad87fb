//! Tests of the conversation machine: a small chat harness that drives [`step`] like the
//! orchestrator would and writes a readable transcript, fixtures in the three languages, and one
//! module per concern.

mod bad_input;
mod flows;
mod flows_assistant;
mod fuzz;
mod matrix;
mod rephrase;
mod restart;
mod transcripts;

use super::texts::{render, render_text};
use super::*;
use crate::lang::Language;

/// Requester phrases and catalogue data in one language.
pub(super) struct Script {
    pub language: Language,
    pub want_ticket: &'static str,
    pub description: &'static str,
    pub printer_query: &'static str,
    pub printer_name: &'static str,
    pub password_query: &'static str,
    pub password_title: &'static str,
    pub password_summary: &'static str,
    pub vpn_title: &'static str,
    pub vpn_summary: &'static str,
    pub unknown: &'static str,
    pub hello: &'static str,
    pub thanks: &'static str,
    pub bye: &'static str,
    pub help: &'static str,
    pub cancel: &'static str,
    pub yes: &'static str,
    pub resume_with_number: &'static str,
    pub talk_to_person: &'static str,
    pub to_attendant: &'static str,
    pub subject_printer: &'static str,
    pub subject_vpn: &'static str,
}

pub(super) const PT: Script = Script {
    language: Language::PtBr,
    want_ticket: "quero abrir um chamado",
    description: "A impressora do 3º andar está atolando papel desde ontem",
    printer_query: "impressora",
    printer_name: "Manutenção de impressora",
    password_query: "senha",
    password_title: "Como redefinir a sua senha",
    password_summary: "Use a página de autoatendimento e siga os três passos.",
    vpn_title: "Configurar a VPN no notebook",
    vpn_summary: "Instale o cliente e importe o perfil da empresa.",
    unknown: "meu crachá derreteu no micro-ondas",
    hello: "oi",
    thanks: "obrigado!",
    bye: "tchau",
    help: "ajuda",
    cancel: "cancelar",
    yes: "sim",
    resume_with_number: "retomar o chamado 9999",
    talk_to_person: "quero falar com um atendente",
    to_attendant: "Alguém pode me ajudar?",
    subject_printer: "Impressora atolando",
    subject_vpn: "VPN caindo",
};

pub(super) const ES: Script = Script {
    language: Language::Es,
    want_ticket: "quiero abrir un ticket",
    description: "La impresora del tercer piso atasca el papel desde ayer",
    printer_query: "impresora",
    printer_name: "Reparación de impresora",
    password_query: "contraseña",
    password_title: "Cómo restablecer tu contraseña",
    password_summary: "Usa la página de autoservicio y sigue los tres pasos.",
    vpn_title: "Configurar la VPN en el portátil",
    vpn_summary: "Instala el cliente e importa el perfil de la empresa.",
    unknown: "mi credencial se derritió en el microondas",
    hello: "hola",
    thanks: "¡gracias!",
    bye: "adiós",
    help: "ayuda",
    cancel: "cancelar",
    yes: "sí",
    resume_with_number: "retomar el caso 9999",
    talk_to_person: "quiero hablar con un agente",
    to_attendant: "¿Alguien me puede ayudar?",
    subject_printer: "Impresora atascada",
    subject_vpn: "La VPN se cae",
};

pub(super) const EN: Script = Script {
    language: Language::En,
    want_ticket: "I want to open a ticket",
    description: "The 3rd floor printer has been jamming since yesterday",
    printer_query: "printer",
    printer_name: "Printer repair",
    password_query: "password",
    password_title: "How to reset your password",
    password_summary: "Use the self-service page and follow the three steps.",
    vpn_title: "Set up the VPN on your laptop",
    vpn_summary: "Install the client and import the company profile.",
    unknown: "my badge melted in the microwave",
    hello: "hi",
    thanks: "thanks!",
    bye: "bye",
    help: "help",
    cancel: "cancel",
    yes: "yes",
    resume_with_number: "resume ticket 9999",
    talk_to_person: "I want to talk to a person",
    to_attendant: "Can someone help me?",
    subject_printer: "Printer jamming",
    subject_vpn: "VPN keeps dropping",
};

pub(super) const SCRIPTS: [&Script; 3] = [&PT, &ES, &EN];

impl Script {
    pub fn printer(&self) -> ActivityHit {
        ActivityHit {
            id: "printer-repair".into(),
            name: self.printer_name.into(),
            contract: Some("infra-2024".into()),
            group: Some("field-support".into()),
            score: 0.91,
        }
    }

    pub fn password_article(&self) -> ArticleHit {
        ArticleHit {
            id: "kb-password".into(),
            title: self.password_title.into(),
            summary: self.password_summary.into(),
            url: "https://portal.example/kb/password".into(),
            score: 0.88,
        }
    }

    pub fn vpn_article(&self) -> ArticleHit {
        ArticleHit {
            id: "kb-vpn".into(),
            title: self.vpn_title.into(),
            summary: self.vpn_summary.into(),
            url: "https://portal.example/kb/vpn".into(),
            score: 0.52,
        }
    }

    /// The requester's own open tickets, the printer one second.
    pub fn own_tickets(&self) -> Vec<TicketSummary> {
        vec![
            TicketSummary {
                number: "2024-0101".into(),
                subject: self.subject_vpn.into(),
                activity_id: Some("network".into()),
                group: Some("network-team".into()),
            },
            TicketSummary {
                number: "2024-0102".into(),
                subject: self.subject_printer.into(),
                activity_id: Some("printer-repair".into()),
                group: Some("field-support".into()),
            },
        ]
    }
}

pub(super) fn control(intent: ControlIntent) -> Understanding {
    Understanding::Control {
        intent,
        confidence: 0.93,
    }
}

pub(super) fn activities(hits: Vec<ActivityHit>) -> Understanding {
    Understanding::Activities { hits }
}

pub(super) fn articles(hits: Vec<ArticleHit>) -> Understanding {
    Understanding::Articles { hits }
}

pub(super) fn params_with(mode: ChatMode, assistant: bool) -> Params {
    Params {
        mode,
        assistant_enabled: assistant,
        ..Params::default()
    }
}

/// A chat driven like the orchestrator drives it, keeping a transcript.
pub(super) struct Chat {
    pub conv: Conversation,
    pub params: Params,
    pub transcript: String,
}

impl Chat {
    pub fn new(params: Params) -> Chat {
        Chat {
            conv: Conversation::new(),
            params,
            transcript: String::new(),
        }
    }

    /// A chat opened by "maria" in `language`.
    pub fn open(params: Params, language: Language) -> Chat {
        let mut chat = Chat::new(params);
        chat.send(Event::Opened {
            language,
            requester: "maria".into(),
        });
        chat
    }

    pub fn language(&self) -> Language {
        self.conv.language()
    }

    /// Applies an event that must succeed; returns its effects.
    pub fn send(&mut self, event: Event) -> Vec<Effect> {
        match self.try_send(event.clone()) {
            Ok(effects) => effects,
            Err(error) => panic!(
                "{} in state {} failed: {error}\n{}",
                event.name(),
                self.conv.state().name(),
                self.transcript
            ),
        }
    }

    /// Applies an event; on error checks the conversation did not change.
    pub fn try_send(&mut self, event: Event) -> Result<Vec<Effect>, MachineError> {
        self.transcript.push_str(&describe_event(&event));
        self.transcript.push('\n');
        // An error's reply is shown in the chat's language, or the one being opened with.
        let language = match &event {
            Event::Opened { language, .. } => *language,
            _ => self.language(),
        };
        let before = self.conv.clone();
        match step(&self.conv, &self.params, event) {
            Ok(transition) => {
                for effect in &transition.effects {
                    self.transcript
                        .push_str(&describe_effect(effect, transition.conversation.language()));
                    self.transcript.push('\n');
                }
                self.conv = transition.conversation;
                self.transcript
                    .push_str(&format!("   [{}]\n", self.conv.state().name()));
                Ok(transition.effects)
            }
            Err(error) => {
                assert_eq!(self.conv, before, "the conversation changed on error");
                let reply = error
                    .user_reply()
                    .map(|reply| indent(&render(&reply, language)))
                    .unwrap_or_default();
                self.transcript
                    .push_str(&format!("✗ {} {reply}\n", error.code()));
                Err(error)
            }
        }
    }

    /// Applies an event that must fail with `code`.
    pub fn fail(&mut self, event: Event, code: &str) -> MachineError {
        let error = self
            .try_send(event)
            .expect_err("the event should have been refused");
        assert_eq!(error.code(), code, "{error}");
        error
    }

    pub fn text(&mut self, text: &str, understanding: Understanding) -> Vec<Effect> {
        self.send(Event::RequesterText {
            text: text.into(),
            understanding,
        })
    }

    pub fn choose(&mut self, option_id: &str) -> Vec<Effect> {
        self.send(Event::OptionChosen {
            option_id: option_id.into(),
        })
    }

    pub fn offered_ids(&self) -> Vec<&str> {
        self.conv
            .offers()
            .iter()
            .map(|offer| offer.id.as_str())
            .collect()
    }
}

pub(super) fn says(effects: &[Effect]) -> Vec<TextKey> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Say(reply) => Some(reply.text_key),
            _ => None,
        })
        .collect()
}

pub(super) fn created_ticket(effects: &[Effect]) -> Option<&NewTicket> {
    effects.iter().find_map(|effect| match effect {
        Effect::CreateTicket(ticket) => Some(ticket),
        _ => None,
    })
}

pub(super) fn statuses(effects: &[Effect]) -> Vec<ChatStatus> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::SetStatus(status) => Some(*status),
            _ => None,
        })
        .collect()
}

pub(super) fn handoffs(effects: &[Effect]) -> Vec<(String, Option<String>)> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Handoff { group, ticket, .. } => Some((group.clone(), ticket.clone())),
            _ => None,
        })
        .collect()
}

fn indent(text: &str) -> String {
    text.replace('\n', "\n     ")
}

fn short(text: &str) -> String {
    if text.chars().count() > 60 {
        let head: String = text.chars().take(57).collect();
        format!("{head:?}… ({} chars)", text.chars().count())
    } else {
        format!("{text:?}")
    }
}

fn describe_understanding(understanding: &Understanding) -> String {
    match understanding {
        Understanding::Control { intent, .. } => format!("intent {intent:?}"),
        Understanding::Activities { hits } => format!(
            "activities {}",
            hits.iter()
                .map(|hit| hit.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Understanding::Articles { hits } => format!(
            "articles {}",
            hits.iter()
                .map(|hit| hit.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Understanding::Ambiguous { candidates } => format!("ambiguous ×{}", candidates.len()),
        Understanding::Fallback => "fallback".to_string(),
    }
}

fn describe_event(event: &Event) -> String {
    match event {
        Event::Opened {
            language,
            requester,
        } => format!("→ opened by {requester} ({language})"),
        Event::RequesterText {
            text,
            understanding,
        } => format!(
            "→ requester: {} ({})",
            short(text),
            describe_understanding(understanding)
        ),
        Event::OptionChosen { option_id } => format!("→ chooses {option_id}"),
        Event::TicketCreated { number } => format!("→ ticket created: {number}"),
        Event::OpenTickets { tickets } => format!(
            "→ open tickets: [{}]",
            tickets
                .iter()
                .map(|ticket| ticket.number.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Event::TicketAttached { number } => format!("→ ticket attached: {number}"),
        Event::AttendantJoined { name } => format!("→ attendant joined: {name}"),
        Event::AttendantPresence { online } => format!("→ attendant presence: online={online}"),
        other => format!("→ {}", other.name()),
    }
}

fn describe_effect(effect: &Effect, language: Language) -> String {
    match effect {
        Effect::Say(reply) => format!("← {}", indent(&render(reply, language))),
        Effect::CreateTicket(ticket) => format!(
            "· create ticket: activity={} contract={} group={} tags={} seq={} description={}",
            ticket.activity_id,
            ticket.contract,
            ticket.group,
            ticket.tags.join(","),
            ticket.request_seq,
            short(&ticket.description)
        ),
        Effect::ListOpenTickets { preferred_activity } => format!(
            "· list open tickets (preferred activity: {})",
            preferred_activity.as_deref().unwrap_or("none")
        ),
        Effect::AttachTicket { number } => format!("· attach ticket {number}"),
        Effect::Handoff { group, ticket, .. } => format!(
            "· hand off to {group} (ticket: {})",
            ticket.as_deref().unwrap_or("none")
        ),
        Effect::Forward { text } => format!("· forward to attendant: {}", short(text)),
        Effect::SetStatus(status) => format!(
            "· status: {}",
            serde_json::to_string(status).unwrap().trim_matches('"')
        ),
        Effect::ShowArticle { article_id } => format!("· show article {article_id}"),
        Effect::CollapseArticle { article_id } => format!("· collapse article {article_id}"),
        Effect::OpenUrl { url } => format!("· open {url}"),
        Effect::BridgeHandoff {
            bridge,
            group,
            ticket,
        } => format!(
            "· hand off to bridge {bridge} for {group} (ticket: {})",
            ticket.as_deref().unwrap_or("none")
        ),
        Effect::BridgeEnded { bridge, accepted } => {
            format!("· bridge {bridge} ended (accepted: {accepted})")
        }
    }
}

/// Every reply of `effects` renders fully in the conversation language.
pub(super) fn assert_renders(effects: &[Effect], language: Language) {
    for effect in effects {
        if let Effect::Say(reply) = effect {
            let text = render(reply, language);
            assert!(!text.trim().is_empty());
            for &arg in reply.text_key.args() {
                assert!(
                    reply.args.iter().any(|(given, _)| *given == arg),
                    "{:?} misses {arg:?}",
                    reply.text_key
                );
            }
            for offer in &reply.options {
                for &arg in offer.label_key.args() {
                    assert!(
                        offer.label_args.iter().any(|(given, _)| *given == arg),
                        "{:?} misses {arg:?}",
                        offer.label_key
                    );
                }
                assert!(!render_text(offer.label_key, &offer.label_args, language).is_empty());
            }
        }
    }
}
