//! A conversation's transcript as a file to keep: `GET /api/conversations/{id}/transcript
//! ?format=txt&tz=<IANA zone>` answers plain text (UTF-8) with `Content-Disposition:
//! attachment`, written in the conversation's language: a heading (the conversation, its
//! ticket, the zone of the times), then one line per message, `[YYYY-MM-DD HH:MM] Name: text`
//! (a text's further lines indented under it). Names are the requester's contact name (or
//! "requester" in that language), the attendant's name from the desk, "virtual assistant" and
//! "system". Times are in `tz` (default UTC). The requester of the conversation may download
//! it, and the staff who may read the chat (an admin, any chat of the desk). `txt` is the only
//! format (another is 400 `bad_request`), as is a zone the server does not know.

use super::marks::{Need, contact_name, party};
use super::{Path, Query};
use crate::http::auth::Authenticated;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::state::AppState;
use crate::lang::Language;
use crate::store::{self, Message, SenderKind};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::tz::TimeZone;
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(transcript))
}

#[derive(Debug, Deserialize)]
struct TranscriptQuery {
    format: Option<String>,
    tz: Option<String>,
}

/// The words of a transcript in one language.
struct Words {
    title: &'static str,
    ticket: &'static str,
    times_in: &'static str,
    requester: &'static str,
    assistant: &'static str,
    attendant: &'static str,
    system: &'static str,
    /// The file name's first word (ASCII: it goes in a header).
    file: &'static str,
}

fn words(language: Language) -> Words {
    match language {
        Language::PtBr => Words {
            title: "Conversa",
            ticket: "Chamado",
            times_in: "Horários em",
            requester: "Solicitante",
            assistant: "Assistente virtual",
            attendant: "Atendente",
            system: "Sistema",
            file: "conversa",
        },
        Language::Es => Words {
            title: "Conversación",
            ticket: "Ticket",
            times_in: "Horas en",
            requester: "Solicitante",
            assistant: "Asistente virtual",
            attendant: "Agente",
            system: "Sistema",
            file: "conversacion",
        },
        Language::En => Words {
            title: "Conversation",
            ticket: "Ticket",
            times_in: "Times in",
            requester: "Requester",
            assistant: "Virtual assistant",
            attendant: "Attendant",
            system: "System",
            file: "conversation",
        },
    }
}

/// The names a transcript shows: the requester's, and the desk's people by id.
#[derive(Debug, Default)]
struct Names {
    requester: Option<String>,
    people: BTreeMap<String, String>,
}

/// `at_ms` as `YYYY-MM-DD HH:MM` in `zone`.
fn local_time(at_ms: i64, zone: &TimeZone) -> String {
    jiff::Timestamp::from_millisecond(at_ms)
        .map(|at| {
            at.to_zoned(zone.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// The transcript's text. Messages without a text (a card already said in words) are left
/// out.
fn render(
    conversation: &store::Conversation,
    messages: &[Message],
    names: &Names,
    zone: &TimeZone,
) -> String {
    let words = words(conversation.language);
    let mut text = format!(
        "{} {} ({})\n",
        words.title,
        conversation.id,
        local_time(conversation.created_at, zone)
    );
    if let Some(ticket) = &conversation.ticket_number {
        text.push_str(&format!("{}: {ticket}\n", words.ticket));
    }
    text.push_str(&format!(
        "{} {}\n\n",
        words.times_in,
        zone.iana_name().unwrap_or("UTC")
    ));
    for message in messages {
        let body = message.body.trim();
        if body.is_empty() {
            continue;
        }
        let name = match message.sender_kind {
            SenderKind::Requester => names.requester.as_deref().unwrap_or(words.requester),
            SenderKind::Assistant => words.assistant,
            SenderKind::Attendant => message
                .sender_id
                .as_ref()
                .and_then(|id| names.people.get(id))
                .map(String::as_str)
                .unwrap_or(words.attendant),
            SenderKind::System => words.system,
        };
        let mut lines = body.lines();
        let first = lines.next().unwrap_or_default();
        text.push_str(&format!(
            "[{}] {name}: {first}\n",
            local_time(message.created_at, zone)
        ));
        for line in lines {
            text.push_str("    ");
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

/// The conversation's transcript as a plain-text file, in its language.
#[utoipa::path(get, path = "/api/conversations/{id}/transcript", tag = "conversations",
    params(("id" = String, Path, description = "conversation id"),
           ("format" = Option<String>, Query, description = "`txt` (the default and only one)"),
           ("tz" = Option<String>, Query, description = "IANA time zone of the times (default UTC)")),
    responses((status = 200, description = "the transcript, as an attachment", body = String, content_type = "text/plain"),
              (status = 400, description = "`bad_request`", body = ErrorBody),
              (status = 403, description = "`forbidden`", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody)))]
async fn transcript(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
    Query(query): Query<TranscriptQuery>,
) -> Result<Response, ApiError> {
    let (chat, conversation, _) = party(&state, identity, &id, Need::Supervise).await?;
    match query.format.as_deref().unwrap_or("txt") {
        "txt" => {}
        other => {
            return Err(ApiError::BadRequest(format!(
                "format {other:?} is not offered; use txt"
            )));
        }
    }
    let zone = match query.tz.as_deref().filter(|name| !name.is_empty()) {
        Some(name) => TimeZone::get(name)
            .map_err(|_| ApiError::BadRequest(format!("unknown time zone {name:?}")))?,
        None => TimeZone::UTC,
    };
    let store = chat.store();
    let mut messages = Vec::new();
    loop {
        let after = messages.last().map_or(0, |message: &Message| message.seq);
        let page = store.messages_after(&id, after, store::MAX_PAGE).await?;
        let full = page.len() == store::MAX_PAGE as usize;
        messages.extend(page);
        if !full {
            break;
        }
    }
    let mut names = Names {
        requester: contact_name(&state, &conversation.requester_id).await,
        people: BTreeMap::new(),
    };
    if let Ok(desk) = state.desk() {
        let wanted: Vec<String> = messages
            .iter()
            .filter(|message| message.sender_kind == SenderKind::Attendant)
            .filter_map(|message| message.sender_id.clone())
            .collect();
        names.people = desk
            .book(|book| {
                wanted
                    .into_iter()
                    .filter_map(|id| {
                        let name = book.desk().person(&id)?.name.clone();
                        Some((id, name))
                    })
                    .collect()
            })
            .await;
    }
    let text = render(&conversation, &messages, &names, &zone);
    let day = local_time(conversation.created_at, &zone);
    let stamp: String = day.chars().take(10).filter(char::is_ascii_digit).collect();
    let short: String = conversation
        .id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    let file = format!("{}-{stamp}-{short}.txt", words(conversation.language).file);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        text,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: i64, kind: SenderKind, sender: Option<&str>, body: &str) -> Message {
        Message {
            conversation_id: "c1".to_string(),
            seq,
            sender_kind: kind,
            sender_id: sender.map(str::to_string),
            body: body.to_string(),
            payload: None,
            client_message_id: None,
            // 2024-05-01 13:05 UTC, a minute per message.
            created_at: 1_714_568_700_000 + seq * 60_000,
        }
    }

    #[test]
    fn a_transcript_names_each_sender_in_the_conversations_language_and_local_time() {
        let conversation = store::Conversation {
            id: "c1".to_string(),
            channel: store::Channel::Web,
            requester_id: "guest-1".to_string(),
            language: Language::PtBr,
            status: store::ConversationStatus::Chat,
            queue_group: None,
            ticket_number: Some("T-000007".to_string()),
            machine_state: serde_json::json!({}),
            version: 1,
            last_seq: 4,
            created_at: 1_714_568_700_000,
            updated_at: 1_714_568_700_000,
        };
        let messages = [
            message(1, SenderKind::Assistant, None, "Olá! Como posso ajudar?"),
            message(2, SenderKind::Requester, None, "A VPN caiu\nde novo"),
            message(3, SenderKind::System, None, ""),
            message(4, SenderKind::Attendant, Some("ana"), "Vou verificar."),
        ];
        let names = Names {
            requester: Some("Maria Souza".to_string()),
            people: [("ana".to_string(), "Ana".to_string())].into(),
        };
        let zone = TimeZone::get("America/Sao_Paulo").unwrap();
        let text = render(&conversation, &messages, &names, &zone);
        assert_eq!(
            text,
            "Conversa c1 (2024-05-01 10:05)\nChamado: T-000007\nHorários em America/Sao_Paulo\n\n\
             [2024-05-01 10:06] Assistente virtual: Olá! Como posso ajudar?\n\
             [2024-05-01 10:07] Maria Souza: A VPN caiu\n    de novo\n\
             [2024-05-01 10:09] Ana: Vou verificar.\n"
        );
        let english = store::Conversation {
            language: Language::En,
            ticket_number: None,
            ..conversation
        };
        let text = render(&english, &messages[1..2], &Names::default(), &TimeZone::UTC);
        assert!(
            text.ends_with(
                "Times in UTC\n\n[2024-05-01 13:07] Requester: A VPN caiu\n    de novo\n"
            ),
            "{text}"
        );
    }
}
