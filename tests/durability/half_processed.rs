//! No half-processed input after a crash: requesters go through the ticket flow (a
//! description and its confirmation, each posted with a client message id) while
//! `ponte serve` is killed with SIGKILL at a different moment each round. After the restart
//! every client retries what was not acknowledged, with the same id, as the widget does.
//! Then every conversation must read exactly like one that was never interrupted: each
//! input processed once, each reply present once, one ticket, told once.
//!
//! `PONTE_KILL_ROUNDS` (default 2) and `PONTE_KILL_CONVERSATIONS` (default 24) scale it.

use super::{free_port, http, serve_command, wait_ready};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Child;
use std::time::Duration;

const ADMIN: &str = "half-processed-admin";

fn start(data_dir: &Path, tokens: &Path, port: u16) -> Child {
    serve_command(data_dir, port, ADMIN)
        .env("PONTE_TOKENS_FILE", tokens)
        .env("PONTE_RATE_LIMIT", "0")
        .spawn()
        .expect("ponte serve starts")
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Posts until the server answers (it may be dead or restarting): what a client's retry
/// loop does. `None` once `give_up` says the server is gone for good.
async fn post_until_answered(
    port: &std::sync::atomic::AtomicU16,
    path: &str,
    token: &str,
    body: Value,
    stop: &std::sync::atomic::AtomicBool,
    retried: &std::sync::atomic::AtomicUsize,
) -> Option<(u16, Value)> {
    let mut first = true;
    loop {
        let current = port.load(std::sync::atomic::Ordering::SeqCst);
        if let Some(answer) = http(current, "POST", path, token, Some(body.clone())).await {
            return Some(answer);
        }
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            return None;
        }
        if std::mem::take(&mut first) {
            retried.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The transcript as a user reads it: who spoke and what was said, ticket numbers blanked.
async fn transcript(port: u16, id: &str, token: &str) -> Vec<String> {
    let (status, body) = http(
        port,
        "GET",
        &format!("/api/conversations/{id}/messages?after=0&limit=1000"),
        token,
        None,
    )
    .await
    .expect("transcript");
    assert_eq!(status, 200, "{body}");
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|message| {
            let said = match message["payload"]["text_key"].as_str() {
                Some(key) => key.to_string(),
                None => message["body"].as_str().unwrap_or_default().to_string(),
            };
            format!("{}: {}", message["sender_kind"].as_str().unwrap(), said)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_sigkill_every_stored_input_is_processed_once_with_every_reply_once() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};

    let rounds = env_number("PONTE_KILL_ROUNDS", 2);
    let per_round = env_number("PONTE_KILL_CONVERSATIONS", 24);
    let dir = tempfile::tempdir().unwrap();
    let tokens_path = dir.path().join("tokens.toml");
    let mut tokens_file = String::new();
    for round in 0..rounds {
        for index in 0..=per_round {
            tokens_file.push_str(&format!(
                "[[tokens]]\ntoken = \"requester-{round}-{index}\"\nrole = \"requester\"\nsubject = \"req-{round}-{index}\"\n\n"
            ));
        }
    }
    std::fs::write(&tokens_path, tokens_file).unwrap();
    let data_dir = dir.path().join("data");

    let retried = Arc::new(AtomicUsize::new(0));
    let mut inconsistent = Vec::new();
    let mut interrupted_total = 0;
    for round in 0..rounds {
        let first_port = free_port();
        let mut server = start(&data_dir, &tokens_path, first_port);
        wait_ready(first_port).await;
        // The Smart Chat without the assistant: the ticket flow asks for a description,
        // then a confirmation, then creates the ticket and says its number.
        let (status, body) = http(
            first_port,
            "PUT",
            "/api/admin/parameters",
            ADMIN,
            Some(json!({ "key": "423", "value": "off" })),
        )
        .await
        .unwrap();
        assert_eq!(status, 200, "{body}");
        // Opened and at the description step before the crash window.
        let mut conversations = Vec::new();
        for index in 0..=per_round {
            let token = format!("requester-{round}-{index}");
            let (status, body) = http(
                first_port,
                "POST",
                "/api/conversations",
                &token,
                Some(json!({ "language": "pt-BR" })),
            )
            .await
            .unwrap();
            assert_eq!(status, 201, "{body}");
            let id = body["conversation"]["id"].as_str().unwrap().to_string();
            let (status, body) = http(
                first_port,
                "POST",
                &format!("/api/conversations/{id}/options"),
                &token,
                Some(json!({ "option_id": "create_ticket" })),
            )
            .await
            .unwrap();
            assert_eq!(status, 200, "{body}");
            conversations.push((id, token));
        }
        // The last one is never interrupted: the reference transcript.
        let (reference_id, reference_token) = conversations.pop().unwrap();
        let port = Arc::new(AtomicU16::new(first_port));
        let stop = Arc::new(AtomicBool::new(false));
        let script = |id: String,
                      token: String,
                      port: Arc<AtomicU16>,
                      stop: Arc<AtomicBool>,
                      retried: Arc<AtomicUsize>| async move {
            let path = format!("/api/conversations/{id}/messages");
            let steps = [
                json!({ "text": "A impressora do 3º andar não imprime", "client_message_id": format!("{id}-description") }),
                json!({ "text": "sim", "client_message_id": format!("{id}-confirm") }),
            ];
            for body in steps {
                match post_until_answered(&port, &path, &token, body, &stop, &retried).await {
                    Some((200, _)) => {}
                    other => panic!("{id}: unexpected answer {other:?}"),
                }
            }
        };
        script(
            reference_id.clone(),
            reference_token.clone(),
            port.clone(),
            stop.clone(),
            Arc::new(AtomicUsize::new(0)),
        )
        .await;
        let reference = transcript(first_port, &reference_id, &reference_token).await;

        let clients: Vec<_> = conversations
            .iter()
            .cloned()
            .map(|(id, token)| {
                tokio::spawn(script(
                    id,
                    token,
                    port.clone(),
                    stop.clone(),
                    retried.clone(),
                ))
            })
            .collect();
        // A different moment each round, inside the posts.
        tokio::time::sleep(Duration::from_millis(15 + 37 * round as u64 % 120)).await;
        server.kill().expect("SIGKILL");
        server.wait().unwrap();
        let second_port = free_port();
        let mut server = start(&data_dir, &tokens_path, second_port);
        wait_ready(second_port).await;
        port.store(second_port, Ordering::SeqCst);
        for client in clients {
            client.await.expect("the client finished its script");
        }
        stop.store(true, Ordering::SeqCst);

        for (id, token) in &conversations {
            let read = transcript(second_port, id, token).await;
            let (status, tickets) = http(second_port, "GET", "/api/tickets", token, None)
                .await
                .unwrap();
            assert_eq!(status, 200, "{tickets}");
            let ticket_count = tickets["tickets"].as_array().map_or(0, Vec::len);
            if read != reference || ticket_count != 1 {
                inconsistent.push(format!(
                    "{id}: {ticket_count} ticket(s)\n  read: {read:?}\n  want: {reference:?}"
                ));
            }
        }
        interrupted_total += conversations.len();
        server.kill().unwrap();
        server.wait().unwrap();
    }
    eprintln!(
        "{rounds} rounds, {interrupted_total} conversations killed mid-flow ({} posts cut off and retried), {} inconsistent",
        retried.load(Ordering::SeqCst),
        inconsistent.len()
    );
    assert!(
        inconsistent.is_empty(),
        "{} of {interrupted_total} conversations read differently from an uninterrupted one:\n{}",
        inconsistent.len(),
        inconsistent.join("\n")
    );
}
