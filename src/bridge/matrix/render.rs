//! What Ponte writes into a conversation's room, from an outbound event's `data`: the room's
//! alias and name, the transcript (split into messages that stay well under the homeserver's
//! event size limit), the hand-off details line, a requester's message with its attachment
//! links, and the closing notices. Pure functions; lenient about missing and extra fields.

use serde_json::{Value, json};

/// The most characters of transcript in one message (Matrix events are limited to 64 KiB).
const CHUNK_CHARS: usize = 12_000;

/// The alias localpart of a conversation's room: `ponte_<conversation_id>`, with anything an
/// alias cannot hold (`:`, `#`, whitespace, controls) replaced by `_`.
pub fn alias_localpart(conversation_id: &str) -> String {
    let safe: String = conversation_id
        .chars()
        .map(|c| {
            if c == ':' || c == '#' || c == '@' || c.is_whitespace() || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    format!("ponte_{safe}")
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

/// The requester as people call them: the name, else the id, else "Requester".
pub fn requester_name(data: &Value) -> String {
    text(data, "/requester/name")
        .or_else(|| text(data, "/requester/id"))
        .unwrap_or("Requester")
        .to_string()
}

/// The room's name: "T-000123 · Maria" with a ticket, "Chat · Maria" without.
pub fn room_name(data: &Value) -> String {
    let who = requester_name(data);
    match text(data, "/ticket") {
        Some(ticket) => format!("{ticket} · {who}"),
        None => format!("Chat · {who}"),
    }
}

/// The transcript as message bodies, in order, each at most about [`CHUNK_CHARS`]
/// characters; the first starts with a heading. Empty transcript: one line saying so.
pub fn transcript_messages(data: &Value) -> Vec<String> {
    let requester = requester_name(data);
    let lines: Vec<String> = data
        .get("transcript")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|entry| {
                    let body = entry.get("text").and_then(Value::as_str)?.trim();
                    if body.is_empty() {
                        return None;
                    }
                    let who = match entry.get("sender").and_then(Value::as_str) {
                        Some("requester") => requester.as_str(),
                        Some("assistant") => "Assistant",
                        Some("attendant") => "Attendant",
                        Some("system") => "System",
                        Some(other) => other,
                        None => "?",
                    };
                    Some(format!("{who}: {body}"))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut messages = vec![format!("Conversation with {requester} so far:")];
    if lines.is_empty() {
        messages[0].push_str("\n(no messages)");
        return messages;
    }
    for line in lines {
        let line: String = line.chars().take(CHUNK_CHARS).collect();
        let current = messages.last_mut().expect("one message at least");
        if current.chars().count() + 1 + line.chars().count() > CHUNK_CHARS {
            messages.push(line);
        } else {
            current.push('\n');
            current.push_str(&line);
        }
    }
    messages
}

/// The hand-off's details: language, group, channel, ticket and, if given, what the assistant
/// understood.
pub fn details_line(data: &Value) -> String {
    let mut parts = vec![
        format!("Language: {}", text(data, "/language").unwrap_or("?")),
        format!("Group: {}", text(data, "/group").unwrap_or("?")),
    ];
    if let Some(channel) = text(data, "/channel") {
        parts.push(format!("Channel: {channel}"));
    }
    if let Some(ticket) = text(data, "/ticket") {
        parts.push(format!("Ticket: {ticket}"));
    }
    let mut line = parts.join(" · ");
    let understood = text(data, "/understanding/summary")
        .or_else(|| text(data, "/understanding/intent"))
        .or_else(|| text(data, "/understanding/title"));
    if let Some(understood) = understood {
        line.push_str("\nUnderstood: ");
        line.push_str(understood);
    }
    line.push_str("\nJoin the room to take the conversation; write \"!close <reason>\" to end it.");
    line
}

/// A requester's message after the hand-off: `"<requester>: text"` and a line per attachment.
pub fn requester_message(requester: &str, data: &Value) -> String {
    let message = data.get("message").unwrap_or(data);
    let mut body = format!(
        "{requester}: {}",
        message
            .get("text")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default()
    );
    for attachment in message
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(url) = text(attachment, "/url") else {
            continue;
        };
        let name = text(attachment, "/name").unwrap_or("attachment");
        match text(attachment, "/content_type") {
            Some(kind) => body.push_str(&format!("\n📎 {name} ({kind}): {url}")),
            None => body.push_str(&format!("\n📎 {name}: {url}")),
        }
    }
    body
}

/// The notice for the end of a conversation.
pub fn closing_notice(cancelled: bool, data: &Value) -> String {
    let mut notice = if cancelled {
        "The requester left before anyone joined.".to_string()
    } else {
        "The conversation was closed.".to_string()
    };
    if let Some(reason) = text(data, "/reason") {
        notice.push_str(&format!(" ({reason})"));
    }
    notice
}

/// `m.text` content.
pub fn text_content(body: &str) -> Value {
    json!({"msgtype": "m.text", "body": body})
}

/// `m.notice` content (bots' messages).
pub fn notice_content(body: &str) -> Value {
    json!({"msgtype": "m.notice", "body": body})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_are_named_by_ticket_and_requester() {
        let data = json!({"requester": {"id": "u1", "name": "Maria"}, "ticket": "T-000123"});
        assert_eq!(room_name(&data), "T-000123 · Maria");
        let data = json!({"requester": {"id": "u1"}, "ticket": null});
        assert_eq!(room_name(&data), "Chat · u1");
        assert_eq!(alias_localpart("c:1 x#"), "ponte_c_1_x_");
    }

    #[test]
    fn the_transcript_is_labelled_and_split() {
        let data = json!({
            "requester": {"id": "u1", "name": "Maria"},
            "transcript": [
                {"seq": 1, "sender": "requester", "text": "oi", "at": "x"},
                {"seq": 2, "sender": "assistant", "text": "olá", "at": "x"},
                {"seq": 3, "sender": "system", "text": "  ", "at": "x"},
            ],
        });
        assert_eq!(
            transcript_messages(&data),
            vec!["Conversation with Maria so far:\nMaria: oi\nAssistant: olá".to_string()]
        );
        let long = "x".repeat(CHUNK_CHARS / 2);
        let data = json!({"transcript": [
            {"sender": "requester", "text": long},
            {"sender": "requester", "text": long},
            {"sender": "requester", "text": long},
        ]});
        let messages = transcript_messages(&data);
        assert_eq!(messages.len(), 3);
        assert!(messages.iter().all(|m| m.chars().count() <= CHUNK_CHARS));
    }

    #[test]
    fn requester_messages_carry_attachment_links() {
        let data = json!({"message": {"seq": 4, "text": "veja", "attachments": [
            {"url": "https://x/a.png", "name": "a.png", "content_type": "image/png"}
        ]}});
        assert_eq!(
            requester_message("Maria", &data),
            "Maria: veja\n📎 a.png (image/png): https://x/a.png"
        );
        let details = details_line(&json!({"language": "pt-BR", "group": "ti", "channel": "web"}));
        assert!(details.starts_with("Language: pt-BR · Group: ti · Channel: web"));
        assert_eq!(
            closing_notice(false, &json!({"reason": "resolved"})),
            "The conversation was closed. (resolved)"
        );
    }
}
