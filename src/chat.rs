//! `ponte chat`: a conversation with the assistant in the terminal, through the same
//! orchestrator and store as the HTTP API, so a knowledge manager can try it. Options are
//! numbered; typing the number chooses one.

use crate::lang::Language;
use crate::orchestrator::{ChatError, Orchestrator, Outcome, Requester};
use crate::store::{Channel, Message, SenderKind};
use std::io::{BufRead, Write};

/// Runs the chat loop on `input`/`output` until end of input or the conversation ends.
pub async fn run(
    orchestrator: &Orchestrator,
    requester: Requester,
    language: Option<Language>,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut pending_first_line = None;
    let language = match language {
        Some(language) => language,
        None => {
            writeln!(output, "Olá! / ¡Hola! / Hello!")?;
            write!(output, "> ")?;
            output.flush()?;
            let mut line = String::new();
            if input.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let detected = Language::detect(&line).unwrap_or(Language::PtBr);
            pending_first_line = Some(line);
            detected
        }
    };
    let opened = orchestrator
        .open(&requester, Channel::Web, language)
        .await?;
    let conversation_id = opened.conversation.id.clone();
    print_outcome(&opened, output)?;
    if let Some(line) = pending_first_line {
        send(
            orchestrator,
            &requester,
            &conversation_id,
            line.trim(),
            output,
        )
        .await?;
    }
    loop {
        write!(output, "> ")?;
        output.flush()?;
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            writeln!(output)?;
            return Ok(());
        }
        let finished = send(
            orchestrator,
            &requester,
            &conversation_id,
            line.trim(),
            output,
        )
        .await?;
        if finished {
            return Ok(());
        }
    }
}

async fn send(
    orchestrator: &Orchestrator,
    requester: &Requester,
    conversation_id: &str,
    text: &str,
    output: &mut dyn Write,
) -> anyhow::Result<bool> {
    match orchestrator
        .post(requester, conversation_id, text, None)
        .await
    {
        Ok(outcome) => {
            print_outcome(&outcome, output)?;
            Ok(outcome.conversation.status == crate::store::ConversationStatus::Finished)
        }
        Err(ChatError::Machine { error, reply }) => {
            match reply {
                Some(reply) => writeln!(output, "ponte: {reply}")?,
                None => writeln!(output, "[{}] {error}", error.code())?,
            }
            Ok(matches!(
                error,
                crate::conversation::MachineError::ConversationFinished
            ))
        }
        Err(error) => Err(error.into()),
    }
}

fn print_outcome(outcome: &Outcome, output: &mut dyn Write) -> std::io::Result<()> {
    for message in &outcome.messages {
        if message.sender_kind == SenderKind::Requester {
            continue;
        }
        print_message(message, output)?;
    }
    Ok(())
}

fn print_message(message: &Message, output: &mut dyn Write) -> std::io::Result<()> {
    let payload = message.payload.clone().unwrap_or_default();
    if !message.body.is_empty() {
        writeln!(output, "ponte: {}", message.body)?;
    }
    if let Some(options) = payload.get("options").and_then(|o| o.as_array()) {
        for (index, option) in options.iter().enumerate() {
            let label = option.get("label").and_then(|l| l.as_str()).unwrap_or("?");
            writeln!(output, "  {}. {label}", index + 1)?;
        }
    }
    match payload.get("event").and_then(|e| e.as_str()) {
        Some("show_article") => {
            let article = &payload["article"];
            writeln!(
                output,
                "  ┌ {}\n  │ {}\n  └ {}",
                article["title"].as_str().unwrap_or_default(),
                article["summary"].as_str().unwrap_or_default(),
                article["url"].as_str().unwrap_or_default()
            )?;
        }
        Some("open_url") => {
            writeln!(
                output,
                "  → {}",
                payload["url"].as_str().unwrap_or_default()
            )?;
        }
        Some("handoff") => {
            writeln!(
                output,
                "  [queued for {}{}]",
                payload["group"].as_str().unwrap_or_default(),
                payload["ticket"]
                    .as_str()
                    .map(|t| format!(", ticket {t}"))
                    .unwrap_or_default()
            )?;
        }
        _ => {}
    }
    Ok(())
}
